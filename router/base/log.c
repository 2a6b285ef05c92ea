/* Logging: each event becomes exactly one line on stderr, "<UTC time> <LEVEL> <message>", the
 * time in RFC 3339 with milliseconds. Control characters, line separators and invalid UTF-8 are
 * escaped, so no byte a peer sent can split or forge a line; no line exceeds LOG_LINE_MAX. */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "text.h"

enum log_level log_min_level = LOG_LEVEL_INFO;

/* The longest line written, newline included; longer messages end with an ellipsis. */
#define LOG_LINE_MAX 2048

static const char log_ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */

int log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};

    if (name == NULL) return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i]) == 0) return (int)i;
    }
    return -1;
}

static const char *log_level_label(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_DEBUG:
        return "DEBUG";
    case LOG_LEVEL_INFO:
        return "INFO";
    case LOG_LEVEL_WARN:
        return "WARN";
    case LOG_LEVEL_ERROR:
        return "ERROR";
    }
    return "ERROR";
}

size_t log_escape(char *out, size_t cap, const char *msg, size_t n, int cut_input, int *cut)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t pos = 0, i = 0;

    *cut = 0;
    while (i < n) {
        char esc[8];
        const char *piece = esc;
        size_t plen, take = 1;
        unsigned char c = s[i];

        if (c == '\n') {
            piece = "\\n";
            plen = 2;
        } else if (c == '\r') {
            piece = "\\r";
            plen = 2;
        } else if (c == '\t') {
            piece = "\\t";
            plen = 2;
        } else if (c == '\\') {
            piece = "\\\\";
            plen = 2;
        } else if (c < 0x20 || c == 0x7F) {
            plen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        } else if (c < 0x80) {
            piece = (const char *)&s[i];
            plen = 1;
        } else {
            uint32_t cp = 0;
            size_t len = text_utf8_decode(msg + i, n - i, &cp);

            if (len == 0 && cut_input && i + text_utf8_char_len(c) > n)
                break; /* cut by vsnprintf */
            if (len == 0) {
                plen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
            } else if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029) {
                /* C1 control characters, U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR */
                plen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
                take = len;
            } else {
                piece = (const char *)&s[i];
                plen = len;
                take = len;
            }
        }
        if (pos + plen > cap) {
            *cut = 1;
            break;
        }
        memcpy(out + pos, piece, plen);
        pos += plen;
        i += take;
    }
    return pos;
}

/* Formats "<time> <LEVEL> " into out[0..cap) and returns its length (0 if it did not fit). */
static size_t log_prefix(char *out, size_t cap, enum log_level level)
{
    struct timespec ts;
    char when[TEXT_TIME_SIZE];
    int n;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        ts.tv_sec = time(NULL);
        ts.tv_nsec = 0;
    }
    text_time_rfc3339((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when);
    n = snprintf(out, cap, "%s %s ", when, log_level_label(level));
    if (n < 0 || (size_t)n >= cap) return 0;
    return (size_t)n;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX];
    size_t pos, msglen, room;
    int n, cut_input = 0, cut = 0;
    va_list ap;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        snprintf(msg, sizeof msg, "%s", "(unformattable log message)");
        msglen = strlen(msg);
    } else if ((size_t)n >= sizeof msg) {
        msglen = sizeof msg - 1;
        cut_input = 1;
    } else {
        msglen = (size_t)n;
    }

    pos = log_prefix(line, sizeof line, level);
    /* Room for the message, keeping space for an ellipsis and the newline. */
    room = sizeof line - pos - (sizeof log_ellipsis - 1) - 1;
    pos += log_escape(line + pos, room, msg, msglen, cut_input, &cut);
    if (cut || cut_input) {
        memcpy(line + pos, log_ellipsis, sizeof log_ellipsis - 1);
        pos += sizeof log_ellipsis - 1;
    }
    line[pos++] = '\n';
    /* One write per line: stderr is unbuffered, so lines do not interleave within a line. */
    fwrite(line, 1, pos, stderr);
}
