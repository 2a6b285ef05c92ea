/* The case API: validates requests, runs the rule engine, and calls the store functions of
 * ess.lua that create, assign and move cases atomically. */
#include "cases.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "config.h"
#include "hotline.h"
#include "http.h"
#include "incident.h"
#include "log.h"
#include "random.h"
#include "router.h"
#include "rules.h"
#include "text.h"
#include "track_code.h"
#include "views.h"

#define CASE_ID_LEN 26
#define MAX_NOTE 1000
#define MAX_TRACK_TRIES 3
#define LIST_DEFAULT 50
#define LIST_MAX 200

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int cases_id_valid(const char *id)
{
    size_t i;
    if (strlen(id) != CASE_ID_LEN) return 0;
    for (i = 0; i < CASE_ID_LEN; i++)
        if (strchr(crockford, id[i]) == NULL || id[i] == '\0') return 0;
    return 1;
}

/* A ULID: 48 bits of milliseconds then 80 random bits, so case ids sort by creation time. Within
 * one millisecond (or if the clock steps back) the random part of the previous id is incremented
 * instead, so this process's ids are strictly increasing (a monotonic ULID). */
static int case_id_new(char out[CASE_ID_LEN + 1])
{
    static uint64_t last_ms;
    static uint8_t last_random[10];
    uint8_t bytes[16];
    struct timespec ts;
    uint64_t ms;
    int i, bit;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    if (ms <= last_ms) {
        ms = last_ms;
        for (i = 9; i >= 0 && ++last_random[i] == 0; i--) continue;
    } else {
        if (random_bytes(last_random, sizeof last_random) != 0) return -1;
        last_ms = ms;
    }
    for (i = 0; i < 6; i++) bytes[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(bytes + 6, last_random, sizeof last_random);
    /* 128 bits as 26 characters of 5 bits, the first holding only the top 3 bits. */
    for (i = 0; i < CASE_ID_LEN; i++) {
        int value = 0, b;
        for (b = 0; b < 5; b++) {
            bit = i * 5 + b - 2; /* 130 bit positions, the first two are zero padding */
            value <<= 1;
            if (bit >= 0) value |= (bytes[bit / 8] >> (7 - bit % 8)) & 1;
        }
        out[i] = crockford[value];
    }
    out[CASE_ID_LEN] = '\0';
    return 0;
}

static const char *json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Creating cases: POST /v1/incidents, and the LINE conversation through cases_create */

/* One case being created: the rule engine's decision and the ids, until the store answers. */
struct create_job {
    struct http_call *call;
    const struct incident *incident; /* borrowed from the call's own state */
    const char *call_id;             /* borrowed likewise; NULL: not idempotent */
    const char *line_lang;           /* "th"/"en" for a LINE case, else NULL */
    struct rules_decision decision;
    char case_id[CASE_ID_LEN + 1];
    char tracking_code[TRACK_CODE_SIZE];
    int tries;
    void (*on_created)(struct http_call *call, cJSON *reply);
};

static void join_skills(const struct rules_decision *d, char *out, size_t outlen)
{
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i < d->nskills; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", d->skills[i]);
        if (n < 0 || (size_t)n >= outlen - used) break;
        used += (size_t)n;
    }
}

static void join_radii(const struct rules_decision *d, char *out, size_t outlen)
{
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i < d->nradii; i++) {
        int n = snprintf(out + used, outlen - used, "%s%g", i ? "," : "", d->radii_km[i]);
        if (n < 0 || (size_t)n >= outlen - used) break;
        used += (size_t)n;
    }
}

static int create_send(struct create_job *job);

/* The fields of ess_case_create's flat answer after its first two (kind, case id). */
static const char *const summary_fields[] = {
    "tracking_code", "category",   "priority",   "status",       "team_id", "team_name",
    "distance_km",   "created_at", "updated_at", "queue_reason", "channel"};
#define NSUMMARY (sizeof summary_fields / sizeof summary_fields[0])

/* {"created": bool, "case": {...}} or {"err": code} from the flat answer; NULL if malformed. */
static cJSON *create_reply_json(const struct store_item *items, size_t n)
{
    cJSON *reply, *c;
    size_t i;
    if (n == 2 && items[0].data && items[1].data && items[0].len == 3 &&
        memcmp(items[0].data, "err", 3) == 0) {
        reply = cJSON_CreateObject();
        cJSON_AddItemToObject(reply, "err",
                              cJSON_CreateString(items[1].len < 64 ? items[1].data : "unexpected"));
        return reply;
    }
    if (n != 2 + NSUMMARY || items[0].data == NULL) return NULL;
    reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "created",
                          items[0].len == 7 && !memcmp(items[0].data, "created", 7));
    c = cJSON_AddObjectToObject(reply, "case");
    for (i = 0; i < 2 + NSUMMARY - 1; i++) {
        const struct store_item *it = &items[i + 1];
        char *v = malloc(it->len + 1);
        if (v == NULL) break;
        if (it->len) memcpy(v, it->data, it->len);
        v[it->len] = '\0';
        cJSON_AddStringToObject(c, i == 0 ? "case_id" : summary_fields[i - 1], v);
        free(v);
    }
    return reply;
}

