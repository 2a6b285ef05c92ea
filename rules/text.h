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

#endif
