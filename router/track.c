/* e-Tracking: validates the code (a mistyped one is refused without a lookup), reads the case's
 * public hash and renders the public view: category, labels, status, team name, and the
 * timeline of statuses and times. Nothing else is stored there, so nothing else can leak. */
#include "track.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "incident.h"
#include "router.h"
#include "rules.h"
#include "store.h"
#include "track_code.h"

struct lookup {
    struct http_call *call;
    track_cb cb;
    char code[TRACK_CODE_SIZE];
};

static void copy_item(const struct store_item *item, char *out, size_t outlen)
{
    size_t n = item->data ? item->len : 0;
    if (n >= outlen) n = outlen - 1;
    if (n) memcpy(out, item->data, n);
    out[n] = '\0';
}

static void on_lookup(enum store_status status, const struct store_item *items, size_t n,
                      void *arg)
{
    struct lookup *l = arg;
    struct http_call *call = l->call;
    track_cb cb = l->cb;
    struct track_view v = {0, "", "", "", "[]", 0};
    char category[32], state[32], team[256], updated[24];
    char *timeline = NULL;

    free(l);
    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    if (status != STORE_OK || n != 5) {
        http_reply_store_failure(call, status == STORE_OK ? STORE_ERROR : status);
        return;
    }
    if (items[1].data != NULL) {
        copy_item(&items[0], category, sizeof category);
        copy_item(&items[1], state, sizeof state);
        copy_item(&items[2], updated, sizeof updated);
        copy_item(&items[3], team, sizeof team);
        timeline = malloc(items[4].data ? items[4].len + 1 : 3);
        if (timeline == NULL) {
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
            return;
        }
        if (items[4].data) {
            memcpy(timeline, items[4].data, items[4].len);
            timeline[items[4].len] = '\0';
        } else {
            memcpy(timeline, "[]", 3);
        }
        v.found = 1;
        v.category = category;
        v.status = state;
        v.team_name = team;
        v.timeline_json = timeline;
        v.updated_at_ms = strtoll(updated, NULL, 10);
    }
    cb(call, &v);
    free(timeline);
}

void track_lookup(struct http_call *call, const char *code, track_cb cb)
{
    struct lookup *l = calloc(1, sizeof *l);
    char key[128];
    const char *argv[7];
    if (l == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    l->call = call;
    l->cb = cb;
    snprintf(key, sizeof key, "%strack:%s", store_prefix(call->router->store), code);
    argv[0] = "HMGET";
    argv[1] = key;
    argv[2] = "category";
    argv[3] = "status";
    argv[4] = "updated_at";
    argv[5] = "team_name";
    argv[6] = "timeline";
    if (store_command(call->router->store, 7, argv, NULL, on_lookup, l) != 0) {
        free(l);
        http_reply_store_failure(call, STORE_UNAVAILABLE);
    }
}

/* The public view (DESIGN: GET /v1/track/{code}). A new object the caller owns. */
static cJSON *public_view(const char *code, const struct track_view *v,
                          const struct rules_table *rules)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *labels, *timeline = cJSON_CreateArray();
    cJSON *raw = cJSON_Parse(v->timeline_json);
    const cJSON *e;
    int cat = incident_category_parse(v->category, strlen(v->category));
    char when[32];

    cJSON_AddStringToObject(obj, "tracking_code", code);
    cJSON_AddStringToObject(obj, "category", v->category);
    labels = cJSON_AddObjectToObject(obj, "category_label");
    cJSON_AddStringToObject(labels, "th", rules_category_label(rules, cat, "th"));
    cJSON_AddStringToObject(labels, "en", rules_category_label(rules, cat, "en"));
    cJSON_AddStringToObject(obj, "status", v->status);
    http_format_time(v->updated_at_ms, when);
    cJSON_AddStringToObject(obj, "updated_at", when);
    if (v->team_name[0] == '\0') {
        cJSON_AddNullToObject(obj, "team");
    } else {
        cJSON *t = cJSON_AddObjectToObject(obj, "team");
        cJSON_AddStringToObject(t, "name", v->team_name);
    }
    cJSON_ArrayForEach(e, raw)
    {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(e, "status");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at");
        cJSON *item;
        if (!cJSON_IsString(status) || !cJSON_IsNumber(at)) continue;
        item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "status", status->valuestring);
        http_format_time((int64_t)at->valuedouble, when);
        cJSON_AddStringToObject(item, "at", when);
        cJSON_AddItemToArray(timeline, item);
    }
    cJSON_AddItemToObject(obj, "timeline", timeline);
    cJSON_Delete(raw);
    return obj;
}

static void on_track(struct http_call *call, const struct track_view *v)
{
    if (!v->found) {
        http_reply_error(call, 404, "not_found", "No case has this tracking code.");
        return;
    }
    http_reply_json(call, 200, public_view(call->params[1], v, call->router->rules));
}

void track_get(struct http_call *call)
{
    const char *in = call->params[0];
    /* params[1] is free on this route: it keeps the canonical code for the answer */
    switch (track_code_parse(in, strlen(in), call->params[1])) {
    case TRACK_CODE_OK:
        break;
    case TRACK_CODE_BAD_CHECK:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "This tracking code has a typing mistake: its check character does not "
                         "match. Please check it again.");
        return;
    default:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "A tracking code looks like HM-7K3-Q9X-TD8.");
        return;
    }
    track_lookup(call, call->params[1], on_track);
}
