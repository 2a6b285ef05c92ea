/* Dispatches and escalation notices: reads what to say from Redis, renders it for the team's
 * webhook (DESIGN's dispatch JSON, X-ESS-Signature keyed with the team's token) or LINE group,
 * POSTs it through the curl client, and records the outcome. */
#include "dispatch.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "config.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "store.h"
#include "team_messages.h"
#include "text.h"

#define SEND_TIMEOUT_MS 5000
#define MAX_ATTEMPTS 10
#define BACKOFF_MAX_MS 30000

/* One delivery in progress. */
struct delivery {
    struct router *router;
    delivery_cb cb;
    void *arg;
    int attempts;
    char retry_key[40];
    char case_id[40];
    char team_id[72];
    char reason[48];  /* escalation reason */
    char channel[16]; /* "webhook" or "LINE" */
    int parts;        /* sends of one notice still to finish (a supervisor notice: 1 or 2) */
    enum delivery_outcome worst; /* of the parts finished so far */
    char worst_reason[160];
};

/* How bad an outcome is when the parts of one notice are merged: a cancelled part (the router
 * is stopping) first, then a retry (the whole notice is sent again), then giving up. */
static int severity(enum delivery_outcome outcome, const char *reason)
{
    if (reason && strcmp(reason, "cancelled") == 0) return 3;
    return outcome == DELIVERY_RETRY ? 2 : outcome == DELIVERY_GIVE_UP ? 1 : 0;
}

/* Reports the outcome and frees d; while other parts of the notice are being sent, only keeps
 * the worse outcome until the last part finishes. */
static void finish(struct delivery *d, enum delivery_outcome outcome, const char *reason)
{
    long delay = 1000;
    int i;
    if (d->parts > 0) {
        if (severity(outcome, reason) >= severity(d->worst, d->worst_reason)) {
            d->worst = outcome;
            snprintf(d->worst_reason, sizeof d->worst_reason, "%s", reason ? reason : "");
        }
        if (--d->parts > 0) return;
        outcome = d->worst;
        reason = d->worst_reason[0] ? d->worst_reason : NULL;
    }
    for (i = 0; i < d->attempts && delay < BACKOFF_MAX_MS; i++) delay *= 2;
    if (delay > BACKOFF_MAX_MS) delay = BACKOFF_MAX_MS;
    if (outcome == DELIVERY_RETRY && d->attempts + 1 >= MAX_ATTEMPTS) outcome = DELIVERY_GIVE_UP;
    d->cb(outcome, delay, reason, d->arg);
    free(d);
}

/* ------------------------------------------------------------------------------------------ */
/* Recording outcomes */

static void on_recorded(enum store_status status, const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    (void)arg;
    if (status != STORE_OK) log_warn("dispatch: an attempt's outcome could not be recorded");
}

/* Puts "webhook attempt 2: failed (timeout)" on the case's timeline while the team holds it. */
static void record(struct delivery *d, const char *note)
{
    const char *argv[3] = {d->case_id, d->team_id, note};
    if (store_fcall(d->router->store, "ess_dispatch_result", 0, 3, argv, NULL, on_recorded, NULL) !=
        0)
        log_warn("dispatch: an attempt's outcome could not be recorded");
}

static int transient(const struct client_response *res)
{
    return res->status == 0 || res->status == 408 || res->status == 429 || res->status >= 500;
}

