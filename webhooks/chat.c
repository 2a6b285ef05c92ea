/* The citizen's LINE conversation (webhooks/chat.h): the state machine from (state, event) to
 * (new state, prompt, action), and the state's JSON form as the router stores it. Pure: no I/O;
 * the texts the user reads are in citizen_messages.c. */
#include "chat.h"

#include "incident.h"
#include "json.h"
#include "line.h"
#include "rules.h"
#include "text.h"
#include "track_code.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state's JSON is written by chat_state_to_json(); anything longer was not. The description
 * (4000 bytes) escaped as \uXXXX at worst, the address and the rest fit well within. */
#define CHAT_STATE_MAX_JSON 65536
#define CHAT_STATE_MAX_DEPTH 4 /* the state is one object holding one location object */
#define CHAT_STATE_VERSION 1

static const char *const chat_step_codes[] = {"idle",    "category", "confirm", "location",
                                              "details", "address",  "consent"};

/* Words that answer a question, compared with the folded text (text_fold: ASCII lowercased,
 * blanks and punctuation removed) once a polite ending is cut off. */
static const char *const chat_words_cancel[] = {"ยกเลิก", "ยกเลิกการแจ้ง", "ไม่แจ้งแล้ว", "cancel", NULL};
static const char *const chat_words_status[] = {
    "สถานะ",       "เช็คสถานะ",   "เช็กสถานะ", "ดูสถานะ", "ตรวจสอบสถานะ", "ติดตามสถานะ", "status",
    "checkstatus", "casestatus", "mystatus", NULL};
static const char *const chat_words_yes[] = {"ใช่",      "ใช่แล้ว", "ถูกต้อง", "ถูก", "yes",
                                             "y",       "yeah",  "yep",   "ok", "okay",
                                             "correct", "right", NULL};
static const char *const chat_words_no[] = {"ไม่ใช่", "ผิด", "no", "n", "nope", "wrong", NULL};
static const char *const chat_words_skip[] = {"ข้าม",  "ไม่มี",     "ไม่มีแล้ว", "skip", "no",
                                              "none", "nothing", "nope",   NULL};
/* The answer to the consent question, besides the yes and no words. */
static const char *const chat_words_agree[] = {"ยินยอม", "ยอม",    "ได้", "ตกลง",
                                               "agree", "iagree", NULL};
static const char *const chat_words_disagree[] = {
    "ไม่ยินยอม",   "ไม่ยอม",       "ไม่ได้",       "ไม่",       "ไม่ให้", "donotagree",
    "dontagree", "idonotagree", "idontagree", "disagree", NULL};
/* Quiet updates: no progress push about the open case; and back on. */
static const char *const chat_words_quiet[] = {
    "เงียบ",  "ไม่ต้องแจ้ง",    "ไม่ต้องแจ้งความคืบหน้า", "ไม่ต้องแจ้งความคืบหน้าเงียบ", "ไม่ต้องแจ้งเงียบ",
    "quiet", "stopupdates", "noupdates",         "quietupdates",          NULL};
static const char *const chat_words_updates[] = {"แจ้งต่อ",         "แจ้งความคืบหน้าต่อ", "updateson",
                                                 "resumeupdates", "startupdates",   NULL};
/* Media as a note names them: LINE_MESSAGE_IMAGE..FILE. */
static const char *const chat_media_kinds[] = {"[image]", "[video]", "[audio]", "[file]"};
/* "Talk to a person": the cancel answer's button sends "คุยกับเจ้าหน้าที่" / "Talk to a person". */
static const char *const chat_words_talk[] = {
    "คุยกับเจ้าหน้าที่",  "ขอคุยกับเจ้าหน้าที่", "คุยกับคน",           "ขอคุยกับคน", "ติดต่อเจ้าหน้าที่", "talktoaperson",
    "talktoahuman", "talktosomeone", "talktoanoperator", "human",    "operator",    NULL};
/* Words of suicide or self-harm, found anywhere in the folded text (blanks removed): any of them
 * puts the safety lines in the answer, whatever the step. */
static const char *const chat_words_self_harm[] = {
    "ฆ่าตัวตาย",    "อยากตาย", "ไม่อยากมีชีวิตอยู่", "ไม่อยากอยู่แล้ว", "ทำร้ายตัวเอง", "คิดสั้น",     "จบชีวิต",
    "killmyself", "suicid",  "endmylife",    "wanttodie",   "hurtmyself", "selfharm", NULL};
/* Polite endings cut off before matching: "ยกเลิกค่ะ" is "ยกเลิก". */
static const char *const chat_particles[] = {"ครับผม", "ครับ", "คับ", "ค่ะ", "คะ",
                                             "ค่า",    "จ้า",  "จ้ะ", "นะ", NULL};

void chat_state_init(struct chat_state *state)
{
    if (state == NULL) return;
    memset(state, 0, sizeof(*state));
    state->step = CHAT_STEP_IDLE;
    state->lang = CHAT_LANG_TH;
    state->category = INCIDENT_CATEGORY_NONE;
}

/* Drops the report in progress; keeps the language and the last tracking code. */
static void chat_reset_report(struct chat_state *state)
{
    state->step = CHAT_STEP_IDLE;
    state->category = INCIDENT_CATEGORY_NONE;
    state->has_location = 0;
    state->lat = 0.0;
    state->lon = 0.0;
    state->address[0] = '\0';
    state->description[0] = '\0';
    state->report_id[0] = '\0';
}

void chat_report_filed(struct chat_state *state, const char *tracking_code)
{
    if (state == NULL || tracking_code == NULL) return;
    chat_reset_report(state);
    snprintf(state->last_tracking_code, sizeof(state->last_tracking_code), "%s", tracking_code);
    state->follow = state->last_tracking_code[0] != '\0';
}

static int chat_is_emergency(int category)
{
    return category >= INCIDENT_THREAT && category < INCIDENT_OTHER;
}

