/* Thai word boundaries (see thai_words.h) by maximal matching over libthai's own dictionary, the
 * rule libthai's th_brk follows: of all the ways to cut a run into dictionary words, the one with
 * the least text left unknown, then the fewest words, then the longest first word. It is written
 * here as a dynamic programme over the run, right to left (each position walks the dictionary
 * once), because th_brk_find_breaks, which searches the same space path by path, took two thirds
 * of a report's classification time; test_triage_model checks that both cut the corpus the same
 * way. The dictionary is libthai's (libthai-data's thbrk.tri, a libdatrie trie), read once at
 * load time into a compact trie of our own (its 25,000 words, every letter a byte), which calls
 * only read: one dictionary serves any number of callers at once. */
#include "thai_words.h"

#include <datrie/trie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THAI_RUN_STACK 256     /* Thai characters cut without an allocation */
#define UNREACHABLE (1 << 28)  /* no way to cut the rest of the run from here */
#define DICTIONARY "thbrk.tri" /* libthai's word-break dictionary, in LIBTHAI_DICTDIR */
#define DICTIONARY_DIR "/usr/share/libthai"

#define THAI_BLOCK 0x0E00 /* a Thai letter is stored as its offset in the block, below 128 */
#define NO_NODE 0         /* the root is node 0, which is no letter's child */

/* The dictionary as a trie, two arrays a walk reads one cache line of each at a step: node[k]
 * holds where node k's edges start (the next node's start is where they end) and, in its top bit,
 * whether the letters from the root to node k spell a word; edge[e] holds the node an edge leads
 * to (above bit 7) and its letter (bits 0-6), the edges of a node sorted by letter. The root's
 * children are also indexed by letter. */
#define TERMINAL 0x80000000u
#define LETTER_BITS 7

struct thai_words {
    uint32_t *node; /* nnodes + 1 */
    uint32_t *edge;
    uint32_t root_child[128];
    size_t nnodes;
};

/* The words read out of libdatrie's trie: letters as offsets, each word NUL-ended. */
struct word_list {
    uint8_t (*words)[32];
    size_t n, cap;
    int failed;
};

static Bool collect_word(const AlphaChar *key, TrieData data, void *arg)
{
    struct word_list *list = arg;
    size_t len = 0;

    (void)data;
    while (key[len] != 0) {
        if (len >= 31 || key[len] < THAI_BLOCK + 1 || key[len] > THAI_BLOCK + 0x5B)
            return TRUE; /* not a Thai word this code reads: left out */
        len++;
    }
    if (len == 0) return TRUE;
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 32768;
        void *more = realloc(list->words, cap * sizeof(*list->words));

        if (more == NULL) {
            list->failed = 1;
            return FALSE;
        }
        list->words = more;
        list->cap = cap;
    }
    for (size_t i = 0; i <= len; i++)
        list->words[list->n][i] = (uint8_t)(i < len ? key[i] - THAI_BLOCK : 0);
    list->n++;
    return TRUE;
}

static int by_letters(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b); /* offsets 1..0x5B: no NUL inside */
}

/* Builds tw's trie from the sorted words, breadth first, so that every node's edges are
 * contiguous. 0, or -1 when memory runs out. */
static int build_trie(struct thai_words *tw, uint8_t (*words)[32], size_t n)
{
    struct range {
        size_t lo, hi, depth;
    } * queue;
    size_t cap = 1, head = 0, tail = 0, edges = 0;

    for (size_t i = 0; i < n; i++) cap += strlen((const char *)words[i]); /* nodes, at most */
    queue = malloc(cap * sizeof(*queue));
    tw->node = malloc((cap + 1) * sizeof(*tw->node));
    tw->edge = malloc(cap * sizeof(*tw->edge));
    if (queue == NULL || tw->node == NULL || tw->edge == NULL || cap >= (1u << 24)) {
        free(queue);
        return -1;
    }
    queue[tail++] = (struct range){0, n, 0}; /* node k is queue[k] */
    while (head < tail) {
        struct range r = queue[head];
        size_t i = r.lo;

        tw->node[head] = (uint32_t)edges;
        if (i < r.hi && words[i][r.depth] == 0) tw->node[head] |= TERMINAL, i++; /* sorts first */
        while (i < r.hi) {
            uint8_t c = words[i][r.depth];
            size_t j = i;

            while (j < r.hi && words[j][r.depth] == c) j++;
            tw->edge[edges] = (uint32_t)tail << LETTER_BITS | c;
            if (head == 0) tw->root_child[c] = (uint32_t)tail;
            edges++;
            queue[tail++] = (struct range){i, j, r.depth + 1};
            i = j;
        }
        head++;
    }
    tw->node[head] = (uint32_t)edges;
    tw->nnodes = head;
    free(queue);
    return 0;
}