static void on_dispatched(const struct client_response *res, void *arg)
{
    struct delivery *d = arg;
    char note[160];
    int ok = res->status >= 200 && res->status < 300;
    /* A LINE push answered 409 was accepted under this retry key already. */
    if (!ok && res->status == 409 && strcmp(d->channel, "LINE") == 0) ok = 1;

    if (res->error && strcmp(res->error, "cancelled") == 0) { /* stopping: the lease runs out */
        finish(d, DELIVERY_RETRY, "cancelled");
        return;
    }
    if (ok) {
        snprintf(note, sizeof note, "%s attempt %d: delivered (HTTP %d)", d->channel,
                 d->attempts + 1, res->status);
    } else if (res->status) {
        snprintf(note, sizeof note, "%s attempt %d: failed (HTTP %d)%s", d->channel,
                 d->attempts + 1, res->status, transient(res) ? ", will retry" : "");
    } else {
        snprintf(note, sizeof note, "%s attempt %d: failed (%s), will retry", d->channel,
                 d->attempts + 1, res->error ? res->error : "error");
    }
    record(d, note);
    log_info("case %s: dispatch to team %s, %s", d->case_id, d->team_id, note);
    if (!ok) {
        metrics_count_team_delivery_failure();
        if (strcmp(d->channel, "LINE") == 0) metrics_count_line_delivery_failure();
    }
    if (ok)
        finish(d, DELIVERY_DONE, NULL);
    else if (transient(res))
        finish(d, DELIVERY_RETRY, note);
    else
        finish(d, DELIVERY_GIVE_UP, note);
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch */

char *dispatch_body(const cJSON *c)
{
    cJSON *doc = cJSON_CreateObject(), *loc = NULL, *rep = NULL;
    char deadline[TEXT_TIME_SIZE];
    char *text = NULL;
    int located =
        json_string(c, "lat", "")[0] || cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "lat"));

    text_time_rfc3339((int64_t)json_number(c, "ack_deadline", NULL), deadline);
    if (doc == NULL || !cJSON_AddStringToObject(doc, "case_id", json_string(c, "case_id", "")) ||
        !cJSON_AddStringToObject(doc, "tracking_code", json_string(c, "tracking_code", "")) ||
        !cJSON_AddStringToObject(doc, "category", json_string(c, "category", "")) ||
        !cJSON_AddStringToObject(doc, "priority", json_string(c, "priority", "")) ||
        !cJSON_AddStringToObject(doc, "description", json_string(c, "description", "")) ||
        (loc = cJSON_AddObjectToObject(doc, "location")) == NULL ||
        !(located ? cJSON_AddNumberToObject(loc, "lat", json_number(c, "lat", NULL))
                  : cJSON_AddNullToObject(loc, "lat")) ||
        !(located ? cJSON_AddNumberToObject(loc, "lon", json_number(c, "lon", NULL))
                  : cJSON_AddNullToObject(loc, "lon")) ||
        !cJSON_AddStringToObject(loc, "address", json_string(c, "address", "")) ||
        (rep = cJSON_AddObjectToObject(doc, "reporter")) == NULL ||
        !cJSON_AddStringToObject(rep, "name", json_string(c, "reporter_name", "")) ||
        !cJSON_AddStringToObject(rep, "phone", json_string(c, "reporter_phone", "")) ||
        !cJSON_AddStringToObject(rep, "channel", json_string(c, "channel", "")) ||
        !(json_string(c, "distance_km", "")[0]
              ? cJSON_AddNumberToObject(doc, "distance_km", json_number(c, "distance_km", NULL))
              : cJSON_AddNullToObject(doc, "distance_km")) ||
        !cJSON_AddStringToObject(doc, "ack_deadline", deadline))
        goto done;
    text = cJSON_PrintUnformatted(doc);
done:
    cJSON_Delete(doc);
    return text;
}

static void send_webhook(struct delivery *d, const char *url, const cJSON *c, const char *nonce)
{
    char token[160], sig[LINE_SIGNATURE_SIZE], sig_header[80], delivery_header[80];
    const char *headers[3];
    char *body = dispatch_body(c);

    snprintf(d->channel, sizeof d->channel, "webhook");
    if (body == NULL) { /* the outbox keeps the message for a later attempt */
        finish(d, DELIVERY_RETRY, "out of memory");
        return;
    }
    if (auth_team_token_for(d->router, d->team_id, nonce, token, sizeof token) != 0) {
        free(body);
        finish(d, DELIVERY_RETRY, "token key not loaded");
        return;
    }
    line_signature(token, strlen(token), body, strlen(body), sig);
    memset(token, 0, sizeof token);
    snprintf(sig_header, sizeof sig_header, "X-ESS-Signature: %s", sig);
    snprintf(delivery_header, sizeof delivery_header, "X-ESS-Delivery: %s", d->retry_key);
    headers[0] = "Content-Type: application/json; charset=utf-8";
    headers[1] = sig_header;
    headers[2] = delivery_header;
    if (client_post(d->router->client, url, headers, 3, body, strlen(body), SEND_TIMEOUT_MS,
                    on_dispatched, d) == NULL)
        finish(d, DELIVERY_GIVE_UP, "the webhook URL was refused");
    free(body);
}