static int chat_location_valid(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

static int chat_is_blank(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Copies the valid UTF-8 src[0..len) into dst (cap bytes, cap >= 1, always NUL-terminated):
 * ASCII blanks trimmed at both ends, ASCII control characters dropped (newlines and tabs kept
 * when multiline, turned into spaces otherwise), cut at a character boundary so that at most
 * cap - 1 bytes are written. Returns the length written. */
static size_t chat_clean_copy(char *dst, size_t cap, const char *src, size_t len, int multiline)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    size_t i = 0;

    while (len > 0 && chat_is_blank(s[len - 1])) len--;
    while (i < len && chat_is_blank(s[i])) i++;
    while (i < len) {
        size_t n = text_utf8_char_len(s[i]);
        unsigned char c = s[i];

        if (n > len - i) break;
        if (o + n > cap - 1) break;
        if (c == '\n' || c == '\t') {
            dst[o++] = multiline ? (char)c : ' ';
        } else if (c >= 0x20 && c != 0x7F) {
            memcpy(dst + o, s + i, n);
            o += n;
        }
        i += n;
    }
    dst[o] = '\0';
    return o;
}

/* The language of a message the user typed (folded: text_fold of it, core bytes once polite
 * endings are cut). The first message that has letters decides: Thai letters (U+0E00..U+0E7F)
 * make it Thai, Latin letters without Thai English. After that it changes only on a sentence in
 * the other language: three Latin words and no Thai, or ten Thai characters besides polite
 * endings; "555", "ok", "help", "ครับ", "ยกเลิก" or a code leave it. */
static void chat_decide_lang(struct chat_state *st, const char *s, size_t len, const char *folded,
                             size_t core)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *f = (const unsigned char *)folded;
    size_t thai = 0, words = 0;
    int in_word = 0, latin = 0;

    for (size_t i = 0; i < len; i++) {
        int letter = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z');

        if (p[i] == 0xE0 && i + 1 < len && (p[i + 1] == 0xB8 || p[i + 1] == 0xB9)) thai++;
        if (letter && !in_word) words++;
        in_word = letter;
        latin |= letter;
    }
    if (!st->lang_known) {
        if (thai > 0 || latin) {
            st->lang = thai > 0 ? CHAT_LANG_TH : CHAT_LANG_EN;
            st->lang_known = 1;
        }
        return;
    }
    if (st->lang == CHAT_LANG_TH) {
        if (thai == 0 && words >= 3) st->lang = CHAT_LANG_EN;
        return;
    }
    thai = 0;
    for (size_t i = 0; i + 1 < core; i++)
        if (f[i] == 0xE0 && (f[i + 1] == 0xB8 || f[i + 1] == 0xB9)) thai++;
    if (thai >= 10) st->lang = CHAT_LANG_TH;
}

/* 1 when one of words occurs anywhere in folded[0..len). */
static int chat_word_inside(const char *folded, size_t len, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        size_t n = strlen(words[i]);

        for (size_t at = 0; n <= len && at <= len - n; at++)
            if (memcmp(folded + at, words[i], n) == 0) return 1;
    }
    return 0;
}

static int chat_word_in(const char *folded, size_t len, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == len && memcmp(words[i], folded, len) == 0) return 1;
    return 0;
}

/* 1 when the folded text is one of words, as typed (flen bytes) or without its polite ending
 * (core bytes): "สถานะ" ends like the particle "นะ" and must match whole. */
static int chat_says(const char *folded, size_t flen, size_t core, const char *const *words)
{
    return chat_word_in(folded, flen, words) || chat_word_in(folded, core, words);
}

/* The length of folded once polite endings are cut off ("ยกเลิกครับ" → "ยกเลิก"). */
static size_t chat_cut_particles(const char *folded, size_t len)
{
    int cut = 1;

    while (cut) {
        cut = 0;
        for (size_t i = 0; chat_particles[i] != NULL; i++) {
            size_t n = strlen(chat_particles[i]);

            if (n < len && memcmp(folded + len - n, chat_particles[i], n) == 0) {
                len -= n;
                cut = 1;
                break;
            }
        }
    }
    return len;
}

/* The category whose code or label (either language) the folded text is, or
 * INCIDENT_CATEGORY_NONE. -1 when memory runs out (*category untouched). */
static int chat_typed_category_len(const struct rules_table *rules, const char *folded, size_t len,
                                   int *category)
{
    static const char *const langs[] = {"th", "en"};

    *category = INCIDENT_CATEGORY_NONE;
    if (len == 0) return 0;
    for (int c = INCIDENT_THREAT; c < INCIDENT_CATEGORY_COUNT; c++) {
        const char *code = incident_category_code(c);

        if (code != NULL && strlen(code) == len && memcmp(code, folded, len) == 0) {
            *category = c;
            return 0;
        }
        for (size_t l = 0; l < 2; l++) {
            const char *label = rules_category_label(rules, c, langs[l]);
            size_t flen;
            char *flabel;
            int same;

            if (label[0] == '\0') continue;
            flabel = text_fold(label, strlen(label), &flen);
            if (flabel == NULL) return -1;
            same = flen == len && memcmp(flabel, folded, len) == 0;
            free(flabel);
            if (same) {
                *category = c;
                return 0;
            }
        }
    }
    return 0;
}

/* chat_typed_category_len() on the text as typed (flen bytes), then without its polite ending
 * (core bytes). */
static int chat_typed_category(const struct rules_table *rules, const char *folded, size_t flen,
                               size_t core, int *category)
{
    if (chat_typed_category_len(rules, folded, flen, category) != 0) return -1;
    if (*category == INCIDENT_CATEGORY_NONE && core != flen)
        return chat_typed_category_len(rules, folded, core, category);
    return 0;
}

static void chat_reply(struct chat_outcome *out, enum chat_prompt prompt)
{
    out->action = CHAT_ACTION_REPLY;
    out->prompt = prompt;
}

/* Ends "anything else?" (or what follows the case) with prompt; the answer names the case's
 * code. When "anything else?" was asked and is now answered (not with "type the address", whose
 * text comes next), the consent question follows, once. */