static void on_create_reply(enum store_status status, const struct store_item *items, size_t n,
                            void *arg)
{
    struct create_job *job = arg;
    struct http_call *call = job->call;
    cJSON *reply = NULL;
    const char *refusal;
    const cJSON *c;

    if (call->req == NULL) { /* the client went away; the case, if stored, stays stored */
        free(job);
        http_call_free(call);
        return;
    }
    if (status != STORE_OK || (reply = create_reply_json(items, n)) == NULL) {
        free(job);
        http_reply_store_failure(call, status == STORE_OK ? STORE_ERROR : status);
        return;
    }
    refusal = http_refusal(reply);
    if (refusal && strcmp(refusal, "track_collision") == 0 && ++job->tries < MAX_TRACK_TRIES) {
        cJSON_Delete(reply);
        if (create_send(job) != 0) {
            free(job);
            http_reply_store_failure(call, STORE_UNAVAILABLE);
        }
        return;
    }
    c = cJSON_GetObjectItemCaseSensitive(reply, "case");
    if (!refusal && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "created"))) {
        const char *team = json_string(c, "team_id");
        metrics_observe_assignment((double)(http_now_us() - call->started_us) / 1e6);
        metrics_count_case_created(job->decision.category);
        log_info("case %s created: channel=%s category=%s%s priority=%s status=%s team=%s",
                 job->case_id, incident_channel_code(job->incident->channel),
                 incident_category_code(job->decision.category),
                 job->decision.classified ? " (classified)" : "",
                 rules_priority_code(job->decision.priority),
                 json_string(c, "status") ? json_string(c, "status") : "?",
                 team && team[0] ? team : "-");
    } else if (!refusal) {
        log_info("case %s: repeated call_id, answered with the existing case",
                 json_string(c, "case_id") ? json_string(c, "case_id") : "?");
    }
    job->on_created(call, reply);
    free(job);
}

/* Sends ess_case_create with a fresh tracking code. 0, or -1 when it could not be sent. */
static int create_send(struct create_job *job)
{
    const struct incident *in = job->incident;
    const struct rules_decision *d = &job->decision;
    char rank[8], ack[16], attempts[16], lat[32], lon[32], skills[320], radii[128];
    uint8_t random[5];
    const char *argv[32];
    int argc = 0;

    if (random_bytes(random, sizeof random) != 0) return -1;
    track_code_make(random, job->tracking_code);
    snprintf(rank, sizeof rank, "%d", d->priority);
    snprintf(ack, sizeof ack, "%d", d->ack_timeout_s);
    snprintf(attempts, sizeof attempts, "%d", d->max_attempts);
    if (in->has_location) { /* else "": a LINE report with a typed address only */
        snprintf(lat, sizeof lat, "%.7f", in->lat);
        snprintf(lon, sizeof lon, "%.7f", in->lon);
    } else {
        lat[0] = lon[0] = '\0';
    }
    join_skills(d, skills, sizeof skills);
    join_radii(d, radii, sizeof radii);

    argv[argc++] = job->case_id;
    argv[argc++] = job->tracking_code;
    argv[argc++] = job->call_id ? job->call_id : "";
    argv[argc++] = incident_category_code(d->category);
    argv[argc++] = rules_priority_code(d->priority);
    argv[argc++] = rank;
    argv[argc++] = skills;
    argv[argc++] = d->prefer_skill;
    argv[argc++] = radii;
    argv[argc++] = ack;
    argv[argc++] = attempts;
    argv[argc++] = d->dispatch ? "1" : "0";
    argv[argc++] = incident_channel_code(in->channel);
    argv[argc++] = lat;
    argv[argc++] = lon;
    argv[argc++] = in->operator_id ? in->operator_id : incident_channel_code(in->channel);
    argv[argc++] = rules_category_label(job->call->router->rules, d->category, "th");
    argv[argc++] = rules_category_label(job->call->router->rules, d->category, "en");
#define OPTIONAL_FIELD(name, value)                                                                \
    if (value) {                                                                                   \
        argv[argc++] = name;                                                                       \
        argv[argc++] = value;                                                                      \
    }
    OPTIONAL_FIELD("description", in->description)
    OPTIONAL_FIELD("address", in->address)
    OPTIONAL_FIELD("reporter_name", in->reporter_name)
    OPTIONAL_FIELD("reporter_phone", in->reporter_phone)
    OPTIONAL_FIELD("reporter_line_user", in->reporter_line_user)
    OPTIONAL_FIELD("operator_id", in->operator_id)
    OPTIONAL_FIELD("line_lang", job->line_lang)
#undef OPTIONAL_FIELD
    return store_fcall_array(job->call->router->store, "ess_case_create", 0, argc, argv, NULL,
                             on_create_reply, job);
}

