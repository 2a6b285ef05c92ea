/* Text helpers shared by every layer: UTF-8 validation, decoding and cutting, UTF-16 counting,
 * the folding of free text into a form keywords can be matched against, percent-decoding and
 * string copies. Pure, no allocation unless stated. */
#ifndef ESS_RULES_TEXT_H
#define ESS_RULES_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF)
 * without NUL bytes, else 0. */
int text_utf8_valid(const char *s, size_t len);

/* Folds s[0..len) for matching into a new heap string the caller frees: ASCII lowercased,
 * white space, punctuation and zero-width characters (U+200B..U+200D, U+FEFF) removed, Thai
 * and other letters kept as written. Invalid UTF-8 bytes are dropped. *out_len receives the
 * length when out_len is not NULL. NULL only when memory runs out. */
char *text_fold(const char *s, size_t len, size_t *out_len);

/* The same into out, which has room for len + 1 bytes (folding never lengthens); returns the
 * folded length, the NUL written after it. */
size_t text_fold_into(const char *s, size_t len, char *out);

/* The length a UTF-8 sequence announces with its first byte b: 1 for ASCII and for bytes that
 * cannot start a sequence (continuation bytes, C0, C1, F5..FF), else 2..4. */
size_t text_utf8_char_len(unsigned char b);

/* Decodes the well-formed scalar value at s[0..len) (len >= 1): its length in bytes (1..4),
 * with the code point in *cp, or 0 when the bytes at s are not a well-formed sequence (an
 * overlong, a surrogate, past U+10FFFF, or cut short by len). */
size_t text_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* The offset in s[0..len) (len >= 1) where its last character starts: len - 1 less the
 * continuation bytes before it (at most three). */
size_t text_utf8_last_start(const char *s, size_t len);

/* The length of s[0..len) without a last character that len cut short, so that the prefix
 * never ends inside a UTF-8 sequence. */
size_t text_utf8_complete(const char *s, size_t len);

/* The length of UTF-8 text s[0..len) in UTF-16 code units, the way LINE and JavaScript count
 * characters: one per character, two above U+FFFF. */
size_t text_utf16_units(const char *s, size_t len);

/* The byte length of the longest prefix of s (UTF-8, NUL-terminated) within max_units UTF-16
 * code units, cut at a character boundary; a sequence cut short by the NUL is left out. */
size_t text_utf16_prefix(const char *s, size_t max_units);

/* The byte that the two hex digits at p[0], p[1] spell, or -1. Reads p[1] only when p[0] is a
 * hex digit, so p may be a NUL-terminated string of any length. */
int text_hex_byte(const char *p);

/* Percent-decodes s[0..n) into a new NUL-terminated heap string the caller frees; NULL on an
 * escape without two hex digits, on %00 (a C string cannot hold it) or when memory runs out. */
char *text_percent_decode(const char *s, size_t n);

#define TEXT_TIME_SIZE 32

/* Writes the time ms (milliseconds since 1970; a negative one reads as 0) as RFC 3339 UTC with
 * milliseconds, "2026-11-21T03:04:05.123Z", into out. */
void text_time_rfc3339(int64_t ms, char out[TEXT_TIME_SIZE]);

/* Reads an RFC 3339 UTC time as text_time_rfc3339 writes it ("2026-11-21T03:04:05.123Z"; the
 * fraction optional, 1 to 9 digits, "Z" only) as milliseconds since 1970; -1 when s (NULL
 * included) is not one, or is before 1970. */
int64_t text_time_parse_rfc3339(const char *s);

/* Reads a time in the W3C profile of ISO 8601 with minutes at least and a zone, as Open311
 * asks: "YYYY-MM-DDThh:mm", then ":ss" and a fraction (1 to 9 digits) optional, then "Z" or an
 * offset "+hh:mm" / "-hh:mm" ("2010-01-01T00:00:00Z", "2026-12-06T07:00+07:00"), as
 * milliseconds since 1970; -1 when s (NULL included) is not one, or is before 1970. */