static void chat_details_done(struct chat_state *st, struct chat_outcome *out,
                              enum chat_prompt prompt)
{
    int ask = st->step == CHAT_STEP_DETAILS && prompt != CHAT_PROMPT_ASK_ADDRESS;

    chat_reset_report(st);
    chat_reply(out, prompt);
    memcpy(out->tracking_code, st->last_tracking_code, sizeof(out->tracking_code));
    if (ask) {
        st->step = CHAT_STEP_CONSENT;
        out->ask_consent = 1;
    }
}

static int chat_following(const struct chat_state *st);

/* Asks the question of the current step again; with no report in progress, starts one (or, the
 * last case open, says it is looked after). */
static void chat_ask_again(struct chat_state *st, struct chat_outcome *out)
{
    if (st->step == CHAT_STEP_CONSENT) st->step = CHAT_STEP_IDLE; /* asked once, not again */
    switch (st->step) {
    case CHAT_STEP_CONFIRM_CATEGORY:
        out->category = st->category;
        chat_reply(out, CHAT_PROMPT_CONFIRM_CATEGORY);
        return;
    case CHAT_STEP_LOCATION:
        chat_reply(out, CHAT_PROMPT_ASK_LOCATION);
        return;
    case CHAT_STEP_DETAILS:
        chat_reply(out, CHAT_PROMPT_ASK_DETAILS);
        return;
    case CHAT_STEP_ADDRESS:
        chat_reply(out, CHAT_PROMPT_ASK_ADDRESS);
        return;
    case CHAT_STEP_IDLE:
    case CHAT_STEP_CONSENT:
        if (chat_following(st)) { /* the open case: "we are looking after it", no new report */
            chat_reply(out, CHAT_PROMPT_DETAILS_SKIPPED);
            memcpy(out->tracking_code, st->last_tracking_code, sizeof(out->tracking_code));
            return;
        }
        break;
    case CHAT_STEP_CATEGORY:
        break;
    }
    st->step = CHAT_STEP_CATEGORY;
    chat_reply(out, CHAT_PROMPT_ASK_CATEGORY);
}

static int chat_create_case(struct chat_state *st, const struct line_event *ev,
                            struct chat_outcome *out);

/* The category is known: on to the location, or the case at once when the location came first.
 * -1 when memory runs out. */
static int chat_category_chosen(struct chat_state *st, const struct line_event *ev, int category,
                                struct chat_outcome *out)
{
    st->category = category;
    if (st->has_location) return chat_create_case(st, ev, out);
    st->step = CHAT_STEP_LOCATION;
    chat_reply(out, CHAT_PROMPT_ASK_LOCATION);
    return 0;
}

/* Text at a step that asks for the category: one typed by its code or label is chosen at once
 * (1); otherwise (0) *sure is the emergency the classifier is confident of (guess: its reading
 * of the text), INCIDENT_OTHER when it is sure of none: an unsure guess is never offered alone,
 * the reporter chooses among all five. -1 when memory runs out. */
static int chat_category_text(const struct rules_table *rules, struct chat_state *st,
                              const struct line_event *ev, const char *folded, size_t flen,
                              size_t core, const struct rules_guess *guess, int *sure,
                              struct chat_outcome *out)
{
    int category = INCIDENT_CATEGORY_NONE;

    if (chat_typed_category(rules, folded, flen, core, &category) != 0) return -1;
    if (category != INCIDENT_CATEGORY_NONE)
        return chat_category_chosen(st, ev, category, out) != 0 ? -1 : 1;
    *sure = guess->confident ? guess->category : INCIDENT_OTHER;
    return 0;
}

/* Keeps text as the report's description when there is none yet. */
static void chat_keep_story(struct chat_state *st, const char *text, size_t len)
{
    if (st->description[0] == '\0')
        chat_clean_copy(st->description, sizeof(st->description), text, len, 1);
}

/* Free text named an emergency: ask to confirm it, keeping the text as the report's description
 * when there is none yet. */
static void chat_preselect(struct chat_state *st, int category, const char *text, size_t len,
                           struct chat_outcome *out)
{
    st->category = category;
    chat_keep_story(st, text, len);
    st->step = CHAT_STEP_CONFIRM_CATEGORY;
    out->category = category;
    chat_reply(out, CHAT_PROMPT_CONFIRM_CATEGORY);
}

/* "Cancel": drops the report in progress. With none (idle, or "anything else?" once the case was
 * made: the questions end), and a case reported before, that case is looked up so the answer
 * says it stays open (a sent report is never cancelled from the chat). */
static void chat_cancel(struct chat_state *st, struct chat_outcome *out)
{
    if ((st->step == CHAT_STEP_IDLE || st->step == CHAT_STEP_DETAILS ||
         st->step == CHAT_STEP_CONSENT) &&
        st->last_tracking_code[0] != '\0') {
        chat_reset_report(st);
        out->action = CHAT_ACTION_CANCEL_OPEN;
        memcpy(out->tracking_code, st->last_tracking_code, sizeof(out->tracking_code));
        return;
    }
    chat_reset_report(st);
    chat_reply(out, CHAT_PROMPT_CANCELLED);
}

static void chat_status_last(const struct chat_state *st, struct chat_outcome *out)
{
    if (st->last_tracking_code[0] == '\0') {
        chat_reply(out, CHAT_PROMPT_NO_CASE);
        return;
    }
    out->action = CHAT_ACTION_STATUS;
    memcpy(out->tracking_code, st->last_tracking_code, sizeof(out->tracking_code));
}

/* The location as the case's timeline shows it: "[location] lat, lon address" (address: as LINE
 * sent it, cleaned; may be NULL). A new string, or NULL when memory runs out. */
static char *chat_location_note(double lat, double lon, const char *address)
{
    struct text_buf b = {0};
    char num[64];

    snprintf(num, sizeof num, "[location] %.6f, %.6f", lat, lon);
    text_buf_add(&b, num);
    if (address != NULL && address[0] != '\0') {
        text_buf_add(&b, " ");
        text_buf_add(&b, address);
    }
    return text_buf_take(&b);
}

