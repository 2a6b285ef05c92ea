/* The keyword matcher and the classifier of the rule engine: turns free Thai or English text into
 * one of the five emergency categories or "other", and tells rules.c which rule words a text
 * names. Pure: the only allocations are the per-call scratch buffers, freed before returning. */

/* How a text is classified (rules/README.md says the same for table authors):
 *  1. The text is folded (text_fold: ASCII lowercased, spaces and punctuation dropped), token by
 *     token so that word starts and clause breaks (. , ! ? ; : newline) are remembered.
 *  2. Every keyword, ignore word, negation marker, clause break and rule word is found. Thai
 *     patterns match anywhere ("head...tail" ones with up to six characters between the halves);
 *     ASCII patterns match whole words, allowing the endings s, es, d, ed, ing, er, ers (or
 *     anything, for a pattern written with a trailing '*').
 *  3. Overlapping keyword and ignore-word matches are resolved longest first (then leftmost,
 *     then first in the table): "ขังตัวเอง" (mental_crisis) wins over the "ขัง" inside it.
 *  4. A keyword is negated when a negation marker (ไม่ได้ ไม่มี ไม่ใช่ ไม่เคย มิได้ ไม่มีใคร;
 *     not never nobody "no one" isn't ...; "no" only right before) comes shortly before it with
 *     no other keyword, no clause break and (for Thai, unless adjacent) no space in between;
 *     a negation carries over "หรือ"/"or" to the next keyword ("ไม่ได้ถูกขังหรือถูกขู่").
 *  5. Each category scores one point per keyword that counted. No points: "other". Otherwise
 *     every category scoring at least half of the best score is a contender, and the most urgent
 *     contender wins: the smallest priority number in the table, then the higher score, then
 *     the order threat, detention, abuse_risk, mental_crisis, gathering. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "text.h"

#define SCAN_MAX_MATCHES 4096 /* matches kept per text; the rest are not looked for */
#define THAI_NEG_WINDOW 18    /* bytes (six Thai characters) a Thai negation reaches forward */
#define ASCII_NEG_WINDOW 48   /* bytes an English negation reaches forward, at most */

/* Built-in markers: grammar, not deployment policy, so they live here rather than in the table.
 * max_words: how many words an English marker may be separated from what it negates. */
static const struct {
    const char *word;
    int max_words;
} negation_markers[] = {
    {"ไม่ได้", 0},   {"ไม่มี", 0},     {"ไม่ใช่", 0},    {"ไม่เคย", 0},   {"มิได้", 0},     {"ไม่มีใคร", 0},
    {"not", 2},    {"no", 0},      {"never", 2},   {"nobody", 2},  {"no one", 2},  {"isn't", 2},
    {"wasn't", 2}, {"aren't", 2},  {"weren't", 2}, {"didn't", 2},  {"doesn't", 2}, {"don't", 2},
    {"hasn't", 2}, {"haven't", 2}, {"hadn't", 2},  {"neither", 2}, {"nor", 2},
};

static const char *const break_markers[] = {"แต่", "but", "however"};

/* Bits of the per-byte map a scan keeps of the folded text. */
enum {
    AT_WORD = 1,     /* a token (word, for English) starts here */
    AT_CLAUSE = 2,   /* ... after a clause break (. , ! ? ; : newline) */
    AT_KEYWORD = 4,  /* an accepted keyword match starts here */
    AT_BREAK = 8,    /* a clause-break marker starts here */
    IN_IGNORE = 16,  /* inside an accepted ignore-word match */
    IN_ACCEPTED = 32 /* inside any accepted keyword or ignore-word match */
};

struct match {
    uint32_t start, end; /* byte offsets into the folded text */
    uint32_t pat;        /* index into the matcher's patterns */
};

/* The low byte of the code point at s[0..len) (valid UTF-8). */
static uint32_t cp_low(const unsigned char *s, size_t len)
{
    if (len == 1) return s[0];
    return (((uint32_t)(s[len - 2] & 0x3F) << 6) | (s[len - 1] & 0x3F)) & 0xFF;
}

/* The index bucket of text s[0..len) (valid UTF-8, len >= 1): from its first two code points,
 * or the last bucket when it has only one. */
