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

/* For every n until an answer is made without failing: NULL or whole. */
static void test_answer_out_of_memory(int which)
{
    const char *name = which == 0 ? "teams_put_answer" : "teams_position_answer";
    cJSON *reply = cJSON_Parse(put_reply);
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int partial = 0, nulls = 0, done = 0;
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        cJSON *doc;
        allocations_left = n;
        doc = build(which, reply);
        if (doc == NULL) {
            nulls++;
        } else {
            if (!(which == 0 ? put_whole(doc) : position_whole(doc))) partial++;
            done = allocations_left > 0; /* made with allocations to spare: no failure hit */
        }
        allocations_left = -1;
        cJSON_Delete(doc);
    }
    cJSON_InitHooks(NULL);
    CHECK(done, named(name, "a run without failure was reached"));
    CHECK(nulls > 5, named(name, "failed allocations were met"));
    CHECK(partial == 0, named(name, "no answer with a field missing, at any failure point"));
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

int main(void)
{
    test_answers_whole();
    test_answer_out_of_memory(0);
    test_answer_out_of_memory(1);
    test_notify_out_of_memory("{\"line_to\":\"C0123456789abcdef\"}",
                              "{\"line_to\":\"C0123456789abcdef\"}");
    test_notify_out_of_memory("{\"webhook\":\"https://team.example/hook\"}",
                              "{\"webhook\":\"https://team.example/hook\"}");
    test_notify_invalid();
    return tap_done();
}
