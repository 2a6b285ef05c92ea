/* Open311 GeoReport v2, read only and JSON only: the discovery document and the service list are
 * built here from the rule table; requests come from ess.lua (ess_open311_list, ess_open311_get),
 * which reads only the public facts of cases and rounds their times and places. */
#include "open311.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "open311_query.h"
#include "ratelimit.h"
#include "router.h"
#include "rules.h"
#include "text.h"
#include "track.h"

#define OPEN311_SPEC "http://wiki.open311.org/GeoReport_v2"
/* When the discovery document or the service list last changed (Service Discovery's
 * changeset: sortable). Change it with them. */
#define OPEN311_CHANGESET "2026-12-06 00:00"
#define THAI_OFFSET_S (7 * 3600) /* times are written in Thai time, UTC+7 */

/* What the service list says of each category, beyond the rule table's labels (DESIGN's table of
 * categories). */
static const struct {
    const char *description;
    const char *group;
} services[INCIDENT_CATEGORY_COUNT] = {
    [INCIDENT_THREAT] = {"Being threatened or intimidated.", "emergency"},
    [INCIDENT_DETENTION] = {"Being confined or held against one's will.", "emergency"},
    [INCIDENT_ABUSE_RISK] = {"At risk of sexual abuse or harassment. Requests of this service "
                             "are never listed: each is found only by its tracking code.",
                             "emergency"},
    [INCIDENT_MENTAL_CRISIS] = {"A person in acute mental-health crisis or out of control.",
                                "emergency"},
    [INCIDENT_GATHERING] = {"An illicit gathering (drugs, gambling, youth at risk).", "emergency"},
    [INCIDENT_OTHER] = {"A social problem that is not one of the five emergencies.",
                        "social_problem"},
};

/* The resource name of a last path segment "<name>.<format>" into name (size bytes). 0 when the
 * format is json; else the call was answered (400: another format or none) and -1. */
static int open311_resource(struct http_call *call, const char *segment, char *name, size_t size)
{
    switch (open311_query_resource(segment, name, size)) {
    case OPEN311_RESOURCE_JSON:
        return 0;
    case OPEN311_RESOURCE_NO_FORMAT:
        http_reply_error(call, 400, "format_missing",
                         "Name the format at the end of the path: only .json is served.");
        return -1;
    default:
        http_reply_error(call, 400, "format_unsupported",
                         "Only JSON is served here: ask for .json instead.");
        return -1;
    }
}

