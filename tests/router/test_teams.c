/* Unit tests of router/api/teams.c's answers: when memory runs out part-way, the answer to PUT
 * /v1/teams/{id} or to a position report is NULL (answered 500), never an object with a field
 * missing (a 201 without its token loses the token: only its hash is stored), and a valid
 * "notify" that runs out of memory is reported as such, not as invalid. The allocator fails at
 * the n-th allocation, for every n a builder makes. */
#include "alloc_fail.h"
#include "tap.h"
#include "teams.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char what[200];

/* what, naming the builder. */
static const char *named(const char *name, const char *text)
{
    snprintf(what, sizeof what, "%s: %s", name, text);
    return what;
}

static const char put_reply[] = "{\"created\":true,\"token_set\":true,\"assigned\":[\"c1\",\"c2\"],"
                                "\"active\":2,\"capacity\":3,\"available\":true}";
static const char token[] = "tok-0123456789abcdef";

static int is_string(const cJSON *doc, const char *key, const char *want)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, key));
    return s != NULL && strcmp(s, want) == 0;
}

static int assigned_whole(const cJSON *doc)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "assigned_cases");
    return cJSON_GetArraySize(arr) == 2 &&
           strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(arr, 0)), "c1") == 0 &&
           strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(arr, 1)), "c2") == 0;
}

static int number_is(const cJSON *doc, const char *key, double want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    return cJSON_IsNumber(v) && v->valuedouble == want;
}

static int put_whole(const cJSON *doc)
{
    return is_string(doc, "team_id", "bkk-03") && is_string(doc, "token", token) &&
           number_is(doc, "active_cases", 2) && assigned_whole(doc);
}

static int position_whole(const cJSON *doc)
{
    return is_string(doc, "team_id", "bkk-03") &&
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "available")) &&
           number_is(doc, "active_cases", 2) && number_is(doc, "capacity", 3) &&
           assigned_whole(doc);
}

static cJSON *build(int which, const cJSON *reply)
{
    return which == 0 ? teams_put_answer("bkk-03", token, reply)
                      : teams_position_answer("bkk-03", reply);
}

static void test_answers_whole(void)
{
    cJSON *reply = cJSON_Parse(put_reply);
    cJSON *put = build(0, reply), *pos = build(1, reply);
    cJSON *no_token = teams_put_answer("bkk-03", NULL, reply);
    CHECK(put && put_whole(put), "the PUT answer has the team id, token and cases");
    CHECK(pos && position_whole(pos), "the position answer has every field");
    CHECK(no_token && !cJSON_HasObjectItem(no_token, "token") &&
              is_string(no_token, "team_id", "bkk-03"),
          "no token when none was issued");
    cJSON_Delete(put);
    cJSON_Delete(pos);
    cJSON_Delete(no_token);
    cJSON_Delete(reply);
}

/* A valid notify is OK with its canonical JSON or NO_MEMORY, never INVALID (a 400 "notify must
 * be…" for what was the server's failure). */
static void test_notify_out_of_memory(const char *body, const char *canonical)
{
    cJSON *v = cJSON_Parse(body);
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int wrong = 0, invalid = 0, nomem = 0, done = 0;
    char *out = NULL;
    CHECK(teams_notify_read(v, &out) == TEAMS_NOTIFY_OK && out && strcmp(out, canonical) == 0,
          named(body, "reads as its canonical JSON"));
    free(out);
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        enum teams_notify_result r;
        out = NULL;
        allocations_left = n;
        r = teams_notify_read(v, &out);
        if (r == TEAMS_NOTIFY_INVALID) invalid++;
        if (r == TEAMS_NOTIFY_NO_MEMORY) {
            nomem++;
            if (out != NULL) wrong++;
        }
        if (r == TEAMS_NOTIFY_OK) {
            if (out == NULL || strcmp(out, canonical) != 0) wrong++;
            done = allocations_left > 0;
        }
        allocations_left = -1;
        free(out);
    }
    cJSON_InitHooks(NULL);
    CHECK(done && nomem > 0, named(body, "failed allocations were met and a whole run reached"));
    CHECK(invalid == 0, named(body, "running out of memory never reads as an invalid notify"));
    CHECK(wrong == 0, named(body, "OK always with its canonical JSON, NO_MEMORY with nothing"));
    cJSON_Delete(v);
}

