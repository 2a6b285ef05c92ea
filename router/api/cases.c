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
#include <time.h>

#include "config.h"
#include "hotline.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "random.h"
#include "router.h"
#include "rules.h"
#include "search.h"
#include "text.h"
#include "track_code.h"
#include "views.h"

#define CASE_ID_LEN 26
#define MAX_NOTE 1000
#define MAX_NOTE_TEXT 2000 /* an operator's note (POST /v1/cases/{id}/notes) */
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

/* ------------------------------------------------------------------------------------------ */
/* Creating cases: the service (cases_create), and POST /v1/incidents on top of it */

#define CREATE_MAX_ARGS 64

/* One case being created, until the store answers. It owns copies of everything it sends, so
 * the caller's incident need not outlive cases_create. */
struct create_job {
    struct router *router;
    cases_done_fn done;
    void *arg;
    uint64_t started_us;
    int channel; /* enum incident_channel, for the log */
    struct rules_decision decision;
    char case_id[CASE_ID_LEN + 1];
    char tracking_code[TRACK_CODE_SIZE]; /* argv points here: a new one at each try */
    int tries;
    int argc;
    const char *argv[CREATE_MAX_ARGS]; /* ess_case_create's name value pairs */
    char *owned[CREATE_MAX_ARGS];      /* the values copied */
    size_t nowned;
};

static void create_job_free(struct create_job *job)
{
    size_t i;
    if (job == NULL) return;
    for (i = 0; i < job->nowned; i++) free(job->owned[i]);
    free(job);
}

/* Appends the pair name, value (value copied unless it is the job's own; NULL: nothing). 0, or
 * -1 when memory runs out. name is a string literal. */
static int create_arg(struct create_job *job, const char *name, const char *value, int copy)
{
    char *v = NULL;
    if (value == NULL) return 0;
    if (job->argc + 2 > CREATE_MAX_ARGS) return -1;
    if (copy) {
        if ((v = text_dup(value)) == NULL) return -1;
        job->owned[job->nowned++] = v;
        value = v;
    }
    job->argv[job->argc++] = name;
    job->argv[job->argc++] = value;
    return 0;
}

/* ess_case_create's arguments as name value pairs: ess.lua's CREATE_REQUIRED and CREATE_OPTIONAL
 * define the names (an unknown or missing one is refused there, by name). 0 or -1 (memory). */
static int create_args(struct create_job *job, const struct incident *in, const char *call_id,
                       const char *line_lang, const char *by)
{
    const struct rules_decision *d = &job->decision;
    char rank[8], ack[16], attempts[16], lat[32], lon[32], skills[RULES_SKILLS_CSV_SIZE],
        radii[RULES_RADII_CSV_SIZE];
    char phone_hash[AUTH_HASH_HEX + 1] = "";
    char line_user_key[AUTH_HASH_HEX + 1] = "";
    int rc = 0;

    snprintf(rank, sizeof rank, "%d", d->priority);
    snprintf(ack, sizeof ack, "%d", d->ack_timeout_s);
    snprintf(attempts, sizeof attempts, "%d", d->max_attempts);
    if (in->has_location) { /* else "": a LINE report with a typed address only */
        snprintf(lat, sizeof lat, "%.7f", in->lat);
        snprintf(lon, sizeof lon, "%.7f", in->lon);
    } else {
        lat[0] = lon[0] = '\0';
    }
    rules_skills_csv(d, skills, sizeof skills);
    rules_radii_csv(d, radii, sizeof radii);
    if (in->reporter_phone) /* "" (not indexed) when it has too few digits to search by */
        search_phone_hash(job->router, in->reporter_phone, strlen(in->reporter_phone), phone_hash);
    if (in->reporter_line_user) /* the key of the reporter's P line:*:<key> (linebot.c's) */
        auth_token_hash(in->reporter_line_user, strlen(in->reporter_line_user), line_user_key);

    rc |= create_arg(job, "case_id", job->case_id, 0);
    rc |= create_arg(job, "tracking_code", job->tracking_code, 0);
    rc |= create_arg(job, "call_id", call_id, 1);
    rc |= create_arg(job, "category", incident_category_code(d->category), 0);
    rc |= create_arg(job, "priority", rules_priority_code(d->priority), 0);
    rc |= create_arg(job, "priority_rank", rank, 1);
    rc |= create_arg(job, "skills", skills, 1);
    rc |= create_arg(job, "prefer_skill", d->prefer_skill, 0); /* job->decision's own */
    rc |= create_arg(job, "radii", radii, 1);
    rc |= create_arg(job, "ack_timeout_s", ack, 1);
    rc |= create_arg(job, "max_attempts", attempts, 1);
    rc |= create_arg(job, "dispatch", d->dispatch ? "1" : "0", 0);
    rc |= create_arg(job, "channel", incident_channel_code(in->channel), 0);
    rc |= create_arg(job, "lat", lat, 1);
    rc |= create_arg(job, "lon", lon, 1);
    rc |= create_arg(job, "by", by ? by : incident_channel_code(in->channel), 1);
    rc |= create_arg(job, "description", in->description, 1);
    rc |= create_arg(job, "address", in->address, 1);
    rc |= create_arg(job, "reporter_name", in->reporter_name, 1);
    rc |= create_arg(job, "reporter_phone", in->reporter_phone, 1);
    if (phone_hash[0]) rc |= create_arg(job, "reporter_phone_hash", phone_hash, 1);
    rc |= create_arg(job, "reporter_line_user", in->reporter_line_user, 1);
    if (line_user_key[0]) rc |= create_arg(job, "line_user_key", line_user_key, 1);
    rc |= create_arg(job, "operator_id", in->operator_id, 1);
    rc |= create_arg(job, "line_lang", line_lang, 1);
    if (d->needs_triage) rc |= create_arg(job, "needs_triage", "1", 0);
    return rc ? -1 : 0;
}