/* Writes ms as Thai time with its offset ("2026-12-06T23:00:00+07:00") into out. */
static void open311_time(int64_t ms, char out[TEXT_TIME_SIZE])
{
    time_t secs = (time_t)(ms / 1000) + THAI_OFFSET_S;
    struct tm tm;
    if (ms < 0 || gmtime_r(&secs, &tm) == NULL ||
        strftime(out, TEXT_TIME_SIZE, "%Y-%m-%dT%H:%M:%S+07:00", &tm) == 0)
        snprintf(out, TEXT_TIME_SIZE, "%s", "1970-01-01T07:00:00+07:00");
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------------ */
/* Discovery and services: no Redis */

static void open311_discovery(struct http_call *call)
{
    const char *base = call->router->cfg->public_url;
    char url[512];
    cJSON *doc = cJSON_CreateObject(), *endpoints, *ep, *formats;
    int ok;

    snprintf(url, sizeof url, "%s/open311/v2", base ? base : "");
    ok = doc && cJSON_AddStringToObject(doc, "changeset", OPEN311_CHANGESET) &&
         cJSON_AddStringToObject(doc, "contact",
                                 "The 1300 social assistance centre's emergency service. In an "
                                 "emergency, call 1300.") &&
         cJSON_AddStringToObject(doc, "key_service",
                                 "No key is needed: this endpoint is public and read-only.") &&
         (endpoints = cJSON_AddArrayToObject(doc, "endpoints")) != NULL &&
         (ep = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(endpoints, ep) &&
         cJSON_AddStringToObject(ep, "specification", OPEN311_SPEC) &&
         cJSON_AddStringToObject(ep, "url", url) &&
         cJSON_AddStringToObject(ep, "changeset", OPEN311_CHANGESET) &&
         cJSON_AddStringToObject(ep, "type", "production") &&
         (formats = cJSON_AddArrayToObject(ep, "formats")) != NULL &&
         cJSON_AddItemToArray(formats, cJSON_CreateString("application/json"));
    if (!ok) {
        cJSON_Delete(doc);
        doc = NULL; /* http_reply_json(NULL): the fixed 500 */
    }
    http_reply_json(call, 200, doc);
}

static void open311_services(struct http_call *call)
{
    const struct rules_table *rules = call->router->rules;
    cJSON *doc = cJSON_CreateArray();
    int ok = doc != NULL;

    for (int c = 0; ok && c < INCIDENT_CATEGORY_COUNT; c++) {
        const char *th = rules_category_label(rules, c, "th");
        const char *en = rules_category_label(rules, c, "en");
        char keywords[512];
        cJSON *s = cJSON_CreateObject();
        snprintf(keywords, sizeof keywords, "%s, %s, %s", incident_category_code(c), th, en);
        ok = s != NULL && cJSON_AddItemToArray(doc, s) &&
             cJSON_AddStringToObject(s, "service_code", incident_category_code(c)) &&
             cJSON_AddStringToObject(s, "service_name", th) &&
             cJSON_AddStringToObject(s, "description", services[c].description) &&
             cJSON_AddBoolToObject(s, "metadata", 0) &&
             cJSON_AddStringToObject(s, "type", "realtime") &&
             cJSON_AddStringToObject(s, "keywords", keywords) &&
             cJSON_AddStringToObject(s, "group", services[c].group);
    }
    if (!ok) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    http_reply_json(call, 200, doc);
}

void open311_service_get(struct http_call *call)
{
    char name[32];
    if (open311_resource(call, call->params[0], name, sizeof name) != 0) return;
    if (incident_category_parse(name, strlen(name)) == INCIDENT_CATEGORY_NONE) {
        http_reply_error(call, 404, "not_found", "No service has this service_code.");
        return;
    }
    http_reply_error(call, 404, "not_found",
                     "This service has no service definition: its metadata is false.");
}

/* ------------------------------------------------------------------------------------------ */
/* Requests */

/* One request of ess.lua's rows (open311_row) in Open311's shape into arr. 0, or -1 when it is
 * not a row or memory ran out. */
static int open311_add_request(const struct rules_table *rules, cJSON *arr, const cJSON *row)
{
    const char *code = json_string(row, "code", NULL);
    const char *category = json_string(row, "category", NULL);
    const char *status = json_string(row, "status", NULL);
    const char *team = json_string(row, "team", "");
    const char *lat = json_string(row, "lat", "");
    const char *lon = json_string(row, "lon", "");
    const cJSON *requested = cJSON_GetObjectItemCaseSensitive(row, "requested");
    const cJSON *updated = cJSON_GetObjectItemCaseSensitive(row, "updated");
    int cat = category ? incident_category_parse(category, strlen(category)) : -1;
    int closed;
    char req_at[TEXT_TIME_SIZE], upd_at[TEXT_TIME_SIZE];
    cJSON *r;

    if (code == NULL || status == NULL || cat == INCIDENT_CATEGORY_NONE ||
        !cJSON_IsNumber(requested) || !cJSON_IsNumber(updated))
        return -1;
    closed = strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0 ||
             strcmp(status, "merged") == 0;
    open311_time((int64_t)requested->valuedouble, req_at);
    open311_time((int64_t)updated->valuedouble, upd_at);
    r = cJSON_CreateObject();
    if (r == NULL || !cJSON_AddItemToArray(arr, r)) {
        cJSON_Delete(r);
        return -1;
    }
    return cJSON_AddStringToObject(r, "service_request_id", code) &&
                   cJSON_AddStringToObject(r, "status", closed ? "closed" : "open") &&
                   cJSON_AddStringToObject(r, "status_notes", status) &&
                   cJSON_AddStringToObject(r, "service_name",
                                           rules_category_label(rules, cat, "th")) &&
                   cJSON_AddStringToObject(r, "service_code", category) &&
                   (team[0] ? cJSON_AddStringToObject(r, "agency_responsible", team)
                            : cJSON_AddNullToObject(r, "agency_responsible")) &&
                   cJSON_AddStringToObject(r, "requested_datetime", req_at) &&
                   cJSON_AddStringToObject(r, "updated_datetime", upd_at) &&
                   (lat[0] && lon[0]
                        ? cJSON_AddNumberToObject(r, "lat", strtod(lat, NULL)) &&
                              cJSON_AddNumberToObject(r, "long", strtod(lon, NULL))
                        : cJSON_AddNullToObject(r, "lat") && cJSON_AddNullToObject(r, "long"))
               ? 0
               : -1;
}

static void drop_ticket(void *ticket)
{
    ratelimit_ticket_drop(ticket);
}

/* Starts the count of the call's lookup (the tracking lookups' limit) and keeps its ticket on the
 * call, for open311_counted in the reply's callback. 0, or -1 when the call was answered. */
static int open311_count(struct http_call *call)
{
    struct ratelimit_ticket *t =
        ratelimit_start(call, "track", call->router->cfg->track_rate_per_min);
    if (t == NULL) return -1;
    call->data = t;
    call->data_free = drop_ticket;
    return 0;
}

/* 1 when the call is within the limit (go on); 0 when it was answered (429 or a failed count).
 * Takes reply when it answers. */
static int open311_counted(struct http_call *call, cJSON *reply)
{
    struct ratelimit_ticket *t = call->data;
    call->data = NULL;
    call->data_free = NULL;
    if (ratelimit_verdict(t, call)) return 1;
    cJSON_Delete(reply);
    return 0;
}

static void on_request(struct http_call *call, cJSON *reply)
{
    const char *refusal;
    cJSON *arr;

    if (!open311_counted(call, reply)) return;
    if ((refusal = http_refusal(reply)) != NULL) {
        if (strcmp(refusal, "not_found") == 0)
            http_reply_error(call, 404, "not_found", "No request has this tracking code.");
        else
            http_reply_refusal(call, refusal);
        cJSON_Delete(reply); /* after: refusal is reply's */
        return;
    }
    arr = cJSON_CreateArray();
    if (arr && open311_add_request(call->router->rules, arr, reply) != 0) {
        cJSON_Delete(arr);
        arr = NULL;
    }
    cJSON_Delete(reply);
    http_reply_json(call, 200, arr);
}

void open311_request_get(struct http_call *call)
{
    char name[HTTP_MAX_PARAM_LEN + 1], code[TRACK_CODE_SIZE];
    const char *argv[1];

    if (open311_resource(call, call->params[0], name, sizeof name) != 0 ||
        track_code_read(call, name, code) != 0 || open311_count(call) != 0)
        return;
    argv[0] = code;
    http_fcall(call, "ess_open311_get", 1, 1, argv, NULL, on_request);
}

static void on_requests(struct http_call *call, cJSON *reply)
{
    const cJSON *row;
    cJSON *arr;

    if (!open311_counted(call, reply)) return;
    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    arr = cJSON_CreateArray();
    cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(reply, "requests")) {
        if (arr && open311_add_request(call->router->rules, arr, row) != 0) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    cJSON_Delete(reply);
    http_reply_json(call, 200, arr);
}

static void open311_requests(struct http_call *call)
{
    struct evkeyvalq params;
    struct open311_query q;
    char limit[16], scan[16];
    const char *problem, *argv[6];

    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    problem = open311_query_read(&params, wall_ms(), &q);
    evhttp_clear_headers(&params);
    if (problem) {
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    if (open311_count(call) != 0) return;
    snprintf(limit, sizeof limit, "%d", OPEN311_MAX_REQUESTS);
    snprintf(scan, sizeof scan, "%d", OPEN311_SCAN_MAX);
    argv[0] = q.from;
    argv[1] = q.to;
    argv[2] = q.status;
    argv[3] = q.categories;
    argv[4] = limit;
    argv[5] = scan;
    http_fcall(call, "ess_open311_list", 1, 6, argv, NULL, on_requests);
}

/* ------------------------------------------------------------------------------------------ */

void open311_get(struct http_call *call)
{
    char name[32];
    if (open311_resource(call, call->params[0], name, sizeof name) != 0) return;
    if (strcmp(name, "discovery") == 0)
        open311_discovery(call);
    else if (strcmp(name, "services") == 0)
        open311_services(call);
    else if (strcmp(name, "requests") == 0)
        open311_requests(call);
    else
        open311_not_found(call);
}

void open311_not_found(struct http_call *call)
{
    http_reply_error(call, 404, "not_found",
                     "No such Open311 resource: see /open311/v2/discovery.json.");
}