/* A LINE push of messages to `to`, through the channel's access token. */
static void send_line(struct delivery *d, const char *to, cJSON *messages, client_cb cb)
{
    const struct config *cfg = d->router->cfg;
    char url[600], auth[600], key[80];
    const char *headers[3];
    char *body = messages ? line_push_body(to, messages) : NULL;

    cJSON_Delete(messages);
    snprintf(d->channel, sizeof d->channel, "LINE");
    if (cfg->line_channel_access_token[0] == '\0') {
        free(body);
        finish(d, DELIVERY_GIVE_UP, "LINE_CHANNEL_ACCESS_TOKEN is not set");
        return;
    }
    if (body == NULL) { /* memory ran out rendering it: the outbox tries again later */
        finish(d, DELIVERY_RETRY, "out of memory");
        return;
    }
    snprintf(url, sizeof url, "%s/v2/bot/message/push", cfg->line_api_base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->line_channel_access_token);
    snprintf(key, sizeof key, "X-Line-Retry-Key: %s", d->retry_key);
    headers[0] = "Content-Type: application/json; charset=utf-8";
    headers[1] = auth;
    headers[2] = key;
    if (client_post(d->router->client, url, headers, 3, body, strlen(body), SEND_TIMEOUT_MS, cb,
                    d) == NULL)
        finish(d, DELIVERY_GIVE_UP, "the LINE API base was refused");
    free(body);
}

static void deliver(struct delivery *d, const cJSON *c)
{
    const char *raw = json_string(c, "notify", "");
    cJSON *notify = NULL;
    const char *webhook, *line_to;

    if (json_parse_object(raw, strlen(raw), 4, 0, &notify) == JSON_PARSE_NO_MEMORY) {
        finish(d, DELIVERY_RETRY, "out of memory");
        return;
    }
    webhook = json_string(notify, "webhook", "");
    line_to = json_string(notify, "line_to", "");

    if (webhook[0]) {
        send_webhook(d, webhook, c, json_string(c, "token_nonce", ""));
    } else if (line_to[0]) {
        const char *category = json_string(c, "category", "");
        int located =
            json_string(c, "lat", "")[0] != '\0'; /* else a typed address only: no map link */
        send_line(
            d, line_to,
            team_messages_dispatch(
                d->router->rules, d->case_id, json_string(c, "tracking_code", ""),
                incident_category_parse(category, strlen(category)), json_string(c, "priority", ""),
                json_string(c, "description", ""), located ? json_number(c, "lat", NULL) : NAN,
                located ? json_number(c, "lon", NULL) : NAN, json_string(c, "address", ""),
                json_number(c, "distance_km", NULL), (int64_t)json_number(c, "ack_deadline", NULL)),
            on_dispatched);
    } else {
        finish(d, DELIVERY_GIVE_UP, "the team's notify channel is unreadable");
    }
    cJSON_Delete(notify);
}

static struct delivery *delivery_new(struct router *router, int attempts, const char *retry_key,
                                     delivery_cb cb, void *arg)
{
    struct delivery *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->router = router;
    d->cb = cb;
    d->arg = arg;
    d->attempts = attempts;
    snprintf(d->retry_key, sizeof d->retry_key, "%s", retry_key ? retry_key : "");
    return d;
}

void dispatch_deliver(struct router *router, const cJSON *payload, int attempts,
                      const char *retry_key, delivery_cb cb, void *arg)
{
    struct delivery *d = delivery_new(router, attempts, retry_key, cb, arg);
    if (d == NULL) {
        cb(DELIVERY_RETRY, 1000, "out of memory", arg);
        return;
    }
    snprintf(d->case_id, sizeof d->case_id, "%s", json_string(payload, "case_id", ""));
    snprintf(d->team_id, sizeof d->team_id, "%s", json_string(payload, "team_id", ""));
    deliver(d, payload);
}

/* ------------------------------------------------------------------------------------------ */
/* Escalation */

char *dispatch_escalation_body(const cJSON *c, const char *reason)
{
    cJSON *doc = cJSON_CreateObject();
    char created[TEXT_TIME_SIZE];
    char *text = NULL;

    text_time_rfc3339((int64_t)json_number(c, "created_at", NULL), created);
    if (doc == NULL || !cJSON_AddStringToObject(doc, "event", "escalation") ||
        !cJSON_AddStringToObject(doc, "case_id", json_string(c, "case_id", "")) ||
        !cJSON_AddStringToObject(doc, "tracking_code", json_string(c, "tracking_code", "")) ||
        !cJSON_AddStringToObject(doc, "category", json_string(c, "category", "")) ||
        !cJSON_AddStringToObject(doc, "priority", json_string(c, "priority", "")) ||
        !cJSON_AddStringToObject(doc, "reason", reason) ||
        !cJSON_AddNumberToObject(doc, "attempts", json_number(c, "attempts", NULL)) ||
        !cJSON_AddStringToObject(doc, "created_at", created))
        goto done;
    text = cJSON_PrintUnformatted(doc);
done:
    cJSON_Delete(doc);
    return text;
}