void cases_create(struct http_call *call, const struct incident *incident, const char *call_id,
                  const char *line_lang, void (*on_created)(struct http_call *call, cJSON *reply))
{
    struct create_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    job->call = call;
    job->incident = incident;
    job->call_id = call_id;
    job->line_lang = line_lang;
    job->on_created = on_created;
    if (rules_decide(call->router->rules, incident, &job->decision) != 0 ||
        case_id_new(job->case_id) != 0) {
        free(job);
        http_reply_error(call, 500, "internal", "The case could not be prepared.");
        return;
    }
    if (create_send(job) != 0) {
        free(job);
        http_reply_store_failure(call, STORE_UNAVAILABLE);
    }
}

static void incident_free(void *p)
{
    incident_clear(p);
    free(p);
}

static void on_incident_created(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(reply, "case");
    if (refusal || !cJSON_IsObject(c)) {
        http_reply_refusal(call, refusal ? refusal : "unexpected");
    } else {
        int created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "created"));
        http_reply_json(call, created ? 201 : 200, views_case_summary(c));
    }
    cJSON_Delete(reply);
}

void cases_post_incident(struct http_call *call)
{
    struct incident *incident = calloc(1, sizeof *incident);
    struct hotline_error err;

    if (incident == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    call->data = incident;
    call->data_free = incident_free;
    if (hotline_parse_incident(call->body, call->body_len, incident, &err) != 0) {
        char message[256];
        snprintf(message, sizeof message, "%s%s%s", err.message, err.field[0] ? " Field: " : "",
                 err.field);
        http_reply_error(call, 400, err.code, message);
        return;
    }
    cases_create(call, incident, incident->call_id, NULL, on_incident_created);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading cases */

static void on_case_view(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        http_reply_json(call, 200, views_case(reply));
    }
    cJSON_Delete(reply);
}

/* The actor arguments of the store functions: "operator" or "team", the team id, its hash. */
static void actor_args(const struct http_call *call, const char **argv)
{
    int team = call->auth.role == AUTH_TEAM;
    argv[0] = team ? "team" : "operator";
    argv[1] = team ? call->auth.team_id : "";
    argv[2] = team ? call->auth.token_hash : "";
}

void cases_get(struct http_call *call)
{
    const char *argv[4];
    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    argv[0] = call->params[0];
    actor_args(call, argv + 1);
    http_fcall(call, "ess_case_get", 1, 4, argv, NULL, on_case_view);
}

static const char *const statuses[] = {"received",     "queued",   "assigned", "reassigned",
                                       "acknowledged", "en_route", "on_scene", "resolved",
                                       "closed",       NULL};

static int status_known(const char *s)
{
    size_t i;
    for (i = 0; statuses[i]; i++)
        if (strcmp(statuses[i], s) == 0) return 1;
    return 0;
}

static void on_case_list(struct http_call *call, cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "cases");
    const cJSON *c;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(reply, "next");
    int complete = list != NULL;

    if (http_refusal(reply)) {
        cJSON_Delete(doc);
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(reply, "cases")) {
        cJSON *summary = complete ? views_case_summary(c) : NULL;
        if (summary == NULL || !cJSON_AddItemToArray(list, summary)) {
            cJSON_Delete(summary);
            complete = 0;
        }
    }
    if (complete && cJSON_IsString(next))
        complete = cJSON_AddStringToObject(doc, "next_cursor", next->valuestring) != NULL;
    else if (complete)
        complete = cJSON_AddNullToObject(doc, "next_cursor") != NULL;
    cJSON_Delete(reply);
    if (!complete) { /* out of memory: a page with a case missing would mislead */
        cJSON_Delete(doc);
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    http_reply_json(call, 200, doc);
}

/* 1 when s has the shape of a list cursor this server gives: "<score>-<case id>", the score a
 * whole number of at most 16 digits (a queue score is priority * 1e13 + milliseconds). */
static int list_cursor_valid(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits >= 1 && digits <= 16 && s[digits] == '-' && cases_id_valid(s + digits + 1);
}

/* Reads a non-negative integer query value within [min, max]; 0 on success. */
static int query_int(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;
    if (s[0] < '0' || s[0] > '9' || strlen(s) > 12) return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

void cases_list(struct http_call *call)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq params;
    const char *status, *category, *limit_s, *cursor_s;
    long limit = LIST_DEFAULT;
    char limit_buf[16];
    const char *argv[4];
    const char *problem = NULL;

    TAILQ_INIT(&params);
    if (query && evhttp_parse_query_str(query, &params) != 0)
        problem = "The query string is malformed.";
    status = evhttp_find_header(&params, "status");
    category = evhttp_find_header(&params, "category");
    limit_s = evhttp_find_header(&params, "limit");
    cursor_s = evhttp_find_header(&params, "cursor");
    if (!problem && status && !status_known(status)) problem = "Unknown status.";
    if (!problem && category && incident_category_parse(category, strlen(category)) < 0)
        problem = "Unknown category.";
    if (!problem && limit_s && query_int(limit_s, 1, LIST_MAX, &limit) != 0)
        problem = "limit must be a whole number from 1 to 200.";
    if (!problem && cursor_s && !list_cursor_valid(cursor_s))
        problem = "cursor is not one this server gave.";
    if (problem) {
        evhttp_clear_headers(&params);
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    snprintf(limit_buf, sizeof limit_buf, "%ld", limit);
    argv[0] = status ? status : "";
    argv[1] = category ? category : "";
    argv[2] = cursor_s ? cursor_s : "";
    argv[3] = limit_buf;
    http_fcall(call, "ess_case_list", 1, 4, argv, NULL, on_case_list);
    evhttp_clear_headers(&params);
}

/* ------------------------------------------------------------------------------------------ */
/* Changing cases */

static void on_case_changed(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal == NULL) {
        const char *status =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "status"));
        log_info("case %s: status %s (%s)", call->params[0], status ? status : "?",
                 metrics_route_name(call->route));
    }
    on_case_view(call, reply);
}

