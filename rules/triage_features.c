/* The triage model's features of a report (see triage_features.h). Three passes over the text:
 *  1. normalise: ASCII lowercased, Thai digits made ASCII, zero-width characters dropped, a letter
 *     typed three times or more kept once ("ช่วยด้วยยยย", "pleeease"), a doubled Thai mark kept
 *     once, common misspellings of words that matter spelt one way; punctuation becomes a clause
 *     break ("|") or a space;
 *  2. cut into words: Thai runs by libthai's dictionary (thai_words.c), Latin runs at spaces (chat
 * spellings such as "dont", "u", "plz" read as the words they stand for);
 *  3. mark negation scopes: after "ไม่ได้ ไม่มี ไม่ใช่ ไม่เคย มิได้" or "not, never, no, isn't,
 *     didn't …" the next few words of the clause are negated, up to a clause break, "แต่"/"but",
 *     or (after a Thai cue) a space. A post-verbal "ไม่ได้" ("ออกไปไหนไม่ได้": cannot go anywhere)
 *     negates nothing: "ไม่ได้" negates only at the start of a clause or after its subject. */
#include "triage_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "thai_words.h"

#define CLAUSE '|'         /* a clause break in the normalised text */
#define LETTER_GRAM 4      /* letters per letter n-gram (Thai marks count: about a syllable) */
#define THAI_NEG_SCOPE 4   /* words a Thai negation reaches */
#define LATIN_NEG_SCOPE 3  /* words an English negation reaches */
#define MAX_TOKENS 2048    /* words looked at per text; a description holds at most 4000 bytes */
#define MAX_THAI_CUTS 1024 /* word starts in one run of Thai letters */

struct token {
    const char *s;
    size_t len;
    uint64_t hash;             /* triage_bytes_hash of the word */
    unsigned thai : 1;         /* Thai letters (else Latin letters and digits) */
    unsigned clause_start : 1; /* first word after a clause break */
    unsigned space_before : 1; /* a space (or nothing) separates it from the word before */
    unsigned negated : 1;
};

struct words {
    char *norm; /* the normalised text, owned (one block with tok) */
    size_t norm_len;
    struct token *tok; /* inside norm's block */
    size_t n, cap;
};

/* A word of the lists below, with its length. */
struct listed_word {
    const char *s;
    size_t len;
};
#define W(lit)                                                                                     \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }

/* Misspellings of words that matter, as people type them in a hurry, with the spelling the
 * corpus and the keywords use. Replaced in the normalised text before Thai is cut into words. */
static const struct {
    const char *typed, *meant;
} thai_spellings[] = {
    {"ล็อก", "ล็อค"},
    {"ล๊อค", "ล็อค"},
    {"ล๊อก", "ล็อค"},
    {"ล้อค", "ล็อค"},
    {"ขุ่ฆ่า", "ขู่ฆ่า"},
    {"ข่มขุ่", "ข่มขู่"},
    {"โดนขุ่", "โดนขู่"},
    {"ถูกขุ่", "ถูกขู่"},
    {"มั้ย", "ไหม"},
    {"มั๊ย", "ไหม"},
    {"ป่าว", "เปล่า"},
    {"เด๋ว", "เดี๋ยว"},
    {"ค้าบ", "ครับ"},
    {"นู๋", "หนู"},
    {"โทสับ", "โทรศัพท์"},
    {"โทรสับ", "โทรศัพท์"},
    {"ฆ่าตัวตาล", "ฆ่าตัวตาย"},
    {"ค่าตัวตาย", "ฆ่าตัวตาย"},
    {"ช่วยดวย", "ช่วยด้วย"},
    {"ช้วย", "ช่วย"},
    {"ยาเสบติด", "ยาเสพติด"},
    {"ยาเสพย์ติด", "ยาเสพติด"},
    {"กรู", "กู"},
    {"มรึง", "มึง"},
    {"เมิง", "มึง"},
    {"มืง", "มึง"},
    {"เค้า", "เขา"},
};

