/* libFuzzer target for the conversation state the router keeps in Redis (webhooks/chat.c's
 * chat_state_from_json, what the LINE webhook reads before each event): any bytes as the stored
 * state. Checks: a state read writes back as JSON that reads again as the same state; a refusal
 * gives a fresh state; from any state read, each kind of event (texts, commands, a code, a
 * location, media, every button) leads to an outcome the router can carry out and a state that
 * reads back (fuzz_chat_common.h). */
#include "fuzz_chat_common.h"

#define USER "U4f3b9a2c1d8e7f60a5b4c3d2e1f0a9b8"

static const char *const texts[] = {
    "แจ้งเหตุ",
    "ยกเลิก",
    "สถานะ",
    "HM-7K3-Q9X-TD8",
    "hm7k3q9xtd9",
    "ถูกขังอยู่ในบ้าน ออกไม่ได้ ช่วยด้วย",
    "someone is threatening me with a knife",
    "ไม่อยากมีชีวิตอยู่แล้ว",
    "คุยกับเจ้าหน้าที่",
    "ยินยอม",
    "no",
    "เงียบ",
    "แจ้งต่อ",
    "ซอยรามคำแหง 24 ใกล้ร้านเซเว่น",
    "ok",
    "ครับ",
};
static const char *const postbacks[] = {
    "cat=threat", "cat=detention", "cat=other", "cat=nope",    "cancel",     "status",
    "talk",       "quiet",         "updates",   "consent=yes", "consent=no", "newreport",
    "report",     "choose",        "address",   "skip",        "ack=01JD",
};

static void run(const struct chat_state *from, struct line_event *ev)
{
    struct chat_state st = *from;

    ev->source = LINE_SOURCE_USER;
    snprintf(ev->user_id, sizeof ev->user_id, "%s", USER);
    fuzz_chat_step(&st, ev, 0);
    st = *from;
    fuzz_chat_step(&st, ev, 1);
}

/* Every kind of event from the state read. */
static void run_events(const struct chat_state *from)
{
    struct line_event ev;
    static const enum line_message_type media[] = {LINE_MESSAGE_IMAGE,   LINE_MESSAGE_VIDEO,
                                                   LINE_MESSAGE_AUDIO,   LINE_MESSAGE_FILE,
                                                   LINE_MESSAGE_STICKER, LINE_MESSAGE_OTHER};
    static const enum line_event_type others[] = {LINE_EVENT_FOLLOW, LINE_EVENT_UNFOLLOW,
                                                  LINE_EVENT_OTHER};

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        memset(&ev, 0, sizeof ev);
        ev.type = LINE_EVENT_MESSAGE;
        ev.message = LINE_MESSAGE_TEXT;
        ev.text = (char *)texts[i];
        run(from, &ev);
    }
    for (size_t i = 0; i < sizeof postbacks / sizeof postbacks[0]; i++) {
        memset(&ev, 0, sizeof ev);
        ev.type = LINE_EVENT_POSTBACK;
        ev.postback_data = (char *)postbacks[i];
        run(from, &ev);
    }
    memset(&ev, 0, sizeof ev);
    ev.type = LINE_EVENT_MESSAGE;
    ev.message = LINE_MESSAGE_LOCATION;
    ev.has_location = 1;
    ev.lat = 13.7563;
    ev.lon = 100.5018;
    ev.address = "สนามหลวง กรุงเทพมหานคร";
    run(from, &ev);
    for (size_t i = 0; i < sizeof media / sizeof media[0]; i++) {
        memset(&ev, 0, sizeof ev);
        ev.type = LINE_EVENT_MESSAGE;
        ev.message = media[i];
        snprintf(ev.message_id, sizeof ev.message_id, "%s", "534021795143");
        run(from, &ev);
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        memset(&ev, 0, sizeof ev);
        ev.type = others[i];
        run(from, &ev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chat_state st, fresh;
    char *json, *again;

    chat_state_init(&fresh);
    if (chat_state_from_json((const char *)data, size, &st) != 0) {
        /* refused: a fresh state, exactly */
        char *a = chat_state_to_json(&st), *b = chat_state_to_json(&fresh);
        if (a != NULL && b != NULL && strcmp(a, b) != 0) abort();
        free(a);
        free(b);
        return 0;
    }
    json = chat_state_to_json(&st);
    if (json == NULL) return 0;
    {
        struct chat_state back;
        if (chat_state_from_json(json, strlen(json), &back) != 0) abort();
        again = chat_state_to_json(&back);
        if (again != NULL && strcmp(json, again) != 0) abort();
        if (back.step != st.step || back.lang != st.lang || back.lang_known != st.lang_known ||
            back.category != st.category || back.has_location != st.has_location ||
            (st.has_location && (back.lat != st.lat || back.lon != st.lon)) ||
            strcmp(back.address, st.address) != 0 ||
            strcmp(back.description, st.description) != 0 ||
            strcmp(back.last_tracking_code, st.last_tracking_code) != 0 ||
            back.follow != st.follow || strcmp(back.report_id, st.report_id) != 0)
            abort();
        free(again);
    }
    free(json);
    run_events(&st);
    return 0;
}