/* Fills out->incident from the report (category, location or typed address, the description
 * kept from the first message) and goes on to "anything else?": the report's content and id are
 * dropped, the router stores the new case's code. -1 when memory runs out. */
static int chat_create_case(struct chat_state *st, const struct line_event *ev,
                            struct chat_outcome *out)
{
    struct incident *inc = &out->incident;

    inc->channel = INCIDENT_CHANNEL_LINE;
    inc->category = st->category;
    inc->has_location = st->has_location;
    inc->lat = st->lat;
    inc->lon = st->lon;
    if (st->description[0] != '\0' && (inc->description = text_dup(st->description)) == NULL)
        return -1;
    if (st->address[0] != '\0' && (inc->address = text_dup(st->address)) == NULL) return -1;
    if (ev->user_id[0] != '\0' && (inc->reporter_line_user = text_dup(ev->user_id)) == NULL)
        return -1;
    if (st->has_location && (out->note = chat_location_note(st->lat, st->lon, st->address)) == NULL)
        return -1;
    out->action = CHAT_ACTION_CREATE_CASE;
    chat_reset_report(st);
    st->step = CHAT_STEP_DETAILS;
    st->follow = 1;
    return 0;
}

/* 1 when what the user sends now goes to their open case as a note: "anything else?" or the
 * consent question is asked, or no report is in progress and the last case is open (follow). */
static int chat_following(const struct chat_state *st)
{
    return st->last_tracking_code[0] != '\0' &&
           (st->step == CHAT_STEP_DETAILS || st->step == CHAT_STEP_CONSENT ||
            (st->step == CHAT_STEP_IDLE && st->follow));
}

/* A note the router adds to the open case (chat_following), answered with NOTE_ADDED; the
 * outcome takes note (chat_outcome_clear frees it). */
static void chat_follow_note(struct chat_state *st, char *note, struct chat_outcome *out)
{
    chat_details_done(st, out, CHAT_PROMPT_NOTE_ADDED);
    out->note = note;
    out->action = CHAT_ACTION_NOTE;
}

/* The answer to "anything else?" (text[0..len), valid UTF-8) as a note on the created case, or
 * nothing when it is blank after cleaning; the questions end either way. -1 when memory runs
 * out. */
static int chat_add_note(struct chat_state *st, const char *text, size_t len,
                         struct chat_outcome *out)
{
    char *note = malloc(INCIDENT_MAX_DESCRIPTION + 1);

    if (note == NULL) return -1;
    if (chat_clean_copy(note, INCIDENT_MAX_DESCRIPTION + 1, text, len, 1) == 0) {
        free(note);
        chat_details_done(st, out, CHAT_PROMPT_DETAILS_SKIPPED);
        return 0;
    }
    chat_details_done(st, out, CHAT_PROMPT_NOTE_ADDED);
    out->note = note;
    out->action = CHAT_ACTION_NOTE;
    return 0;
}

/* "Talk to a person": on the open case (TALK_REQUEST), or the report filed first with what is
 * known (CREATE_CASE with out->talk; "other" when no category was chosen). The state then
 * follows the case, idle. -1 when memory runs out. */
static int chat_talk_request(struct chat_state *st, const struct line_event *ev,
                             struct chat_outcome *out)
{
    if (chat_following(st)) {
        chat_reset_report(st);
        st->follow = 1;
        out->action = CHAT_ACTION_TALK_REQUEST;
        memcpy(out->tracking_code, st->last_tracking_code, sizeof(out->tracking_code));
        return 0;
    }
    if (st->step != CHAT_STEP_LOCATION && st->step != CHAT_STEP_ADDRESS)
        st->category = INCIDENT_OTHER; /* nothing chosen yet: the operator sorts it */
    if (chat_create_case(st, ev, out) != 0) return -1;
    st->step = CHAT_STEP_IDLE; /* no "anything else?": a person answers now */
    out->talk = 1;
    return 0;
}

/* The answer to the consent question (share: 1 the agencies may see the reporter's details): the
 * closing line follows; idle, following the case. */
static void chat_consent(struct chat_state *st, struct chat_outcome *out, int share)
{
    chat_details_done(st, out, CHAT_PROMPT_CONSENT_RECORDED);
    out->action = CHAT_ACTION_CONSENT;
    out->consent = share;
}

/* Quiet updates on (quiet 1) or off for the open case; with none, idle: nothing would be pushed
 * anyway; mid-report (no case yet): the question again. */
static void chat_quiet(struct chat_state *st, struct chat_outcome *out, int quiet)
{
    if (!chat_following(st)) {
        if (st->step == CHAT_STEP_IDLE)
            chat_reply(out, CHAT_PROMPT_QUIET_NO_CASE);
        else
            chat_ask_again(st, out);
        return;
    }
    chat_details_done(st, out, quiet ? CHAT_PROMPT_QUIET_ON : CHAT_PROMPT_QUIET_OFF);
    out->action = CHAT_ACTION_QUIET;
    out->quiet = quiet;
}

