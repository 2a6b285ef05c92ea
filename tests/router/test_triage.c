/* Unit tests of router/api/triage.c's classification answer (POST /v1/classify) with the shipped
 * rule table and no triage model (keywords only): its members, a text the classifier is not sure
 * of answered as needs_triage (P1), and NULL (answered 500), never an answer with a member
 * missing, when memory runs out at any allocation. */
#include "alloc_fail.h"
#include "rules.h"
#include "tap.h"
#include "triage.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int whole(const cJSON *doc, const char *category, const char *priority, double min_conf,
                 int needs_triage)
{
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(doc, "confidence");
    const cJSON *unsure = cJSON_GetObjectItemCaseSensitive(doc, "needs_triage");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(doc, "category_label");
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "category"));
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "priority"));
    return c && strcmp(c, category) == 0 && p && strcmp(p, priority) == 0 && cJSON_IsNumber(conf) &&
           conf->valuedouble >= min_conf && conf->valuedouble <= 1.0 &&
           conf->valuedouble * 100 == (double)(long)(conf->valuedouble * 100 + 0.5) &&
           cJSON_IsBool(unsure) && cJSON_IsTrue(unsure) == needs_triage &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(label, "th")) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(label, "en"));
}

int main(void)
{
    const char *root = getenv("ESS_SOURCE_ROOT");
    static const char text[] = "ลูกสาวถูกแฟนขังไว้ในห้อง ออกมาไม่ได้";
    cJSON_Hooks hooks = {failing_malloc, free};
    char path[4096], err[512] = "";
    struct rules_table *rules;
    cJSON *doc;
    int partial = 0, nulls = 0, done = 0;

    snprintf(path, sizeof path, "%s/rules/rules.json", root ? root : ".");
    rules = rules_load_file(path, err, sizeof err);
    if (rules == NULL) printf("# %s\n", err);
    CHECK(rules != NULL, "the shipped rule table loads");
    if (rules == NULL) return tap_done();
    doc = triage_classification(rules, text);
    CHECK(doc && whole(doc, "detention", "P1", 0.5, 0),
          "a detention: its category, priority, confidence in two decimals, labels, and "
          "needs_triage false");
    cJSON_Delete(doc);
    doc = triage_classification(rules, "ทนไม่ไหวแล้ว");
    CHECK(doc && whole(doc, "other", "P1", 0.0, 1) &&
              cJSON_GetObjectItemCaseSensitive(doc, "confidence")->valuedouble == 0.0,
          "no keyword: needs_triage, the guess \"other\" at P1 (never a quiet P4), "
          "confidence 0");
    cJSON_Delete(doc);
    doc = triage_classification(rules, "ถูกขู่ทำร้าย และถูกขังไว้");
    CHECK(doc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "needs_triage")) &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "priority")),
                     "P1") == 0 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "category")),
                     "other") != 0,
          "keywords of two emergencies compete: needs_triage, P1, the guess an emergency");
    cJSON_Delete(doc);
    cJSON_InitHooks(&hooks);
    for (long n = 0; n < 1000 && !done; n++) {
        allocations_left = n;
        doc = triage_classification(rules, text);
        if (doc == NULL) {
            nulls++;
        } else {
            if (!whole(doc, "detention", "P1", 0.5, 0)) partial++;
            done = allocations_left > 0;
        }
        allocations_left = -1;
        cJSON_Delete(doc);
    }
    cJSON_InitHooks(NULL);
    CHECK(done && nulls > 3, "failed allocations were met, then a whole run");
    CHECK(partial == 0, "no answer with a member missing, at any failure point");
    rules_free(rules);
    return tap_done();
}
