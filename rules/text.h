/* Text helpers shared by the parsers and the classifier: UTF-8 validation and the folding of free
 * text into a form keywords can be matched against. Pure, no allocation unless stated. */
#ifndef ESS_RULES_TEXT_H
#define ESS_RULES_TEXT_H

#include <stddef.h>

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF)
 * without NUL bytes, else 0. */
int text_utf8_valid(const char *s, size_t len);

/* Folds s[0..len) for matching into a new heap string the caller frees: ASCII lowercased,
 * white space, punctuation and zero-width characters (U+200B..U+200D, U+FEFF) removed, Thai
 * and other letters kept as written. Invalid UTF-8 bytes are dropped. *out_len receives the
 * length when out_len is not NULL. NULL only when memory runs out. */
char *text_fold(const char *s, size_t len, size_t *out_len);

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