static void on_escalation_sent(const struct client_response *res, void *arg)
{
    struct delivery *d = arg;
    int ok = (res->status >= 200 && res->status < 300) || res->status == 409;
    if (res->error && strcmp(res->error, "cancelled") == 0)
        finish(d, DELIVERY_RETRY, "cancelled");
    else if (ok)
        finish(d, DELIVERY_DONE, NULL);
    else
        finish(d, transient(res) ? DELIVERY_RETRY : DELIVERY_GIVE_UP, "supervisor notice failed");
}

/* The LINE part of a supervisor notice: counted when it fails, then merged like the webhook's. */
static void on_escalation_line_sent(const struct client_response *res, void *arg)
{
    if (!(res->error && strcmp(res->error, "cancelled") == 0) &&
        !((res->status >= 200 && res->status < 300) || res->status == 409))
        metrics_count_line_delivery_failure();
    on_escalation_sent(res, arg);
}

/* POSTs the notice to ESS_SUPERVISOR_WEBHOOK, signed with ESS_SUPERVISOR_SECRET when it is set
 * and named by X-ESS-Delivery (the same on every attempt: a notice sent again after the other
 * channel failed can be recognised). */
static void send_supervisor_webhook(struct delivery *d, const cJSON *c)
{
    const struct config *cfg = d->router->cfg;
    const char *headers[3] = {"Content-Type: application/json; charset=utf-8", NULL, NULL};
    char sig[LINE_SIGNATURE_SIZE], sig_header[80], delivery_header[80];
    size_t nheaders = 1;
    char *body = dispatch_escalation_body(c, d->reason);

    snprintf(delivery_header, sizeof delivery_header, "X-ESS-Delivery: %s", d->retry_key);
    headers[nheaders++] = delivery_header;
    if (body && cfg->supervisor_secret[0]) {
        line_signature(cfg->supervisor_secret, strlen(cfg->supervisor_secret), body, strlen(body),
                       sig);
        snprintf(sig_header, sizeof sig_header, "X-ESS-Signature: %s", sig);
        headers[nheaders++] = sig_header;
    }
    if (body == NULL) /* the outbox sends the notice again later */
        finish(d, DELIVERY_RETRY, "out of memory");
    else if (client_post(d->router->client, cfg->supervisor_webhook, headers, nheaders, body,
                         strlen(body), SEND_TIMEOUT_MS, on_escalation_sent, d) == NULL)
        finish(d, DELIVERY_GIVE_UP, "the supervisor webhook was refused");
    free(body);
}

/* Sends the notice to the supervisors' webhook and to their LINE group, each that is set; the
 * outcome is the worse of the two. */
static void on_escalation_case(enum store_status status, const char *data, size_t len, void *arg)
{
    struct delivery *d = arg;
    const struct config *cfg = d->router->cfg;
    cJSON *c = status == STORE_OK && data ? cJSON_ParseWithLength(data, len) : NULL;

    if (c == NULL) { /* "cancelled": the router is stopping and the lease runs out */
        finish(d, DELIVERY_RETRY,
               status == STORE_CANCELLED ? "cancelled" : "case store unavailable");
        return;
    }
    log_warn("case %s: sending the supervisors' notice (%s)", d->case_id, d->reason);
    d->parts = (cfg->supervisor_webhook[0] != '\0') + (cfg->supervisor_line_to[0] != '\0');
    if (d->parts == 0) {
        finish(d, DELIVERY_DONE, NULL);
    } else {
        /* d lives until its last part finishes (a part refused at once finishes here). */
        int line = cfg->supervisor_line_to[0] != '\0';
        if (cfg->supervisor_webhook[0]) send_supervisor_webhook(d, c);
        if (line) {
            send_line(d, cfg->supervisor_line_to,
                      team_messages_escalation(json_string(c, "tracking_code", ""),
                                               json_string(c, "category", ""),
                                               json_string(c, "priority", ""), d->reason),
                      on_escalation_line_sent);
        }
    }
    cJSON_Delete(c);
}

void dispatch_escalation(struct router *router, const cJSON *payload, int attempts,
                         const char *retry_key, delivery_cb cb, void *arg)
{
    struct delivery *d = delivery_new(router, attempts, retry_key, cb, arg);
    const char *argv[1];
    if (d == NULL) {
        cb(DELIVERY_RETRY, 1000, "out of memory", arg);
        return;
    }
    snprintf(d->case_id, sizeof d->case_id, "%s", json_string(payload, "case_id", ""));
    snprintf(d->reason, sizeof d->reason, "%s", json_string(payload, "reason", ""));
    argv[0] = d->case_id;
    if (store_fcall(router->store, "ess_case_read", 1, 1, argv, NULL, on_escalation_case, d) != 0)
        finish(d, DELIVERY_RETRY, "case store unavailable");
}