/* The summary object of ess_case_create's flat answer (kind, case id, then name value pairs);
 * NULL when it is malformed or memory runs out. */
static cJSON *create_summary(const struct store_item *items, size_t n)
{
    cJSON *c;
    size_t i;
    if (n < 2 || n % 2 != 0) return NULL;
    if ((c = cJSON_CreateObject()) == NULL) return NULL;
    for (i = 0; i < n; i += 2) {
        const struct store_item *name = i == 0 ? NULL : &items[i];
        const struct store_item *value = &items[i + 1];
        char key[32], *v;
        int ok;
        if (name && (name->data == NULL || name->len == 0 || name->len >= sizeof key)) break;
        if (value->data == NULL || (v = text_dup_len(value->data, value->len)) == NULL) break;
        if (name) {
            memcpy(key, name->data, name->len);
            key[name->len] = '\0';
        }
        ok = cJSON_AddStringToObject(c, name ? key : "case_id", v) != NULL;
        free(v);
        if (!ok) break;
    }
    if (i < n) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

static int item_is(const struct store_item *it, const char *s)
{
    return it->data && it->len == strlen(s) && memcmp(it->data, s, it->len) == 0;
}

static int create_send(struct create_job *job);

/* Ends the job: calls done and frees the job. */
static void create_finish(struct create_job *job, enum cases_result result, cJSON *summary)
{
    cases_done_fn done = job->done;
    void *arg = job->arg;
    create_job_free(job);
    done(arg, result, summary);
}

static void on_create_reply(enum store_status status, const struct store_item *items, size_t n,
                            void *arg)
{
    struct create_job *job = arg;
    enum cases_result result;
    cJSON *summary = NULL;
    const char *team;

    if (status != STORE_OK || n < 2) {
        int oom = status == STORE_ERROR && n > 0 && store_error_is_oom(items[0].data, items[0].len);
        if (status == STORE_ERROR)
            log_error("case %s: the store refused to create it%s", job->case_id,
                      oom ? " (Redis is out of memory)" : "");
        create_finish(job,
                      (status == STORE_OK || status == STORE_ERROR) && !oom ? CASES_FAILED
                                                                            : CASES_UNAVAILABLE,
                      NULL);
        return;
    }
    if (item_is(&items[0], "err")) {
        if (n == 2 && item_is(&items[1], "track_collision") && ++job->tries < MAX_TRACK_TRIES) {
            if (create_send(job) != 0) create_finish(job, CASES_UNAVAILABLE, NULL);
            return;
        }
        log_error("case %s: the store refused to create it: %.*s", job->case_id,
                  items[1].data && items[1].len < 64 ? (int)items[1].len : 1,
                  items[1].data && items[1].len < 64 ? items[1].data : "?");
        create_finish(job, CASES_FAILED, NULL);
        return;
    }
    if (item_is(&items[0], "created")) {
        result = CASES_CREATED;
    } else if (item_is(&items[0], "exists")) {
        result = CASES_EXISTS;
    } else if (item_is(&items[0], "conflict")) {
        result = CASES_CALL_ID_CONFLICT;
    } else {
        log_error("case %s: unexpected answer from ess_case_create", job->case_id);
        create_finish(job, CASES_FAILED, NULL);
        return;
    }
    if ((summary = create_summary(items, n)) == NULL) {
        log_error("case %s: the answer of ess_case_create could not be read", job->case_id);
        create_finish(job, CASES_FAILED, NULL);
        return;
    }
    team = json_string(summary, "team_id", NULL);
    if (result == CASES_CREATED) {
        outbox_kick(job->router->outbox); /* its dispatch goes out now, not at the next tick */
        metrics_observe_assignment((double)(http_now_us() - job->started_us) / 1e6);
        metrics_count_case_created(job->decision.category);
        log_info("case %s created: channel=%s category=%s%s priority=%s status=%s team=%s",
                 job->case_id, incident_channel_code(job->channel),
                 incident_category_code(job->decision.category),
                 job->decision.needs_triage ? " (unsure: needs triage)"
                 : job->decision.classified ? " (classified)"
                                            : "",
                 rules_priority_code(job->decision.priority), json_string(summary, "status", "?"),
                 team && team[0] ? team : "-");
    } else {
        log_info("case %s: repeated call_id, %s", json_string(summary, "case_id", NULL),
                 result == CASES_EXISTS ? "answered with the existing case"
                                        : "with other content: refused");
    }
    create_finish(job, result, summary);
}

/* Sends ess_case_create with a fresh tracking code. 0, or -1 when it could not be sent. */
static int create_send(struct create_job *job)
{
    uint8_t random[5];
    if (random_bytes(random, sizeof random) != 0) return -1;
    track_code_make(random, job->tracking_code);
    return store_fcall_array(job->router->store, "ess_case_create", 0, job->argc, job->argv, NULL,
                             on_create_reply, job);
}

void cases_create(struct router *router, const struct incident *incident, const char *call_id,
                  const char *line_lang, const char *by, cases_done_fn done, void *arg)
{
    struct create_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        done(arg, CASES_FAILED, NULL);
        return;
    }
    job->router = router;
    job->done = done;
    job->arg = arg;
    job->started_us = http_now_us();
    job->channel = incident->channel;
    if (rules_decide(router->rules, incident, &job->decision) != 0 ||
        case_id_new(job->case_id) != 0 || create_args(job, incident, call_id, line_lang, by) != 0) {
        log_error("a case could not be prepared (out of memory or randomness)");
        create_finish(job, CASES_FAILED, NULL);
        return;
    }
    if (create_send(job) != 0) create_finish(job, CASES_UNAVAILABLE, NULL);
}

