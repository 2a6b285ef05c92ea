/* Unit tests of router/out/dispatch.c's bodies: the dispatch a team's webhook receives (signed)
 * and the supervisors' escalation notice carry every fact, and when memory runs out part-way a
 * body is NULL (the outbox tries again later), never a signed dispatch without its location or
 * description. The allocator fails at the n-th allocation, for every n a body makes. */
#include "alloc_fail.h"
#include "dispatch.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "dispatch" payload as ess.lua's queue_dispatch writes it: hash fields as text. */
static const char payload[] =
    "{\"case_id\":\"01JB7ZQ3V9W8X7Y6Z5A4B3C2D1\",\"team_id\":\"bkk-03\",\"attempt\":\"1\","
    "\"tracking_code\":\"HM-7K3-Q9X-TD8\",\"channel\":\"hotline\",\"category\":\"detention\","
    "\"priority\":\"P1\",\"description\":\"locked in\",\"lat\":\"13.75\",\"lon\":\"100.5\","
    "\"address\":\"soi 4\",\"reporter_name\":\"Somchai\",\"reporter_phone\":\"0812345678\","
    "\"distance_km\":\"2.3\",\"ack_deadline\":\"1763694245000\",\"attempts\":\"2\","
    "\"created_at\":\"1763694185000\"}";

static int str_is(const cJSON *obj, const char *key, const char *want)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
    return s != NULL && strcmp(s, want) == 0;
}

static int num_is(const cJSON *obj, const char *key, double want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && v->valuedouble == want;
}

/* text is DESIGN's dispatch with every fact of payload. */
static int dispatch_whole(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(doc, "location");
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(doc, "reporter");
    int ok =
        doc && str_is(doc, "case_id", "01JB7ZQ3V9W8X7Y6Z5A4B3C2D1") &&
        str_is(doc, "tracking_code", "HM-7K3-Q9X-TD8") && str_is(doc, "category", "detention") &&
        str_is(doc, "priority", "P1") && str_is(doc, "description", "locked in") &&
        num_is(loc, "lat", 13.75) && num_is(loc, "lon", 100.5) && str_is(loc, "address", "soi 4") &&
        str_is(rep, "name", "Somchai") && str_is(rep, "phone", "0812345678") &&
        str_is(rep, "channel", "hotline") && num_is(doc, "distance_km", 2.3) &&
        str_is(doc, "ack_deadline", "2025-11-21T03:04:05.000Z") && cJSON_GetArraySize(doc) == 9;
    cJSON_Delete(doc);
    return ok;
}

static int escalation_whole(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    int ok = doc && str_is(doc, "event", "escalation") &&
             str_is(doc, "case_id", "01JB7ZQ3V9W8X7Y6Z5A4B3C2D1") &&
             str_is(doc, "tracking_code", "HM-7K3-Q9X-TD8") &&
             str_is(doc, "category", "detention") && str_is(doc, "priority", "P1") &&
             str_is(doc, "reason", "ack_timeout") && num_is(doc, "attempts", 2) &&
             str_is(doc, "created_at", "2025-11-21T03:03:05.000Z") &&
             !cJSON_HasObjectItem(doc, "description") && !cJSON_HasObjectItem(doc, "reporter") &&
             cJSON_GetArraySize(doc) == 8;
    cJSON_Delete(doc);
    return ok;
}

static char *build(int which, const cJSON *c)
{
    return which == 0 ? dispatch_body(c) : dispatch_escalation_body(c, "ack_timeout");
}

static void test_bodies_whole(void)
{
    cJSON *c = cJSON_Parse(payload);
    char *d = build(0, c), *e = build(1, c);
    CHECK(d && dispatch_whole(d), "the dispatch carries every fact");
    CHECK(e && escalation_whole(e), "the escalation notice carries its facts, nothing personal");
    free(d);
    free(e);
    cJSON_Delete(c);
}

static void test_typed_address_only(void)
{
    cJSON *c = cJSON_Parse(payload);
    cJSON *doc;
    char *d;
    cJSON_DeleteItemFromObject(c, "lat");
    cJSON_DeleteItemFromObject(c, "lon");
    cJSON_DeleteItemFromObject(c, "distance_km");
    d = dispatch_body(c);
    doc = cJSON_Parse(d);
    CHECK(doc &&
              cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(doc, "location"), "lat")) &&
              cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "distance_km")) &&
              str_is(cJSON_GetObjectItemCaseSensitive(doc, "location"), "address", "soi 4"),
          "a typed address only: lat, lon and distance are null, the address is there");
    cJSON_Delete(doc);
    free(d);
    cJSON_Delete(c);
}

/* For every n until a body is made without failing: NULL or whole. */
static void test_out_of_memory(int which, int once)
{
    cJSON *c = cJSON_Parse(payload);
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int partial = 0, nulls = 0, done = 0;
    fail_once = once;
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        char *text;
        int spare;
        allocations_left = n;
        text = build(which, c);
        spare = allocations_left > 0; /* made with allocations to spare: no failure hit */
        allocations_left = -1;
        if (text == NULL) {
            nulls++;
        } else {
            if (!(which == 0 ? dispatch_whole(text) : escalation_whole(text))) partial++;
            done = spare;
        }
        free(text);
    }
    cJSON_InitHooks(NULL);
    CHECK(done,
          how(once, which == 0 ? "dispatch_body: a run without failure was reached"
                               : "dispatch_escalation_body: a run without failure was reached"));
    CHECK(nulls > 5,
          how(once, which == 0 ? "dispatch_body: failed allocations were met"
                               : "dispatch_escalation_body: failed allocations were met"));
    CHECK(
        partial == 0,
        how(once, which == 0
                      ? "dispatch_body: never a dispatch with a fact missing, at any failure point"
                      : "dispatch_escalation_body: never a notice with a fact missing"));
    cJSON_Delete(c);
}

int main(void)
{
    test_bodies_whole();
    test_typed_address_only();
    test_out_of_memory(0, 0);
    test_out_of_memory(1, 0);
    test_out_of_memory(0, 1);
    test_out_of_memory(1, 1);
    return tap_done();
}