/* The node the letter cp leads to from node, or NO_NODE: a binary search of the node's sorted
 * edges (the first letters of a word have dozens of followers), then a short scan. */
static uint32_t walk(const struct thai_words *tw, uint32_t node, uint32_t cp)
{
    uint32_t c = cp - THAI_BLOCK, lo, hi;

    if (node == 0) return tw->root_child[c & 127];
    lo = tw->node[node] & ~TERMINAL;
    hi = tw->node[node + 1] & ~TERMINAL;
    while (hi - lo > 4) {
        uint32_t mid = lo + (hi - lo) / 2;

        if ((tw->edge[mid] & ((1u << LETTER_BITS) - 1)) < c)
            lo = mid + 1;
        else
            hi = mid + 1;
    }
    for (uint32_t e = lo; e < hi; e++) {
        uint32_t letter = tw->edge[e] & ((1u << LETTER_BITS) - 1);

        if (letter == c) return tw->edge[e] >> LETTER_BITS;
        if (letter > c) break;
    }
    return NO_NODE;
}

struct thai_words *thai_words_open(char *err, size_t errlen)
{
    const char *dir = getenv("LIBTHAI_DICTDIR"); /* where libthai itself looks first */
    char path[4096];
    struct thai_words *tw = calloc(1, sizeof(*tw));
    struct word_list list = {0};
    Trie *dictionary;

    if (tw == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : DICTIONARY_DIR, DICTIONARY);
    if ((dictionary = trie_new_from_file(path)) == NULL) {
        snprintf(err, errlen,
                 "cannot load libthai's word-break dictionary %s (package libthai-data)", path);
        free(tw);
        return NULL;
    }
    trie_enumerate(dictionary, collect_word, &list);
    trie_free(dictionary);
    if (!list.failed && list.n > 0) {
        qsort(list.words, list.n, sizeof(*list.words), by_letters);
        list.failed = build_trie(tw, list.words, list.n) != 0;
    }
    free(list.words);
    if (list.failed || list.n == 0) {
        snprintf(err, errlen, "%s: %s", path, list.n ? "out of memory" : "no Thai word in it");
        thai_words_free(tw);
        return NULL;
    }
    return tw;
}

void thai_words_free(struct thai_words *tw)
{
    if (tw == NULL) return;
    free(tw->node);
    free(tw->edge);
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

/* Fills best[0..n] for the run cp[0..n). */
static void plan(const struct thai_words *tw, const uint32_t *cp, int n, struct cost *best)
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
        for (uint32_t node = 0, j = (uint32_t)i; j < (uint32_t)n; j++) {
            const struct cost *rest = &best[j + 1];

            if ((node = walk(tw, node, cp[j])) == NO_NODE) break;
            e = (int)j + 1;
            if (rest->unknown >= UNREACHABLE || !(tw->node[node] & TERMINAL)) continue;
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
    plan(tw, cp, (int)n, best);
    /* Unknown cells next to each other make one word. */
    for (int i = 0; i < (int)n && k < maxcuts; i = best[i].next) {
        if (i > 0 && (best[i].known || prev_known)) cuts[k++] = 3 * (size_t)i;
        prev_known = best[i].known;
    }
    rc = (int)k;
out:
    if (cp != stack_cp) free(cp);
    if (best != stack_best) free(best);
    return rc;
}
