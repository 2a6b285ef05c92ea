/* Case views rendered from the store's raw JSON: field selection, number and time conversion. */
#include "views.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* The raw field as a string ("" when absent or not a string). */
static const char *field(const cJSON *raw, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(raw, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* A raw field holding a number or a numeric string; NaN-free: 0 when absent. */
static double number(const cJSON *raw, const char *name, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(raw, name);
    char *end = NULL;
    double d;
    if (present) *present = 0;
    if (cJSON_IsNumber(v)) {
        if (present) *present = 1;
        return v->valuedouble;
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') return 0;
    d = strtod(v->valuestring, &end);
    if (end == v->valuestring || *end != '\0') return 0;
    if (present) *present = 1;
    return d;
}

static void add_number_or_null(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name)
{
    int present;
    double v = number(raw, raw_name, &present);
    if (present)
        cJSON_AddNumberToObject(obj, name, v);
    else
        cJSON_AddNullToObject(obj, name);
}

static void add_time(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name)
{
    int present;
    double ms = number(raw, raw_name, &present);
    char buf[32];
    if (!present) {
        cJSON_AddNullToObject(obj, name);
        return;
    }
    http_format_time((int64_t)ms, buf);
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
    const char *id = field(raw, "team_id");
    cJSON *team;
    if (id[0] == '\0') {
        cJSON_AddNullToObject(obj, "team");
        return;
    }
    team = cJSON_AddObjectToObject(obj, "team");
    cJSON_AddStringToObject(team, "id", id);
    cJSON_AddStringToObject(team, "name", field(raw, "team_name"));
    add_number_or_null(team, "distance_km", raw, "distance_km");
}

static cJSON *timeline(const cJSON *raw, int with_actor)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(raw, "timeline")) {
        cJSON *item;
        /* Entries that are not status changes (dispatch attempts) are for operators only. */
        if (!with_actor && field(e, "event")[0] != '\0') continue;
        item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "status", field(e, "status"));
        add_time(item, "at", e, "at");
        if (with_actor) {
            if (field(e, "event")[0] != '\0')
                cJSON_AddStringToObject(item, "event", field(e, "event"));
            cJSON_AddStringToObject(item, "by", field(e, "by"));
            if (field(e, "note")[0] != '\0')
                cJSON_AddStringToObject(item, "note", field(e, "note"));
        }
        cJSON_AddItemToArray(out, item);
    }
    return out;
}

static void add_common(cJSON *obj, const cJSON *raw)
{
    cJSON_AddStringToObject(obj, "case_id", field(raw, "case_id"));
    cJSON_AddStringToObject(obj, "tracking_code", field(raw, "tracking_code"));
    cJSON_AddStringToObject(obj, "channel", field(raw, "channel"));
    cJSON_AddStringToObject(obj, "category", field(raw, "category"));
    cJSON_AddStringToObject(obj, "priority", field(raw, "priority"));
    cJSON_AddStringToObject(obj, "status", field(raw, "status"));
}

cJSON *views_case_summary(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    add_common(obj, raw);
    add_team(obj, raw);
    add_string_or_null(obj, "queue_reason", field(raw, "queue_reason"));
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
    add_string_or_null(obj, "call_id", field(raw, "call_id"));
    add_string_or_null(obj, "description", field(raw, "description"));
    loc = cJSON_AddObjectToObject(obj, "location");
    add_number_or_null(loc, "lat", raw, "lat"); /* null: a typed address only (LINE) */
    add_number_or_null(loc, "lon", raw, "lon");
    add_string_or_null(loc, "address", field(raw, "address"));
    rep = cJSON_AddObjectToObject(obj, "reporter");
    add_string_or_null(rep, "name", field(raw, "reporter_name"));
    add_string_or_null(rep, "phone", field(raw, "reporter_phone"));
    if (field(raw, "reporter_line_user")[0] != '\0')
        cJSON_AddStringToObject(rep, "line_user_id", field(raw, "reporter_line_user"));
    add_string_or_null(obj, "operator_id", field(raw, "operator_id"));
    add_team(obj, raw);
    add_string_or_null(obj, "queue_reason", field(raw, "queue_reason"));
    attempts = number(raw, "attempts", &present);
    cJSON_AddNumberToObject(obj, "attempts", present ? attempts : 0);
    if (field(raw, "team_id")[0] != '\0' && strcmp(field(raw, "status"), "assigned") == 0)
        add_time(obj, "ack_deadline", raw, "ack_deadline");
    add_time(obj, "created_at", raw, "created_at");
    add_time(obj, "updated_at", raw, "updated_at");
    cJSON_AddItemToObject(obj, "timeline", timeline(raw, 1));
    return obj;
}