static uint32_t bucket_of(const unsigned char *s, size_t len)
{
    size_t a = text_utf8_char_len(s[0]);
    size_t b;

    if (a > len) a = len;
    if (a == len) return RULES_BUCKETS - 1;
    b = text_utf8_char_len(s[a]);
    if (a + b > len) b = len - a;
    return ((cp_low(s, a) << 8 | cp_low(s + a, b)) * 2654435761u >> 20) % (RULES_BUCKETS - 1);
}

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Folds word[0..len) into a new heap string; why says what is wrong when NULL is returned. */
static char *fold_part(const char *word, size_t len, size_t *flen, char *why, size_t whylen)
{
    char *folded = text_fold(word, len, flen);

    if (folded == NULL) {
        snprintf(why, whylen, "out of memory");
    } else if (*flen == 0) {
        snprintf(why, whylen, "has no letters or digits");
        free(folded);
        folded = NULL;
    }
    return folded;
}

static int all_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) return 0;
    }
    return 1;
}

/* Where "..." occurs in s[0..len), or NULL. */
static const char *find_gap(const char *s, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        if (s[i] == '.' && s[i + 1] == '.' && s[i + 2] == '.') return s + i;
    }
    return NULL;
}

int rules_matcher_add(struct rules_matcher *m, const char *word, size_t len, int kind, int owner,
                      char *why, size_t whylen)
{
    struct rules_pattern *p;
    char *folded = NULL;
    char *tail = NULL;
    size_t flen = 0, tlen = 0;
    size_t head_len = len;
    const char *gap;
    int prefix = 0;
    int rc = -1;

    if (len > 0 && word[len - 1] == '*') {
        prefix = 1;
        len--;
        head_len = len;
    }
    if (memchr(word, '*', len) != NULL) {
        snprintf(why, whylen, "'*' may only end a word");
        goto out;
    }
    if (m->npats >= RULES_MAX_PATTERNS) {
        snprintf(why, whylen, "too many words in the table (at most %d)", RULES_MAX_PATTERNS);
        goto out;
    }
    gap = find_gap(word, len);
    if (gap != NULL) {
        const char *t = gap + 3;

        head_len = (size_t)(gap - word);
        if (prefix || find_gap(t, len - head_len - 3) != NULL) {
            snprintf(why, whylen, "a word holds at most one \"...\" and no '*' with it");
            goto out;
        }
        tail = fold_part(t, len - head_len - 3, &tlen, why, whylen);
        if (tail == NULL) goto out;
    }
    folded = fold_part(word, head_len, &flen, why, whylen);
    if (folded == NULL) goto out;
    if (prefix && !all_ascii(folded, flen)) {
        snprintf(why, whylen, "'*' may only end an English word (Thai words match anywhere)");
        goto out;
    }
    if (tail != NULL && all_ascii(folded, flen) && all_ascii(tail, tlen)) {
        snprintf(why, whylen, "\"...\" only joins Thai words");
        goto out;
    }
    if (m->npats == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        struct rules_pattern *grown = realloc(m->pats, cap * sizeof(*grown));

        if (grown == NULL) {
            snprintf(why, whylen, "out of memory");
            goto out;
        }
        m->pats = grown;
        m->cap = cap;
    }
    p = &m->pats[m->npats++];
    p->text = folded;
    p->len = flen;
    p->tail = tail;
    p->tail_len = tlen;
    folded = NULL; /* owned by the matcher now */
    tail = NULL;
    p->kind = kind;
    p->owner = owner;
    p->ascii = p->tail == NULL && all_ascii(p->text, p->len);
    p->prefix = prefix;
    p->bucket = bucket_of((const unsigned char *)p->text, p->len);
    rc = 0;
out:
    free(folded);
    free(tail);
    return rc;
}

long rules_matcher_find_duplicate(const struct rules_matcher *m)
{
    const struct rules_pattern *last;

    if (m->npats == 0) return -1;
    last = &m->pats[m->npats - 1];
    if (last->kind != RULES_PAT_KEYWORD) return -1;
    for (size_t i = 0; i + 1 < m->npats; i++) {
        const struct rules_pattern *p = &m->pats[i];

        if (p->kind == RULES_PAT_KEYWORD && p->len == last->len && p->prefix == last->prefix &&
            memcmp(p->text, last->text, p->len) == 0 && p->tail_len == last->tail_len &&
            (p->tail == NULL) == (last->tail == NULL) &&
            (p->tail == NULL || memcmp(p->tail, last->tail, p->tail_len) == 0))
            return (long)i;
    }
    return -1;
}