static int chat_on_postback(const struct rules_table *rules, struct chat_state *st,
                            const struct line_event *ev, struct chat_outcome *out)
{
    const char *data = ev->postback_data != NULL ? ev->postback_data : "";
    (void)rules;

    if (strncmp(data, "ack=", 4) == 0)
        return 0; /* a team's accept button: the router's business, never a citizen's */
    if (strcmp(data, "cancel") == 0) {
        chat_cancel(st, out);
    } else if (strcmp(data, "status") == 0) {
        chat_status_last(st, out);
    } else if (strcmp(data, "talk") == 0) {
        return chat_talk_request(st, ev, out);
    } else if (strcmp(data, "quiet") == 0 || strcmp(data, "updates") == 0) {
        chat_quiet(st, out, strcmp(data, "quiet") == 0);
    } else if ((strcmp(data, "consent=yes") == 0 || strcmp(data, "consent=no") == 0) &&
               st->step == CHAT_STEP_CONSENT) {
        chat_consent(st, out, strcmp(data, "consent=yes") == 0);
    } else if (strcmp(data, "newreport") == 0 ||
               (strcmp(data, "report") == 0 && chat_following(st))) {
        chat_reset_report(st); /* the open case stays as it is; a new report begins */
        st->follow = 0;
        st->step = CHAT_STEP_CATEGORY;
        chat_reply(out, CHAT_PROMPT_ASK_CATEGORY);
    } else if (strcmp(data, "report") == 0) {
        chat_ask_again(st, out); /* idle: "What is happening?"; mid-way: the current question */
    } else if (strcmp(data, "choose") == 0) {
        st->category = INCIDENT_CATEGORY_NONE;
        st->step = CHAT_STEP_CATEGORY;
        chat_reply(out, CHAT_PROMPT_ASK_CATEGORY);
    } else if (strncmp(data, "cat=", 4) == 0) {
        int category = incident_category_parse(data + 4, strlen(data + 4));

        if (category == INCIDENT_CATEGORY_NONE || chat_following(st))
            chat_ask_again(st, out); /* unknown, or an old button of the report just filed */
        else
            return chat_category_chosen(st, ev, category, out);
    } else if (strcmp(data, "address") == 0 &&
               (st->step == CHAT_STEP_LOCATION || st->step == CHAT_STEP_ADDRESS)) {
        st->step = CHAT_STEP_ADDRESS;
        chat_reply(out, CHAT_PROMPT_ASK_ADDRESS);
    } else if (strcmp(data, "address") == 0 && chat_following(st)) {
        /* The old question's button, the case made meanwhile: the address typed next is a
         * note on it (the operators place the case). */
        chat_details_done(st, out, CHAT_PROMPT_ASK_ADDRESS);
    } else if (strcmp(data, "skip") == 0 && st->step == CHAT_STEP_DETAILS) {
        chat_details_done(st, out, CHAT_PROMPT_DETAILS_SKIPPED);
    } else {
        chat_ask_again(st, out); /* an old or unknown button: never an error */
    }
    return 0;
}

static int chat_on_location(struct chat_state *st, const struct line_event *ev,
                            struct chat_outcome *out)
{
    if (chat_location_valid(ev->lat, ev->lon) && chat_following(st)) {
        /* A new place for the open case: it moves there (and is routed from there when it
         * waited for one), with the place on its timeline. */
        struct incident *inc = &out->incident;
        char address[CHAT_ADDRESS_MAX + 1] = "";

        if (ev->address != NULL && text_utf8_valid(ev->address, strlen(ev->address)))
            chat_clean_copy(address, sizeof address, ev->address, strlen(ev->address), 0);
        inc->channel = INCIDENT_CHANNEL_LINE;
        inc->has_location = 1;
        inc->lat = ev->lat;
        inc->lon = ev->lon;
        if (address[0] != '\0' && (inc->address = text_dup(address)) == NULL) return -1;
        if ((out->note = chat_location_note(ev->lat, ev->lon, address)) == NULL) return -1;
        chat_details_done(st, out, CHAT_PROMPT_LOCATION_ADDED);
        out->action = CHAT_ACTION_LOCATE;
        return 0;
    }
    if (!chat_location_valid(ev->lat, ev->lon) || st->step == CHAT_STEP_DETAILS ||
        st->step == CHAT_STEP_CONSENT) {
        chat_ask_again(st, out); /* after the case: "anything else?" again, no second case */
        return 0;
    }
    st->has_location = 1;
    st->lat = ev->lat;
    st->lon = ev->lon;
    st->address[0] = '\0';
    if (ev->address != NULL && text_utf8_valid(ev->address, strlen(ev->address)))
        chat_clean_copy(st->address, sizeof(st->address), ev->address, strlen(ev->address), 0);
    switch (st->step) {
    case CHAT_STEP_IDLE:
    case CHAT_STEP_CATEGORY:
        st->step = CHAT_STEP_CATEGORY; /* kept; the category comes next */
        chat_reply(out, CHAT_PROMPT_ASK_CATEGORY);
        break;
    case CHAT_STEP_CONFIRM_CATEGORY:
        chat_ask_again(st, out);
        break;
    case CHAT_STEP_LOCATION:
    case CHAT_STEP_ADDRESS:
    case CHAT_STEP_DETAILS:
    case CHAT_STEP_CONSENT: /* not reached: following, the place went to the case above */
        return chat_create_case(st, ev, out);
    }
    return 0;
}

/* 1 when the folded text is meant as a tracking code: it parses (well or with a bad check
 * character) and either carries the "HM" prefix or has a digit, so that a nine-letter word
 * ("detention") is not taken for one; while the details or consent are asked, only with the
 * prefix. */
static int chat_code_attempt(const struct chat_state *st, const char *folded, size_t len,
                             enum track_code_result *result, char code[TRACK_CODE_SIZE])
{
    int prefix = len == 11 && folded[0] == 'h' && folded[1] == 'm';
    int digit = 0;

    *result = track_code_parse(folded, len, code);
    if (*result == TRACK_CODE_MALFORMED) return 0;
    for (size_t i = 0; i < len; i++)
        if (folded[i] >= '0' && folded[i] <= '9') digit = 1;
    if (st->step == CHAT_STEP_DETAILS || st->step == CHAT_STEP_CONSENT) return prefix;
    return prefix || digit;
}

