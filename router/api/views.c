/* Case views rendered from the store's raw JSON: field selection, number and time conversion. */
#include "views.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "text.h"

static void add_number_or_null(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name)
{
    int present;
    double v = json_number(raw, raw_name, &present);
    if (present)
        cJSON_AddNumberToObject(obj, name, v);
    else
        cJSON_AddNullToObject(obj, name);
}

static void add_time(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name)
{
    int present;
    double ms = json_number(raw, raw_name, &present);
    char buf[32];
    if (!present) {
        cJSON_AddNullToObject(obj, name);
        return;
    }
    text_time_rfc3339((int64_t)ms, buf);
    cJSON_AddStringToObject(obj, name, buf);
}

static void add_string_or_null(cJSON *obj, const char *name, const char *value)
{
    if (value[0] == '\0')
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddStringToObject(obj, name, value);
}

static void add_team(cJSON *obj, const cJSON *raw)
{
    const char *id = json_string(raw, "team_id", "");
    cJSON *team;
    if (id[0] == '\0') {
        cJSON_AddNullToObject(obj, "team");
        return;
    }
    team = cJSON_AddObjectToObject(obj, "team");
    cJSON_AddStringToObject(team, "id", id);
    cJSON_AddStringToObject(team, "name", json_string(raw, "team_name", ""));
    add_number_or_null(team, "distance_km", raw, "distance_km");
}

static cJSON *timeline(const cJSON *raw, int with_actor)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(raw, "timeline")) {
        cJSON *item;
        /* Entries that are not status changes (dispatch attempts) are for operators only. */
        if (!with_actor && json_string(e, "event", "")[0] != '\0') continue;
        item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "status", json_string(e, "status", ""));
        add_time(item, "at", e, "at");
        if (with_actor) {
            if (json_string(e, "event", "")[0] != '\0')
                cJSON_AddStringToObject(item, "event", json_string(e, "event", ""));
            cJSON_AddStringToObject(item, "by", json_string(e, "by", ""));
            if (json_string(e, "note", "")[0] != '\0')
                cJSON_AddStringToObject(item, "note", json_string(e, "note", ""));
        }
        cJSON_AddItemToArray(out, item);
    }
    return out;
}

static void add_common(cJSON *obj, const cJSON *raw)
{
    cJSON_AddStringToObject(obj, "case_id", json_string(raw, "case_id", ""));
    cJSON_AddStringToObject(obj, "tracking_code", json_string(raw, "tracking_code", ""));
    cJSON_AddStringToObject(obj, "channel", json_string(raw, "channel", ""));
    cJSON_AddStringToObject(obj, "category", json_string(raw, "category", ""));
    cJSON_AddStringToObject(obj, "priority", json_string(raw, "priority", ""));
    cJSON_AddStringToObject(obj, "status", json_string(raw, "status", ""));
}

cJSON *views_case_summary(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    add_common(obj, raw);
    add_team(obj, raw);
    add_string_or_null(obj, "queue_reason", json_string(raw, "queue_reason", ""));
    add_time(obj, "created_at", raw, "created_at");
    add_time(obj, "updated_at", raw, "updated_at");
    return obj;
}

cJSON *views_case(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *loc, *rep;
    int present;
    double attempts;

    add_common(obj, raw);
    add_string_or_null(obj, "call_id", json_string(raw, "call_id", ""));
    add_string_or_null(obj, "description", json_string(raw, "description", ""));
    loc = cJSON_AddObjectToObject(obj, "location");
    add_number_or_null(loc, "lat", raw, "lat"); /* null: a typed address only (LINE) */
    add_number_or_null(loc, "lon", raw, "lon");
    add_string_or_null(loc, "address", json_string(raw, "address", ""));
    rep = cJSON_AddObjectToObject(obj, "reporter");
    add_string_or_null(rep, "name", json_string(raw, "reporter_name", ""));
    add_string_or_null(rep, "phone", json_string(raw, "reporter_phone", ""));
    if (json_string(raw, "reporter_line_user", "")[0] != '\0')
        cJSON_AddStringToObject(rep, "line_user_id", json_string(raw, "reporter_line_user", ""));
    add_string_or_null(obj, "operator_id", json_string(raw, "operator_id", ""));
    add_team(obj, raw);
    add_string_or_null(obj, "queue_reason", json_string(raw, "queue_reason", ""));
    attempts = json_number(raw, "attempts", &present);
    cJSON_AddNumberToObject(obj, "attempts", present ? attempts : 0);
    if (json_string(raw, "team_id", "")[0] != '\0' &&
        strcmp(json_string(raw, "status", ""), "assigned") == 0)
        add_time(obj, "ack_deadline", raw, "ack_deadline");
    add_time(obj, "created_at", raw, "created_at");
    add_time(obj, "updated_at", raw, "updated_at");
    cJSON_AddItemToObject(obj, "timeline", timeline(raw, 1));
    return obj;
}
