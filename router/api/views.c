/* Case views rendered from the store's raw JSON: field selection, number and time conversion. */
#include "views.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "text.h"

/* Every adder below clears *ok when memory runs out, so that a view with a field missing is never
 * answered: the public functions then return NULL. */
#define CHECK_ADDED(expr) (*ok &= (expr) != NULL)

static void add_number_or_null(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name,
                               int *ok)
{
    int present;
    double v = json_number(raw, raw_name, &present);
    if (present)
        CHECK_ADDED(cJSON_AddNumberToObject(obj, name, v));
    else
        CHECK_ADDED(cJSON_AddNullToObject(obj, name));
}

static void add_time(cJSON *obj, const char *name, const cJSON *raw, const char *raw_name, int *ok)
{
    int present;
    double ms = json_number(raw, raw_name, &present);
    char buf[32];
    if (!present) {
        CHECK_ADDED(cJSON_AddNullToObject(obj, name));
        return;
    }
    text_time_rfc3339((int64_t)ms, buf);
    CHECK_ADDED(cJSON_AddStringToObject(obj, name, buf));
}

static void add_string(cJSON *obj, const char *name, const char *value, int *ok)
{
    CHECK_ADDED(cJSON_AddStringToObject(obj, name, value));
}

static void add_string_or_null(cJSON *obj, const char *name, const char *value, int *ok)
{
    if (value[0] == '\0')
        CHECK_ADDED(cJSON_AddNullToObject(obj, name));
    else
        add_string(obj, name, value, ok);
}

static void add_team(cJSON *obj, const cJSON *raw, int *ok)
{
    const char *id = json_string(raw, "team_id", "");
    cJSON *team;
    if (id[0] == '\0') {
        CHECK_ADDED(cJSON_AddNullToObject(obj, "team"));
        return;
    }
    CHECK_ADDED(team = cJSON_AddObjectToObject(obj, "team"));
    add_string(team, "id", id, ok);
    add_string(team, "name", json_string(raw, "team_name", ""), ok);
    if (json_string(raw, "team_name_en", "")[0] != '\0')
        add_string(team, "name_en", json_string(raw, "team_name_en", ""), ok);
    add_number_or_null(team, "distance_km", raw, "distance_km", ok);
}

static cJSON *timeline(const cJSON *raw, int with_actor, int *ok)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    CHECK_ADDED(out);
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(raw, "timeline")) {
        cJSON *item;
        /* Entries that are not status changes (dispatch attempts) are for operators only. */
        if (!with_actor && json_string(e, "event", "")[0] != '\0') continue;
        CHECK_ADDED(item = cJSON_CreateObject());
        add_string(item, "status", json_string(e, "status", ""), ok);
        add_time(item, "at", e, "at", ok);
        if (with_actor) {
            if (json_string(e, "event", "")[0] != '\0')
                add_string(item, "event", json_string(e, "event", ""), ok);
            add_string(item, "by", json_string(e, "by", ""), ok);
            if (json_string(e, "note", "")[0] != '\0')
                add_string(item, "note", json_string(e, "note", ""), ok);
            if (json_string(e, "team", "")[0] != '\0') /* an assignment: to which team */
                add_string(item, "team", json_string(e, "team", ""), ok);
            if (json_string(e, "basis", "")[0] != '\0') /* a consent: on which basis */
                add_string(item, "basis", json_string(e, "basis", ""), ok);
            if (json_string(e, "other_case_id", "")[0] != '\0') /* a duplicate, a merge */
                add_string(item, "other_case_id", json_string(e, "other_case_id", ""), ok);
        }
        if (item == NULL || !cJSON_AddItemToArray(out, item)) {
            cJSON_Delete(item);
            *ok = 0;
        }
    }
    return out;
}

/* The chat with a person (LINE): chat waiting|open|closed, or null when never asked; since when
 * it waited; the operator answering it; whether its wait was escalated. No text. */
static void add_chat(cJSON *obj, const cJSON *raw, int *ok)
{
    add_string_or_null(obj, "chat", json_string(raw, "chat", ""), ok);
    add_time(obj, "chat_since", raw, "chat_since", ok);
    add_string_or_null(obj, "chat_operator", json_string(raw, "chat_operator", ""), ok);
    CHECK_ADDED(cJSON_AddBoolToObject(
        obj, "chat_escalated",
        strcmp(json_string(raw, "chat_escalated", ""), "1") == 0 ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(raw, "chat_escalated"))));
}

/* Whether the reporter's identifying data may go to the agencies that help, as last recorded
 * ({"share_with_agencies", "basis", "by", "at", "note"}), or null when it never was; and whether
 * the LINE reporter chose quiet updates. */
