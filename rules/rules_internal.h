/* Private to rules/: the layout of a loaded rule table and the keyword matcher that rules.c
 * (loading, deciding) and classify.c (matching, classifying) share. Nothing outside rules/
 * includes this header; the public API is rules.h. */
#ifndef ESS_RULES_RULES_INTERNAL_H
#define ESS_RULES_RULES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "incident.h"
#include "rules.h"

#define RULES_MAX_RULES 64          /* entries of rules[] */
#define RULES_MAX_WORD_LEN 128      /* bytes of one keyword or rule word as written */
#define RULES_MAX_WORDS 1024        /* entries of one keyword or word list */
#define RULES_MAX_PATTERNS 16384    /* every keyword, ignore word and rule word together */
#define RULES_MAX_LABEL_LEN 128     /* bytes of a category label */
#define RULES_MAX_RADIUS_KM 20000.0 /* half the Earth's circumference, near enough */
#define RULES_MAX_ACK_TIMEOUT_S 86400
#define RULES_MAX_ATTEMPTS 100
#define RULES_GAP_BYTES 18 /* what "..." in a Thai word spans: six Thai characters */

/* What a pattern of the matcher stands for. */
enum rules_pattern_kind {
    RULES_PAT_KEYWORD = 0, /* owner: the category it scores for */
    RULES_PAT_IGNORE,      /* masks the shorter keywords and rule words it contains */
    RULES_PAT_NEGATION,    /* owner: how many words may separate it from what it negates */
    RULES_PAT_BREAK,       /* a clause break ("แต่", "but"): negation does not cross it */
    RULES_PAT_WORD_ANY,    /* owner: the index of the rule whose when.words_any lists it */
    RULES_PAT_WORD_NONE    /* owner: the index of the rule whose when.words_none lists it */
};

/* One folded pattern. ASCII-only patterns match whole words (a few English endings allowed,
 * or any continuation when prefix is set); the others match anywhere (Thai has no spaces). A
 * Thai word written "head...tail" matches head, then tail within RULES_GAP_BYTES in the same
 * clause ("ไม่ให้...ออก" matches "ไม่ให้หนูออก"). */
struct rules_pattern {
    char *text; /* folded, NUL-terminated, owned by the matcher */
    size_t len;
    char *tail; /* for "head...tail" words: the folded tail, owned; else NULL */
    size_t tail_len;
    int kind;  /* enum rules_pattern_kind */
    int owner; /* see enum rules_pattern_kind */
    int ascii;
    int prefix;
    uint32_t bucket; /* the matcher's index key, from the first two code points */
};

#define RULES_BUCKETS 4096 /* two-character keys; the last bucket holds one-character patterns */

/* What a scan compares first: a pattern's first eight bytes (fewer for a shorter one, the rest of
 * head zero) under a mask of as many bytes, so that most patterns are told apart by one compare. */
struct rules_probe {
    uint64_t head, mask;
    uint32_t len; /* the pattern's length in bytes */
};

/* Patterns indexed by a hash of their first two code points, so that a scan compares only the
 * few patterns that can start where it stands. */
struct rules_matcher {
    struct rules_pattern *pats; /* owned */
    size_t npats, cap;
    uint32_t *order;                    /* owned: pattern indices sorted by bucket */
    struct rules_probe *probe;          /* owned: probe[k] for the pattern order[k] */
    uint32_t bucket[RULES_BUCKETS + 1]; /* order[bucket[b] .. bucket[b + 1]): bucket b */
};

struct rules_category {
    char *label_th, *label_en;           /* owned, never NULL once loaded */
    char *chat_label_th, *chat_label_en; /* owned; NULL when the table gives none */
    int priority;
    size_t nskills;
    char skills[RULES_MAX_SKILLS][RULES_MAX_SKILL_LEN];
    size_t nradii;
    double radii_km[RULES_MAX_RADII];
    int ack_timeout_s;
    int max_attempts;
    int dispatch;
};

/* One entry of rules[]. A condition left out of "when" always holds; a field left out of
 * "then" (0 or empty here) changes nothing. */
struct rules_rule {
    unsigned category_mask; /* bit c for category c; 0: any category */
    int channel;            /* enum incident_channel, or -1: any channel */
    int has_words_any, has_words_none;
    int set_priority; /* 0 or 1..4 */
    int raise_steps;  /* 0..3 */
    size_t nadd_skills;
    char add_skills[RULES_MAX_SKILLS][RULES_MAX_SKILL_LEN];
    char prefer_skill[RULES_MAX_SKILL_LEN];
    size_t nradii;
    double radii_km[RULES_MAX_RADII];
    int ack_timeout_s;
    int max_attempts;
};

struct thai_words;
struct triage_model;

struct rules_table {
    struct rules_category cat[INCIDENT_CATEGORY_COUNT];
    size_t nrules;
    struct rules_rule rules[RULES_MAX_RULES];
    struct rules_matcher matcher;
    struct triage_model *model; /* owned; NULL: the keywords classify */
    struct thai_words *words;   /* owned; loaded with the model */
};

/* What one scan of a text found: the classification and which rules' word lists it hit. */
struct rules_scan {
    int category;                                  /* the classified category */
    int score[INCIDENT_CATEGORY_COUNT];            /* keywords that counted, per category */
    uint64_t words_any_hit[RULES_MAX_RULES / 64];  /* bit r: a word of rules[r].when.words_any */
    uint64_t words_none_hit[RULES_MAX_RULES / 64]; /* bit r: a word of rules[r].when.words_none */
};

/* Folds word[0..len) (as written in the table: a trailing '*' on an ASCII word makes it a
 * prefix; "..." joins the two halves of a Thai word) and adds it to the matcher. Returns 0, or
 * -1 with a reason ("has no letters or digits", "'*' may only end a word", "out of memory",
 * ...) in why. The matcher owns the copy. */
int rules_matcher_add(struct rules_matcher *m, const char *word, size_t len, int kind, int owner,
                      char *why, size_t whylen);

/* The index of a keyword pattern whose folded text equals that of the most recently added
 * pattern, or -1. Used to refuse a keyword listed twice. */
long rules_matcher_find_duplicate(const struct rules_matcher *m);

/* Adds the built-in negation and clause-break markers and builds the index. Returns 0 or -1
 * when memory runs out. Called once, after every table word was added. */
int rules_matcher_finish(struct rules_matcher *m);

void rules_matcher_free(struct rules_matcher *m); /* frees what the matcher owns */

/* Scans text[0..len) against the table: fills out (category, scores, rule word hits).
 * Returns 0, or -1 when memory runs out (out then says INCIDENT_OTHER, no hits). */
int rules_scan_text(const struct rules_table *t, const char *text, size_t len,
                    struct rules_scan *out);

/* rules_guess_text for a text already scanned (scan: rules_scan_text of text[0..len)). */
int rules_guess_scanned(const struct rules_table *t, const char *text, size_t len,
                        const struct rules_scan *scan, struct rules_guess *out);

#endif