static void incident_free(void *p)
{
    incident_clear(p);
    free(p);
}

static void on_incident_created(void *arg, enum cases_result result, cJSON *summary)
{
    struct http_call *call = arg;
    char message[160];
    cJSON *extra;

    if (call->req == NULL) { /* the client went away; the case, if stored, stays stored */
        cJSON_Delete(summary);
        http_call_free(call);
        return;
    }
    switch (result) {
    case CASES_CREATED:
    case CASES_EXISTS:
        http_reply_json_replicated(call, result == CASES_CREATED ? 201 : 200,
                                   views_case_summary(summary));
        break;
    case CASES_CALL_ID_CONFLICT:
        snprintf(message, sizeof message,
                 "This call_id was already used for case %s, with other content; nothing was "
                 "created. A new report needs a new call_id.",
                 json_string(summary, "case_id", NULL));
        extra = cJSON_CreateObject();
        if (!cJSON_AddStringToObject(extra, "case_id", json_string(summary, "case_id", NULL))) {
            cJSON_Delete(summary);
            cJSON_Delete(extra);
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
            return;
        }
        http_reply_error_with(call, 409, "call_id_conflict", message, extra);
        break;
    case CASES_UNAVAILABLE:
        http_reply_store_failure(call, STORE_UNAVAILABLE);
        break;
    default:
        http_reply_error(call, 500, "internal", "The case could not be created.");
        break;
    }
    cJSON_Delete(summary);
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
    /* by: the authenticated caller; the body's operator_id stays the call centre's reference */
    cases_create(call->router, incident, incident->call_id, NULL, http_actor(call),
                 on_incident_created, call);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading cases */

static void on_case_view(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        http_reply_json(call, 200,
                        call->auth.role == AUTH_SUPERVISOR ? views_case_supervisor(reply)
                                                           : views_case(reply));
    }
    cJSON_Delete(reply);
}

void cases_fcall_by_id(struct http_call *call, const char *fn,
                       void (*on_reply)(struct http_call *call, cJSON *reply))
{
    const char *argv[1];
    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    argv[0] = call->params[0];
    http_fcall_audited(call, fn, 1, argv, on_reply);
}