static void add_consent(cJSON *obj, const cJSON *raw, int *ok)
{
    const char *share = json_string(raw, "share_with_agencies", "");
    cJSON *consent = NULL;

    if (share[0] == '\0') {
        CHECK_ADDED(cJSON_AddNullToObject(obj, "consent"));
    } else {
        CHECK_ADDED(consent = cJSON_AddObjectToObject(obj, "consent"));
        CHECK_ADDED(cJSON_AddBoolToObject(consent, "share_with_agencies", strcmp(share, "1") == 0));
        add_string(consent, "basis", json_string(raw, "consent_basis", ""), ok);
        add_string(consent, "by", json_string(raw, "consent_by", ""), ok);
        add_time(consent, "at", raw, "consent_at", ok);
        add_string_or_null(consent, "note", json_string(raw, "consent_note", ""), ok);
    }
    CHECK_ADDED(cJSON_AddBoolToObject(obj, "quiet_updates",
                                      strcmp(json_string(raw, "line_quiet", ""), "1") == 0));
}

/* One incident, one case: the open case this one may repeat (marked when it was created), and the
 * case it was merged into (it is then closed); each a case id or null. */
static void add_duplicate(cJSON *obj, const cJSON *raw, int *ok)
{
    add_string_or_null(obj, "possible_duplicate_of", json_string(raw, "possible_duplicate_of", ""),
                       ok);
    add_string_or_null(obj, "merged_into", json_string(raw, "merged_into", ""), ok);
}

static void add_common(cJSON *obj, const cJSON *raw, int *ok)
{
    add_string(obj, "case_id", json_string(raw, "case_id", ""), ok);
    add_string(obj, "tracking_code", json_string(raw, "tracking_code", ""), ok);
    add_string(obj, "channel", json_string(raw, "channel", ""), ok);
    add_string(obj, "category", json_string(raw, "category", ""), ok);
    /* the classifier's unsure guess while it waits for an operator (needs_triage), else null */
    add_string_or_null(obj, "category_suggested", json_string(raw, "category_suggested", ""), ok);
    add_string(obj, "priority", json_string(raw, "priority", ""), ok);
    add_string(obj, "status", json_string(raw, "status", ""), ok);
    add_chat(obj, raw, ok);
    add_duplicate(obj, raw, ok);
}

/* obj when every field went in, else NULL (obj freed). */
static cJSON *complete_or_null(cJSON *obj, int ok)
{
    if (ok) return obj;
    cJSON_Delete(obj);
    return NULL;
}

cJSON *views_case_summary(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL;
    add_common(obj, raw, &ok);
    add_team(obj, raw, &ok);
    add_string_or_null(obj, "queue_reason", json_string(raw, "queue_reason", ""), &ok);
    add_time(obj, "created_at", raw, "created_at", &ok);
    add_time(obj, "updated_at", raw, "updated_at", &ok);
    return complete_or_null(obj, ok);
}

/* The erasure of the case's personal data (ess.lua's erase_case): when (or null), by whom, and for
 * a supervisor the reason given. */
static void add_erasure(cJSON *obj, const cJSON *raw, int with_reason, int *ok)
{
    add_time(obj, "erased_at", raw, "erased_at", ok);
    add_string_or_null(obj, "erased_by", json_string(raw, "erased_by", ""), ok);
    if (with_reason)
        add_string_or_null(obj, "erase_reason", json_string(raw, "erase_reason", ""), ok);
}