int rules_matcher_finish(struct rules_matcher *m)
{
    char why[96];
    uint32_t *fill = NULL;

    for (size_t i = 0; i < sizeof(negation_markers) / sizeof(negation_markers[0]); i++) {
        const char *w = negation_markers[i].word;

        if (rules_matcher_add(m, w, strlen(w), RULES_PAT_NEGATION, negation_markers[i].max_words,
                              why, sizeof(why)) != 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof(break_markers) / sizeof(break_markers[0]); i++) {
        if (rules_matcher_add(m, break_markers[i], strlen(break_markers[i]), RULES_PAT_BREAK, 0,
                              why, sizeof(why)) != 0)
            return -1;
    }
    free(m->order);
    free(m->probe);
    m->order = malloc((m->npats ? m->npats : 1) * sizeof(*m->order));
    m->probe = calloc(m->npats ? m->npats : 1, sizeof(*m->probe));
    fill = malloc(RULES_BUCKETS * sizeof(*fill));
    if (m->order == NULL || m->probe == NULL || fill == NULL) {
        free(fill);
        return -1;
    }
    /* Counting sort by bucket; within a bucket the table's order is kept. */
    memset(m->bucket, 0, sizeof(m->bucket));
    for (size_t i = 0; i < m->npats; i++) m->bucket[m->pats[i].bucket + 1]++;
    for (size_t b = 0; b < RULES_BUCKETS; b++) m->bucket[b + 1] += m->bucket[b];
    memcpy(fill, m->bucket, RULES_BUCKETS * sizeof(*fill));
    for (size_t i = 0; i < m->npats; i++) m->order[fill[m->pats[i].bucket]++] = (uint32_t)i;
    free(fill);
    for (size_t k = 0; k < m->npats; k++) {
        const struct rules_pattern *p = &m->pats[m->order[k]];
        size_t n = p->len < 8 ? p->len : 8;

        memcpy(&m->probe[k].head, p->text, n);
        memset(&m->probe[k].mask, 0xFF, n);
        m->probe[k].len = (uint32_t)p->len;
    }
    return 0;
}

void rules_matcher_free(struct rules_matcher *m)
{
    if (m == NULL) return;
    for (size_t i = 0; i < m->npats; i++) {
        free(m->pats[i].text);
        free(m->pats[i].tail);
    }
    free(m->pats);
    free(m->order);
    free(m->probe);
    memset(m, 0, sizeof(*m));
}

/* 1 for an ASCII byte that separates tokens: white space, controls and punctuation other than
 * the apostrophe (so "isn't" stays one word). Bytes of other scripts never separate. */
static int is_separator(unsigned char c)
{
    if (c >= 0x80 || c == '\'') return 0;
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

static int is_clause_separator(unsigned char c)
{
    return c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':' || c == '\n';
}

/* Allowed English endings after a whole-word ASCII pattern. */
static int english_ending(const char *s, size_t len)
{
    static const char *const endings[] = {"s", "es", "d", "ed", "ing", "er", "ers"};

    for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
        if (strlen(endings[i]) == len && memcmp(endings[i], s, len) == 0) return 1;
    }
    return 0;
}

/* Scratch state of one scan. */
struct scan {
    const struct rules_matcher *m;
    const char *f;    /* the folded text */
    size_t n;         /* its length */
    uint8_t *at;      /* n + 1 bytes of AT_* and IN_* bits */
    struct match *mt; /* every match, in start order */
    size_t nmt, cap;
    struct match *neg; /* the negation markers that count, by end */
    size_t nneg;
};

/* 1 when the ASCII pattern p found at f[i..i+p->len) stands as a word there. */
static int word_fits(const struct scan *s, const struct rules_pattern *p, size_t i)
{
    size_t e = i + p->len;
    size_t r;

    if (i > 0 && !(s->at[i] & AT_WORD) && is_alnum((unsigned char)s->f[i - 1])) return 0;
    if (p->prefix || e == s->n || (s->at[e] & AT_WORD) || !is_alnum((unsigned char)s->f[e]))
        return 1;
    r = e;
    while (r < s->n && is_alnum((unsigned char)s->f[r]) && (r == e || !(s->at[r] & AT_WORD))) r++;
    return english_ending(s->f + e, r - e);
}

/* Folds text token by token into s->f, recording where tokens and clauses start. */
static int fold_tokens(struct scan *s, char *f, const char *text, size_t len)
{
    size_t i = 0;
    size_t n = 0;
    uint8_t pending = AT_WORD;

    while (i < len) {
        size_t a;
        size_t flen;

        while (i < len && is_separator((unsigned char)text[i])) {
            if (is_clause_separator((unsigned char)text[i])) pending |= AT_CLAUSE;
            i++;
        }
        a = i;
        while (i < len && !is_separator((unsigned char)text[i])) i++;
        if (i == a) break;
        flen = text_fold_into(text + a, i - a, f + n); /* n <= a: f has room */
        if (flen > 0) {
            s->at[n] |= pending;
            pending = AT_WORD;
            n += flen;
        }
    }
    f[n] = '\0';
    s->at[n] |= pending; /* the end of the text is a word start too */
    s->n = n;
    return 0;
}

/* For a "head...tail" pattern whose head ends at *end: finds the tail at most RULES_GAP_BYTES
 * further on, in the same clause, and moves *end past it. Returns 1 when found. */
static int find_tail(const struct scan *s, const struct rules_pattern *p, size_t *end)
{
    size_t from = *end;

    for (size_t j = from; j <= from + RULES_GAP_BYTES && j + p->tail_len <= s->n; j++) {
        if (j > from && (s->at[j] & AT_CLAUSE)) return 0;
        if ((s->f[j] & 0xC0) == 0x80 || memcmp(s->f + j, p->tail, p->tail_len) != 0) continue;
        *end = j + p->tail_len;
        return 1;
    }
    return 0;
}

/* Compares the patterns of bucket b with the text at offset i and records those that match. */
static void match_bucket(struct scan *s, uint32_t b, size_t i)
{
    const struct rules_matcher *m = s->m;
    const unsigned char *here = (const unsigned char *)s->f + i;
    size_t avail = s->n - i, end;
    uint64_t here8 = 0;

    if (m->bucket[b] == m->bucket[b + 1]) return;
    memcpy(&here8, here, avail < 8 ? avail : 8);
    for (uint32_t k = m->bucket[b]; k < m->bucket[b + 1] && s->nmt < s->cap; k++) {
        const struct rules_probe *pr = &m->probe[k];
        const struct rules_pattern *p;

        if (pr->len > avail || (here8 & pr->mask) != pr->head ||
            (pr->len > 8 && memcmp(here + 8, m->pats[m->order[k]].text + 8, pr->len - 8) != 0))
            continue;
        p = &m->pats[m->order[k]];
        if (p->ascii && !word_fits(s, p, i)) continue;
        end = i + p->len;
        if (p->tail != NULL && !find_tail(s, p, &end)) continue;
        s->mt[s->nmt].start = (uint32_t)i;
        s->mt[s->nmt].end = (uint32_t)end;
        s->mt[s->nmt].pat = m->order[k];
        s->nmt++;
    }
}

static void find_matches(struct scan *s)
{
    for (size_t i = 0; i < s->n && s->nmt < s->cap; i++) {
        const unsigned char *here = (const unsigned char *)s->f + i;

        if ((*here & 0xC0) == 0x80) continue; /* not the start of a code point */
        if (i + text_utf8_char_len(*here) < s->n) match_bucket(s, bucket_of(here, s->n - i), i);
        match_bucket(s, RULES_BUCKETS - 1, i);
    }
}

static const struct rules_pattern *pat_of(const struct scan *s, const struct match *x)
{
    return &s->m->pats[x->pat];
}

static int is_span_kind(int kind)
{
    return kind == RULES_PAT_KEYWORD || kind == RULES_PAT_IGNORE;
}

/* qsort context is not portable, so the comparison reads the pattern index order only: callers
 * sort an array of struct match whose lengths are end - start. */
static int longest_first(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    uint32_t lx = x->end - x->start, ly = y->end - y->start;

    if (lx != ly) return lx > ly ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->pat < y->pat ? -1 : (x->pat > y->pat);
}

static int by_end(const void *a, const void *b)
{
    const struct match *x = a, *y = b;

    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->start < y->start ? -1 : (x->start > y->start);
}

static int by_start(const void *a, const void *b)
{
    const struct match *x = a, *y = b;

    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : (x->end > y->end);
}

static int range_has(const struct scan *s, size_t from, size_t to, uint8_t bits)
{
    for (size_t p = from; p < to; p++) {
        if (s->at[p] & bits) return 1;
    }
    return 0;
}

/* 1 when something found at offset pos is negated by a marker shortly before it. */
static int negated(const struct scan *s, size_t pos)
{
    size_t lo = 0, hi = s->nneg;
    size_t from = pos > ASCII_NEG_WINDOW ? pos - ASCII_NEG_WINDOW : 0;

    /* the first marker ending at or after from */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->neg[mid].end < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < s->nneg && s->neg[k].end <= pos; k++) {
        const struct match *x = &s->neg[k];
        const struct rules_pattern *p = pat_of(s, x);
        size_t gap = pos - x->end;

        if (range_has(s, x->end, pos + 1, AT_CLAUSE)) continue;
        if (range_has(s, x->end, pos, AT_KEYWORD | AT_BREAK)) continue;
        if (p->ascii) {
            int words = 0;

            for (size_t q = x->end; q < pos; q++) words += (s->at[q] & AT_WORD) != 0;
            if (words > p->owner) continue;
        } else {
            if (gap > THAI_NEG_WINDOW) continue;
            if (gap > 0 && range_has(s, x->end + 1, pos + 1, AT_WORD)) continue;
        }
        return 1;
    }
    return 0;
}