/* Chat spellings of English words. */
static const struct {
    struct listed_word typed, meant;
} latin_spellings[] = {
    {W("u"), W("you")},          {W("ur"), W("your")},        {W("r"), W("are")},
    {W("pls"), W("please")},     {W("plz"), W("please")},     {W("bf"), W("boyfriend")},
    {W("gf"), W("girlfriend")},  {W("dont"), W("don't")},     {W("didnt"), W("didn't")},
    {W("doesnt"), W("doesn't")}, {W("isnt"), W("isn't")},     {W("wasnt"), W("wasn't")},
    {W("arent"), W("aren't")},   {W("werent"), W("weren't")}, {W("cant"), W("can't")},
    {W("wont"), W("won't")},     {W("im"), W("i'm")},         {W("ive"), W("i've")},
    {W("hes"), W("he's")},       {W("shes"), W("she's")},     {W("theyre"), W("they're")},
    {W("cuz"), W("because")},    {W("coz"), W("because")},    {W("bc"), W("because")},
    {W("ppl"), W("people")},     {W("thx"), W("thanks")},     {W("ok"), W("okay")},
};

static const struct listed_word thai_negations[] = {
    W("ไม่ได้"), W("ไม่มี"), W("ไม่ใช่"), W("ไม่เคย"), W("มิได้"), W("ไม่มีใคร"),
};
static const struct listed_word thai_negation_tails[] = {
    W("ได้"),
    W("มี"),
    W("ใช่"),
    W("เคย"),
}; /* after "ไม่" */
static const struct listed_word latin_negations[] = {
    W("not"),     W("never"),   W("nobody"),  W("isn't"),   W("wasn't"), W("aren't"),
    W("weren't"), W("don't"),   W("doesn't"), W("didn't"),  W("hasn't"), W("haven't"),
    W("hadn't"),  W("neither"), W("nor"),     W("nothing"), W("noone"),
};
/* Who a "ไม่ได้" follows when it negates what comes after it ("หนูไม่ได้ถูกขัง"). */
static const struct listed_word thai_subjects[] = {
    W("ผม"),  W("ฉัน"), W("หนู"), W("เรา"), W("เขา"), W("ดิฉัน"), W("กู"),  W("ข้อย"), W("เฮา"),
    W("ฉาน"), W("มัน"), W("แม่"), W("พ่อ"),  W("ลูก"),  W("น้อง"), W("พี่"),  W("ยาย"), W("ตา"),
    W("ป้า"),  W("ลุง"), W("ก็"),  W("ยัง"),  W("ซึ่ง"),  W("แค่"),  W("คือ"), W("เค้า"), W("ใคร"),
};
static const struct listed_word clause_words[] = {
    W("แต่"), W("แต่ว่า"), W("but"), W("however"), W("although"),
};

static int token_in(const struct token *t, const struct listed_word *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (t->len == list[i].len && memcmp(t->s, list[i].s, t->len) == 0) return 1;
    }
    return 0;
}

/* 1 when the word is the string literal lit. */
#define TOKEN_IS(t, lit)                                                                           \
    ((t)->len == sizeof(lit) - 1 && memcmp((t)->s, (lit), sizeof(lit) - 1) == 0)

#define TOKEN_IN(t, list) token_in((t), (list), sizeof(list) / sizeof((list)[0]))

uint64_t triage_bytes_hash(const void *bytes, size_t len)
{
    /* Eight bytes a step, each step a multiply and a fold (in the manner of wyhash), then a
     * final mix: names are short, and every feature of every report is hashed. */
    const unsigned char *p = bytes;
    const uint64_t k = 0x9e3779b97f4a7c15u;
    uint64_t h = 0xcbf29ce484222325u ^ (len * k);
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        h = (h ^ v) * k;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t v = 0;
        memcpy(&v, p + i, len - i);
        h = (h ^ v) * k;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9u;
    return h ^ (h >> 31);
}

/* A feature's hash from its kind's and its parts' hashes. */
static uint64_t combine(uint64_t h, uint64_t part)
{
    h = (h ^ part) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 29);
}

uint64_t triage_feature_hash(const char *name, size_t len)
{
    size_t kind = len >= 3 && name[2] == '!' ? 3 : 2; /* "w:", "w:!", ... */
    const char *rest = name + kind, *space;
    uint64_t h;

    if (len < kind) return triage_bytes_hash(name, len);
    h = triage_bytes_hash(name, kind);
    if (name[0] == 'b' && (space = memchr(rest, ' ', len - kind)) != NULL) {
        h = combine(h, triage_bytes_hash(rest, (size_t)(space - rest)));
        return combine(h, triage_bytes_hash(space + 1, len - kind - (size_t)(space - rest) - 1));
    }
    return combine(h, triage_bytes_hash(rest, len - kind));
}