int64_t text_time_parse_w3c(const char *s);

/* A NUL-terminated heap copy of s[0..n) (s may hold no NUL in it) the caller frees; NULL when
 * memory runs out. */
char *text_dup_len(const char *s, size_t n);

/* A heap copy of the string s (NULL reads as "") the caller frees; NULL when memory runs out. */
char *text_dup(const char *s);

#define TEXT_ID_MAX 64

/* 1 when s[0..len) is an identifier of the API (team and operator ids):
 * [a-z0-9][a-z0-9_-]{0,63}. */
int text_id_valid(const char *s, size_t len);

/* 1 when s[0..len) holds no ASCII control character but tab, line feed and carriage return
 * (and no DEL): text a person typed, fit for a note or an address; else 0. */
int text_is_plain(const char *s, size_t len);

/* Trims the spaces, tabs and line breaks around the text at *s (len bytes): *s moves past those
 * before it, and the length without those after it is returned (0: the text was blank). */
size_t text_trim_space(const char **s, size_t len);

/* The digits of a phone number as written (s[0..len), UTF-8), in order, as ASCII into out and
 * its NUL: ASCII and Thai digits (U+0E50..U+0E59) count, everything else (spaces, hyphens, "+",
 * brackets, letters) is skipped, so "+66 81-234 5678" and "๖๖๘๑๒๓๔๕๖๗๘" give "66812345678".
 * Returns the number of digits, or -1 (out "") when they do not fit in outsize - 1 bytes. */
int text_phone_digits(const char *s, size_t len, char *out, size_t outsize);

/* A growing string, zero-initialised by the caller ({0}): appends never fail on their own; a
 * failed allocation is remembered, turns later appends into no-ops and is reported by
 * text_buf_take(). s is NUL-terminated whenever it is not NULL. */
struct text_buf {
    char *s;
    size_t len, cap;
    int failed;
};

/* Appends the string s (NULL appends nothing). */
void text_buf_add(struct text_buf *b, const char *s);

/* Appends what printf would write. */
void text_buf_printf(struct text_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Makes room for n more bytes and the NUL (a buffer about to grow by a known amount grows once).
 * 0, or -1 (the failure remembered) when memory runs out. */
int text_buf_reserve(struct text_buf *b, size_t n);

/* Appends the n bytes at s. */
void text_buf_add_len(struct text_buf *b, const char *s, size_t n);

/* Appends the string s (NULL appends nothing) escaped for HTML text and quoted attribute values:
 * & < > " ' become entities. */
void text_buf_add_html(struct text_buf *b, const char *s);

/* Appends s[0..n) as a JSON string: quoted, with " and \ escaped and control characters
 * (below U+0020) written as \n, \r, \t or \u00XX; other bytes as they are (s is UTF-8). */
void text_buf_add_json(struct text_buf *b, const char *s, size_t n);

/* The string built so far ("" when nothing was added), which the caller now owns and frees; NULL
 * (the buffer freed) when an allocation failed. The buffer is empty afterwards. */
char *text_buf_take(struct text_buf *b);

enum text_json_result {
    TEXT_JSON_OK = 0,
    TEXT_JSON_TOO_DEEP,   /* arrays/objects nest deeper than allowed */
    TEXT_JSON_UNBALANCED, /* a closing bracket without its opening one */
    TEXT_JSON_NUL         /* a \u0000 escape, which a C string cannot hold */
};

/* Scans raw JSON bytes once, before a parser sees them, so that a hostile body never drives the
 * parser's recursion: refuses nesting deeper than max_depth (strings are skipped) and reports
 * \u0000 escapes. With rewrite non-NULL (body itself or a writable copy of it), each \u0000 is
 * rewritten there as \uFFFD, the replacement character, instead of being reported. The scan only
 * needs to be exact for bodies a JSON parser accepts; the parser refuses the rest afterwards. */
enum text_json_result text_json_scan(const char *body, size_t len, int max_depth, char *rewrite);

#endif