/* 1 when f[from..to) is "or" (หรือ, or, nor) and at most a few more bytes ("หรือโดน"), with no
 * clause break: the keyword at to then shares the negation of the keyword that ends at from
 * ("ไม่ได้ถูกขังหรือถูกขู่", "not threatened or hurt"). */
static int continues_list(const struct scan *s, size_t from, size_t to)
{
    static const char *const ors[] = {"หรือ", "or", "nor"};

    if (range_has(s, from, to + 1, AT_CLAUSE)) return 0;
    for (size_t i = 0; i < sizeof(ors) / sizeof(ors[0]); i++) {
        size_t len = strlen(ors[i]);

        if (to - from >= len && to - from <= len + 9 && memcmp(s->f + from, ors[i], len) == 0)
            return 1;
    }
    return 0;
}

/* The category a text's scores point to (see the comment at the top of this file). */
static int choose(const struct rules_table *t, const int score[INCIDENT_CATEGORY_COUNT])
{
    int best = 0;
    int winner = INCIDENT_OTHER;

    for (int c = 0; c < INCIDENT_OTHER; c++) {
        if (score[c] > best) best = score[c];
    }
    if (best == 0) return INCIDENT_OTHER;
    for (int c = 0; c < INCIDENT_OTHER; c++) {
        if (score[c] == 0 || 2 * score[c] < best) continue;
        if (winner == INCIDENT_OTHER || t->cat[c].priority < t->cat[winner].priority ||
            (t->cat[c].priority == t->cat[winner].priority && score[c] > score[winner]))
            winner = c;
    }
    return winner;
}

