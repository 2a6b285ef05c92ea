/* Triage by an operator: the correction of a case's category and priority, decided by the rule
 * engine from the case's own description and stored by ess_case_triage (which moves the
 * statistics, relabels the public view and routes the case again when its needs changed), and
 * the classifier's suggestion for a description being typed. */
#include "triage.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "router.h"
#include "rules.h"
#include "views.h"

/* What the operator asked, kept while the case is read. */
struct triage_request {
    int category; /* enum incident_category, or INCIDENT_CATEGORY_NONE: unchanged */
    int priority; /* 1..4, or 0: unchanged (or, with a new category, the rule engine's) */
};

static void on_triaged(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        outbox_kick(call->router->outbox); /* the case may have been routed: dispatch it now */
        log_info("case %s: triage %s %s, status %s", call->params[0],
                 json_string(reply, "category", "?"), json_string(reply, "priority", "?"),
                 json_string(reply, "status", "?"));
        http_reply_json(call, 200, views_case(reply));
    }
    cJSON_Delete(reply);
}

/* Sends ess_case_triage: the new priority (0: unchanged) and, with d (NULL: category unchanged),
 * the new category and what the rule engine decided for it. */
static void triage_send(struct http_call *call, int priority, const struct rules_decision *d)
{
    char rank[8] = "", ack[16] = "", attempts[16] = "";
    char skills[RULES_SKILLS_CSV_SIZE] = "", radii[RULES_RADII_CSV_SIZE] = "";
    const char *argv[10];

    if (priority) snprintf(rank, sizeof rank, "%d", priority);
    if (d) {
        rules_skills_csv(d, skills, sizeof skills);
        rules_radii_csv(d, radii, sizeof radii);
        snprintf(ack, sizeof ack, "%d", d->ack_timeout_s);
        snprintf(attempts, sizeof attempts, "%d", d->max_attempts);
    }
    argv[0] = call->params[0];
    argv[1] = priority ? rules_priority_code(priority) : "";
    argv[2] = rank;
    argv[3] = d ? incident_category_code(d->category) : "";
    argv[4] = skills;
    argv[5] = d ? d->prefer_skill : "";
    argv[6] = radii;
    argv[7] = ack;
    argv[8] = attempts;
    argv[9] = d ? (d->dispatch ? "1" : "0") : "";
    http_fcall_audited(call, "ess_case_triage", 10, argv, on_triaged);
}

/* The case as it is: the rule engine decides for the new category from its description and
 * channel (the table's rules read the words), then the correction is stored. A case whose
 * category is only the classifier's guess (category_suggested) is decided again even for the
 * same category: confirming the guess gives it the category's own decision (dispatch, skills,
 * priority) in place of the unsure one's, and routes it. */
static void on_case_read(struct http_call *call, cJSON *reply)
{
    const struct triage_request *want = call->data;
    const char *refusal = http_refusal(reply);
    const char *channel = json_string(reply, "channel", "hotline");
    const char *current = json_string(reply, "category", "");
    int guessed = json_string(reply, "category_suggested", "")[0] != '\0';
    struct incident in = {.category = want->category};
    struct rules_decision d;

    if (refusal) { /* the triage itself refuses it, and the audit records that (one entry) */
        cJSON_Delete(reply);
        triage_send(call, want->priority, NULL);
        return;
    }
    if (!guessed && incident_category_parse(current, strlen(current)) == want->category) {
        /* The same category: only the priority, when one was given, changes. */
        cJSON_Delete(reply);
        triage_send(call, want->priority, NULL);
        return;
    }
    in.channel = strcmp(channel, "line") == 0 ? INCIDENT_CHANNEL_LINE : INCIDENT_CHANNEL_HOTLINE;
    in.description = (char *)json_string(reply, "description", NULL); /* only read */
    if (rules_decide(call->router->rules, &in, &d) != 0) {
        cJSON_Delete(reply);
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    cJSON_Delete(reply);
    triage_send(call, want->priority ? want->priority : d.priority, &d);
}

void triage_post(struct http_call *call)
{
    struct triage_request *want;
    const cJSON *category, *priority;
    const char *problem = NULL;
    cJSON *body;
    int cat = INCIDENT_CATEGORY_NONE, pri = 0, missing;
    const char *argv[1];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    category = cJSON_GetObjectItemCaseSensitive(body, "category");
    priority = cJSON_GetObjectItemCaseSensitive(body, "priority");
    if (cJSON_IsString(category))
        cat = incident_category_parse(category->valuestring, strlen(category->valuestring));
    if (cJSON_IsString(priority))
        pri = rules_priority_parse(priority->valuestring, strlen(priority->valuestring));
    missing = (category == NULL || cJSON_IsNull(category)) &&
              (priority == NULL || cJSON_IsNull(priority));
    if (missing)
        problem = "category or priority (or both) is required.";
    else if (category && !cJSON_IsNull(category) && cat == INCIDENT_CATEGORY_NONE)
        problem = "category must be threat, detention, abuse_risk, mental_crisis, gathering or "
                  "other.";
    else if (priority && !cJSON_IsNull(priority) && pri == 0)
        problem = "priority must be P1, P2, P3 or P4.";
    if (problem) {
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field", problem);
        cJSON_Delete(body);
        return;
    }
    cJSON_Delete(body);
    if (cat == INCIDENT_CATEGORY_NONE) { /* the priority alone: nothing to decide */
        triage_send(call, pri, NULL);
        return;
    }
    if ((want = calloc(1, sizeof *want)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    want->category = cat;
    want->priority = pri;
    call->data = want;
    call->data_free = free;
    argv[0] = call->params[0];
    /* read for the rule engine only: the triage that follows is the request's audited step */
    http_fcall(call, "ess_case_read", 1, 1, argv, NULL, on_case_read);
}

cJSON *triage_classification(const struct rules_table *rules, const char *description)
{
    struct incident in = {.channel = INCIDENT_CHANNEL_HOTLINE,
                          .category = INCIDENT_CATEGORY_NONE,
                          .description = (char *)description}; /* only read */
    struct rules_decision d;
    cJSON *doc, *label;

    if (rules_decide(rules, &in, &d) != 0) return NULL;
    doc = cJSON_CreateObject();
    if (doc == NULL ||
        !cJSON_AddStringToObject(doc, "category", incident_category_code(d.category)) ||
        !cJSON_AddNumberToObject(doc, "confidence", round(d.confidence * 100) / 100) ||
        !cJSON_AddStringToObject(doc, "priority", rules_priority_code(d.priority)) ||
        !cJSON_AddBoolToObject(doc, "needs_triage", d.needs_triage) ||
        (label = cJSON_AddObjectToObject(doc, "category_label")) == NULL ||
        !cJSON_AddStringToObject(label, "th", rules_category_label(rules, d.category, "th")) ||
        !cJSON_AddStringToObject(label, "en", rules_category_label(rules, d.category, "en"))) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

void triage_classify(struct http_call *call)
{
    cJSON *body;
    const char *text = NULL;
    size_t len = 0;
    int bad;

    if ((body = http_body_object(call)) == NULL) return;
    bad = json_text(body, "description", INCIDENT_MAX_DESCRIPTION, &text, &len) != 0;
    if (bad || text == NULL || len == 0) {
        int missing = !bad && text == NULL && !cJSON_HasObjectItem(body, "description");
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field",
                         "description is required: text of 1 to 4000 bytes.");
        cJSON_Delete(body);
        return;
    }
    http_reply_json(call, 200, triage_classification(call->router->rules, text));
    cJSON_Delete(body);
}
