/* The team API: validation of team records and heartbeats, token issuing, and the store
 * functions that keep the geo index of teams able to take a case. */
#include "teams.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cases.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "line.h"
#include "log.h"
#include "netaddr.h"
#include "outbox.h"
#include "random.h"
#include "router.h"
#include "rules.h"
#include "store.h"
#include "text.h"

#define MAX_NAME 200
#define MAX_SKILLS RULES_MAX_SKILLS
#define MAX_CAPACITY 100
#define MAX_URL 500
#define TOKEN_SIZE 128
#define TEAM_LIST_DEFAULT 500
#define TEAM_LIST_MAX 1000
#define CANDIDATES_DEFAULT 10
#define CANDIDATES_MAX 50
#define CANDIDATES_MAX_RADIUS_KM 1000

struct team_state {
    char token[TOKEN_SIZE];
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads "skills" into a sorted, de-duplicated comma list. 0 or -1. */
static int read_skills(const cJSON *arr, char *out, size_t outlen)
{
    const char *names[MAX_SKILLS];
    size_t n = 0, i, used = 0;
    const cJSON *s;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > MAX_SKILLS)
        return -1;
    cJSON_ArrayForEach (s, arr) {
        if (!cJSON_IsString(s) || !rules_skill_valid(s->valuestring, strlen(s->valuestring)))
            return -1;
        names[n++] = s->valuestring;
    }
    qsort(names, n, sizeof names[0], cmp_str);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        int w;
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0) continue;
        w = snprintf(out + used, outlen - used, "%s%s", used ? "," : "", names[i]);
        if (w < 0 || (size_t)w >= outlen - used) return -1;
        used += (size_t)w;
    }
    return 0;
}

static int url_valid(const char *u)
{
    size_t i, n = strlen(u);
    int loopback;
    if (n > MAX_URL) return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f) return 0;
    /* https only: personal data travels in a dispatch; plain http for loopback gateways */
    return net_webhook_url_check(u, &loopback) == 0;
}

enum teams_notify_result teams_notify_read(const cJSON *v, char **out)
{
    const cJSON *webhook, *line_to;
    cJSON *canon = NULL;
    enum teams_notify_result result = TEAMS_NOTIFY_INVALID;

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) return TEAMS_NOTIFY_OK;
    if (!cJSON_IsObject(v)) return TEAMS_NOTIFY_INVALID;
    webhook = cJSON_GetObjectItemCaseSensitive(v, "webhook");
    line_to = cJSON_GetObjectItemCaseSensitive(v, "line_to");
    if ((webhook != NULL) == (line_to != NULL)) return TEAMS_NOTIFY_INVALID;
    if (webhook) {
        if (!cJSON_IsString(webhook) || !url_valid(webhook->valuestring)) goto done;
    } else {
        if (!cJSON_IsString(line_to) || !line_push_target_valid(line_to->valuestring)) goto done;
    }
    result = TEAMS_NOTIFY_NO_MEMORY; /* valid: from here only memory can fail */
    if ((canon = cJSON_CreateObject()) == NULL) goto done;
    if (webhook ? !cJSON_AddStringToObject(canon, "webhook", webhook->valuestring)
                : !cJSON_AddStringToObject(canon, "line_to", line_to->valuestring))
        goto done;
    if ((*out = cJSON_PrintUnformatted(canon)) == NULL) goto done;
    result = TEAMS_NOTIFY_OK;
done:
    cJSON_Delete(canon);
    return result;
}

/* Adds a copy of reply's member name (null when reply lacks it) to doc as key. 0, or -1 when
 * memory ran out. */