double rules_confidence(const int score[INCIDENT_CATEGORY_COUNT], int category)
{
    int total = 0;
    double weight = 1.0;

    if (score == NULL || category < 0 || category >= INCIDENT_CATEGORY_COUNT) return 0.0;
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) total += score[c] > 0 ? score[c] : 0;
    if (total == 0 || score[category] <= 0) return 0.0;
    for (int i = 0; i < score[category] && i < 64; i++) weight /= 2.0;
    return (double)score[category] / total * (1.0 - weight);
}

int rules_scan_text(const struct rules_table *t, const char *text, size_t len,
                    struct rules_scan *out)
{
    struct scan s;
    char *f = NULL;
    struct match *spans = NULL;
    size_t nspans = 0;
    size_t prev_end;  /* end of the previous accepted keyword */
    int prev_negated; /* ... and whether it was negated */
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->category = INCIDENT_OTHER;
    memset(&s, 0, sizeof(s));
    if (t == NULL || text == NULL || len == 0) return 0;
    s.m = &t->matcher;
    f = malloc(len + 1);
    s.at = calloc(len + 1, 1);
    /* Room for four matches per byte on average, at most SCAN_MAX_MATCHES. */
    s.cap = len < SCAN_MAX_MATCHES / 4 ? 4 * len + 16 : SCAN_MAX_MATCHES;
    s.mt = malloc(s.cap * sizeof(*s.mt));
    spans = malloc(s.cap * sizeof(*spans));
    s.neg = malloc(s.cap * sizeof(*s.neg));
    if (f == NULL || s.at == NULL || s.mt == NULL || spans == NULL || s.neg == NULL) goto out;
    if (fold_tokens(&s, f, text, len) != 0) goto out;
    s.f = f;
    find_matches(&s);