/* ------------------------------------------------------------------------------------------- */
/* 1. Normalising */

static int is_thai_mark(uint32_t cp)
{
    return cp == 0x0E31 || (cp >= 0x0E34 && cp <= 0x0E3A) || (cp >= 0x0E47 && cp <= 0x0E4E);
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* What a code point becomes: the code point to keep, ' ' (a space), CLAUSE, or 0 (dropped).
 * next is the code point after it (0 at the end), to tell "ม.2" from a sentence's end. */
static uint32_t normal_cp(uint32_t cp, uint32_t next)
{
    if (cp >= 'A' && cp <= 'Z') return cp + ('a' - 'A');
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return cp;
    if (cp >= 0x0E50 && cp <= 0x0E59) return '0' + (cp - 0x0E50);
    if (cp == 0x0E46 || cp == 0x0E2F) return ' '; /* ๆ (say it again), ฯ (abbreviation) */
    if (thai_words_is_thai(cp)) return cp;
    if (cp == '\'' || cp == 0x2019 || cp == 0x2018) return '\'';
    if (cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0xFEFF) return 0;
    if (cp == '.' || cp == ',') {
        int joined = next != 0 && next != ' ' && next != '\n' && next != '\t' && next != '\r';
        return joined ? ' ' : CLAUSE; /* "ม.2", "1,000": inside a word */
    }
    if (cp == '!' || cp == '?' || cp == ';' || cp == ':' || cp == '\n' || cp == '\r' ||
        cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F)
        return CLAUSE;
    return ' ';
}

/* Writes the normalised text of s[0..len) into out (room for len + 1 bytes: nothing grows) and
 * returns its length. */
static size_t normalise(const char *s, size_t len, char *out)
{
    size_t n = 0, i = 0;
    uint32_t last = CLAUSE; /* the start is like a clause break: no space or break kept there */
    size_t run = 0, second_at = 0; /* times last was kept in a row; where its second copy went */

    while (i < len) {
        uint32_t cp, next = 0, c;
        size_t step = text_utf8_decode(s + i, len - i, &cp);

        if (step == 0) { /* not UTF-8: skipped */
            i++;
            continue;
        }
        if (i + step < len) text_utf8_decode(s + i + step, len - i - step, &next);
        i += step;
        if ((c = normal_cp(cp, next)) == 0) continue;
        if (c == ' ' || c == CLAUSE) {
            if (last == CLAUSE || (last == ' ' && c == ' ')) continue;
            if (last == ' ') n--; /* a clause break outranks the space before it */
            out[n++] = (char)c;
            last = c;
            run = 1;
            continue;
        }
        if (c == last && !(c >= '0' && c <= '9')) {
            run++;
            if (is_thai_mark(c) || run >= 3) {
                if (run == 3 && !is_thai_mark(c)) n = second_at; /* "กกก" keeps one */
                continue;
            }
            second_at = n;
        } else {
            run = 1;
        }
        put_utf8(out, &n, c);
        last = c;
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == CLAUSE)) n--;
    out[n] = '\0';
    return n;
}

/* Replaces the misspellings of thai_spellings in s[0..*len) in place, within cap bytes with the
 * NUL (a replacement that would not fit is left out). */
static void respell(char *s, size_t *len, size_t cap)
{
    for (size_t k = 0; k < sizeof(thai_spellings) / sizeof(thai_spellings[0]); k++) {
        const char *typed = thai_spellings[k].typed, *meant = thai_spellings[k].meant;
        size_t tl = strlen(typed), ml = strlen(meant), i = 2;
        const char *hit;

        /* The third byte tells Thai letters apart (the first two are those of the block). */
        while (i < *len && (hit = memchr(s + i, typed[2], *len - i)) != NULL) {
            size_t at = (size_t)(hit - s) - 2;

            i = (size_t)(hit - s) + 1;
            if (at + tl > *len || memcmp(s + at, typed, tl) != 0 || *len + ml - tl + 1 > cap)
                continue;
            memmove(s + at + ml, s + at + tl, *len - at - tl + 1);
            memcpy(s + at, meant, ml);
            *len = *len + ml - tl;
            i = at + ml + 2;
        }
    }
}

/* ------------------------------------------------------------------------------------------- */
/* 2. Words */

