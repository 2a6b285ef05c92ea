/* libFuzzer target for the triage model's weights file (rules/triage_model.c's
 * triage_model_load_buffer: what ESS_TRIAGE_MODEL names, rules/triage-model.tsv). Checks: a
 * refusal names the file; a model has its thresholds within 0..1, two 16-digit digests, and for
 * the features of any text (fixed ones, and the file's own bytes) probabilities that are numbers
 * from 0 to 1 summing to 1. */
#include "incident.h"
#include "thai_words.h"
#include "triage_features.h"
#include "triage_model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NAME "fuzz-model.tsv"

static struct thai_words *words; /* libthai's dictionary, as the router cuts Thai with it */

static void check_digest(const char *d)
{
    if (d == NULL || strlen(d) != TRIAGE_DIGEST_SIZE - 1 ||
        strspn(d, "0123456789abcdef") != TRIAGE_DIGEST_SIZE - 1)
        abort();
}

static void predict(const struct triage_model *m, const char *text, size_t len)
{
    static const int scores[INCIDENT_CATEGORY_COUNT] = {1, 0, 0, 2, 0, 0};
    struct triage_feature_set set;
    double prob[INCIDENT_CATEGORY_COUNT], sum = 0;

    memset(&set, 0, sizeof set);
    if (triage_features_extract(words, text, len, scores, &set) == 0) {
        triage_model_predict(m, &set, prob);
        for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
            if (!(prob[c] >= 0.0 && prob[c] <= 1.0)) abort();
            sum += prob[c];
        }
        if (!(fabs(sum - 1.0) < 1e-9)) abort();
    }
    triage_features_free(&set);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    (void)argc;
    (void)argv;
    if ((words = thai_words_open(err, sizeof err)) == NULL) {
        fprintf(stderr, "fuzz: %s\n", err);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {"ถูกขังอยู่ในห้อง ออกไม่ได้", "he has a knife and threatens us",
                                        "ไม่ได้ถูกขัง"};
    char err[256];
    struct triage_model *m;

    err[0] = '\0';
    m = triage_model_load_buffer((const char *)data, size, NAME, err, sizeof err);
    if (m == NULL) {
        if (strncmp(err, NAME, strlen(NAME)) != 0 || memchr(err, '\0', sizeof err) == NULL) abort();
        return 0;
    }
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        double t = triage_model_threshold(m, c);
        if (!(t >= 0.0 && t <= 1.0)) abort();
    }
    check_digest(triage_model_corpus_digest(m));
    check_digest(triage_model_keywords_digest(m));
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        predict(m, texts[i], strlen(texts[i]));
    predict(m, (const char *)data, size);
    triage_model_free(m);
    return 0;
}
