/* The triage model: a multinomial logistic regression over the features of triage_features.h,
 * read from a weights file that rules/triage_train.c writes (rules/triage-model.tsv). Loading
 * checks every line; classifying is a hash lookup per feature and a softmax, no I/O. */
#ifndef ESS_RULES_TRIAGE_MODEL_H
#define ESS_RULES_TRIAGE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "incident.h"

struct triage_model;
struct triage_feature_set;

#define TRIAGE_MODEL_VERSION 1
#define TRIAGE_DIGEST_SIZE 17 /* 16 hex digits and the NUL */

/* The weights file, line by line (tab-separated; "#" lines are comments):
 *   version           TRIAGE_MODEL_VERSION
 *   features_version  TRIAGE_FEATURES_VERSION the model was trained with
 *   classes           threat detention abuse_risk mental_crisis gathering other (this order)
 *   corpus            the training corpus's digest (triage_digest of the file's bytes)
 *   keywords          the rule table's keywords' digest (rules_keywords_digest)
 *   confident         0..1: an emergency guess at least this probable is confident
 *   confident_other   0..1: "other" at least this probable is confident
 *   weights           the number of feature lines that follow "bias"
 *   bias              six weights, one per class
 *   <feature name>    six weights (at most once each)
 * Weights are finite decimals within a float's range (at most FLT_MAX, about 3.4e38, in size). */

/* Loads a weights file. NULL on failure, with a message naming the file, the line and what is
 * wrong in err ("rules/triage-model.tsv:12: feature 'w:ขัง': expected 6 weights"). The caller
 * owns the model (triage_model_free). */
struct triage_model *triage_model_load_file(const char *path, char *err, size_t errlen);

/* The same from a buffer; name is used in messages only. */
struct triage_model *triage_model_load_buffer(const char *text, size_t len, const char *name,
                                              char *err, size_t errlen);

void triage_model_free(struct triage_model *model); /* accepts NULL */

/* The probability of each category for a text with these features (unknown features weigh 0). */
void triage_model_predict(const struct triage_model *model, const struct triage_feature_set *set,
                          double prob[INCIDENT_CATEGORY_COUNT]);

/* The probability from which a guess of category is confident. */
double triage_model_threshold(const struct triage_model *model, int category);

/* The digests the model was trained from (TRIAGE_DIGEST_SIZE - 1 hex digits), owned by the
 * model. */
const char *triage_model_corpus_digest(const struct triage_model *model);
const char *triage_model_keywords_digest(const struct triage_model *model);

/* The number of feature lines. */
size_t triage_model_size(const struct triage_model *model);

/* The 64-bit FNV-1a digest of bytes[0..len) as 16 lowercase hex digits into out. */
void triage_digest(const void *bytes, size_t len, char out[TRIAGE_DIGEST_SIZE]);

#endif