static int chat_on_text(const struct rules_table *rules, struct chat_state *st,
                        const struct line_event *ev, struct chat_outcome *out)
{
    const char *text = ev->text;
    size_t len = strlen(text);
    size_t flen, core;
    char *folded;
    char code[TRACK_CODE_SIZE];
    enum track_code_result result;
    struct rules_guess guess = {.category = INCIDENT_OTHER};
    int category, chosen;
    int rc = 0;

    if (!text_utf8_valid(text, len)) {
        chat_ask_again(st, out);
        return 0;
    }
    folded = text_fold(text, len, &flen);
    if (folded == NULL) return -1;
    if (chat_code_attempt(st, folded, flen, &result, code)) {
        if (result == TRACK_CODE_OK) {
            out->action = CHAT_ACTION_STATUS;
            memcpy(out->tracking_code, code, sizeof(out->tracking_code));
        } else {
            chat_reply(out, CHAT_PROMPT_BAD_CODE);
        }
        goto done; /* a code says nothing about the language */
    }
    core = chat_cut_particles(folded, flen);
    chat_decide_lang(st, text, len, folded, core);
    if (rules != NULL && rules_guess_text(rules, text, len, &guess) != 0) {
        rc = -1;
        goto done;
    }
    /* The safety lines follow self-harm words, or a text the classifier reads as a mental-health
     * crisis even when unsure: three numbers too many cost nothing, one answer without them may
     * cost a life. */
    if (chat_word_inside(folded, flen, chat_words_self_harm) ||
        guess.category == INCIDENT_MENTAL_CRISIS)
        out->crisis = 1;
    if (chat_says(folded, flen, core, chat_words_cancel)) {
        chat_cancel(st, out);
        goto done;
    }
    if (chat_says(folded, flen, core, chat_words_status)) {
        chat_status_last(st, out);
        goto done;
    }
    if (chat_says(folded, flen, core, chat_words_talk)) {
        rc = chat_talk_request(st, ev, out);
        goto done;
    }
    if (chat_says(folded, flen, core, chat_words_quiet) ||
        chat_says(folded, flen, core, chat_words_updates)) {
        chat_quiet(st, out, chat_says(folded, flen, core, chat_words_quiet));
        goto done;
    }
    if (st->step == CHAT_STEP_CONSENT) {
        if (chat_says(folded, flen, core, chat_words_disagree) ||
            chat_says(folded, flen, core, chat_words_no)) {
            chat_consent(st, out, 0);
            goto done;
        }
        if (chat_says(folded, flen, core, chat_words_agree) ||
            chat_says(folded, flen, core, chat_words_yes)) {
            chat_consent(st, out, 1);
            goto done;
        }
        st->step = CHAT_STEP_IDLE; /* not an answer: asked once; what was said goes to the case */
    }
    if (st->step == CHAT_STEP_IDLE && chat_following(st) && core > 0) {
        rc = chat_add_note(st, text, len, out); /* the open case hears it, no new report */
        goto done;
    }
    switch (st->step) {
    case CHAT_STEP_IDLE:
    case CHAT_STEP_CONSENT: /* not reached: made idle above */
    case CHAT_STEP_CATEGORY:
        if ((chosen = chat_category_text(rules, st, ev, folded, flen, core, &guess, &category,
                                         out)) != 0) {
            rc = chosen < 0 ? -1 : 0;
            break;
        }
        if (chat_is_emergency(category)) {
            chat_preselect(st, category, text, len, out);
            break;
        }
        /* Not sure which: all five are asked; a story that reads like an emergency is kept, so
         * that the reporter need not tell it twice. */
        if (chat_is_emergency(guess.category)) chat_keep_story(st, text, len);
        chat_ask_again(st, out);
        break;
    case CHAT_STEP_CONFIRM_CATEGORY:
        if (chat_says(folded, flen, core, chat_words_yes)) {
            rc = chat_category_chosen(st, ev, st->category, out);
            break;
        }
        if (chat_says(folded, flen, core, chat_words_no)) {
            st->category = INCIDENT_CATEGORY_NONE;
            st->step = CHAT_STEP_CATEGORY;
            chat_reply(out, CHAT_PROMPT_ASK_CATEGORY);
            break;
        }
        if ((chosen = chat_category_text(rules, st, ev, folded, flen, core, &guess, &category,
                                         out)) != 0) {
            rc = chosen < 0 ? -1 : 0;
            break;
        }
        if (chat_is_emergency(category))
            st->category = category; /* a better guess; the first text stays the description */
        chat_ask_again(st, out);
        break;
    case CHAT_STEP_LOCATION:
        chat_ask_again(st, out); /* the location button, or "type the address", will do */
        break;
    case CHAT_STEP_ADDRESS:
        /* The address as typed: the case will have no coordinates, the operators place it. */
        if (core == 0) {
            chat_ask_again(st, out);
            break;
        }
        chat_clean_copy(st->address, sizeof st->address, text, len, 0);
        rc = chat_create_case(st, ev, out);
        break;
    case CHAT_STEP_DETAILS:
        if (core == 0 || chat_says(folded, flen, core, chat_words_skip)) {
            chat_details_done(st, out, CHAT_PROMPT_DETAILS_SKIPPED);
        } else {
            rc = chat_add_note(st, text, len, out);
        }
        break;
    }
done:
    free(folded);
    return rc;
}

/* An image, video, audio or file: a note "[image] id …" on the open case; with none, "received"
 * and the question (no report in progress: "What is happening?"). -1 when memory runs out. */
static int chat_on_media(struct chat_state *st, const struct line_event *ev,
                         struct chat_outcome *out)
{
    const char *kind = chat_media_kinds[ev->message - LINE_MESSAGE_IMAGE];
    struct text_buf b = {0};
    char *note;

    if (!chat_following(st)) {
        chat_ask_again(st, out);
        out->received = 1;
        return 0;
    }
    text_buf_add(&b, kind);
    if (ev->message_id[0] != '\0') {
        text_buf_add(&b, " id ");
        text_buf_add(&b, ev->message_id);
    }
    note = text_buf_take(&b);
    if (note == NULL) return -1;
    chat_follow_note(st, note, out);
    return 0;
}

