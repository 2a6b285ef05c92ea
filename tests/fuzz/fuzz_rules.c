/* libFuzzer target for the rule table (rules/rules.c's rules_load_buffer: what ESS_RULES names,
 * rules/rules.json) and the decisions made with a table that loaded. Checks: a refusal names the
 * file; a table gives labels within their limits for every category, and for every incident
 * (each category or none, each channel, descriptions that hold the file's own words) a decision
 * within the table's bounds: a known category, P1 to P4, at most eight distinct valid skills,
 * ascending radii, timeouts and attempts in range, nothing dispatched that waits for triage. */
#include "incident.h"
#include "rules.h"
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz-rules.json"

static void check_label(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 128 || !text_utf8_valid(s, strlen(s))) abort();
}

static void check_decision(const struct rules_decision *d, const struct incident *inc)
{
    char csv[RULES_SKILLS_CSV_SIZE], radii[RULES_RADII_CSV_SIZE];
    size_t used = 0;

    if (d->category < 0 || d->category >= INCIDENT_CATEGORY_COUNT) abort();
    if (inc->category != INCIDENT_CATEGORY_NONE && (d->category != inc->category || d->classified))
        abort();
    if (d->priority < RULES_PRIORITY_HIGHEST || d->priority > RULES_PRIORITY_LOWEST) abort();
    if (d->nskills > RULES_MAX_SKILLS || d->nradii > RULES_MAX_RADII) abort();
    for (size_t i = 0; i < d->nskills; i++) {
        if (!rules_skill_valid(d->skills[i], strnlen(d->skills[i], RULES_MAX_SKILL_LEN))) abort();
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->skills[k], d->skills[i]) == 0) abort();
    }
    if (d->prefer_skill[0] != '\0' &&
        !rules_skill_valid(d->prefer_skill, strnlen(d->prefer_skill, RULES_MAX_SKILL_LEN)))
        abort();
    for (size_t i = 0; i < d->nradii; i++)
        if (!(d->radii_km[i] > 0 && d->radii_km[i] <= 20000.0) ||
            (i > 0 && !(d->radii_km[i] > d->radii_km[i - 1])))
            abort();
    if (d->ack_timeout_s < 1 || d->ack_timeout_s > 86400 || d->max_attempts < 1 ||
        d->max_attempts > 100)
        abort();
    if (!(d->confidence >= 0.0 && d->confidence <= 1.0)) abort();
    if (d->needs_triage && (!d->classified || d->dispatch || d->priority != RULES_PRIORITY_HIGHEST))
        abort();
    if (d->category == INCIDENT_OTHER && d->dispatch) abort();
    if (d->dispatch && (d->nskills == 0 || d->nradii == 0)) abort();
    /* The store's lists: every skill and radius, none lost. */
    rules_skills_csv(d, csv, sizeof csv);
    for (size_t i = 0; i < d->nskills; i++) {
        size_t n = strlen(d->skills[i]);
        if (strncmp(csv + used, d->skills[i], n) != 0) abort();
        used += n;
        if (csv[used] != (i + 1 < d->nskills ? ',' : '\0')) abort();
        used++;
    }
    if (d->nskills == 0 && csv[0] != '\0') abort();
    rules_radii_csv(d, radii, sizeof radii);
    {
        size_t commas = 0;
        for (const char *p = radii; *p; p++) commas += *p == ',';
        if ((d->nradii == 0) != (radii[0] == '\0') || (d->nradii > 0 && commas != d->nradii - 1))
            abort();
    }
}

static void decide(const struct rules_table *t, int category, enum incident_channel channel,
                   const char *description)
{
    struct incident inc;
    struct rules_decision d;

    memset(&inc, 0, sizeof inc);
    inc.category = category;
    inc.channel = channel;
    inc.description = (char *)description;
    if (rules_decide(t, &inc, &d) != 0) return; /* out of memory */
    check_decision(&d, &inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {NULL,
                                        "",
                                        "ถูกขังอยู่ในห้อง ออกไม่ได้",
                                        "he has a knife and threatens us",
                                        "มีวัยรุ่นมั่วสุมเสพยา",
                                        "ไม่ได้ถูกขัง แค่อยากปรึกษา"};
    char err[256], digest[RULES_DIGEST_SIZE];
    struct rules_table *t;
    char *own;

    err[0] = '\0';
    t = rules_load_buffer((const char *)data, size, NAME, err, sizeof err);
    if (t == NULL) {
        if (strncmp(err, NAME, strlen(NAME)) != 0 || memchr(err, '\0', sizeof err) == NULL) abort();
        return 0;
    }
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        check_label(rules_category_label(t, c, "th"));
        check_label(rules_category_label(t, c, "en"));
        check_label(rules_category_chat_label(t, c, "th"));
        check_label(rules_category_chat_label(t, c, "en"));
    }
    rules_keywords_digest(t, digest);
    if (strlen(digest) != RULES_DIGEST_SIZE - 1 ||
        strspn(digest, "0123456789abcdef") != RULES_DIGEST_SIZE - 1)
        abort();
    /* The file's own bytes as a description: its keywords and rule words are in it. */
    own = malloc(size + 1);
    if (own != NULL) {
        size_t n = size < INCIDENT_MAX_DESCRIPTION ? size : INCIDENT_MAX_DESCRIPTION;
        memcpy(own, data, n);
        own[n] = '\0';
        if (!text_utf8_valid(own, strlen(own))) own[0] = '\0';
    }
    for (int c = INCIDENT_CATEGORY_NONE; c < INCIDENT_CATEGORY_COUNT; c++) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            decide(t, c, INCIDENT_CHANNEL_HOTLINE, texts[i]);
            if (c == INCIDENT_CATEGORY_NONE) decide(t, c, INCIDENT_CHANNEL_LINE, texts[i]);
        }
        if (own != NULL) {
            decide(t, c, INCIDENT_CHANNEL_LINE, own);
            if (c == INCIDENT_CATEGORY_NONE) decide(t, c, INCIDENT_CHANNEL_HOTLINE, own);
        }
    }
    free(own);
    rules_free(t);
    return 0;
}