void cases_get(struct http_call *call)
{
    cases_fcall_by_id(call, "ess_case_get", on_case_view);
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

void cases_reply_list(struct http_call *call, cJSON *reply)
{
    cJSON *doc;

    if (http_reply_refused(call, reply)) return;
    doc = views_case_list(reply);
    cJSON_Delete(reply);
    http_reply_json(call, 200, doc); /* NULL (out of memory: a page with a case missing would
                                        mislead) answers 500 */
}

/* 1 when s has the shape of a list cursor this server gives: "<score>-<case id>", the score a
 * whole number of at most 16 digits (a queue score is priority * 1e13 + milliseconds). */
static int list_cursor_valid(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits >= 1 && digits <= 16 && s[digits] == '-' && cases_id_valid(s + digits + 1);
}

void cases_list(struct http_call *call)
{
    struct evkeyvalq params;
    const char *status, *category, *limit_s, *cursor_s, *q, *chat;
    long limit = LIST_DEFAULT;
    char limit_buf[16];
    const char *argv[5];
    const char *problem = NULL;

    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    status = evhttp_find_header(&params, "status");
    category = evhttp_find_header(&params, "category");
    limit_s = evhttp_find_header(&params, "limit");
    cursor_s = evhttp_find_header(&params, "cursor");
    q = evhttp_find_header(&params, "q");
    chat = evhttp_find_header(&params, "chat");
    if (status && !status_known(status)) problem = "Unknown status.";
    if (!problem && chat && strcmp(chat, "waiting") != 0 && strcmp(chat, "open") != 0)
        problem = "chat must be waiting or open.";
    if (!problem && chat && q) problem = "A search (q) and chat cannot be combined.";
    if (!problem && category && incident_category_parse(category, strlen(category)) < 0)
        problem = "Unknown category.";
    if (!problem && limit_s && http_query_long(limit_s, 1, LIST_MAX, &limit) != 0)
        problem = "limit must be a whole number from 1 to 200.";
    if (!problem && cursor_s && !list_cursor_valid(cursor_s))
        problem = "cursor is not one this server gave.";
    if (!problem && q && cursor_s) problem = "A search (q) answers one page: no cursor.";
    if (problem) {
        evhttp_clear_headers(&params);
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    if (q) {
        search_cases(call, q, status ? status : "", category ? category : "", limit);
        evhttp_clear_headers(&params);
        return;
    }
    snprintf(limit_buf, sizeof limit_buf, "%ld", limit);
    argv[0] = status ? status : "";
    argv[1] = category ? category : "";
    argv[2] = cursor_s ? cursor_s : "";
    argv[3] = limit_buf;
    argv[4] = chat ? chat : "";
    http_fcall(call, "ess_case_list", 1, 5, argv, NULL, cases_reply_list);
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
        /* the change may have queued a dispatch (an assignment, a freed team taking a queued
         * case) or a notice to the reporter: they go out now, not at the outbox's next tick */
        outbox_kick(call->router->outbox);
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
    const char *argv[3];
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
    http_fcall_audited(call, "ess_case_status", 3, argv, on_case_changed);
    cJSON_Delete(body);
}

void cases_post_ack(struct http_call *call)
{
    cases_fcall_by_id(call, "ess_case_ack", on_case_changed);
}

/* The answer of ess_case_assign: a far team's refusal says how far (far_team, 409). */
static void on_assigned(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal && strcmp(refusal, "far_team") == 0) {
        double km = json_number(reply, "distance_km", NULL);
        double max_km = json_number(reply, "max_radius_km", NULL);
        cJSON *extra = cJSON_CreateObject();
        char message[256];

        snprintf(message, sizeof message,
                 "The team is %.1f km from the case, beyond the %g km this category searches; "
                 "send \"confirm_far\": true to assign it all the same.",
                 km, max_km);
        if (!cJSON_AddNumberToObject(extra, "distance_km", km) ||
            !cJSON_AddNumberToObject(extra, "max_radius_km", max_km)) {
            cJSON_Delete(extra);
            extra = NULL; /* the code and message still say it; only the figures are lost */
        }
        cJSON_Delete(reply);
        http_reply_error_with(call, 409, "far_team", message, extra);
        return;
    }
    on_case_changed(call, reply);
}

void cases_post_assign(struct http_call *call)
{
    cJSON *body;
    const cJSON *confirm;
    const char *team;
    const char *argv[3];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    team = json_string(body, "team_id", NULL);
    if (team == NULL || !auth_team_id_valid(team, strlen(team))) {
        int missing = cJSON_GetObjectItemCaseSensitive(body, "team_id") == NULL;
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field",
                         "team_id is required and must match [a-z0-9][a-z0-9_-]{0,63}.");
        cJSON_Delete(body);
        return;
    }
    confirm = cJSON_GetObjectItemCaseSensitive(body, "confirm_far");
    if (confirm && !cJSON_IsNull(confirm) && !cJSON_IsBool(confirm)) {
        http_reply_error(call, 400, "invalid_field", "confirm_far must be true or false.");
        cJSON_Delete(body);
        return;
    }
    argv[0] = call->params[0];
    argv[1] = team;
    argv[2] = cJSON_IsTrue(confirm) ? "1" : "0";
    http_fcall_audited(call, "ess_case_assign", 3, argv, on_assigned);
    cJSON_Delete(body);
}