static cJSON *case_view(const cJSON *raw, int supervisor)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *loc, *rep, *tl;
    int present, ok = obj != NULL;
    double attempts;

    add_common(obj, raw, &ok);
    add_string_or_null(obj, "call_id", json_string(raw, "call_id", ""), &ok);
    add_string_or_null(obj, "description", json_string(raw, "description", ""), &ok);
    ok &= (loc = cJSON_AddObjectToObject(obj, "location")) != NULL;
    add_number_or_null(loc, "lat", raw, "lat", &ok); /* null: a typed address only (LINE) */
    add_number_or_null(loc, "lon", raw, "lon", &ok);
    add_string_or_null(loc, "address", json_string(raw, "address", ""), &ok);
    ok &= (rep = cJSON_AddObjectToObject(obj, "reporter")) != NULL;
    add_string_or_null(rep, "name", json_string(raw, "reporter_name", ""), &ok);
    add_string_or_null(rep, "phone", json_string(raw, "reporter_phone", ""), &ok);
    if (json_string(raw, "reporter_line_user", "")[0] != '\0')
        add_string(rep, "line_user_id", json_string(raw, "reporter_line_user", ""), &ok);
    add_string_or_null(obj, "operator_id", json_string(raw, "operator_id", ""), &ok);
    add_consent(obj, raw, &ok);
    add_team(obj, raw, &ok);
    add_string_or_null(obj, "queue_reason", json_string(raw, "queue_reason", ""), &ok);
    attempts = json_number(raw, "attempts", &present);
    ok &= cJSON_AddNumberToObject(obj, "attempts", present ? attempts : 0) != NULL;
    if (json_string(raw, "team_id", "")[0] != '\0' &&
        strcmp(json_string(raw, "status", ""), "assigned") == 0)
        add_time(obj, "ack_deadline", raw, "ack_deadline", &ok);
    add_time(obj, "created_at", raw, "created_at", &ok);
    add_time(obj, "updated_at", raw, "updated_at", &ok);
    add_number_or_null(obj, "possible_duplicate_m", raw, "possible_duplicate_m", &ok);
    add_time(obj, "merged_at", raw, "merged_at", &ok);
    add_erasure(obj, raw, supervisor, &ok);
    tl = timeline(raw, 1, &ok);
    if (tl == NULL || !cJSON_AddItemToObject(obj, "timeline", tl)) {
        cJSON_Delete(tl);
        ok = 0;
    }
    return complete_or_null(obj, ok);
}

cJSON *views_case(const cJSON *raw)
{
    return case_view(raw, 0);
}

cJSON *views_case_supervisor(const cJSON *raw)
{
    return case_view(raw, 1);
}

cJSON *views_case_list(const cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "cases");
    const cJSON *c;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(reply, "next");
    int ok = list != NULL;

    cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(reply, "cases")) {
        cJSON *summary = ok ? views_case_summary(c) : NULL;
        if (summary == NULL || !cJSON_AddItemToArray(list, summary)) {
            cJSON_Delete(summary);
            ok = 0;
        }
    }
    if (cJSON_IsString(next))
        add_string(doc, "next_cursor", next->valuestring, &ok);
    else
        ok &= cJSON_AddNullToObject(doc, "next_cursor") != NULL;
    return complete_or_null(doc, ok);
}

/* One entry of a conversation as the API shows it, from the stored {n, role, by, text, at,
 * sent_at}. */
static cJSON *chat_entry(const cJSON *e, int *ok)
{
    cJSON *item = cJSON_CreateObject();
    CHECK_ADDED(item);
    add_number_or_null(item, "seq", e, "n", ok);
    add_string(item, "author", json_string(e, "role", ""), ok);
    add_string(item, "by", json_string(e, "by", ""), ok);
    add_string(item, "text", json_string(e, "text", ""), ok);
    add_time(item, "at", e, "at", ok);
    add_time(item, "sent_at", e, "sent_at", ok);
    return item;
}

cJSON *views_chat_entry(const cJSON *raw)
{
    int ok = 1;
    return complete_or_null(chat_entry(raw, &ok), ok);
}

cJSON *views_chat(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL;
    add_string(obj, "case_id", json_string(raw, "case_id", ""), &ok);
    add_string(obj, "tracking_code", json_string(raw, "tracking_code", ""), &ok);
    add_chat(obj, raw, &ok);
    return complete_or_null(obj, ok);
}

cJSON *views_chat_event(const cJSON *raw)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL;
    add_string(obj, "case_id", json_string(raw, "case_id", ""), &ok);
    add_string(obj, "tracking_code", json_string(raw, "tracking_code", ""), &ok);
    add_number_or_null(obj, "seq", raw, "chat_seq", &ok);
    add_string(obj, "author", json_string(raw, "chat_author", ""), &ok);
    add_string(obj, "by", json_string(raw, "by", ""), &ok);
    add_time(obj, "at", raw, "at", &ok);
    return complete_or_null(obj, ok);
}

cJSON *views_chat_messages(const cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list;
    const cJSON *e;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(reply, "next");
    int ok = doc != NULL;

    add_string(doc, "case_id", json_string(reply, "case_id", ""), &ok);
    add_chat(doc, reply, &ok);
    ok &= (list = cJSON_AddArrayToObject(doc, "messages")) != NULL;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(reply, "messages")) {
        cJSON *item = ok ? chat_entry(e, &ok) : NULL;

        if (item == NULL || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            ok = 0;
            break;
        }
    }
    if (cJSON_IsNumber(next))
        ok &= cJSON_AddNumberToObject(doc, "next_after", next->valuedouble) != NULL;
    else
        ok &= cJSON_AddNullToObject(doc, "next_after") != NULL;
    return complete_or_null(doc, ok);
}