static int add_token(struct words *w, const char *s, size_t len, int thai, int clause_start,
                     int space_before)
{
    struct token *t;

    if (len == 0 || w->n >= w->cap) return 0;
    t = &w->tok[w->n++];
    t->s = s;
    t->len = len;
    t->hash = triage_bytes_hash(s, len);
    t->thai = thai != 0;
    t->clause_start = clause_start != 0;
    t->space_before = space_before != 0;
    t->negated = 0;
    return 0;
}

static void add_latin(struct words *w, const char *s, size_t len, int clause_start)
{
    while (len > 0 && s[0] == '\'') s++, len--;
    while (len > 0 && s[len - 1] == '\'') len--;
    for (size_t k = 0; len <= 7 && k < sizeof(latin_spellings) / sizeof(latin_spellings[0]); k++) {
        if (latin_spellings[k].typed.len == len &&
            memcmp(latin_spellings[k].typed.s, s, len) == 0) {
            s = latin_spellings[k].meant.s;
            len = latin_spellings[k].meant.len;
            break;
        }
    }
    add_token(w, s, len, 0, clause_start, 1);
}

static int split_words(const struct thai_words *tw, struct words *w)
{
    const char *s = w->norm;
    size_t len = w->norm_len, i = 0;
    int clause_start = 1, space_before = 1;
    size_t cuts[MAX_THAI_CUTS];

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t j = i;

        if (c == ' ' || c == CLAUSE) {
            if (c == CLAUSE) clause_start = 1;
            space_before = 1;
            i++;
            continue;
        }
        if (c >= 0x80) { /* a run of Thai: the only non-ASCII the normalised text keeps */
            size_t from = i;
            int ncuts = 0;

            while (j < len && (unsigned char)s[j] >= 0x80) j += 3;
            if (j > len) return -1;
            if (tw != NULL && (ncuts = thai_words_cut(tw, s + i, j - i, cuts, MAX_THAI_CUTS)) < 0)
                return -1;
            for (int k = 0; k <= ncuts; k++) {
                size_t to = k < ncuts ? i + cuts[k] : j;

                add_token(w, s + from, to - from, 1, clause_start, space_before);
                clause_start = space_before = 0;
                from = to;
            }
        } else {
            while (j < len && s[j] != ' ' && s[j] != CLAUSE && (unsigned char)s[j] < 0x80) j++;
            add_latin(w, s + i, j - i, clause_start);
            clause_start = 0;
            space_before = 0;
        }
        i = j;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* 3. Negation */

/* How many words the negation cue starting at word i spans (0: none there), with *thai set when
 * it is a Thai cue. */
static size_t negation_cue(const struct words *w, size_t i, int *thai)
{
    const struct token *t = &w->tok[i];
    size_t span = 0;

    *thai = t->thai;
    if (t->thai) {
        if (TOKEN_IN(t, thai_negations))
            span = 1;
        else if (TOKEN_IS(t, "ไม่") && i + 1 < w->n && !w->tok[i + 1].space_before &&
                 TOKEN_IN(&w->tok[i + 1], thai_negation_tails))
            span = 2;
        if (span == 0) return 0;
        /* "ไม่ได้" after a verb means "cannot": it negates only at a clause's start or after its
         * subject. */
        if (TOKEN_IS(t, "ไม่ได้") || (span == 2 && TOKEN_IS(&w->tok[i + 1], "ได้"))) {
            int starts = t->clause_start || t->space_before;
            if (!starts && !TOKEN_IN(&w->tok[i - 1], thai_subjects)) return 0;
        }
        return span;
    }
    if (TOKEN_IN(t, latin_negations)) return 1;
    if (TOKEN_IS(t, "no")) { /* "no one" reaches like "nobody"; "no" alone only the next word */
        if (i + 1 < w->n && TOKEN_IS(&w->tok[i + 1], "one")) return 2;
        return 1;
    }
    return 0;
}

static void mark_negations(struct words *w)
{
    for (size_t i = 0; i < w->n;) {
        int thai;
        size_t span = negation_cue(w, i, &thai), reach, k;

        if (span == 0) {
            i++;
            continue;
        }
        reach = thai ? THAI_NEG_SCOPE : LATIN_NEG_SCOPE;
        if (!thai && TOKEN_IS(&w->tok[i], "no") && span == 1) reach = 1;
        for (k = i + span; k < w->n && k < i + span + reach; k++) {
            const struct token *t = &w->tok[k];

            if (t->clause_start || TOKEN_IN(t, clause_words)) break;
            if (thai && t->thai && t->space_before) break;
            w->tok[k].negated = 1;
        }
        i = k > i + span ? k : i + span;
    }
}

static int read_words(const struct thai_words *tw, const char *text, size_t len, struct words *w)
{
    size_t room = 2 * len + 1; /* the respelt words are never twice as long as those typed */

    memset(w, 0, sizeof(*w));
    w->cap = room < MAX_TOKENS ? room : MAX_TOKENS; /* a word holds a byte at least */
    room = (room + sizeof(struct token) - 1) / sizeof(struct token) * sizeof(struct token);
    if ((w->norm = malloc(room + w->cap * sizeof(*w->tok))) == NULL) return -1;
    w->tok = (struct token *)(void *)(w->norm + room);
    w->norm_len = normalise(text, len, w->norm);
    respell(w->norm, &w->norm_len, 2 * len + 1);
    if (split_words(tw, w) != 0) return -1;
    mark_negations(w);
    return 0;
}

static void words_free(struct words *w)
{
    free(w->norm);
}

/* ------------------------------------------------------------------------------------------- */
/* Features */

static int set_grow(struct triage_feature_set *set, size_t name_len)
{
    if (set->failed) return -1;
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 512;
        struct triage_feature *items = realloc(set->items, cap * sizeof(*items));

        if (items == NULL) goto fail;
        set->items = items;
        set->cap = cap;
    }
    if (set->with_names && set->names_len + name_len + 1 > set->names_cap) {
        size_t cap = set->names_cap ? 2 * set->names_cap : 4096;
        char *names;

        while (cap < set->names_len + name_len + 1) cap *= 2;
        if ((names = realloc(set->names, cap)) == NULL) goto fail;
        set->names = names;
        set->names_cap = cap;
    }
    return 0;
fail:
    set->failed = 1;
    return -1;
}

