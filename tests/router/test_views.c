/* Unit tests of router/api/views.c: the case views carry the fields DESIGN gives, and when memory
 * runs out part-way a view is NULL, never a view with a field missing (which an API would answer
 * with 200). The allocator fails at the n-th allocation, for every n a view makes. */
#include "alloc_fail.h"
#include "tap.h"
#include "views.h"

#include <cjson/cJSON.h>
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

static const char *const summary_keys[] = {"case_id",    "tracking_code", "channel", "category",
                                           "priority",   "status",        "team",    "queue_reason",
                                           "created_at", "updated_at",    NULL};
static const char *const case_keys[] = {
    "case_id",     "tracking_code", "channel",      "category", "priority",
    "status",      "call_id",       "description",  "location", "reporter",
    "operator_id", "team",          "queue_reason", "attempts", "ack_deadline",
    "created_at",  "updated_at",    "timeline",     NULL};

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

/* For every n until a view is made without failing: the view is NULL or whole. */
static void test_out_of_memory(int full)
{
    cJSON *raw = cJSON_Parse(raw_case);
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int partial = 0, nulls = 0, done = 0;
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        cJSON *view;
        allocations_left = n;
        view = full ? views_case(raw) : views_case_summary(raw);
        if (view == NULL) {
            nulls++;
        } else {
            if (!whole(view, full)) partial++;
            done = allocations_left > 0; /* made with allocations to spare: no failure hit */
        }
        allocations_left = -1;
        cJSON_Delete(view);
    }
    cJSON_InitHooks(NULL);
    CHECK(done, full ? "views_case: a run without failure was reached"
                     : "views_case_summary: a run without failure was reached");
    CHECK(nulls > 5, full ? "views_case: failed allocations were met"
                          : "views_case_summary: failed allocations were met");
    CHECK(partial == 0,
          full ? "views_case: no view with a field missing, at any failure point"
               : "views_case_summary: no view with a field missing, at any failure point");
    cJSON_Delete(raw);
}

int main(void)
{
    test_views_whole();
    test_out_of_memory(0);
    test_out_of_memory(1);
    return tap_done();
}