static void test_notify_invalid(void)
{
    static const char *const bad[] = {"[]",
                                      "{}",
                                      "{\"line_to\":\"X12\"}",
                                      "{\"webhook\":\"ftp://x\"}",
                                      "{\"webhook\":\"https://a.example\",\"line_to\":\"C1\"}",
                                      NULL};
    size_t i;
    for (i = 0; bad[i]; i++) {
        cJSON *v = cJSON_Parse(bad[i]);
        char *out = NULL;
        CHECK(teams_notify_read(v, &out) == TEAMS_NOTIFY_INVALID && out == NULL,
              named(bad[i], "is an invalid notify"));
        cJSON_Delete(v);
    }
}

/* ess_team_list's and ess_case_candidates' replies, as the store sends them. */
static const char list_reply[] =
    "{\"teams\":[{\"team_id\":\"a-team\",\"name\":\"ทีม ก\",\"name_en\":\"Team A\","
    "\"skills\":\"mental_health,police\",\"available\":true,\"active\":1,\"capacity\":2,"
    "\"lat\":\"13.7563000\",\"lon\":\"100.5018000\",\"updated_at\":\"1763694185000\","
    "\"notify\":\"{\\\"webhook\\\":\\\"https://gw.example/a\\\"}\"},"
    "{\"team_id\":\"b-team\",\"name\":\"ทีม ข\",\"name_en\":\"\",\"skills\":\"police\","
    "\"available\":false,\"active\":0,\"capacity\":1,\"lat\":\"13.8\",\"lon\":\"100.6\","
    "\"updated_at\":\"1763694186000\",\"notify\":\"\"}],\"next\":\"b-team\"}";
static const char candidates_reply[] =
    "{\"case_id\":\"01JB7ZQ3V9W8X7Y6Z5A4B3C2D1\",\"skills\":\"police,social_worker\","
    "\"max_radius_km\":50,\"radius_km\":100,\"located\":true,\"candidates\":["
    "{\"team_id\":\"near\",\"name\":\"n\",\"name_en\":\"\",\"skills\":\"police,social_worker\","
    "\"available\":true,\"active\":1,\"capacity\":1,\"lat\":\"13.7\",\"lon\":\"100.5\","
    "\"distance_km\":2.5,\"excluded\":false,\"holds\":true},"
    "{\"team_id\":\"far\",\"name\":\"f\",\"name_en\":\"Far\",\"skills\":\"police,social_worker\","
    "\"available\":true,\"active\":0,\"capacity\":2,\"lat\":\"14.4\",\"lon\":\"100.5\","
    "\"distance_km\":70.2,\"excluded\":true,\"holds\":false}]}";

static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static int list_whole(const cJSON *doc, int with_notify)
{
    const cJSON *teams = member(doc, "teams");
    const cJSON *a = cJSON_GetArrayItem(teams, 0), *b = cJSON_GetArrayItem(teams, 1);
    const cJSON *skills = member(a, "skills");
    const cJSON *notify = member(a, "notify");
    return cJSON_GetArraySize(teams) == 2 && is_string(doc, "next_cursor", "b-team") &&
           is_string(a, "team_id", "a-team") && is_string(a, "name_en", "Team A") &&
           !cJSON_HasObjectItem(b, "name_en") && cJSON_GetArraySize(skills) == 2 &&
           strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(skills, 1)), "police") == 0 &&
           cJSON_IsTrue(member(a, "available")) && cJSON_IsFalse(member(b, "available")) &&
           number_is(a, "active_cases", 1) && number_is(a, "capacity", 2) &&
           number_is(a, "lat", 13.7563) && number_is(b, "lon", 100.6) &&
           is_string(a, "updated_at", "2025-11-21T03:03:05.000Z") &&
           (with_notify ? is_string(notify, "webhook", "https://gw.example/a") &&
                              cJSON_IsNull(member(b, "notify"))
                        : !cJSON_HasObjectItem(a, "notify") && !cJSON_HasObjectItem(b, "notify"));
}