/* The kinds of feature, each with and without negation: the start of a name. */
struct kind {
    const char *prefix;
    size_t len;
    uint64_t hash; /* triage_bytes_hash of the prefix */
};

static struct kind kind_of(const char *prefix)
{
    struct kind k = {prefix, strlen(prefix), 0};

    k.hash = triage_bytes_hash(prefix, k.len);
    return k;
}

/* Appends the feature of kind k made of part a (hash ha) and, for a pair, part b (hash hb;
 * NULL: none), value v: its hash combined from the parts' (triage_feature_hash of its name),
 * the name itself written only when the set keeps names. A name longer than TRIAGE_MAX_NAME
 * bytes (a "word" of junk) is no feature. */
static void add_feature(struct triage_feature_set *set, const struct kind *k, const char *a,
                        size_t alen, uint64_t ha, const char *b, size_t blen, uint64_t hb, float v)
{
    size_t len = k->len + alen + (b ? 1 + blen : 0);
    struct triage_feature *f;

    if (len > TRIAGE_MAX_NAME || set_grow(set, len) != 0) return;
    f = &set->items[set->n++];
    f->name = NULL;
    f->len = len;
    f->value = v;
    f->hash = combine(k->hash, ha);
    if (b != NULL) f->hash = combine(f->hash, hb);
    if (set->with_names) {
        char *at = set->names + set->names_len;

        f->off = set->names_len;
        memcpy(at, k->prefix, k->len);
        memcpy(at + k->len, a, alen);
        if (b != NULL) {
            at[k->len + alen] = ' ';
            memcpy(at + k->len + alen + 1, b, blen);
        }
        at[len] = '\0';
        set->names_len += len + 1;
    }
}

static void add_word_features(struct triage_feature_set *set, const struct words *w)
{
    const struct kind word[2] = {kind_of("w:"), kind_of("w:!")};
    const struct kind pair[2] = {kind_of("b:"), kind_of("b:!")};

    for (size_t i = 0; i < w->n; i++) {
        const struct token *t = &w->tok[i];

        add_feature(set, &word[t->negated], t->s, t->len, t->hash, NULL, 0, 0, 1.0f);
        if (i > 0 && !t->clause_start) {
            const struct token *p = &w->tok[i - 1];
            add_feature(set, &pair[t->negated], p->s, p->len, p->hash, t->s, t->len, t->hash, 1.0f);
        }
    }
}

