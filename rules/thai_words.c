/* Thai word boundaries (see thai_words.h) by maximal matching over libthai's own dictionary, the
 * rule libthai's th_brk follows: of all the ways to cut a run into dictionary words, the one with
 * the least text left unknown, then the fewest words, then the longest first word. It is written
 * here as a dynamic programme over the run, right to left (each position walks the dictionary's
 * trie once), because th_brk_find_breaks, which searches the same space path by path, took two
 * thirds of a report's classification time; test_triage_model checks that both cut the corpus the
 * same way. The dictionary is libthai's (libthai-data's thbrk.tri, a libdatrie trie keyed by
 * Unicode code points), read once; every call has its own trie cursor, so one dictionary serves
 * any number of callers at once. */
#include "thai_words.h"

#include <datrie/trie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THAI_RUN_STACK 256     /* Thai characters cut without an allocation */
#define UNREACHABLE (1 << 28)  /* no way to cut the rest of the run from here */
#define DICTIONARY "thbrk.tri" /* libthai's word-break dictionary, in LIBTHAI_DICTDIR */
#define DICTIONARY_DIR "/usr/share/libthai"

struct thai_words {
    Trie *dictionary;
};

struct thai_words *thai_words_open(char *err, size_t errlen)
{
    const char *dir = getenv("LIBTHAI_DICTDIR"); /* where libthai itself looks first */
    char path[4096];
    struct thai_words *tw = calloc(1, sizeof(*tw));

    if (tw == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : DICTIONARY_DIR, DICTIONARY);
    tw->dictionary = trie_new_from_file(path);
    if (tw->dictionary == NULL) {
        snprintf(err, errlen,
                 "cannot load libthai's word-break dictionary %s (package libthai-data)", path);
        free(tw);
        return NULL;
    }
    return tw;
}

void thai_words_free(struct thai_words *tw)
{
    if (tw == NULL) return;
    trie_free(tw->dictionary);
    free(tw);
}

int thai_words_is_thai(uint32_t cp)
{
    return cp >= 0x0E01 && cp <= 0x0E5B;
}

/* A vowel above or below, a tone mark or another sign that belongs to the letter before it: a
 * word never starts or ends just before one. */
static int is_mark(uint32_t cp)
{
    return cp == 0x0E31 || (cp >= 0x0E34 && cp <= 0x0E3A) || (cp >= 0x0E47 && cp <= 0x0E4E);
}

/* A vowel written after its consonant on the line (ะ า ำ ๅ): it never starts a word either. */
static int is_following_vowel(uint32_t cp)
{
    return cp == 0x0E30 || cp == 0x0E32 || cp == 0x0E33 || cp == 0x0E45;
}

/* A vowel written before its consonant (เ แ โ ใ ไ): it never ends a word. */
static int is_leading_vowel(uint32_t cp)
{
    return cp >= 0x0E40 && cp <= 0x0E44;
}

/* The cheapest way to cut cp[i..n): unknown characters first, then words. */
struct cost {
    int unknown, words;
    int next;  /* where the piece starting at i ends */
    int known; /* the piece is a dictionary word */
};

static int better(int unknown, int words, const struct cost *than)
{
    return unknown < than->unknown || (unknown == than->unknown && words < than->words);
}

/* Fills best[0..n] for the run cp[0..n); st is the caller's trie cursor. */
static void plan(TrieState *st, const uint32_t *cp, int n, struct cost *best)
{
    best[n] = (struct cost){0, 0, n, 1};
    for (int i = n - 1; i >= 0; i--) {
        struct cost *b = &best[i];
        int e;

        *b = (struct cost){UNREACHABLE, UNREACHABLE, n, 0};
        /* No word starts on a mark, on a vowel that follows its consonant, or on the consonant
         * of a vowel written before it. */
        if (is_mark(cp[i]) || is_following_vowel(cp[i]) || (i > 0 && is_leading_vowel(cp[i - 1])))
            continue;
        trie_state_rewind(st);
        for (int j = i; j < n && trie_state_walk(st, cp[j]); j++) {
            const struct cost *rest = &best[j + 1];

            e = j + 1;
            if (rest->unknown >= UNREACHABLE || !trie_state_is_terminal(st)) continue;
            /* "<=" on words: of two cuts as good, the longer first word (found later) wins */
            if (rest->unknown < b->unknown ||
                (rest->unknown == b->unknown && rest->words + 1 <= b->words))
                *b = (struct cost){rest->unknown, rest->words + 1, e, 1};
        }
        /* Or one letter cell the dictionary does not know: the letter and its vowels and marks. */
        e = i + 1;
        if (is_leading_vowel(cp[i]) && e < n) e++;
        while (e < n && (is_mark(cp[e]) || is_following_vowel(cp[e]))) e++;
        if (best[e].unknown < UNREACHABLE &&
            better(best[e].unknown + (e - i), best[e].words + 1, b))
            *b = (struct cost){best[e].unknown + (e - i), best[e].words + 1, e, 0};
    }
}

int thai_words_cut(const struct thai_words *tw, const char *s, size_t len, size_t *cuts,
                   size_t maxcuts)
{
    uint32_t stack_cp[THAI_RUN_STACK];
    struct cost stack_best[THAI_RUN_STACK + 1];
    uint32_t *cp = stack_cp;
    struct cost *best = stack_best;
    TrieState *st = NULL;
    size_t n = len / 3, k = 0;
    int rc = -1, prev_known = 1;

    if (tw == NULL || len % 3 != 0) return -1;
    if (n == 0) return 0;
    if (n > THAI_RUN_STACK) {
        cp = malloc(n * sizeof(*cp));
        best = malloc((n + 1) * sizeof(*best));
        if (cp == NULL || best == NULL) goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = (const unsigned char *)s + 3 * i;

        cp[i] = ((uint32_t)(c[0] & 0x0F) << 12) | ((uint32_t)(c[1] & 0x3F) << 6) | (c[2] & 0x3F);
        if ((c[0] & 0xF0) != 0xE0 || !thai_words_is_thai(cp[i])) goto out;
    }
    if ((st = trie_root(tw->dictionary)) == NULL) goto out;
    plan(st, cp, (int)n, best);
    /* Unknown cells next to each other make one word. */
    for (int i = 0; i < (int)n && k < maxcuts; i = best[i].next) {
        if (i > 0 && (best[i].known || prev_known)) cuts[k++] = 3 * (size_t)i;
        prev_known = best[i].known;
    }
    rc = (int)k;
out:
    if (st != NULL) trie_state_free(st);
    if (cp != stack_cp) free(cp);
    if (best != stack_best) free(best);
    return rc;
}