static int add_copy(cJSON *doc, const char *key, const cJSON *reply, const char *name)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(reply, name);
    cJSON *item = src ? cJSON_Duplicate(src, 1) : cJSON_CreateNull();
    if (item == NULL) return -1;
    if (!cJSON_AddItemToObject(doc, key, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

/* Adds "assigned_cases": the strings of reply's "assigned". 0, or -1 when memory ran out. */
static int add_assigned(cJSON *doc, const cJSON *reply)
{
    const cJSON *id;
    cJSON *arr = cJSON_AddArrayToObject(doc, "assigned_cases");
    if (arr == NULL) return -1;
    cJSON_ArrayForEach (id, cJSON_GetObjectItemCaseSensitive(reply, "assigned")) {
        cJSON *s;
        if (!cJSON_IsString(id)) continue;
        if ((s = cJSON_CreateString(id->valuestring)) == NULL) return -1;
        if (!cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return -1;
        }
    }
    return 0;
}

/* A team that became free or available may have taken queued cases (reply's "assigned"): their
 * dispatches go out now, not at the outbox's next tick. */
static void send_new_dispatches(struct http_call *call, const cJSON *reply)
{
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "assigned")) > 0)
        outbox_kick(call->router->outbox);
}

cJSON *teams_put_answer(const char *team_id, const char *token, const cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL || !cJSON_AddStringToObject(doc, "team_id", team_id) ||
        (token != NULL && !cJSON_AddStringToObject(doc, "token", token)) ||
        add_copy(doc, "active_cases", reply, "active") != 0 || add_assigned(doc, reply) != 0) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *teams_position_answer(const char *team_id, const cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL || !cJSON_AddStringToObject(doc, "team_id", team_id) ||
        !cJSON_AddBoolToObject(
            doc, "available", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "available"))) ||
        add_copy(doc, "active_cases", reply, "active") != 0 ||
        add_copy(doc, "capacity", reply, "capacity") != 0 || add_assigned(doc, reply) != 0) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static void on_team_put(struct http_call *call, cJSON *reply)
{
    struct team_state *st = call->data;
    cJSON *doc;
    const char *refusal = http_refusal(reply);
    int created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "created"));
    int token_set = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "token_set"));

    if (refusal && strcmp(refusal, "line_to_taken") == 0) {
        http_reply_error(call, 409, "line_to_taken",
                         "Another team already receives its cases in this LINE group.");
        cJSON_Delete(reply);
        return;
    }
    if (refusal) {
        http_reply_refusal(call, refusal);
        cJSON_Delete(reply);
        return;
    }
    send_new_dispatches(call, reply);
    doc = teams_put_answer(call->params[0], token_set ? st->token : NULL, reply);
    log_info("team %s %s%s", call->params[0], created ? "created" : "updated",
             token_set && !created ? ", token rotated" : "");
    cJSON_Delete(reply);
    memset(st->token, 0, sizeof st->token);
    if (doc == NULL) {
        /* The team is stored (only the token's hash is kept, so the token is lost): the admin
         * puts the team again with "rotate_token": true to get a new one. */
        log_error("team %s: stored, but the answer ran out of memory%s", call->params[0],
                  token_set ? "; rotate its token" : "");
        http_reply_error(call, 500, "internal",
                         "The team was stored but the answer ran out of memory; put it again "
                         "with rotate_token to get a token.");
        return;
    }
    http_reply_json(call, created ? 201 : 200, doc);
}

/* A team record as the admin sent it, validated. */
struct team_input {
    const char *name;    /* borrowed from the body */
    const char *name_en; /* the name the English LINE conversation shows; "" for none */
    char skills[MAX_SKILLS * RULES_MAX_SKILL_LEN + 1];
    double lat, lon, capacity;
    int available, rotate;
    char *notify; /* canonical JSON, heap, or NULL */
};

/* team_input_read's answer when memory ran out (500, not a 400). */
static const char team_input_no_memory[] = "The server ran out of memory.";

/* Validates body into in. NULL, or the sentence to answer with (400 invalid_field, or
 * missing_field when *missing; 500 when it is team_input_no_memory). */
