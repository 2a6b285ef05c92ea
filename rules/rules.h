/* The rule engine: loads the rule table (rules/rules.json), classifies free text into a category
 * and decides priority, required skills, search radii and acknowledgment timeout for an incident.
 * Pure: no I/O beyond reading the table file at load time, no global state. */
#ifndef ESS_RULES_RULES_H
#define ESS_RULES_RULES_H

#include <stddef.h>

#include "incident.h"

struct rules_table;

#define RULES_MAX_SKILLS 8
#define RULES_MAX_SKILL_LEN 32
#define RULES_MAX_RADII 8
#define RULES_PRIORITY_HIGHEST 1 /* "P1" */
#define RULES_PRIORITY_LOWEST 4  /* "P4" */

/* What the engine decided for one incident. Plain values, no pointers into the table. */
struct rules_decision {
    int category;   /* enum incident_category, never NONE */
    int classified; /* 1 when the category came from the description, 0 when it was given */
    int priority;   /* 1 ("P1", most urgent) .. 4 */
    size_t nskills; /* every one is required of the team */
    char skills[RULES_MAX_SKILLS][RULES_MAX_SKILL_LEN];
    char prefer_skill[RULES_MAX_SKILL_LEN]; /* "" or a skill that wins within one radius step */
    size_t nradii;
    double radii_km[RULES_MAX_RADII]; /* ascending */
    int ack_timeout_s;
    int max_attempts;
    int dispatch; /* 0 for "other" and for needs_triage: it waits for the operators */
    double
        confidence;   /* when classified, the classifier's confidence (rules_guess); 1 when given */
    int needs_triage; /* 1 when classified without confidence: category is only the best guess,
                       * priority P1, dispatch 0, until an operator confirms or corrects it */
};

/* What the classifier reads in one text. */
struct rules_guess {
    int category;      /* the most likely category (enum incident_category, never NONE) */
    double confidence; /* 0..1: how sure the classifier is of category */
    int confident;     /* 1 when confidence clears the threshold for category (a stricter one
                        * for "other": an emergency must not sink there unseen) */
};

/* 1 when s[0..len) is a skill name: 1 to RULES_MAX_SKILL_LEN - 1 bytes of [a-z0-9_], the
 * rule a team's skills and the rule table's skills share; else 0. */
int rules_skill_valid(const char *s, size_t len);

/* Loads a rule table. On failure returns NULL and writes to err a message naming the file, the
 * line and the field ("rules/rules.json:12: categories.threat.priority: expected \"P1\".."). The
 * table is owned by the caller and freed with rules_free(). */
struct rules_table *rules_load_file(const char *path, char *err, size_t errlen);

/* The same from a buffer; name is used in messages only. */
struct rules_table *rules_load_buffer(const char *json, size_t len, const char *name, char *err,
                                      size_t errlen);

void rules_free(struct rules_table *table); /* accepts NULL */

/* Loads the triage model's weights file (rules/triage-model.tsv, written by scripts/train-triage)
 * and libthai's word-break dictionary into the table, which classifies with them from then on. On
 * failure returns -1, the table unchanged, with a message naming the file and the line in err. */
int rules_load_model_file(struct rules_table *table, const char *path, char *err, size_t errlen);

/* 1 when the table classifies with a triage model, else 0 (keywords). */
int rules_has_model(const struct rules_table *table);

/* 1 when the table's triage model was trained with the table's own keywords (their digests
 * agree), 0 when the keywords changed since (scripts/train-triage trains it again) or there is no
 * model. */
int rules_model_fits_keywords(const struct rules_table *table);

#define RULES_DIGEST_SIZE 17

/* The digest of the table's keywords (each category's, in order, as folded), which a triage
 * model records to tell whether it was trained with them: 16 hex digits into out. */
void rules_keywords_digest(const struct rules_table *table, char out[RULES_DIGEST_SIZE]);

/* Classifies free text (UTF-8, Thai or English, spacing and punctuation tolerated) into one of
 * the five emergency categories, or INCIDENT_OTHER when it names none: rules_guess's category. */
int rules_classify(const struct rules_table *table, const char *text, size_t len);

/* Reads text[0..len) into out: the most likely category, the confidence and whether it is
 * confident. With a triage model loaded (rules_load_model_file) the model decides; without one,
 * the keywords do (the most urgent category among those scoring, rules_confidence, confident
 * from 0.5). A text with no evidence is never a confident "other". Returns 0, or -1 when memory
 * runs out (out: "other", 0, not confident). */
int rules_guess_text(const struct rules_table *table, const char *text, size_t len,
                     struct rules_guess *out);

/* How sure the classifier is of category, from the keyword counts of one text (score[c]: the
 * keywords of category c that counted, not negated; "other" has keywords too): between 0 and 1,
 *     confidence = share * weight,  share = score[category] / (sum of every score),
 *                                  weight = 1 - 2^-score[category]
 * share falls when keywords of other categories compete, weight grows with the evidence (one
 * keyword 0.5, two 0.75, three 0.875). A text with no keyword at all (classified "other" for
 * want of evidence) gets 0, as does a category without keywords in the text. */
double rules_confidence(const int score[INCIDENT_CATEGORY_COUNT], int category);

/* Decides for the incident: its category (classified from the description when the incident
 * has none), then the category's defaults, then the ordered when/then rules. Returns 0, or -1
 * (out zeroed) when an argument is NULL or memory runs out. The table is only read: one table
 * may serve several threads. */
int rules_decide(const struct rules_table *table, const struct incident *incident,
                 struct rules_decision *out);

/* The category's label in "th" or "en"; a static empty string when unknown. Owned by the table. */
const char *rules_category_label(const struct rules_table *table, int category, const char *lang);

/* The category's label for the reporter in the LINE chat ("chat_label", optional in the table),
 * in "th" or "en": the official label when the table gives none; a static empty string when
 * unknown. Owned by the table. */
const char *rules_category_chat_label(const struct rules_table *table, int category,
                                      const char *lang);

/* "P1".."P4" for 1..4; "P?" otherwise. Static strings. */
const char *rules_priority_code(int priority);

/* The priority whose code is exactly s[0..len) ("P1".."P4"): 1..4, or 0 when none. */
int rules_priority_parse(const char *s, size_t len);

/* A decision's skills ("police,social_worker") and radii ("5,15,50"), comma-separated as the
 * store keeps them, into out (at most outlen bytes with the NUL; the sizes below always fit). */
#define RULES_SKILLS_CSV_SIZE (RULES_MAX_SKILLS * RULES_MAX_SKILL_LEN)
#define RULES_RADII_CSV_SIZE (RULES_MAX_RADII * 24)
void rules_skills_csv(const struct rules_decision *d, char *out, size_t outlen);
void rules_radii_csv(const struct rules_decision *d, char *out, size_t outlen);

#endif
