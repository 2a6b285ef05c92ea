/* Unit tests of router/api/views.c: the case views carry the fields DESIGN gives, and when memory
 * runs out part-way a view is NULL, never a view with a field missing (which an API would answer
 * with 200). The allocator fails at the n-th allocation, for every n a view makes. */
#include "alloc_fail.h"
#include "tap.h"
#include "views.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char raw_case[] =
    "{\"case_id\":\"01JB7ZQ3V9W8X7Y6Z5A4B3C2D1\",\"tracking_code\":\"HM-7K3-Q9X-TD8\","
    "\"channel\":\"hotline\",\"category\":\"detention\",\"priority\":\"P1\",\"status\":"
    "\"assigned\","
    "\"call_id\":\"1300-1\",\"description\":\"d\",\"lat\":\"13.75\",\"lon\":\"100.5\","
    "\"address\":\"a\",\"reporter_name\":\"n\",\"reporter_phone\":\"p\",\"operator_id\":\"op-1\","
    "\"team_id\":\"bkk-03\",\"team_name\":\"t\",\"distance_km\":\"2.3\",\"attempts\":\"1\","
    "\"ack_deadline\":\"1763694245000\",\"created_at\":\"1763694185000\","
    "\"updated_at\":\"1763694186000\",\"timeline\":["
    "{\"status\":\"received\",\"at\":1763694185000,\"by\":\"op-1\"},"
    "{\"status\":\"assigned\",\"at\":1763694186000,\"by\":\"router\",\"note\":\"x\"}]}";

static const char *const summary_keys[] = {
    "case_id", "tracking_code", "channel",      "category",   "category_suggested", "priority",
    "status",  "team",          "queue_reason", "created_at", "updated_at",         NULL};
static const char *const case_keys[] = {
    "case_id",      "tracking_code", "channel",    "category",     "category_suggested",
    "priority",     "status",        "call_id",    "description",  "location",
    "reporter",     "operator_id",   "team",       "queue_reason", "attempts",
    "ack_deadline", "created_at",    "updated_at", "timeline",     NULL};

static int has_keys(const cJSON *view, const char *const *keys)
{
    size_t i;
    for (i = 0; keys[i]; i++)
        if (!cJSON_HasObjectItem(view, keys[i])) return 0;
    return 1;
}

/* The view is whole: every key, the nested objects' members, both timeline entries. */
static int whole(const cJSON *view, int full)
{
    const cJSON *team = cJSON_GetObjectItemCaseSensitive(view, "team");
    if (!has_keys(view, full ? case_keys : summary_keys)) return 0;
    if (!cJSON_HasObjectItem(team, "id") || !cJSON_HasObjectItem(team, "name") ||
        !cJSON_HasObjectItem(team, "distance_km"))
        return 0;
    if (full) {
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(view, "location");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(view, "reporter");
        const cJSON *tl = cJSON_GetObjectItemCaseSensitive(view, "timeline");
        if (!cJSON_HasObjectItem(loc, "lat") || !cJSON_HasObjectItem(loc, "lon") ||
            !cJSON_HasObjectItem(loc, "address") || !cJSON_HasObjectItem(rep, "name") ||
            !cJSON_HasObjectItem(rep, "phone") || cJSON_GetArraySize(tl) != 2 ||
            !cJSON_HasObjectItem(cJSON_GetArrayItem(tl, 1), "note") ||
            !cJSON_HasObjectItem(cJSON_GetArrayItem(tl, 1), "by"))
            return 0;
    }
    return 1;
}

static void test_views_whole(void)
{
    cJSON *raw = cJSON_Parse(raw_case);
    cJSON *summary = views_case_summary(raw), *full = views_case(raw);
    CHECK(summary && whole(summary, 0), "the summary has every field");
    CHECK(summary && !cJSON_HasObjectItem(summary, "description") &&
              !cJSON_HasObjectItem(summary, "reporter") &&
              !cJSON_HasObjectItem(summary, "location"),
          "the summary carries no personal data");
    CHECK(full && whole(full, 1), "the full view has every field");
    CHECK(full && strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(full, "created_at")),
                         "2025-11-21T03:03:05.000Z") == 0,
          "times are RFC 3339 UTC");
    cJSON_Delete(summary);
    cJSON_Delete(full);
    cJSON_Delete(raw);
}

/* A list page of two cases and a cursor (views_case_list) is whole: both summaries whole. */
static int list_whole(const cJSON *page)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(page, "cases");
    const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(page, "next_cursor"));
    return cJSON_GetArraySize(cases) == 2 && whole(cJSON_GetArrayItem(cases, 0), 0) &&
           whole(cJSON_GetArrayItem(cases, 1), 0) && next && strcmp(next, "1-x") == 0;
}

