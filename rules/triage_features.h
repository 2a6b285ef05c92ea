/* The features the triage model reads in a report: the text normalised (case, Thai digits,
 * repeated letters, common misspellings), cut into words (Thai by libthai's dictionary,
 * thai_words.h), negation scopes marked, then word unigrams and bigrams, letter 4-grams and the
 * rule table's keyword counts. The trainer (rules/triage_train.c) and the classifier
 * (rules/triage_model.c) share this code, so a feature means the same thing in both. Pure: per-call
 * scratch memory only. */
#ifndef ESS_RULES_TRIAGE_FEATURES_H
#define ESS_RULES_TRIAGE_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "incident.h"

struct thai_words;

/* Bumped whenever the features a text gives change: a weights file names the version it was
 * trained with, and a model of another version is refused at load time. */
#define TRIAGE_FEATURES_VERSION 6

#define TRIAGE_MAX_NAME 256           /* bytes of a feature's name, at most: longer is no feature */
#define TRIAGE_MAX_KEYWORD_COUNT 3    /* a category's keyword feature saturates at three */
#define TRIAGE_TEXT_FEATURES_FLOOR 40 /* a text with fewer weighs as if it had this many */

/* One feature of a text: its name, as the weights file writes it, and its value. Names:
 *   "w:<word>"           a word ("w:!<word>" inside a negation's scope)
 *   "b:<word> <word>"    two adjacent words of one clause ("b:!..." when the second is negated)
 *   "c:<four letters>"   four adjacent letters (code points: Thai marks count) of one clause,
 *                        spaces dropped, English words between "_" ("c:!..." negated)
 *   "k:<category code>"  the category's keywords that counted (rules_scan_text), 1..3
 * Word, bigram and letter n-gram values are 1/sqrt(their number), so a long report weighs no more
 * than a short one; keyword values are counts (strong features). A name repeats when the text does.
 */
struct triage_feature {
    const char *name; /* NUL-terminated, inside the set's names; NULL unless it keeps them */
    size_t off;       /* where name starts in the set's names */
    size_t len;
    uint64_t hash; /* triage_feature_hash(name, len) */
    float value;
};

struct triage_feature_set {
    struct triage_feature *items; /* owned */
    size_t n, cap;
    size_t ntext;   /* how many of them are words, pairs and letter n-grams (not keywords) */
    int with_names; /* set by the caller: keep the names (the trainer); else hashes only */
    char *names;    /* owned: every name, NUL-terminated, back to back */
    size_t names_len, names_cap;
    int failed; /* an allocation failed: the set is incomplete */
};

/* A 64-bit hash of bytes[0..len). */
uint64_t triage_bytes_hash(const void *bytes, size_t len);

/* The 64-bit hash of the feature named name[0..len): how the model finds a feature's weights. It
 * is made from the hashes of the name's kind ("w:", "b:!", ...) and of its parts (the word, the
 * two words of a pair, the letters), so that a report's features are hashed without their names
 * being written. */
uint64_t triage_feature_hash(const char *name, size_t len);

/* The features of text[0..len) (UTF-8; invalid bytes are skipped) with keyword_score[c] the
 * keywords of category c that counted in it, into set (zero-initialised by the caller, with_names
 * set when it wants the names, or reused after triage_features_clear). 0, or -1 when memory runs
 * out. tw may be NULL: Thai runs are then one word each (tests of the rest only; the model is
 * always trained and used with the dictionary). */
int triage_features_extract(const struct thai_words *tw, const char *text, size_t len,
                            const int keyword_score[INCIDENT_CATEGORY_COUNT],
                            struct triage_feature_set *set);

/* Empties set, keeping its memory for the next text. */
void triage_features_clear(struct triage_feature_set *set);

/* Frees what set owns (set itself is the caller's); accepts NULL. */
void triage_features_free(struct triage_feature_set *set);

/* The words of text[0..len) as the features see them, each followed by a space, "!" before a
 * negated one and "| " after a clause break ("ผม ไม่ ได้ !ถูก !ขัง | แต่ ..."), into out (at
 * most outlen bytes with the NUL, cut at a character boundary). For tests and for tuning. */
int triage_features_words(const struct thai_words *tw, const char *text, size_t len, char *out,
                          size_t outlen);

#endif