static int candidates_whole(const cJSON *doc)
{
    const cJSON *list = member(doc, "candidates");
    const cJSON *near = cJSON_GetArrayItem(list, 0), *far = cJSON_GetArrayItem(list, 1);
    return cJSON_GetArraySize(list) == 2 &&
           is_string(doc, "case_id", "01JB7ZQ3V9W8X7Y6Z5A4B3C2D1") &&
           cJSON_GetArraySize(member(doc, "skills")) == 2 && number_is(doc, "max_radius_km", 50) &&
           number_is(doc, "radius_km", 100) && is_string(near, "team_id", "near") &&
           number_is(near, "free_capacity", 0) && cJSON_IsFalse(member(near, "can_take")) &&
           cJSON_IsTrue(member(near, "holds_case")) && number_is(near, "distance_km", 2.5) &&
           cJSON_IsFalse(member(near, "beyond_radius")) && number_is(far, "free_capacity", 2) &&
           cJSON_IsTrue(member(far, "can_take")) && cJSON_IsTrue(member(far, "beyond_radius")) &&
           cJSON_IsTrue(member(far, "excluded")) && is_string(far, "name_en", "Far") &&
           !cJSON_HasObjectItem(near, "updated_at") && !cJSON_HasObjectItem(near, "notify");
}

/* which: 0 the operator's list, 1 the admin's, 2 the candidates, 3 the PUT answer, 4 the
 * position answer. */
static cJSON *build_any(int which, const cJSON *reply)
{
    if (which >= 3) return build(which - 3, reply);
    return which == 2 ? teams_candidates_answer(reply) : teams_list_answer(reply, which);
}

static int any_whole(int which, const cJSON *doc)
{
    if (which >= 3) return which == 3 ? put_whole(doc) : position_whole(doc);
    return which == 2 ? candidates_whole(doc) : list_whole(doc, which);
}

/* The answer is whole; then, failing at the n-th allocation for every n until an answer is made
 * without failing, it is NULL or whole. */
static void test_answer(int which)
{
    static const char *const names[] = {"teams_list_answer (operator)", "teams_list_answer (admin)",
                                        "teams_candidates_answer", "teams_put_answer",
                                        "teams_position_answer"};
    const char *name = names[which];
    cJSON *reply = cJSON_Parse(which == 2 ? candidates_reply : which >= 3 ? put_reply : list_reply);
    cJSON_Hooks hooks = {failing_malloc, free};
    cJSON *doc = build_any(which, reply);
    int partial = 0, nulls = 0, done = 0;

    CHECK(doc && any_whole(which, doc), named(name, "every member, in its type"));
    cJSON_Delete(doc);
    cJSON_InitHooks(&hooks);
    for (long n = 0; n < 5000 && !done; n++) {
        allocations_left = n;
        doc = build_any(which, reply);
        if (doc == NULL) {
            nulls++;
        } else {
            if (!any_whole(which, doc)) partial++;
            done = allocations_left > 0; /* made with allocations to spare: no failure hit */
        }
        allocations_left = -1;
        cJSON_Delete(doc);
    }
    cJSON_InitHooks(NULL);
    CHECK(done && nulls > 5, named(name, "failed allocations were met, then a whole run"));
    CHECK(partial == 0, named(name, "no answer with a member missing, at any failure point"));
    cJSON_Delete(reply);
}

int main(void)
{
    test_answers_whole();
    for (int which = 0; which < 5; which++) test_answer(which);
    test_notify_out_of_memory("{\"line_to\":\"C0123456789abcdef\"}",
                              "{\"line_to\":\"C0123456789abcdef\"}");
    test_notify_out_of_memory("{\"webhook\":\"https://team.example/hook\"}",
                              "{\"webhook\":\"https://team.example/hook\"}");
    test_notify_invalid();
    return tap_done();
}
