/* libFuzzer target for the citizen's LINE conversation (webhooks/chat.c) as a stranger drives it:
 * the input is a webhook body (webhooks/line.c parses it, as the router does), and its user
 * events run through chat_handle one after the other from a fresh state, stored and read back
 * between them, with the router's rule table and triage model classifying what they say. Checks
 * (fuzz_chat_common.h): every outcome is one the router can carry out (a valid action, codes
 * canonical, texts valid UTF-8, the user id only in a new case) and every state stored reads
 * back as itself. */
#include "fuzz_chat_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct line_webhook hook;
    struct chat_state st;

    if (line_webhook_parse((const char *)data, size, &hook, NULL, 0) != 0) return 0;
    chat_state_init(&st);
    for (size_t i = 0; i < hook.nevents; i++) {
        const struct line_event *ev = &hook.events[i];
        if (ev->source != LINE_SOURCE_USER || ev->standby) continue; /* the router's own */
        fuzz_chat_step(&st, ev, (int)(ev->timestamp % 2));
    }
    line_webhook_free(&hook);
    return 0;
}