static int chat_step_event(const struct rules_table *rules, struct chat_state *st,
                           const struct line_event *ev, struct chat_outcome *out)
{
    if (ev->standby || ev->source == LINE_SOURCE_GROUP || ev->source == LINE_SOURCE_ROOM) return 0;
    switch (ev->type) {
    case LINE_EVENT_FOLLOW:
        chat_reset_report(st);
        chat_reply(out, CHAT_PROMPT_GREETING);
        return 0;
    case LINE_EVENT_UNFOLLOW:
        chat_state_init(st);
        return 0;
    case LINE_EVENT_POSTBACK:
        return chat_on_postback(rules, st, ev, out);
    case LINE_EVENT_MESSAGE:
        if (ev->message == LINE_MESSAGE_TEXT && ev->text != NULL)
            return chat_on_text(rules, st, ev, out);
        if (ev->message == LINE_MESSAGE_LOCATION && ev->has_location)
            return chat_on_location(st, ev, out);
        if (ev->message >= LINE_MESSAGE_IMAGE && ev->message <= LINE_MESSAGE_FILE)
            return chat_on_media(st, ev, out);
        chat_ask_again(st, out); /* a sticker…: the question again */
        return 0;
    case LINE_EVENT_OTHER:
        break;
    }
    return 0;
}

int chat_handle(const struct rules_table *rules, struct chat_state *state,
                const struct line_event *event, struct chat_outcome *out)
{
    struct chat_state *next;

    if (out == NULL) return -1;
    memset(out, 0, sizeof(*out));
    out->category = INCIDENT_CATEGORY_NONE;
    out->incident.category = INCIDENT_CATEGORY_NONE;
    if (state == NULL || event == NULL) return -1;
    /* Work on a copy so that running out of memory leaves the state as it was. */
    next = malloc(sizeof(*next));
    if (next == NULL) return -1;
    *next = *state;
    if (chat_step_event(rules, next, event, out) != 0) {
        free(next);
        chat_outcome_clear(out);
        out->category = INCIDENT_CATEGORY_NONE;
        return -1;
    }
    out->lang = next->lang;
    if (next->step != CHAT_STEP_IDLE && next->category == INCIDENT_MENTAL_CRISIS) out->crisis = 1;
    *state = *next;
    free(next);
    return 0;
}

int chat_talk(const struct line_event *ev, struct chat_outcome *out)
{
    const char *fixed = NULL;

    if (out == NULL) return -1;
    memset(out, 0, sizeof(*out));
    out->category = INCIDENT_CATEGORY_NONE;
    out->incident.category = INCIDENT_CATEGORY_NONE;
    if (ev == NULL) return -1;
    if (ev->type != LINE_EVENT_MESSAGE) return 0; /* old buttons, follow, unfollow */
    if (ev->message == LINE_MESSAGE_TEXT && ev->text != NULL) {
        size_t len = strlen(ev->text);

        if (!text_utf8_valid(ev->text, len)) return 0;
        if ((out->note = malloc(len + 1)) == NULL) return -1;
        if (chat_clean_copy(out->note, len + 1, ev->text, len, 1) == 0) {
            free(out->note);
            out->note = NULL;
            return 0;
        }
    } else if (ev->message == LINE_MESSAGE_LOCATION && ev->has_location &&
               chat_location_valid(ev->lat, ev->lon)) {
        char address[CHAT_ADDRESS_MAX + 1] = "";

        if (ev->address != NULL && text_utf8_valid(ev->address, strlen(ev->address)))
            chat_clean_copy(address, sizeof address, ev->address, strlen(ev->address), 0);
        if ((out->note = chat_location_note(ev->lat, ev->lon, address)) == NULL) return -1;
    } else if (ev->message >= LINE_MESSAGE_IMAGE && ev->message <= LINE_MESSAGE_FILE) {
        fixed = chat_media_kinds[ev->message - LINE_MESSAGE_IMAGE];
    } else if (ev->message == LINE_MESSAGE_STICKER) {
        fixed = "[sticker]";
    } else {
        return 0;
    }
    if (fixed != NULL && (out->note = text_dup(fixed)) == NULL) return -1;
    out->action = CHAT_ACTION_TALK;
    return 0;
}

void chat_outcome_clear(struct chat_outcome *out)
{
    if (out == NULL) return;
    incident_clear(&out->incident);
    free(out->note);
    memset(out, 0, sizeof(*out));
    out->category = INCIDENT_CATEGORY_NONE;
    out->incident.category = INCIDENT_CATEGORY_NONE;
}

/* ---- the state as JSON ---- */

char *chat_state_to_json(const struct chat_state *state)
{
    cJSON *root;
    char *json = NULL;
    const char *category;
    const char *step = "idle";
    int ok;

    if (state == NULL) return NULL;
    /* A step out of range is written as "idle"; reading it back then gives a fresh state
     * unless nothing else was in progress. */
    if ((unsigned)state->step < sizeof(chat_step_codes) / sizeof(chat_step_codes[0]))
        step = chat_step_codes[state->step];
    root = cJSON_CreateObject();
    if (root == NULL) return NULL;
    ok = cJSON_AddNumberToObject(root, "v", CHAT_STATE_VERSION) != NULL &&
         cJSON_AddStringToObject(root, "step", step) != NULL &&
         cJSON_AddStringToObject(root, "lang", state->lang == CHAT_LANG_EN ? "en" : "th") != NULL;
    if (ok && state->lang_known) ok = cJSON_AddTrueToObject(root, "lang_known") != NULL;
    category = incident_category_code(state->category);
    if (ok && category != NULL) ok = cJSON_AddStringToObject(root, "category", category) != NULL;
    if (ok && state->has_location) {
        cJSON *loc = cJSON_AddObjectToObject(root, "location");

        ok = loc != NULL && cJSON_AddNumberToObject(loc, "lat", state->lat) != NULL &&
             cJSON_AddNumberToObject(loc, "lon", state->lon) != NULL &&
             (state->address[0] == '\0' ||
              cJSON_AddStringToObject(loc, "address", state->address) != NULL);
    }
    if (ok && !state->has_location && state->address[0] != '\0') /* typed, no coordinates */
        ok = cJSON_AddStringToObject(root, "address", state->address) != NULL;
    if (ok && state->description[0] != '\0')
        ok = cJSON_AddStringToObject(root, "description", state->description) != NULL;
    if (ok && state->last_tracking_code[0] != '\0')
        ok = cJSON_AddStringToObject(root, "last_tracking_code", state->last_tracking_code) != NULL;
    if (ok && state->report_id[0] != '\0')
        ok = cJSON_AddStringToObject(root, "report_id", state->report_id) != NULL;
    if (ok && state->follow && state->last_tracking_code[0] != '\0')
        ok = cJSON_AddTrueToObject(root, "follow") != NULL;
    if (ok) json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}