static const char *team_input_read(const cJSON *body, struct team_input *in, int *missing)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *name_en = cJSON_GetObjectItemCaseSensitive(body, "name_en");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(body, "capacity");
    const cJSON *avail = cJSON_GetObjectItemCaseSensitive(body, "available");
    const cJSON *rotate = cJSON_GetObjectItemCaseSensitive(body, "rotate_token");
    enum teams_notify_result notify;

    memset(in, 0, sizeof *in);
    in->capacity = 1;
    *missing = name == NULL || cJSON_GetObjectItemCaseSensitive(body, "skills") == NULL ||
               cJSON_GetObjectItemCaseSensitive(body, "lat") == NULL ||
               cJSON_GetObjectItemCaseSensitive(body, "lon") == NULL;
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0' ||
        strlen(name->valuestring) > MAX_NAME ||
        !text_utf8_valid(name->valuestring, strlen(name->valuestring)))
        return "name is required: a string of 1 to 200 bytes.";
    in->name = name->valuestring;
    in->name_en = "";
    if (name_en != NULL && !cJSON_IsNull(name_en)) {
        if (!cJSON_IsString(name_en) || strlen(name_en->valuestring) > MAX_NAME ||
            !text_utf8_valid(name_en->valuestring, strlen(name_en->valuestring)))
            return "name_en, when given, is a string of up to 200 bytes.";
        in->name_en = name_en->valuestring;
    }
    if (read_skills(cJSON_GetObjectItemCaseSensitive(body, "skills"), in->skills,
                    sizeof in->skills) != 0)
        return "skills is required: 1 to 8 names of [a-z0-9_].";
    if (json_number_in(body, "lat", -90, 90, &in->lat) != JSON_NUMBER_OK)
        return "lat is required: a number from -90 to 90.";
    if (json_number_in(body, "lon", -180, 180, &in->lon) != JSON_NUMBER_OK)
        return "lon is required: a number from -180 to 180.";
    *missing = 0;
    if (cap && !cJSON_IsNull(cap)) {
        if (!cJSON_IsNumber(cap) || cap->valuedouble != floor(cap->valuedouble) ||
            cap->valuedouble < 1 || cap->valuedouble > MAX_CAPACITY)
            return "capacity must be a whole number from 1 to 100.";
        in->capacity = cap->valuedouble;
    }
    if (avail && !cJSON_IsNull(avail) && !cJSON_IsBool(avail))
        return "available must be true or false.";
    in->available = !cJSON_IsFalse(avail);
    if (rotate && !cJSON_IsNull(rotate) && !cJSON_IsBool(rotate))
        return "rotate_token must be true or false.";
    in->rotate = cJSON_IsTrue(rotate);
    notify = teams_notify_read(cJSON_GetObjectItemCaseSensitive(body, "notify"), &in->notify);
    if (notify == TEAMS_NOTIFY_NO_MEMORY) return team_input_no_memory;
    if (notify != TEAMS_NOTIFY_OK)
        return "notify must be {\"webhook\": an https:// URL (http:// only to 127.0.0.1, "
               "localhost or [::1])} or {\"line_to\": a LINE group id}.";
    return NULL;
}

