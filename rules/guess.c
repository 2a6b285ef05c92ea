/* How the rule table reads a text: with the triage model when one is loaded (the probability of
 * each category from the text's features, rules/triage_features.h), with the keywords otherwise
 * (classify.c). Either way a guess carries its confidence, and "other" is confident only on
 * evidence: an emergency must not sink there unseen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "thai_words.h"
#include "triage_features.h"
#include "triage_model.h"

#define KEYWORDS_CONFIDENT 0.5 /* rules_confidence of one keyword of one category, none other */

static int guess_by_model(const struct rules_table *t, const char *text, size_t len,
                          const struct rules_scan *scan, struct rules_guess *out)
{
    struct triage_feature_set set = {0};
    double prob[INCIDENT_CATEGORY_COUNT];
    size_t ntext;
    int best = 0;

    if (triage_features_extract(t->words, text, len, scan->score, &set) != 0) {
        triage_features_free(&set);
        return -1;
    }
    triage_model_predict(t->model, &set, prob);
    ntext = set.ntext;
    triage_features_free(&set);
    for (int c = 1; c < INCIDENT_CATEGORY_COUNT; c++) {
        if (prob[c] > prob[best]) best = c;
    }
    out->category = best;
    out->confidence = prob[best];
    out->confident = prob[best] >= triage_model_threshold(t->model, best);
    /* "other" rests on the absence of anything alarming, which a few words ("help me", "ขอความ
     * ช่วยเหลือด่วน") do not show: it is confident only for a text of some length. */
    if (best == INCIDENT_OTHER && ntext < TRIAGE_TEXT_FEATURES_FLOOR) out->confident = 0;
    return 0;
}

int rules_guess_scanned(const struct rules_table *t, const char *text, size_t len,
                        const struct rules_scan *scan, struct rules_guess *out)
{
    if (t->model != NULL) return guess_by_model(t, text, len, scan, out);
    out->category = scan->category;
    out->confidence = rules_confidence(scan->score, scan->category);
    out->confident = out->confidence >= KEYWORDS_CONFIDENT;
    return 0;
}

int rules_guess_text(const struct rules_table *table, const char *text, size_t len,
                     struct rules_guess *out)
{
    struct rules_scan scan;

    if (table == NULL || rules_scan_text(table, text, len, &scan) != 0 ||
        rules_guess_scanned(table, text, len, &scan, out) != 0) {
        out->category = INCIDENT_OTHER;
        out->confidence = 0.0;
        out->confident = 0;
        return -1;
    }
    return 0;
}

int rules_classify(const struct rules_table *table, const char *text, size_t len)
{
    struct rules_guess guess;

    rules_guess_text(table, text, len, &guess);
    return guess.category;
}

int rules_load_model_file(struct rules_table *table, const char *path, char *err, size_t errlen)
{
    struct triage_model *model;
    struct thai_words *words;
    char why[256];

    if (table == NULL || path == NULL) {
        snprintf(err, errlen, "no rule table or no path");
        return -1;
    }
    if ((model = triage_model_load_file(path, err, errlen)) == NULL) return -1;
    if ((words = thai_words_open(why, sizeof why)) == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        triage_model_free(model);
        return -1;
    }
    triage_model_free(table->model);
    thai_words_free(table->words);
    table->model = model;
    table->words = words;
    return 0;
}

int rules_has_model(const struct rules_table *table)
{
    return table != NULL && table->model != NULL;
}

int rules_model_fits_keywords(const struct rules_table *table)
{
    char digest[RULES_DIGEST_SIZE];

    if (!rules_has_model(table)) return 0;
    rules_keywords_digest(table, digest);
    return strcmp(digest, triage_model_keywords_digest(table->model)) == 0;
}

void rules_keywords_digest(const struct rules_table *table, char out[RULES_DIGEST_SIZE])
{
    uint64_t h = triage_feature_hash("", 0);

    for (size_t i = 0; table != NULL && i < table->matcher.npats; i++) {
        const struct rules_pattern *p = &table->matcher.pats[i];
        unsigned char sep[2] = {(unsigned char)p->owner, 0};

        if (p->kind != RULES_PAT_KEYWORD) continue;
        for (size_t k = 0; k < sizeof(sep); k++) h = (h ^ sep[k]) * 0x100000001b3u;
        for (size_t k = 0; k < p->len; k++) h = (h ^ (unsigned char)p->text[k]) * 0x100000001b3u;
        for (size_t k = 0; p->tail != NULL && k < p->tail_len; k++)
            h = (h ^ (unsigned char)p->tail[k]) * 0x100000001b3u;
    }
    snprintf(out, RULES_DIGEST_SIZE, "%016llx", (unsigned long long)h);
}
