/* Unit tests of router/out/outbox.c's pushes: a LINE reply whose token expired becomes a push
 * with its messages, a progress notice and a chat's closing line a push with their text, and when
 * memory runs out part-way the builder says so (the outbox keeps the message and tries again
 * later), never a push without its messages. The allocator fails at the n-th allocation, for every
 * n a push makes. */
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
static const char closed_payload[] =
    "{\"case_id\":\"c1\",\"to\":\"U0123456789abcdef0123456789abcdef\",\"lang\":\"en\","
    "\"tracking_code\":\"HM-7K3-Q9X-TD8\"}";
static const char *const payloads[] = {reply_payload, progress_payload, closed_payload};
static const char *const names[] = {"outbox_as_push", "outbox_progress_push",
                                    "outbox_chat_closed_push"};

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
    if (which == 0) return outbox_as_push(payload, out);
    if (which == 1) return outbox_progress_push(payload, out);
    return outbox_chat_closed_push(payload, out);
}

static int whole(int which, const cJSON *push)
{
    if (which == 0) return push_whole(push, 2, "two");
    if (which == 1) return push_whole(push, 1, "is on the way");
    return push_whole(push, 1, "The operator has ended the chat.");
}

static void test_pushes(void)
{
    cJSON *reply = cJSON_Parse(reply_payload), *progress = cJSON_Parse(progress_payload);
    cJSON *closed = cJSON_Parse(closed_payload);
    cJSON *push = NULL, *none = cJSON_Parse("{\"messages\":[]}");
    CHECK(outbox_as_push(reply, &push) == OUTBOX_BUILD_OK && whole(0, push),
          "an expired reply becomes a push of its messages");
    cJSON_Delete(push);
    CHECK(outbox_progress_push(progress, &push) == OUTBOX_BUILD_OK && whole(1, push),
          "a progress notice becomes a push of its text");
    cJSON_Delete(push);
    CHECK(outbox_chat_closed_push(closed, &push) == OUTBOX_BUILD_OK && whole(2, push),
          "a chat's closing line becomes a push of its text, in the chat's language");
    cJSON_Delete(push);
    CHECK(outbox_chat_closed_push(none, &push) == OUTBOX_BUILD_NOTHING && push == NULL,
          "a closing line without a user has no push");
    CHECK(outbox_as_push(none, &push) == OUTBOX_BUILD_NOTHING && push == NULL,
          "a reply without a user has no push");
    CHECK(outbox_progress_push(none, &push) == OUTBOX_BUILD_NOTHING && push == NULL,
          "a progress notice without a code, status or user has no push");
    cJSON_Delete(none);
    cJSON_Delete(reply);
    cJSON_Delete(progress);
    cJSON_Delete(closed);
}

/* For every n until a push is made without failing: NO_MEMORY (nothing) or OK and whole. */
static void test_out_of_memory(int which, int once)
{
    cJSON *payload = cJSON_Parse(payloads[which]);
    char msg[96];
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
    snprintf(msg, sizeof msg, "%s: a run without failure was reached", names[which]);
    CHECK(done, how(once, msg));
    snprintf(msg, sizeof msg, "%s: failed allocations were met", names[which]);
    CHECK(nomem > 2, how(once, msg));
    snprintf(msg, sizeof msg, "%s: out of memory is said, never a push without its messages",
             names[which]);
    CHECK(wrong == 0, how(once, msg));
    cJSON_Delete(payload);
}

int main(void)
{
    test_pushes();
    for (int which = 0; which < 3; which++) {
        test_out_of_memory(which, 0);
        test_out_of_memory(which, 1);
    }
    return tap_done();
}