/* Letter n-grams of each stretch of words that share a clause and a negation. */
static void add_letter_features(struct triage_feature_set *set, const struct words *w)
{
    const struct kind letters[2] = {kind_of("c:"), kind_of("c:!")};
    char seg[512];
    size_t at[512 + 1];

    for (size_t i = 0; i < w->n;) {
        size_t n = 0, ncp = 0, k = i;
        int neg = w->tok[i].negated;

        do {
            const struct token *t = &w->tok[k];

            if (!t->thai && n < sizeof(seg)) seg[n++] = '_'; /* English words keep their ends */
            if (n + t->len < sizeof(seg)) {
                memcpy(seg + n, t->s, t->len);
                n += t->len;
            }
            k++;
        } while (k < w->n && !w->tok[k].clause_start && (int)w->tok[k].negated == neg);
        for (size_t b = 0; b < n; b += text_utf8_char_len((unsigned char)seg[b])) at[ncp++] = b;
        at[ncp] = n;
        for (size_t c = 0; c + LETTER_GRAM <= ncp; c++) {
            size_t glen = at[c + LETTER_GRAM] - at[c];

            add_feature(set, &letters[neg], seg + at[c], glen, triage_bytes_hash(seg + at[c], glen),
                        NULL, 0, 0, 1.0f);
        }
        i = k;
    }
}

/* No keyword at all is no feature: that absence must not vote for "other", or every emergency
 * told without the table's words would sink there. */
static void add_keyword_features(struct triage_feature_set *set,
                                 const int keyword_score[INCIDENT_CATEGORY_COUNT])
{
    const struct kind keyword = kind_of("k:");

    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        const char *code = incident_category_code(c);
        int v = keyword_score[c];

        if (v <= 0) continue;
        add_feature(set, &keyword, code, strlen(code), triage_bytes_hash(code, strlen(code)), NULL,
                    0, 0, (float)(v < TRIAGE_MAX_KEYWORD_COUNT ? v : TRIAGE_MAX_KEYWORD_COUNT));
    }
}

int triage_features_extract(const struct thai_words *tw, const char *text, size_t len,
                            const int keyword_score[INCIDENT_CATEGORY_COUNT],
                            struct triage_feature_set *set)
{
    struct words w;
    size_t ntext;
    float value;
    int rc = -1;

    triage_features_clear(set);
    if (read_words(tw, text ? text : "", text ? len : 0, &w) != 0) goto out;
    add_word_features(set, &w);
    add_letter_features(set, &w);
    ntext = set->ntext = set->n;
    value = (float)(1.0 / sqrt((double)(ntext > TRIAGE_TEXT_FEATURES_FLOOR
                                            ? ntext
                                            : TRIAGE_TEXT_FEATURES_FLOOR)));
    for (size_t i = 0; i < ntext; i++) set->items[i].value = value;
    add_keyword_features(set, keyword_score);
    if (set->failed) goto out;
    for (size_t i = 0; set->with_names && i < set->n; i++)
        set->items[i].name = set->names + set->items[i].off;
    rc = 0;
out:
    words_free(&w);
    return rc;
}

void triage_features_clear(struct triage_feature_set *set)
{
    set->n = 0;
    set->ntext = 0;
    set->names_len = 0;
    set->failed = 0;
}

void triage_features_free(struct triage_feature_set *set)
{
    if (set == NULL) return;
    free(set->items);
    free(set->names);
    memset(set, 0, sizeof(*set));
}

int triage_features_words(const struct thai_words *tw, const char *text, size_t len, char *out,
                          size_t outlen)
{
    struct words w;
    struct text_buf b = {0};
    char *s;
    int rc = -1;

    if (outlen == 0) return -1;
    out[0] = '\0';
    if (read_words(tw, text, len, &w) != 0) goto out;
    for (size_t i = 0; i < w.n; i++) {
        if (w.tok[i].clause_start && i > 0) text_buf_add(&b, "| ");
        if (w.tok[i].negated) text_buf_add(&b, "!");
        text_buf_add_len(&b, w.tok[i].s, w.tok[i].len);
        text_buf_add(&b, " ");
    }
    if ((s = text_buf_take(&b)) == NULL) goto out;
    snprintf(out, outlen, "%.*s",
             (int)text_utf8_complete(s, strlen(s) < outlen ? strlen(s) : outlen - 1), s);
    free(s);
    rc = 0;
out:
    words_free(&w);
    return rc;
}