/* Copies the string member name of obj into dst (cap bytes) when present. Returns 0 (absent,
 * null or copied), -1 when it is given twice, not a string, not valid UTF-8 or longer than
 * cap - 1 bytes (json_text). */
static int chat_json_string(const cJSON *obj, const char *name, char *dst, size_t cap)
{
    const char *s;
    size_t n;

    if (json_text(obj, name, cap - 1, &s, &n) != 0) return -1;
    if (s != NULL) memcpy(dst, s, n + 1);
    return 0;
}

/* Reads root into st (initialised by the caller). 0, or -1 when anything is malformed. */
static int chat_state_read(const cJSON *root, struct chat_state *st)
{
    char word[32] = "";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(root, "location");
    const cJSON *known = cJSON_GetObjectItemCaseSensitive(root, "lang_known");
    const cJSON *follow = cJSON_GetObjectItemCaseSensitive(root, "follow");
    char code[TRACK_CODE_SIZE];

    if (!cJSON_IsObject(root)) return -1;
    if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble != CHAT_STATE_VERSION)) return -1;
    if (chat_json_string(root, "step", word, sizeof(word)) != 0) return -1;
    if (word[0] != '\0') {
        size_t i = 0;

        while (i < sizeof(chat_step_codes) / sizeof(chat_step_codes[0]) &&
               strcmp(word, chat_step_codes[i]) != 0)
            i++;
        if (i == sizeof(chat_step_codes) / sizeof(chat_step_codes[0])) return -1;
        st->step = (enum chat_step)i;
    }
    word[0] = '\0';
    if (chat_json_string(root, "lang", word, sizeof(word)) != 0) return -1;
    if (strcmp(word, "en") == 0)
        st->lang = CHAT_LANG_EN;
    else if (word[0] != '\0' && strcmp(word, "th") != 0)
        return -1;
    if (known != NULL && !cJSON_IsBool(known)) return -1;
    st->lang_known = cJSON_IsTrue(known);
    if (follow != NULL && !cJSON_IsBool(follow)) return -1;
    st->follow = cJSON_IsTrue(follow);
    word[0] = '\0';
    if (chat_json_string(root, "category", word, sizeof(word)) != 0) return -1;
    if (word[0] != '\0' &&
        (st->category = incident_category_parse(word, strlen(word))) == INCIDENT_CATEGORY_NONE)
        return -1;
    if (loc != NULL) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(loc, "lat");
        const cJSON *lon = cJSON_GetObjectItemCaseSensitive(loc, "lon");

        if (!cJSON_IsObject(loc) || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) ||
            !chat_location_valid(lat->valuedouble, lon->valuedouble))
            return -1;
        st->has_location = 1;
        st->lat = lat->valuedouble;
        st->lon = lon->valuedouble;
        if (chat_json_string(loc, "address", st->address, sizeof(st->address)) != 0) return -1;
    } else if (chat_json_string(root, "address", st->address, sizeof(st->address)) != 0) {
        return -1;
    }
    if (chat_json_string(root, "description", st->description, sizeof(st->description)) != 0)
        return -1;
    word[0] = '\0';
    if (chat_json_string(root, "last_tracking_code", word, sizeof(word)) != 0) return -1;
    if (word[0] != '\0') {
        if (track_code_parse(word, strlen(word), code) != TRACK_CODE_OK) return -1;
        memcpy(st->last_tracking_code, code, sizeof(code));
    }
    if (chat_json_string(root, "report_id", st->report_id, sizeof(st->report_id)) != 0 ||
        strspn(st->report_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            strlen(st->report_id))
        return -1;
    if (st->follow && st->last_tracking_code[0] == '\0') return -1;
    /* Each step needs what came before it. */
    switch (st->step) {
    case CHAT_STEP_IDLE:
        return st->category == INCIDENT_CATEGORY_NONE && !st->has_location &&
                       st->description[0] == '\0'
                   ? 0
                   : -1;
    case CHAT_STEP_CATEGORY:
        return st->category == INCIDENT_CATEGORY_NONE ? 0 : -1;
    case CHAT_STEP_CONFIRM_CATEGORY:
        return chat_is_emergency(st->category) ? 0 : -1;
    case CHAT_STEP_LOCATION:
    case CHAT_STEP_ADDRESS:
        return st->category != INCIDENT_CATEGORY_NONE ? 0 : -1;
    case CHAT_STEP_DETAILS: /* after the case: its code, and no report content */
    case CHAT_STEP_CONSENT:
        return st->last_tracking_code[0] != '\0' && st->category == INCIDENT_CATEGORY_NONE &&
                       !st->has_location && st->address[0] == '\0' && st->description[0] == '\0'
                   ? 0
                   : -1;
    }
    return -1;
}

int chat_state_from_json(const char *json, size_t len, struct chat_state *state)
{
    struct chat_state *st;
    cJSON *root = NULL;
    int rc = -1;

    if (state == NULL) return -1;
    chat_state_init(state);
    if (json == NULL || len == 0 || len > CHAT_STATE_MAX_JSON) return -1;
    st = malloc(sizeof(*st));
    if (st == NULL) return -1;
    chat_state_init(st);
    /* A NUL, trailing bytes or deep nesting mean it was not ours. */
    if (json_parse_object(json, len, CHAT_STATE_MAX_DEPTH, 0, &root) == JSON_PARSE_OK &&
        chat_state_read(root, st) == 0) {
        *state = *st;
        rc = 0;
    }
    cJSON_Delete(root);
    free(st);
    return rc;
}