/* Reads the optional text member name of body (at most max bytes of plain text: text_is_plain)
 * into *s, *n (pointing into body; NULL, 0 when absent or null). 0, or -1 when it is not such a
 * text. */
static int read_plain(const cJSON *body, const char *name, size_t max, const char **s, size_t *n)
{
    return json_text(body, name, max, s, n) != 0 || (*s && !text_is_plain(*s, *n)) ? -1 : 0;
}

void cases_post_location(struct http_call *call)
{
    cJSON *body;
    const char *address = NULL, *note = NULL, *problem = NULL;
    size_t alen = 0, nlen = 0;
    double lat = 0, lon = 0;
    enum json_number_result rlat, rlon;
    char lat_s[32], lon_s[32], *address_s = NULL, *note_s = NULL;
    const char *argv[6];
    int missing = 0;

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    rlat = json_number_in(body, "lat", -90, 90, &lat);
    rlon = json_number_in(body, "lon", -180, 180, &lon);
    if (rlat == JSON_NUMBER_ABSENT || rlon == JSON_NUMBER_ABSENT) {
        missing = 1;
        problem = "lat and lon are required: numbers from -90 to 90 and from -180 to 180.";
    } else if (rlat != JSON_NUMBER_OK) {
        problem = "lat must be a number from -90 to 90.";
    } else if (rlon != JSON_NUMBER_OK) {
        problem = "lon must be a number from -180 to 180.";
    } else if (read_plain(body, "address", INCIDENT_MAX_ADDRESS, &address, &alen) != 0) {
        problem = "address, when given, is text of at most 500 bytes.";
    } else if (read_plain(body, "note", MAX_NOTE, &note, &nlen) != 0) {
        problem = "note, when given, is text of at most 1000 bytes.";
    }
    if (problem) {
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field", problem);
        cJSON_Delete(body);
        return;
    }
    if ((address && (address_s = text_dup_len(address, alen)) == NULL) ||
        (note && (note_s = text_dup_len(note, nlen)) == NULL)) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    snprintf(lat_s, sizeof lat_s, "%.7f", lat);
    snprintf(lon_s, sizeof lon_s, "%.7f", lon);
    argv[0] = call->params[0];
    argv[1] = lat_s;
    argv[2] = lon_s;
    argv[3] = address_s ? address_s : "";
    argv[4] = note_s ? note_s : "";
    argv[5] = "1"; /* an operator places it: an escalated case is routed too */
    http_fcall_audited(call, "ess_case_locate", 6, argv, on_case_changed);
done:
    free(address_s);
    free(note_s);
    cJSON_Delete(body);
}

static void on_note_added(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        log_info("case %s: note added", call->params[0]);
        http_reply_json(call, 201, views_case(reply));
    }
    cJSON_Delete(reply);
}

void cases_post_note(struct http_call *call)
{
    cases_call_with_text(call, "text", MAX_NOTE_TEXT, 0,
                         "text is required: a note of at most 2000 bytes.", "ess_case_note_view",
                         on_note_added);
}

/* The number of code points of the valid UTF-8 s[0..n). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
    return chars;
}

void cases_call_with_text(struct http_call *call, const char *name, size_t max_bytes,
                          size_t max_chars, const char *problem, const char *function,
                          void (*on_reply)(struct http_call *call, cJSON *reply))
{
    cJSON *body;
    const char *text = NULL;
    size_t len = 0;
    char *copy;
    const char *argv[2];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    if (http_body_text(call, body, name, max_bytes, problem, &text, &len) != 0) {
        cJSON_Delete(body);
        return;
    }
    if (max_chars > 0 && utf8_chars(text, len) > max_chars) {
        http_reply_error(call, 400, "invalid_field", problem);
        cJSON_Delete(body);
        return;
    }
    if ((copy = text_dup_len(text, len)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        cJSON_Delete(body);
        return;
    }
    argv[0] = call->params[0];
    argv[1] = copy;
    http_fcall_audited(call, function, 2, argv, on_reply);
    free(copy);
    cJSON_Delete(body);
}