void cases_post_status(struct http_call *call)
{
    static const char *const allowed[] = {"en_route", "on_scene", "resolved", "closed", NULL};
    cJSON *body;
    const cJSON *status, *note;
    const char *argv[7];
    char note_buf[MAX_NOTE + 1];
    size_t i;
    int ok = 0;

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    status = cJSON_GetObjectItemCaseSensitive(body, "status");
    note = cJSON_GetObjectItemCaseSensitive(body, "note");
    if (!cJSON_IsString(status)) {
        cJSON_Delete(body);
        http_reply_error(call, 400, status ? "invalid_field" : "missing_field",
                         "status is required: en_route, on_scene, resolved or closed.");
        return;
    }
    for (i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], status->valuestring) == 0) ok = 1;
    if (!ok || (note && !cJSON_IsNull(note) && !cJSON_IsString(note)) ||
        (cJSON_IsString(note) && strlen(note->valuestring) > MAX_NOTE)) {
        cJSON_Delete(body);
        http_reply_error(call, 400, "invalid_field",
                         ok ? "note must be a string of at most 1000 bytes."
                            : "status must be en_route, on_scene, resolved or closed.");
        return;
    }
    snprintf(note_buf, sizeof note_buf, "%s", cJSON_IsString(note) ? note->valuestring : "");
    argv[0] = call->params[0];
    argv[1] = status->valuestring;
    argv[2] = note_buf;
    actor_args(call, argv + 3);
    argv[6] = call->auth.role == AUTH_TEAM ? call->auth.team_id : "operator";
    http_fcall(call, "ess_case_status", 0, 7, argv, NULL, on_case_changed);
    cJSON_Delete(body);
}

void cases_post_ack(struct http_call *call)
{
    const char *argv[3];
    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    argv[0] = call->params[0];
    argv[1] = call->auth.team_id;
    argv[2] = call->auth.token_hash;
    http_fcall(call, "ess_case_ack", 0, 3, argv, NULL, on_case_changed);
}

void cases_post_assign(struct http_call *call)
{
    cJSON *body;
    const char *team;
    const char *argv[3];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    team = json_string(body, "team_id");
    if (team == NULL || !auth_team_id_valid(team, strlen(team))) {
        int missing = cJSON_GetObjectItemCaseSensitive(body, "team_id") == NULL;
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field",
                         "team_id is required and must match [a-z0-9][a-z0-9_-]{0,63}.");
        cJSON_Delete(body);
        return;
    }
    argv[0] = call->params[0];
    argv[1] = team;
    argv[2] = "operator";
    http_fcall(call, "ess_case_assign", 0, 3, argv, NULL, on_case_changed);
    cJSON_Delete(body);
}
