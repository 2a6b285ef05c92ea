/* UTF-8 validation, decoding and cutting, UTF-16 counting, the folding of free text for keyword
 * matching, the raw scan of JSON bodies before parsing, percent-decoding and string copies
 * (rules/text.h). Pure code: the only allocations are the copies it returns. The decoder is strict
 * (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Decodes one scalar value at s[0..len) (len >= 1). Returns its length in bytes (1..4) and
 * stores the code point in *cp, or 0 when the bytes at s do not start a well-formed sequence. */
static size_t text_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char b0 = s[0];
    size_t need;
    uint32_t v;
    uint32_t min;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
        v = b0 & 0x1Fu;
        min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        v = b0 & 0x0Fu;
        min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        v = b0 & 0x07u;
        min = 0x10000;
    } else {
        return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (len < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0u) != 0x80u) return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFFu || (v >= 0xD800u && v <= 0xDFFFu)) return 0;
    *cp = v;
    return need;
}

int text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL) return len == 0;
    while (i < len) {
        uint32_t cp;
        size_t n = text_decode(p + i, len - i, &cp);

        if (n == 0 || cp == 0) return 0;
        i += n;
    }
    return 1;
}

/* 1 when the non-ASCII code point cp is dropped by folding: Unicode spaces, invisible format
 * characters and common punctuation. Thai letters, vowel signs, tone marks, digits and the
 * marks ฯ (U+0E2F) and ๆ (U+0E46), which carry meaning in a word, are kept; the Thai
 * ornamental punctuation ๏ ๚ ๛ is dropped. */
static int text_fold_drops(uint32_t cp)
{
    if (cp <= 0x9F) return 1;               /* C1 controls, NEL */
    if (cp == 0xA0 || cp == 0xAD) return 1; /* no-break space, soft hyphen */
    if (cp >= 0xA1 && cp <= 0xBF) {
        /* Latin-1 punctuation and symbols, but not ª µ º and the superscript/fraction digits */
        return !(cp == 0xAA || cp == 0xB5 || cp == 0xBA || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 ||
                 (cp >= 0xBC && cp <= 0xBE));
    }
    if (cp == 0xD7 || cp == 0xF7) return 1; /* multiplication and division signs */
    if (cp == 0x0E4F || cp == 0x0E5A || cp == 0x0E5B)
        return 1;                               /* Thai fongman, angkhankhu, khomut */
    if (cp == 0x1680 || cp == 0x180E) return 1; /* Ogham space, Mongolian vowel separator */
    if (cp >= 0x2000 && cp <= 0x206F)
        return 1; /* General Punctuation: spaces, zero-width, dashes, quotes, bullets, ... */
    if (cp >= 0x3000 && cp <= 0x3003) return 1; /* ideographic space, comma, full stop, ditto */
    if (cp >= 0x3008 && cp <= 0x3011) return 1; /* CJK brackets */
    if (cp >= 0x3014 && cp <= 0x301F) return 1; /* CJK brackets and quotes */
    if (cp == 0xFEFF) return 1;                 /* byte order mark / zero-width no-break space */
    if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
        (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65))
        return 1; /* fullwidth ASCII punctuation and halfwidth CJK punctuation */
    return 0;
}

char *text_fold(const char *s, size_t len, size_t *out_len)
{
    char *out;
    size_t o;

    if (s == NULL) len = 0;
    /* Folding never lengthens the text. */
    out = malloc(len + 1);
    if (out == NULL) return NULL;
    o = text_fold_into(s, len, out);
    if (out_len != NULL) *out_len = o;
    return out;
}

size_t text_fold_into(const char *s, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    size_t i = 0;

    if (s == NULL) len = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = text_decode(p + i, len - i, &cp);

        if (n == 0) {
            i++; /* drop one invalid byte and resynchronise */
            continue;
        }
        if (n == 1) {
            unsigned char c = p[i];

            if (c >= 'A' && c <= 'Z')
                out[o++] = (char)(c - 'A' + 'a');
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                out[o++] = (char)c;
            /* every other ASCII byte is white space, punctuation, a control or NUL */
        } else if (!text_fold_drops(cp)) {
            for (size_t k = 0; k < n; k++) out[o++] = (char)p[i + k];
        }
        i += n;
    }
    out[o] = '\0';
    return o;
}

enum text_json_result text_json_scan(const char *body, size_t len, int max_depth, char *rewrite)
{
    int depth = 0;
    int in_string = 0;

