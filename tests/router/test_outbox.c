/* Unit tests of router/out/outbox.c's pushes: a LINE reply whose token expired becomes a push
 * with its messages, a progress notice a push with its text, and when memory runs out part-way
 * the builder says so (the outbox keeps the message and tries again later), never a push without
 * its messages. The allocator fails at the n-th allocation, for every n a push makes. */
#include "alloc_fail.h"
#include "outbox.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char reply_payload[] =
    "{\"reply_token\":\"r1\",\"to\":\"U0123456789abcdef0123456789abcdef\",\"messages\":["
    "{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\",\"text\":\"two\"}]}";
static const char progress_payload[] =
    "{\"case_id\":\"c1\",\"to\":\"U0123456789abcdef0123456789abcdef\",\"lang\":\"en\","
    "\"tracking_code\":\"HM-7K3-Q9X-TD8\",\"status\":\"en_route\",\"team_name\":\"Team 3\"}";

/* A push to the payload's user with n text messages, the last of which contains last. */
static int push_whole(const cJSON *push, int n, const char *last)
{
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(push, "to");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(push, "messages");
    const char *text = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, n - 1), "text"));
    return cJSON_IsString(to) &&
           strcmp(to->valuestring, "U0123456789abcdef0123456789abcdef") == 0 &&
           cJSON_GetArraySize(messages) == n && text != NULL && strstr(text, last) != NULL &&
           cJSON_GetArraySize(push) == 2;
}

static enum outbox_build build(int which, const cJSON *payload, cJSON **out)
{
    return which == 0 ? outbox_as_push(payload, out) : outbox_progress_push(payload, out);
}

static int whole(int which, const cJSON *push)
{
    return which == 0 ? push_whole(push, 2, "two") : push_whole(push, 1, "is on the way");
}

static void test_pushes(void)
{
    cJSON *reply = cJSON_Parse(reply_payload), *progress = cJSON_Parse(progress_payload);
    cJSON *push = NULL, *none = cJSON_Parse("{\"messages\":[]}");
    CHECK(outbox_as_push(reply, &push) == OUTBOX_BUILD_OK && whole(0, push),
          "an expired reply becomes a push of its messages");
    cJSON_Delete(push);
    CHECK(outbox_progress_push(progress, &push) == OUTBOX_BUILD_OK && whole(1, push),
          "a progress notice becomes a push of its text");
    cJSON_Delete(push);
    CHECK(outbox_as_push(none, &push) == OUTBOX_BUILD_NOTHING && push == NULL,
          "a reply without a user has no push");
    CHECK(outbox_progress_push(none, &push) == OUTBOX_BUILD_NOTHING && push == NULL,
          "a progress notice without a code, status or user has no push");
    cJSON_Delete(none);
    cJSON_Delete(reply);
    cJSON_Delete(progress);
}

/* For every n until a push is made without failing: NO_MEMORY (nothing) or OK and whole. */
static void test_out_of_memory(int which, int once)
{
    cJSON *payload = cJSON_Parse(which == 0 ? reply_payload : progress_payload);
    cJSON_Hooks hooks = {failing_malloc, free};
    long n;
    int wrong = 0, nomem = 0, done = 0;
    fail_once = once;
    cJSON_InitHooks(&hooks);
    for (n = 0; n < 2000 && !done; n++) {
        cJSON *push = NULL;
        enum outbox_build r;
        allocations_left = n;
        r = build(which, payload, &push);
        if (r == OUTBOX_BUILD_NO_MEMORY) {
            nomem++;
            if (push != NULL) wrong++;
        } else if (r == OUTBOX_BUILD_OK && push != NULL && whole(which, push)) {
            done = allocations_left > 0; /* made with allocations to spare: no failure hit */
        } else {
            wrong++; /* a push with its messages missing, or the message given up on */
        }
        allocations_left = -1;
        cJSON_Delete(push);
    }
    cJSON_InitHooks(NULL);
    CHECK(done, how(once, which == 0 ? "outbox_as_push: a run without failure was reached"
                                     : "outbox_progress_push: a run without failure was reached"));
    CHECK(nomem > 2, how(once, which == 0 ? "outbox_as_push: failed allocations were met"
                                          : "outbox_progress_push: failed allocations were met"));
    CHECK(
        wrong == 0,
        how(once, which == 0
                      ? "outbox_as_push: out of memory is said, never a push without messages"
                      : "outbox_progress_push: out of memory is said, never a push without text"));
    cJSON_Delete(payload);
}

int main(void)
{
    test_pushes();
    test_out_of_memory(0, 0);
    test_out_of_memory(1, 0);
    test_out_of_memory(0, 1);
    test_out_of_memory(1, 1);
    return tap_done();
}