/* full: 0 the summary, 1 the full view, 2 a list page of two. */
static cJSON *make(int full, const cJSON *raw)
{
    return full == 2 ? views_case_list(raw) : full ? views_case(raw) : views_case_summary(raw);
}

/* For every n until a view is made without failing: the view is NULL or whole. */
static void test_out_of_memory(int full)
{
    static const char *const names[] = {"views_case_summary", "views_case", "views_case_list"};
    char what[160];
    cJSON *raw = cJSON_Parse(raw_case);
    if (full == 2) { /* {"cases": [raw, raw], "next": "1-x"} */
        cJSON *reply = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(reply, "cases");
        cJSON_AddItemToArray(list, cJSON_Duplicate(raw, 1));
        cJSON_AddItemToArray(list, raw);
        cJSON_AddStringToObject(reply, "next", "1-x");
        raw = reply;
    }
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int partial = 0, nulls = 0, done = 0;
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        cJSON *view;
        allocations_left = n;
        view = make(full, raw);
        if (view == NULL) {
            nulls++;
        } else {
            if (!(full == 2 ? list_whole(view) : whole(view, full))) partial++;
            done = allocations_left > 0; /* made with allocations to spare: no failure hit */
        }
        allocations_left = -1;
        cJSON_Delete(view);
    }
    cJSON_InitHooks(NULL);
    snprintf(what, sizeof what, "%s: a run without failure was reached", names[full]);
    CHECK(done, what);
    snprintf(what, sizeof what, "%s: failed allocations were met", names[full]);
    CHECK(nulls > 5, what);
    snprintf(what, sizeof what, "%s: no view with a field missing, at any failure point",
             names[full]);
    CHECK(partial == 0, what);
    cJSON_Delete(raw);
}

/* A case-log entry of a chat message as events.c reads it (every field a string), with a text
 * field planted to show that the event never carries one. */
static const char raw_chat_entry[] =
    "{\"case_id\":\"01JB7ZQ3V9W8X7Y6Z5A4B3C2D1\",\"tracking_code\":\"HM-7K3-Q9X-TD8\","
    "\"event\":\"chat_message\",\"chat_seq\":\"3\",\"chat_author\":\"operator\","
    "\"by\":\"op-17\",\"at\":\"1763694185000\",\"status\":\"queued\","
    "\"category\":\"detention\",\"text\":\"ความลับ\",\"note\":\"ความลับ\"}";

static const char *const chat_event_keys[] = {
    "case_id", "tracking_code", "seq", "author", "by", "at", NULL};

static void test_chat_views(void)
{
    cJSON *raw = cJSON_Parse(raw_chat_entry);
    cJSON *ev = views_chat_event(raw);
    cJSON *entry_raw = cJSON_Parse("{\"n\":2,\"role\":\"reporter\",\"by\":\"reporter\","
                                   "\"text\":\"hi\",\"at\":1763694185000,"
                                   "\"sent_at\":1763694184000}");
    cJSON *entry = views_chat_entry(entry_raw);
    cJSON *chat_raw = cJSON_Parse("{\"case_id\":\"c\",\"tracking_code\":\"HM-7K3-Q9X-TD8\","
                                  "\"chat\":\"open\",\"chat_operator\":\"op-17\","
                                  "\"chat_since\":\"1763694185000\",\"chat_escalated\":false}");
    cJSON *chat = views_chat(chat_raw);
    char *json = ev ? cJSON_PrintUnformatted(ev) : NULL;

    CHECK(ev && has_keys(ev, chat_event_keys) && cJSON_GetArraySize(ev) == 6 &&
              cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "seq")) == 3 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "author")),
                     "operator") == 0 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "at")),
                     "2025-11-21T03:03:05.000Z") == 0,
          "event: chat is {case_id, tracking_code, seq, author, by, at}");
    CHECK(json && strstr(json, "ความลับ") == NULL, "event: chat never carries a text");
    CHECK(entry && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(entry, "seq")) == 2 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "text")), "hi") ==
                  0 &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(entry, "sent_at")),
          "a chat entry: seq, author, by, text, at, sent_at");
    CHECK(chat &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(chat, "chat")),
                     "open") == 0 &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(chat, "chat_since")) &&
              cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(chat, "chat_escalated")) &&
              cJSON_HasObjectItem(chat, "tracking_code"),
          "the chat's state: chat, chat_operator, chat_since, chat_escalated");
    free(json);
    cJSON_Delete(ev);
    cJSON_Delete(entry);
    cJSON_Delete(chat);
    cJSON_Delete(raw);
    cJSON_Delete(entry_raw);
    cJSON_Delete(chat_raw);
}

int main(void)
{
    test_views_whole();
    test_chat_views();
    test_out_of_memory(0);
    test_out_of_memory(1);
    test_out_of_memory(2);
    return tap_done();
}
