/* Thai word boundaries: Thai is written without spaces between words, so a run of Thai letters is
 * cut into words by maximal matching over libthai's word-break dictionary (the rule of libthai's
 * th_brk). The dictionary is loaded once (read from disk then) and only read afterwards. */
#ifndef ESS_RULES_THAI_WORDS_H
#define ESS_RULES_THAI_WORDS_H

#include <stddef.h>
#include <stdint.h>

struct thai_words;

/* Loads libthai's dictionary ($LIBTHAI_DICTDIR/thbrk.tri, as libthai looks for it, else
 * /usr/share/libthai/thbrk.tri). NULL (with a reason in err) when it cannot be read. The caller
 * owns the breaker and frees it with thai_words_free(). */
struct thai_words *thai_words_open(char *err, size_t errlen);

void thai_words_free(struct thai_words *tw); /* accepts NULL */

/* 1 when the code point is a Thai letter, vowel, tone mark or digit (U+0E01..U+0E5B). */
int thai_words_is_thai(uint32_t cp);

/* Cuts s[0..len), UTF-8 made only of Thai characters (thai_words_is_thai, three bytes each), into
 * words: writes the byte offset where each word after the first starts into cuts (ascending,
 * between 0 and len exclusive), at most maxcuts of them, and returns how many, or -1 when s is
 * not such text or memory runs out. Safe to call from several threads on one breaker. */
int thai_words_cut(const struct thai_words *tw, const char *s, size_t len, size_t *cuts,
                   size_t maxcuts);

#endif