    for (size_t i = 0; i < len; i++) {
        char c = body[i];

        if (in_string) {
            if (c == '\\') {
                if (len - i > 5 && body[i + 1] == 'u' && memcmp(body + i + 2, "0000", 4) == 0) {
                    if (rewrite == NULL) return TEXT_JSON_NUL;
                    memcpy(rewrite + i + 2, "FFFD", 4);
                }
                i++; /* skip the escaped character; \uXXXX digits are harmless */
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) return TEXT_JSON_TOO_DEEP;
        } else if (c == '}' || c == ']') {
            if (--depth < 0) return TEXT_JSON_UNBALANCED;
        }
    }
    return TEXT_JSON_OK;
}

size_t text_utf8_char_len(unsigned char b)
{
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 1;
}

size_t text_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    if (s == NULL || len == 0) return 0;
    return text_decode((const unsigned char *)s, len, cp);
}

size_t text_utf8_last_start(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = len - 1;

    while (i > 0 && len - i < 4 && (p[i] & 0xC0u) == 0x80u) i--;
    return i;
}

size_t text_utf8_complete(const char *s, size_t len)
{
    size_t start;

    if (len == 0) return 0;
    start = text_utf8_last_start(s, len);
    return start + text_utf8_char_len((unsigned char)s[start]) > len ? start : len;
}

size_t text_utf16_units(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;

    for (size_t i = 0; i < len; i++) {
        if ((p[i] & 0xC0u) == 0x80u) continue;
        units += p[i] >= 0xF0 ? 2 : 1;
    }
    return units;
}

size_t text_utf16_prefix(const char *s, size_t max_units)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    size_t i = 0;

    while (p[i] != '\0') {
        size_t n = text_utf8_char_len(p[i]);
        size_t u = n == 4 ? 2 : 1;

        if (units + u > max_units) break;
        for (size_t k = 1; k < n; k++)
            if (p[i + k] == '\0') return i; /* a truncated sequence: stop before it */
        units += u;
        i += n;
    }
    return i;
}

static int text_hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int text_hex_byte(const char *p)
{
    int hi = text_hex_digit(p[0]);
    int lo = hi < 0 ? -1 : text_hex_digit(p[1]);

    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

char *text_percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;

    if (out == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        int v;

        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        v = n - i < 3 ? -1 : text_hex_byte(s + i + 1);
        if (v <= 0) { /* a bad escape, or %00 */
            free(out);
            return NULL;
        }
        out[o++] = (char)v;
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/* Writes v as n decimal digits (zero-padded) at p; returns p + n. */
static char *put_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

void text_time_rfc3339(int64_t ms, char out[TEXT_TIME_SIZE])
{
    time_t secs;
    struct tm tm;
    char *p = out;

    if (ms < 0) ms = 0;
    secs = (time_t)(ms / 1000);
    /* written digit by digit: the feed and the views write several times per entry */
    if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999) {
        snprintf(out, TEXT_TIME_SIZE, "%s", "0000-00-00T00:00:00.000Z");
        return;
    }
    p = put_digits(p, (unsigned)(tm.tm_year + 1900), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)(tm.tm_mon + 1), 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)(ms % 1000), 3);
    *p++ = 'Z';
    *p = '\0';
}

/* Reads exactly n digits at s into *out; -1 when one is not a digit. */
static int text_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Reads "YYYY-MM-DDThh:mm" at s, then ":ss" (required when need_seconds) and an optional
 * fraction (1 to 9 digits) into the milliseconds of that wall-clock time counted from 1970 as if
 * it were UTC; *rest points past what was read. -1 when it is not one, or before 1970. */