void teams_put(struct http_call *call)
{
    const char *id = call->params[0];
    struct team_state *st = NULL;
    struct team_input in;
    const char *problem;
    cJSON *body;
    char lat_s[32], lon_s[32], cap_s[16], hash[AUTH_HASH_HEX + 1];
    const char *argv[12];
    char nonce[32] = "";
    int missing = 0;

    if (!auth_team_id_valid(id, strlen(id))) {
        http_reply_error(call, 400, "invalid_field", "Team ids match [a-z0-9][a-z0-9_-]{0,63}.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    /* Four ways to fail before the store is asked, each answered for what it is. */
    if ((problem = team_input_read(body, &in, &missing)) == team_input_no_memory) {
        http_reply_error(call, 500, "internal", problem);
        goto fail;
    }
    if (problem != NULL) {
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field", problem);
        goto fail;
    }
    if ((st = calloc(1, sizeof *st)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto fail;
    }
    if (random_token(nonce, sizeof nonce, 16) != 0) {
        log_error("team %s: no random bytes for a token nonce", id);
        http_reply_error(call, 500, "internal", "Could not draw random bytes for a token.");
        goto fail;
    }
    if (auth_team_token_for(call->router, id, nonce, st->token, sizeof st->token) != 0) {
        log_error("team %s: the token could not be derived", id);
        http_reply_error(call, 500, "internal", "Could not issue a token.");
        goto fail;
    }
    call->data = st;
    call->data_free = free;
    auth_token_hash(st->token, strlen(st->token), hash);
    snprintf(lat_s, sizeof lat_s, "%.7f", in.lat);
    snprintf(lon_s, sizeof lon_s, "%.7f", in.lon);
    snprintf(cap_s, sizeof cap_s, "%.0f", in.capacity);
    argv[0] = id;
    argv[1] = in.name;
    argv[2] = in.skills;
    argv[3] = lat_s;
    argv[4] = lon_s;
    argv[5] = cap_s;
    argv[6] = in.available ? "1" : "0";
    argv[7] = in.notify ? in.notify : "";
    argv[8] = hash;
    argv[9] = in.rotate ? "1" : "0";
    argv[10] = nonce;
    argv[11] = in.name_en;
    http_fcall(call, "ess_team_put", 0, 12, argv, NULL, on_team_put);
    st = NULL; /* the call owns it now */
fail:
    free(st);
    free(in.notify);
    cJSON_Delete(body);
}

static void on_position(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    cJSON *doc;
    if (refusal) {
        http_reply_refusal(call, strcmp(refusal, "not_found") == 0 ? "team_not_found" : refusal);
        cJSON_Delete(reply);
        return;
    }
    send_new_dispatches(call, reply);
    doc = teams_position_answer(call->params[0], reply);
    cJSON_Delete(reply);
    http_reply_json(call, 200, doc); /* NULL (out of memory) answers 500 */
}

void teams_post_position(struct http_call *call)
{
    const char *id = call->params[0];
    cJSON *body;
    const cJSON *avail;
    double lat = 0, lon = 0;
    char lat_s[32], lon_s[32];
    const char *argv[6];
    const char *problem = NULL;

    if (!auth_team_id_valid(id, strlen(id))) {
        http_reply_error(call, 404, "not_found", "No such team.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    avail = cJSON_GetObjectItemCaseSensitive(body, "available");
    if (json_number_in(body, "lat", -90, 90, &lat) != JSON_NUMBER_OK)
        problem = "lat is required: a number from -90 to 90.";
    else if (json_number_in(body, "lon", -180, 180, &lon) != JSON_NUMBER_OK)
        problem = "lon is required: a number from -180 to 180.";
    else if (avail && !cJSON_IsNull(avail) && !cJSON_IsBool(avail))
        problem = "available must be true or false.";
    if (problem) {
        int missing = cJSON_GetObjectItemCaseSensitive(body, "lat") == NULL ||
                      cJSON_GetObjectItemCaseSensitive(body, "lon") == NULL;
        cJSON_Delete(body);
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field", problem);
        return;
    }
    snprintf(lat_s, sizeof lat_s, "%.7f", lat);
    snprintf(lon_s, sizeof lon_s, "%.7f", lon);
    argv[0] = id;
    argv[1] = call->auth.team_id;
    argv[2] = call->auth.token_hash;
    argv[3] = lat_s;
    argv[4] = lon_s;
    argv[5] = cJSON_IsTrue(avail) ? "1" : cJSON_IsFalse(avail) ? "0" : "";
    http_fcall(call, "ess_team_position", 0, 6, argv, NULL, on_position);
    cJSON_Delete(body);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading teams: the list (operators and the admin) and a case's candidates (operators) */

/* Adds "skills": the array of the comma-separated names in csv. */
static void add_skills(cJSON *obj, const char *csv, int *ok)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "skills");
    const char *p = csv;

    *ok &= arr != NULL;
    while (*ok && *p) {
        size_t n = strcspn(p, ",");
        char *name = n ? text_dup_len(p, n) : NULL;
        cJSON *s = name ? cJSON_CreateString(name) : NULL;
        free(name);
        if (n && (s == NULL || !cJSON_AddItemToArray(arr, s))) {
            cJSON_Delete(s);
            *ok = 0;
        }
        p += n + (p[n] == ',');
    }
}

/* Adds name as a number read from the store's text (or number) member raw_name; null when it is
 * not one. */
static void add_number(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name,
                       int *ok)
{
    int present;
    double v = json_number(raw, raw_name, &present);
    *ok &= (present ? cJSON_AddNumberToObject(obj, name, v) : cJSON_AddNullToObject(obj, name)) !=
           NULL;
}

/* The members a team's list entry and a candidate share. */
static void add_team_common(cJSON *obj, const cJSON *raw, int *ok)
{
    const char *name_en = json_string(raw, "name_en", "");
    double active = json_number(raw, "active", NULL), capacity = json_number(raw, "capacity", NULL);

    *ok &= cJSON_AddStringToObject(obj, "team_id", json_string(raw, "team_id", "")) != NULL;
    *ok &= cJSON_AddStringToObject(obj, "name", json_string(raw, "name", "")) != NULL;
    if (name_en[0]) *ok &= cJSON_AddStringToObject(obj, "name_en", name_en) != NULL;
    add_skills(obj, json_string(raw, "skills", ""), ok);
    *ok &= cJSON_AddBoolToObject(
               obj, "available",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(raw, "available"))) != NULL;
    *ok &= cJSON_AddNumberToObject(obj, "active_cases", active) != NULL;
    *ok &= cJSON_AddNumberToObject(obj, "capacity", capacity) != NULL;
    add_number(obj, "lat", raw, "lat", ok);
    add_number(obj, "lon", raw, "lon", ok);
}

cJSON *teams_view(const cJSON *raw, int with_notify)
{
    cJSON *obj = cJSON_CreateObject();
    int present, ok = obj != NULL;
    double updated = json_number(raw, "updated_at", &present);
    char at[TEXT_TIME_SIZE];

    add_team_common(obj, raw, &ok);
    if (present) {
        text_time_rfc3339((int64_t)updated, at);
        ok &= cJSON_AddStringToObject(obj, "updated_at", at) != NULL;
    } else {
        ok &= cJSON_AddNullToObject(obj, "updated_at") != NULL;
    }
    if (with_notify) {
        const char *notify = json_string(raw, "notify", "");
        cJSON *n = notify[0] ? cJSON_Parse(notify) : cJSON_CreateNull();
        if (n == NULL || !cJSON_AddItemToObject(obj, "notify", n)) {
            cJSON_Delete(n);
            ok = 0;
        }
    }
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

cJSON *teams_candidate_view(const cJSON *raw, double max_radius_km)
{
    cJSON *obj = cJSON_CreateObject();
    int present, ok = obj != NULL;
    double active = json_number(raw, "active", NULL), capacity = json_number(raw, "capacity", NULL);
    double km = json_number(raw, "distance_km", &present);
    int available = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(raw, "available"));
    double free_slots = capacity > active ? capacity - active : 0;

    add_team_common(obj, raw, &ok);
    ok &= cJSON_AddNumberToObject(obj, "free_capacity", free_slots) != NULL;
    ok &= cJSON_AddBoolToObject(obj, "can_take", available && free_slots > 0) != NULL;
    ok &= (present ? cJSON_AddNumberToObject(obj, "distance_km", km)
                   : cJSON_AddNullToObject(obj, "distance_km")) != NULL;
    ok &= cJSON_AddBoolToObject(obj, "beyond_radius",
                                present && max_radius_km > 0 && km > max_radius_km) != NULL;
    ok &= cJSON_AddBoolToObject(obj, "excluded",
                                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(raw, "excluded"))) !=
          NULL;
    ok &=
        cJSON_AddBoolToObject(obj, "holds_case",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(raw, "holds"))) != NULL;
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* Adds to doc the array name of each member of list rendered by view (NULL: out of memory). */
static void add_views(cJSON *doc, const char *name, const cJSON *list,
                      cJSON *(*view)(const cJSON *raw, double arg), double arg, int *ok)
{
    cJSON *arr = cJSON_AddArrayToObject(doc, name);
    const cJSON *raw;

    *ok &= arr != NULL;
    cJSON_ArrayForEach (raw, list) {
        cJSON *v = *ok ? view(raw, arg) : NULL;
        if (v == NULL || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            *ok = 0;
        }
    }
}

static cJSON *team_view_public(const cJSON *raw, double arg)
{
    (void)arg;
    return teams_view(raw, 0);
}

static cJSON *team_view_admin(const cJSON *raw, double arg)
{
    (void)arg;
    return teams_view(raw, 1);
}

cJSON *teams_list_answer(const cJSON *reply, int with_notify)
{
    cJSON *doc = cJSON_CreateObject();
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(reply, "next");
    int ok = doc != NULL;

    add_views(doc, "teams", cJSON_GetObjectItemCaseSensitive(reply, "teams"),
              with_notify ? team_view_admin : team_view_public, 0, &ok);
    ok &= (cJSON_IsString(next) ? cJSON_AddStringToObject(doc, "next_cursor", next->valuestring)
                                : cJSON_AddNullToObject(doc, "next_cursor")) != NULL;
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *teams_candidates_answer(const cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    double max_km = json_number(reply, "max_radius_km", NULL);
    int ok = doc != NULL;

    ok &= cJSON_AddStringToObject(doc, "case_id", json_string(reply, "case_id", "")) != NULL;
    add_skills(doc, json_string(reply, "skills", ""), &ok);
    ok &= cJSON_AddNumberToObject(doc, "max_radius_km", max_km) != NULL;
    add_number(doc, "radius_km", reply, "radius_km", &ok);
    add_views(doc, "candidates", cJSON_GetObjectItemCaseSensitive(reply, "candidates"),
              teams_candidate_view, max_km, &ok);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* Answers a read's store reply (which this takes): its refusal, or 200 with the answer build
 * makes of it (NULL, out of memory: 500). */
static void reply_read(struct http_call *call, cJSON *reply,
                       cJSON *(*build)(const struct http_call *call, const cJSON *reply))
{
    if (http_refusal(reply))
        http_reply_refusal(call, http_refusal(reply));
    else
        http_reply_json(call, 200, build(call, reply));
    cJSON_Delete(reply);
}

static cJSON *build_team_list(const struct http_call *call, const cJSON *reply)
{
    return teams_list_answer(reply, call->auth.role == AUTH_ADMIN);
}

static void on_team_list(struct http_call *call, cJSON *reply)
{
    reply_read(call, reply, build_team_list);
}

void teams_list(struct http_call *call)
{
    struct evkeyvalq params;
    const char *limit_s, *cursor;
    const char *problem = NULL;
    long limit = TEAM_LIST_DEFAULT;
    char limit_buf[16];
    const char *argv[3];

    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    limit_s = evhttp_find_header(&params, "limit");
    cursor = evhttp_find_header(&params, "cursor");
    if (limit_s && http_query_long(limit_s, 1, TEAM_LIST_MAX, &limit) != 0)
        problem = "limit must be a whole number from 1 to 1000.";
    if (!problem && cursor && !auth_team_id_valid(cursor, strlen(cursor)))
        problem = "cursor is not one this server gave.";
    if (problem) {
        evhttp_clear_headers(&params);
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    snprintf(limit_buf, sizeof limit_buf, "%ld", limit);
    argv[0] = cursor ? cursor : "";
    argv[1] = limit_buf;
    argv[2] = call->auth.role == AUTH_ADMIN ? "1" : "0";
    http_fcall(call, "ess_team_list", 1, 3, argv, NULL, on_team_list);
    evhttp_clear_headers(&params);
}

static cJSON *build_candidates(const struct http_call *call, const cJSON *reply)
{
    (void)call;
    return teams_candidates_answer(reply);
}

static void on_candidates(struct http_call *call, cJSON *reply)
{
    reply_read(call, reply, build_candidates);
}

void teams_candidates(struct http_call *call)
{
    struct evkeyvalq params;
    const char *limit_s, *radius_s;
    const char *problem = NULL;
    long limit = CANDIDATES_DEFAULT, radius = 0;
    char limit_buf[16], radius_buf[16] = "";
    const char *argv[3];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    limit_s = evhttp_find_header(&params, "limit");
    radius_s = evhttp_find_header(&params, "radius_km");
    if (limit_s && http_query_long(limit_s, 1, CANDIDATES_MAX, &limit) != 0)
        problem = "limit must be a whole number from 1 to 50.";
    if (!problem && radius_s &&
        http_query_long(radius_s, 1, CANDIDATES_MAX_RADIUS_KM, &radius) != 0)
        problem = "radius_km must be a whole number from 1 to 1000.";
    evhttp_clear_headers(&params);
    if (problem) {
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    snprintf(limit_buf, sizeof limit_buf, "%ld", limit);
    if (radius) snprintf(radius_buf, sizeof radius_buf, "%ld", radius);
    argv[0] = call->params[0];
    argv[1] = limit_buf;
    argv[2] = radius_buf;
    http_fcall(call, "ess_case_candidates", 1, 3, argv, NULL, on_candidates);
}