    /* Keywords and ignore words: longest first, no overlaps. */
    for (size_t i = 0; i < s.nmt; i++) {
        if (is_span_kind(pat_of(&s, &s.mt[i])->kind)) spans[nspans++] = s.mt[i];
    }
    qsort(spans, nspans, sizeof(*spans), longest_first);
    for (size_t i = 0; i < nspans; i++) {
        struct match *x = &spans[i];

        if (range_has(&s, x->start, x->end, IN_ACCEPTED)) {
            x->end = x->start; /* rejected: marked empty */
            continue;
        }
        for (size_t p = x->start; p < x->end; p++)
            s.at[p] |= IN_ACCEPTED | (pat_of(&s, x)->kind == RULES_PAT_IGNORE ? IN_IGNORE : 0);
        if (pat_of(&s, x)->kind == RULES_PAT_KEYWORD) s.at[x->start] |= AT_KEYWORD;
    }

    /* Markers count only outside accepted keywords ("ออกไปไหนไม่ได้" holds a "ไม่ได้"). */
    for (size_t i = 0; i < s.nmt; i++) {
        const struct match *x = &s.mt[i];
        int kind = pat_of(&s, x)->kind;

        if ((kind != RULES_PAT_NEGATION && kind != RULES_PAT_BREAK) ||
            range_has(&s, x->start, x->end, IN_ACCEPTED))
            continue;
        if (kind == RULES_PAT_NEGATION)
            s.neg[s.nneg++] = *x;
        else
            s.at[x->start] |= AT_BREAK;
    }
    qsort(s.neg, s.nneg, sizeof(*s.neg), by_end);

    /* Score the accepted keywords in text order, so that a negation can carry over a list. */
    qsort(spans, nspans, sizeof(*spans), by_start);
    prev_end = 0;
    prev_negated = 0;
    for (size_t i = 0; i < nspans; i++) {
        const struct match *x = &spans[i];
        const struct rules_pattern *p = pat_of(&s, x);
        int neg;

        if (x->end == x->start || p->kind != RULES_PAT_KEYWORD) continue;
        neg = negated(&s, x->start) || (prev_negated && continues_list(&s, prev_end, x->start));
        prev_end = x->end;
        prev_negated = neg;
        if (!neg) out->score[p->owner]++;
    }
    out->category = choose(t, out->score);

    for (size_t i = 0; i < s.nmt; i++) {
        const struct match *x = &s.mt[i];
        const struct rules_pattern *p = pat_of(&s, x);
        int inside_ignore = 1;

        if (p->kind != RULES_PAT_WORD_ANY && p->kind != RULES_PAT_WORD_NONE) continue;
        for (size_t q = x->start; q < x->end; q++) inside_ignore &= (s.at[q] & IN_IGNORE) != 0;
        if (inside_ignore || negated(&s, x->start)) continue;
        if (p->kind == RULES_PAT_WORD_ANY)
            out->words_any_hit[p->owner / 64] |= (uint64_t)1 << (p->owner % 64);
        else
            out->words_none_hit[p->owner / 64] |= (uint64_t)1 << (p->owner % 64);
    }
    rc = 0;
out:
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        out->category = INCIDENT_OTHER;
    }
    free(f);
    free(s.at);
    free(s.mt);
    free(spans);
    free(s.neg);
    return rc;
}