static int64_t text_time_parse_civil(const char *s, int need_seconds, const char **rest)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec = 0, ms = 0, n;
    int64_t days, yy;
    unsigned era, yoe, doy, doe;

    if (s == NULL || strlen(s) < 16 || text_digits(s, 4, &y) || s[4] != '-' ||
        text_digits(s + 5, 2, &mo) || s[7] != '-' || text_digits(s + 8, 2, &d) || s[10] != 'T' ||
        text_digits(s + 11, 2, &h) || s[13] != ':' || text_digits(s + 14, 2, &mi))
        return -1;
    s += 16;
    if (*s == ':') {
        if (text_digits(s + 1, 2, &sec)) return -1;
        s += 3;
        if (*s == '.') {
            for (n = 0, s++; *s >= '0' && *s <= '9'; s++, n++)
                if (n < 3) ms = ms * 10 + (*s - '0');
            if (n == 0 || n > 9) return -1;
            for (; n < 3; n++) ms *= 10;
        }
    } else if (need_seconds) {
        return -1;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    /* days from the civil date (H. Hinnant's algorithm, as ess.lua's iso_time) */
    yy = mo <= 2 ? y - 1 : y;
    era = (unsigned)(yy / 400);
    yoe = (unsigned)(yy - (int64_t)era * 400);
    doy = (unsigned)((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = (int64_t)era * 146097 + doe - 719468;
    *rest = s;
    return ((days * 86400) + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

int64_t text_time_parse_rfc3339(const char *s)
{
    const char *rest = NULL;
    int64_t ms = text_time_parse_civil(s, 1, &rest);
    return ms < 0 || strcmp(rest, "Z") != 0 ? -1 : ms;
}

int64_t text_time_parse_w3c(const char *s)
{
    const char *rest = NULL;
    int64_t ms = text_time_parse_civil(s, 0, &rest);
    int oh, om, sign;

    if (ms < 0) return -1;
    if (strcmp(rest, "Z") == 0) return ms;
    if ((rest[0] != '+' && rest[0] != '-') || strlen(rest) != 6 || text_digits(rest + 1, 2, &oh) ||
        rest[3] != ':' || text_digits(rest + 4, 2, &om) || oh > 23 || om > 59)
        return -1;
    sign = rest[0] == '+' ? 1 : -1;
    ms -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
    return ms < 0 ? -1 : ms;
}

char *text_dup_len(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d == NULL) return NULL;
    if (n > 0) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *text_dup(const char *s)
{
    if (s == NULL) s = "";
    return text_dup_len(s, strlen(s));
}

int text_id_valid(const char *s, size_t len)
{
    size_t i;
    if (len == 0 || len > TEXT_ID_MAX) return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        int ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok) return 0;
    }
    return 1;
}

int text_is_plain(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return 0;
    }
    return 1;
}

static int text_is_blank_byte(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t text_trim_space(const char **s, size_t len)
{
    while (len > 0 && text_is_blank_byte(**s)) {
        (*s)++;
        len--;
    }
    while (len > 0 && text_is_blank_byte((*s)[len - 1])) len--;
    return len;
}

int text_phone_digits(const char *s, size_t len, char *out, size_t outsize)
{
    size_t i = 0, n = 0;

    if (outsize == 0) return -1;
    out[0] = '\0';
    while (i < len) {
        uint32_t cp = 0;
        size_t step = text_utf8_decode(s + i, len - i, &cp);
        char digit = 0;

        if (step == 0) step = 1; /* not UTF-8: skipped like any other non-digit */
        if (cp >= '0' && cp <= '9') digit = (char)cp;
        if (cp >= 0x0E50 && cp <= 0x0E59) digit = (char)('0' + (cp - 0x0E50));
        i += step;
        if (digit == 0) continue;
        if (n + 1 >= outsize) {
            out[0] = '\0';
            return -1;
        }
        out[n++] = digit;
    }
    out[n] = '\0';
    return (int)n;
}

int text_buf_reserve(struct text_buf *b, size_t n)
{
    size_t cap;
    char *p;

    if (b->failed) return -1;
    if (b->len + n + 1 <= b->cap) return 0;
    cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    p = realloc(b->s, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->s = p;
    b->cap = cap;
    return 0;
}

void text_buf_add_len(struct text_buf *b, const char *s, size_t n)
{
    if (b->failed || (s == NULL && n > 0)) return;
    if (text_buf_reserve(b, n) != 0) return;
    if (n) memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void text_buf_add(struct text_buf *b, const char *s)
{
    if (s == NULL) return;
    text_buf_add_len(b, s, strlen(s));
}

void text_buf_add_html(struct text_buf *b, const char *s)
{
    const char *run = s;
    if (s == NULL) return;
    for (; *s; s++) {
        const char *ent;
        switch (*s) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        text_buf_add_len(b, run, (size_t)(s - run));
        text_buf_add(b, ent);
        run = s + 1;
    }
    text_buf_add_len(b, run, (size_t)(s - run));
}

void text_buf_add_json(struct text_buf *b, const char *s, size_t n)
{
    size_t run = 0, i;
    text_buf_add_len(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        text_buf_add_len(b, s + run, i - run);
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n' || c == '\r' || c == '\t')
            snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        text_buf_add(b, esc);
        run = i + 1;
    }
    text_buf_add_len(b, s + run, n - run);
    text_buf_add_len(b, "\"", 1);
}

void text_buf_printf(struct text_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed) return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (text_buf_reserve(b, (size_t)n) != 0) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *text_buf_take(struct text_buf *b)
{
    char *s = b->s;

    if (b->failed) {
        free(s);
        s = NULL;
    } else if (s == NULL) {
        s = malloc(1);
        if (s != NULL) s[0] = '\0';
    }
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return s;
}
