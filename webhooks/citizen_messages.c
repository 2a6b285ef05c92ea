/* The citizen's LINE messages (webhooks/citizen_messages.h): each prompt of the conversation,
 * the tracking code, status answers and progress pushes, in Thai (polite, ค่ะ) or English. Pure:
 * no I/O. */
#include "citizen_messages.h"

#include "incident.h"
#include "line_messages.h"
#include "rules.h"
#include "text.h"
#include "words.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CITIZEN_NAME_MAX 100 /* a team name as shown (ours, not LINE's) */

/* The label for a button: the table's when it fits LINE's 20 characters, else the short form. */
static const char *citizen_button_label(const struct rules_table *rules, int category,
                                        enum chat_lang lang)
{
    const char *label = words_category_chat_label(rules, category, lang);

    if (text_utf16_units(label, strlen(label)) <= LINE_MSG_LABEL_MAX) return label;
    return words_category_short(category, lang);
}

static const struct {
    const char *code, *th, *en;
} citizen_status_words[] = {
    {"received", "รับแจ้งแล้ว", "Received"},
    {"queued", "เจ้าหน้าที่กำลังหาความช่วยเหลือให้คุณ", "An operator is finding help for you"},
    {"assigned", "ส่งต่อให้ทีมช่วยเหลือแล้ว", "Passed to a team"},
    {"reassigned", "กำลังส่งต่อให้ทีมอื่น", "Passed to another team"},
    {"acknowledged", "ทีมรับเรื่องแล้ว", "Accepted by the team"},
    {"en_route", "ทีมกำลังเดินทางไป", "Team on the way"},
    {"on_scene", "ทีมถึงที่เกิดเหตุแล้ว", "Team on scene"},
    {"resolved", "ช่วยเหลือเรียบร้อยแล้ว", "Resolved"},
    {"closed", "ปิดเคสแล้ว", "Closed"},
};

static const char *citizen_status_word(const char *status, enum chat_lang lang)
{
    for (size_t i = 0; i < sizeof(citizen_status_words) / sizeof(citizen_status_words[0]); i++)
        if (status != NULL && strcmp(status, citizen_status_words[i].code) == 0)
            return WORDS_T(lang, citizen_status_words[i].th, citizen_status_words[i].en);
    return WORDS_T(lang, "กำลังดำเนินการ", "In progress");
}

/* The numbers that answer at once, for the first answer to a report and every answer about
 * suicide, self-harm or a mental-health crisis. */
static cJSON *citizen_safety_lines(enum chat_lang lang)
{
    return line_messages_text(WORDS_T(lang,
                                      "ถ้าตอนนี้ไม่ปลอดภัย หรืออยากคุยกับใครสักคน โทรได้ทันทีค่ะ\n"
                                      "191 ตำรวจ\n1300 ศูนย์ช่วยเหลือสังคม\n1323 สายด่วนสุขภาพจิต",
                                      "If you are not safe right now, or want to talk to someone, "
                                      "you can call at once:\n191 Police\n1300 Social help\n"
                                      "1323 Mental health"));
}

/* ---- the citizen's prompts ---- */

static cJSON *citizen_ask_category(const struct rules_table *rules, enum chat_lang lang)
{
    cJSON *m = line_messages_text(
        WORDS_T(lang, "เกิดอะไรขึ้นคะ? เลือกจากปุ่มด้านล่างได้เลยค่ะ", "What is happening? Choose below."));
    char data[32];

    for (int c = INCIDENT_THREAT; c < INCIDENT_CATEGORY_COUNT && m != NULL; c++) {
        snprintf(data, sizeof(data), "cat=%s", incident_category_code(c));
        /* No displayText: what LINE writes into the chat as the user's message would name the
         * category for anyone who reads the phone later. */
        if (line_messages_quick(
                m, line_messages_postback(citizen_button_label(rules, c, lang), data, "")) != 0) {
            cJSON_Delete(m);
            m = NULL;
        }
    }
    if (m != NULL &&
        line_messages_quick(m, line_messages_postback(WORDS_T(lang, "ยกเลิก", "Cancel"), "cancel",
                                                      WORDS_T(lang, "ยกเลิก", "Cancel"))) != 0) {
        cJSON_Delete(m);
        m = NULL;
    }
    return m;
}

static cJSON *citizen_confirm(const struct rules_table *rules, enum chat_lang lang, int category)
{
    struct text_buf b = {0};
    char data[32];
    char *text;
    cJSON *m;

    text_buf_add(&b, WORDS_T(lang, "ฟังดูเหมือนเรื่อง “", "It sounds like “"));
    text_buf_add(&b, words_category_chat_label(rules, category, lang));
    text_buf_add(&b, WORDS_T(lang, "” ใช่ไหมคะ?", "”. Is that right?"));
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    snprintf(data, sizeof(data), "cat=%s", incident_category_code(category));
    if (line_messages_quick(m, line_messages_postback(WORDS_T(lang, "ใช่", "Yes"), data,
                                                      WORDS_T(lang, "ใช่", "Yes"))) != 0 ||
        line_messages_quick(
            m, line_messages_postback(WORDS_T(lang, "เลือกประเภทอื่น", "Choose another"), "choose",
                                      WORDS_T(lang, "เลือกประเภทอื่น", "Choose another"))) != 0 ||
        line_messages_quick(m, line_messages_postback(WORDS_T(lang, "ยกเลิก", "Cancel"), "cancel",
                                                      WORDS_T(lang, "ยกเลิก", "Cancel"))) != 0) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* A text with up to two postback buttons (label == NULL: none) and, when with_location, the
 * location action first. The label is also the displayText. */
static cJSON *citizen_prompt(const char *text, int with_location, const char *location_label,
                             const char *label1, const char *data1, const char *label2,
                             const char *data2)
{
    cJSON *m = line_messages_text(text);

    if (m == NULL) return NULL;
    if ((with_location &&
         line_messages_quick(m, line_messages_location_action(location_label)) != 0) ||
        (label1 != NULL &&
         line_messages_quick(m, line_messages_postback(label1, data1, label1)) != 0) ||
        (label2 != NULL &&
         line_messages_quick(m, line_messages_postback(label2, data2, label2)) != 0)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* Appends a postback quick reply (label, data, displayText display) to m; NULL (m freed) when
 * memory runs out, or m is NULL. */
static cJSON *citizen_add_quick(cJSON *m, const char *label, const char *data, const char *display)
{
    if (m != NULL && line_messages_quick(m, line_messages_postback(label, data, display)) != 0) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* Appends the "talk to a person" quick reply (postback "talk") to m; NULL (m freed) when memory
 * runs out. */
static cJSON *citizen_add_talk(enum chat_lang lang, cJSON *m)
{
    const char *talk = WORDS_T(lang, "คุยกับเจ้าหน้าที่", "Talk to a person");

    return citizen_add_quick(m, talk, "talk", talk);
}

/* "เรื่องที่คุณแจ้ง {code}: " / "Your report {code}: " (the status answers' prefix; none without a
 * code) then words: a text message without buttons. NULL when memory runs out. */
static cJSON *citizen_case_text(enum chat_lang lang, const char *tracking_code, const char *words)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    cJSON *m;
    char *text;

    words_code(tracking_code, code);
    if (code[0] != '\0') {
        text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
        text_buf_add(&b, code);
        text_buf_add(&b, ": ");
    }
    text_buf_add(&b, words);
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return m;
}

/* The answer once "anything else?" ends (citizen_case_text), with a status button. */
static cJSON *citizen_after_details(enum chat_lang lang, const char *tracking_code,
                                    const char *words, int new_report)
{
    const char *status = WORDS_T(lang, "ดูสถานะ", "Check status");
    const char *report = WORDS_T(lang, "แจ้งเหตุใหม่", "New report");
    cJSON *m =
        citizen_add_quick(citizen_case_text(lang, tracking_code, words), status, "status", status);

    if (new_report) m = citizen_add_quick(m, report, "newreport", report);
    return citizen_add_talk(lang, m);
}

/* ---- consent and quiet updates ---- */

/* The quick replies "สถานะ" / "Status" (postback status) and, by quiet, "ไม่ต้องแจ้ง (เงียบ)" /
 * "Quiet: no updates" (postback quiet, saying "ไม่ต้องแจ้งความคืบหน้า (เงียบ)" in the chat: the
 * label has LINE's 20 characters) or "แจ้งต่อ" / "Updates on" (postback updates), on m. */
static cJSON *citizen_add_status(enum chat_lang lang, cJSON *m)
{
    const char *status = WORDS_T(lang, "สถานะ", "Status");

    return citizen_add_quick(m, status, "status", status);
}

static cJSON *citizen_add_quiet(enum chat_lang lang, cJSON *m, int quiet)
{
    const char *on = WORDS_T(lang, "แจ้งต่อ", "Updates on");

    if (!quiet) return citizen_add_quick(m, on, "updates", on);
    return citizen_add_quick(m, WORDS_T(lang, "ไม่ต้องแจ้ง (เงียบ)", "Quiet: no updates"), "quiet",
                             WORDS_T(lang, "ไม่ต้องแจ้งความคืบหน้า (เงียบ)", "Quiet: no updates"));
}

/* Asked once, after "anything else?": may the agencies that help see the reporter's details?
 * Two quick replies, postbacks consent=yes and consent=no. */
static cJSON *citizen_consent_question(enum chat_lang lang)
{
    const char *yes = WORDS_T(lang, "ยินยอม", "Agree");
    const char *no = WORDS_T(lang, "ไม่ยินยอม", "Do not agree");
    cJSON *m = line_messages_text(
        WORDS_T(lang,
                "อีกหนึ่งคำถามค่ะ หน่วยงานที่ช่วยเหลือดูชื่อและข้อมูลติดต่อของคุณได้ไหมคะ "
                "(เพื่อไม่ต้องเล่าซ้ำ) ตอบแบบไหนก็ได้ เราช่วยคุณเหมือนเดิมค่ะ",
                "One more question: may the agencies that help see your name and contact "
                "details (so that you need not tell it all again)? Whatever you answer, we help "
                "you just the same."));

    return citizen_add_quick(citizen_add_quick(m, yes, "consent=yes", yes), no, "consent=no", no);
}

/* The closing line once the consent answer is recorded (share: 1 agreed), with the status, talk
 * and quiet buttons. */
static cJSON *citizen_consent_recorded(enum chat_lang lang, const char *tracking_code, int share)
{
    struct text_buf b = {0};
    cJSON *m;
    char *text;

    text_buf_add(&b, share ? WORDS_T(lang,
                                     "ขอบคุณค่ะ หน่วยงานที่ช่วยเหลือจะเห็นชื่อและข้อมูลติดต่อของคุณ "
                                     "คุณจะได้ไม่ต้องเล่าซ้ำค่ะ ",
                                     "thank you. The agencies that help will see your name and "
                                     "contact details, so you need not tell it all again. ")
                           : WORDS_T(lang,
                                     "ได้ค่ะ ชื่อและข้อมูลติดต่อของคุณจะอยู่กับเจ้าหน้าที่และทีมที่ไปช่วยคุณเท่านั้น "
                                     "ไม่ส่งต่อให้หน่วยงานอื่นค่ะ ",
                                     "understood. Your name and contact details stay with our "
                                     "operators and the team helping you; we pass them to no "
                                     "agency besides. "));
    text_buf_add(&b, WORDS_T(lang,
                             "เจ้าหน้าที่ดูแลเรื่องนี้อยู่ ส่งข้อความมาที่นี่ได้ตลอดนะคะ "
                             "ถ้าไม่อยากให้ส่งข้อความแจ้งความคืบหน้ามา กด “ไม่ต้องแจ้ง (เงียบ)” ได้ค่ะ",
                             "Our operators are looking after it; you can message us here at any "
                             "time. If you would rather we sent you no updates, tap “Quiet: no "
                             "updates”."));
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = citizen_case_text(lang, tracking_code, text);
    free(text);
    m = citizen_add_talk(lang, citizen_add_status(lang, m));
    return citizen_add_quiet(lang, m, 1);
}

cJSON *citizen_messages(const struct rules_table *rules, const struct chat_outcome *outcome)
{
    enum chat_lang lang;
    const char *cancel;
    cJSON *m = NULL;

    if (outcome == NULL) return NULL;
    lang = outcome->lang == CHAT_LANG_EN ? CHAT_LANG_EN : CHAT_LANG_TH;
    cancel = WORDS_T(lang, "ยกเลิก", "Cancel");
    switch (outcome->prompt) {
    case CHAT_PROMPT_NONE:
    case CHAT_PROMPT_COUNT:
        return NULL;
    case CHAT_PROMPT_GREETING:
        /* The first words anyone reads, before we know their language: both. */
        m = citizen_prompt("สวัสดีค่ะ ที่นี่ ESS Help Me รับแจ้งเหตุฉุกเฉินทางสังคมค่ะ "
                           "กดปุ่ม “แจ้งเหตุ” หรือพิมพ์เล่าสั้น ๆ ว่าเกิดอะไรขึ้นได้เลยค่ะ\n\n"
                           "Hello, this is ESS Help Me. To report a social emergency, tap "
                           "“Report” or tell us in a few words what is happening.",
                           0, NULL, "แจ้งเหตุ / Report", "report", "สถานะ / Status", "status");
        break;
    case CHAT_PROMPT_ASK_CATEGORY:
        m = citizen_ask_category(rules, lang);
        break;
    case CHAT_PROMPT_CONFIRM_CATEGORY:
        if (words_category_valid(outcome->category))
            m = citizen_confirm(rules, lang, outcome->category);
        else
            m = citizen_ask_category(rules, lang);
        break;
    case CHAT_PROMPT_ASK_LOCATION:
        m = citizen_prompt(WORDS_T(lang, "คุณอยู่ที่ไหนคะ? กดปุ่ม “ส่งตำแหน่ง” ด้านล่างค่ะ",
                                   "Where are you? Tap “Send location” below."),
                           1, WORDS_T(lang, "ส่งตำแหน่ง", "Send location"),
                           WORDS_T(lang, "พิมพ์ที่อยู่แทน", "Type the address"), "address", cancel,
                           "cancel");
        break;
    case CHAT_PROMPT_ASK_ADDRESS:
        m = citizen_prompt(WORDS_T(lang,
                                   "พิมพ์ที่อยู่ หรือสถานที่ใกล้ ๆ ที่คุณอยู่ได้เลยค่ะ "
                                   "เจ้าหน้าที่จะช่วยหาตำแหน่งและส่งทีมไปค่ะ",
                                   "Type the address, or a place near you. Our operators will find "
                                   "it and send a team."),
                           1, WORDS_T(lang, "ส่งตำแหน่ง", "Send location"), cancel, "cancel", NULL,
                           NULL);
        break;
    case CHAT_PROMPT_ASK_DETAILS:
        m = citizen_prompt(WORDS_T(lang, "มีอะไรที่เราควรรู้เพิ่มไหมคะ? พิมพ์สั้น ๆ หนึ่งประโยค หรือกด “ข้าม” ค่ะ",
                                   "Anything else we should know? Type a sentence, or skip."),
                           0, NULL, WORDS_T(lang, "ข้าม", "Skip"), "skip", cancel, "cancel");
        m = citizen_add_talk(lang, m);
        break;
    case CHAT_PROMPT_CANCELLED:
        m = citizen_prompt(WORDS_T(lang,
                                   "ยกเลิกการแจ้งเหตุแล้วค่ะ ถ้าต้องการความช่วยเหลือ ส่งข้อความมาได้ทุกเมื่อค่ะ",
                                   "Report cancelled. Message us any time you need help."),
                           0, NULL, WORDS_T(lang, "แจ้งเหตุ", "Report"), "report", NULL, NULL);
        break;
    case CHAT_PROMPT_NO_CASE:
        m = citizen_prompt(WORDS_T(lang,
                                   "ยังไม่พบเคสที่คุณแจ้งไว้ค่ะ ถ้ามีรหัสติดตาม (เช่น HM-7K3-Q9X-TD8) "
                                   "พิมพ์ส่งมาได้เลยค่ะ",
                                   "We have no report from you yet. If you have a tracking code "
                                   "(like HM-7K3-Q9X-TD8), send it here."),
                           0, NULL, WORDS_T(lang, "แจ้งเหตุ", "Report"), "report", NULL, NULL);
        break;
    case CHAT_PROMPT_NOTE_ADDED:
        m = citizen_after_details(
            lang, outcome->tracking_code,
            WORDS_T(lang, "เพิ่มข้อมูลนี้ให้แล้วค่ะ ขอบคุณค่ะ", "we added this. Thank you."), 1);
        break;
    case CHAT_PROMPT_LOCATION_ADDED:
        m = citizen_after_details(lang, outcome->tracking_code,
                                  WORDS_T(lang, "ได้รับตำแหน่งของคุณแล้ว เพิ่มไว้ในเรื่องนี้แล้วค่ะ ขอบคุณค่ะ",
                                          "we have your location and added it. Thank you."),
                                  1);
        break;
    case CHAT_PROMPT_DETAILS_SKIPPED:
        m = citizen_after_details(lang, outcome->tracking_code,
                                  WORDS_T(lang,
                                          "ขอบคุณค่ะ เจ้าหน้าที่ดูแลเรื่องนี้อยู่ "
                                          "ส่งข้อความมาที่นี่ได้ตลอดนะคะ",
                                          "thank you. Our operators are looking after it. You can "
                                          "message us here at any time."),
                                  1);
        break;
    case CHAT_PROMPT_CONSENT_RECORDED:
        m = citizen_consent_recorded(lang, outcome->tracking_code, outcome->consent);
        break;
    case CHAT_PROMPT_QUIET_ON:
        m = citizen_add_quiet(
            lang,
            citizen_add_status(
                lang,
                citizen_case_text(lang, outcome->tracking_code,
                                  WORDS_T(lang,
                                          "ได้ค่ะ จะไม่ส่งข้อความแจ้งความคืบหน้ามาอีก ถ้าอยากรู้ "
                                          "พิมพ์ “สถานะ” ได้ทุกเมื่อค่ะ ถ้าอยากให้แจ้งอีก พิมพ์ “แจ้งต่อ” ค่ะ",
                                          "we will send you no more updates. To know how it is "
                                          "going, send “status” at any time; to have updates "
                                          "again, send “updates on”."))),
            0);
        break;
    case CHAT_PROMPT_QUIET_OFF:
        m = citizen_add_quiet(
            lang,
            citizen_add_status(
                lang, citizen_case_text(lang, outcome->tracking_code,
                                        WORDS_T(lang, "ได้ค่ะ จะส่งข้อความแจ้งความคืบหน้าให้อีกครั้งค่ะ",
                                                "we will send you updates "
                                                "again."))),
            1);
        break;
    case CHAT_PROMPT_QUIET_NO_CASE:
        m = line_messages_text(WORDS_T(lang,
                                       "ตอนนี้ไม่มีเรื่องที่เปิดอยู่ค่ะ จึงไม่มีข้อความแจ้งความคืบหน้าส่งมา "
                                       "ถ้าต้องการความช่วยเหลือ ส่งข้อความมาได้ทุกเมื่อค่ะ",
                                       "You have no open report, so no updates will come. Message "
                                       "us any time you need help."));
        break;
    case CHAT_PROMPT_BAD_CODE:
        m = line_messages_text(WORDS_T(lang,
                                       "รหัสติดตามนี้ไม่ถูกต้องค่ะ อาจพิมพ์ผิด ลองตรวจสอบแล้วส่งใหม่อีกครั้งนะคะ",
                                       "That tracking code is not right: there may be a typo. "
                                       "Please check it and send it again."));
        break;
    }
    {
        /* The safety lines and "received" first, so that the question and its buttons stay
         * last, where LINE shows them; the consent question, when asked, is that last one. */
        cJSON *all[4];
        int n = 0;

        if (outcome->crisis) all[n++] = citizen_safety_lines(lang);
        if (outcome->received)
            all[n++] = line_messages_text(WORDS_T(lang, "ได้รับแล้วค่ะ", "Received, thank you."));
        if (outcome->ask_consent && m != NULL)
            cJSON_DeleteItemFromObjectCaseSensitive(m, "quickReply");
        all[n++] = m;
        if (outcome->ask_consent) all[n++] = citizen_consent_question(lang);
        return line_messages_array(all, (size_t)n);
    }
}

/* Appends the e-Tracking link of code ("\n<words> {public_url}/track/{code}", ?lang=en in
 * English) when public_url is an http(s) URL; nothing otherwise. */
static void citizen_add_link(struct text_buf *b, enum chat_lang lang, const char *public_url,
                             const char *code)
{
    if (public_url == NULL ||
        (strncmp(public_url, "https://", 8) != 0 && strncmp(public_url, "http://", 7) != 0) ||
        strpbrk(public_url, " \t\r\n") != NULL)
        return;
    text_buf_add(b, WORDS_T(lang, "\nดูความคืบหน้าได้ที่ ", "\nSee how it is going: "));
    text_buf_add(b, public_url);
    text_buf_add(b, "/track/");
    text_buf_add(b, code);
    if (lang == CHAT_LANG_EN) text_buf_add(b, "?lang=en");
}

cJSON *citizen_messages_created(enum chat_lang lang, const char *tracking_code,
                                const char *team_name, const char *public_url)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CITIZEN_NAME_MAX * 4 + 1];
    cJSON *m[3];
    char *text;

    words_code(tracking_code, code);
    line_messages_clip(team, sizeof(team), team_name, CITIZEN_NAME_MAX);
    if (code[0] == '\0') return NULL;
    text_buf_add(&b, WORDS_T(lang, "รับแจ้งเหตุแล้วค่ะ รหัสติดตามของคุณคือ ",
                             "We have your report. Your tracking code is "));
    text_buf_add(&b, code);
    text_buf_add(&b, "\n");
    if (team[0] != '\0') {
        /* Not yet "on the way": the team has not accepted the case. */
        text_buf_add(&b, WORDS_T(lang, "ส่งต่อเรื่องของคุณให้ “", "Your report has been passed to “"));
        text_buf_add(&b, team);
        text_buf_add(&b, WORDS_T(lang, "” แล้วค่ะ", "”."));
    } else {
        text_buf_add(&b, WORDS_T(lang, "เจ้าหน้าที่กำลังหาทีมที่อยู่ใกล้ที่สุดให้ค่ะ",
                                 "Our operators are finding the nearest team."));
    }
    text_buf_add(&b, WORDS_T(lang, "\nส่งรหัสนี้มาได้ทุกเมื่อเพื่อดูสถานะค่ะ",
                             "\nSend this code any time to check the status."));
    citizen_add_link(&b, lang, public_url, code);
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m[0] = line_messages_text(text);
    free(text);
    m[1] = citizen_safety_lines(lang);
    /* The code alone, easy to copy, with a button for later. */
    m[2] = line_messages_text(code);
    if (m[2] != NULL &&
        line_messages_quick(
            m[2], line_messages_postback(WORDS_T(lang, "ดูสถานะ", "Check status"), "status",
                                         WORDS_T(lang, "ดูสถานะ", "Check status"))) != 0) {
        cJSON_Delete(m[2]);
        m[2] = NULL;
    }
    return line_messages_array(m, 3);
}

cJSON *citizen_messages_created_ask(const struct rules_table *rules, enum chat_lang lang,
                                    const char *tracking_code, const char *team_name,
                                    const char *public_url)
{
    struct chat_outcome ask = {
        .action = CHAT_ACTION_REPLY, .prompt = CHAT_PROMPT_ASK_DETAILS, .lang = lang};
    cJSON *all = citizen_messages_created(lang, tracking_code, team_name, public_url);
    cJSON *more = citizen_messages(rules, &ask);
    cJSON *m;

    if (all == NULL || more == NULL) goto fail;
    /* LINE shows the quick replies of the last message only: the question's. */
    cJSON_ArrayForEach (m, all) {
        cJSON_DeleteItemFromObjectCaseSensitive(m, "quickReply");
    }
    while ((m = cJSON_DetachItemFromArray(more, 0)) != NULL)
        if (!cJSON_AddItemToArray(all, m)) {
            cJSON_Delete(m);
            goto fail;
        }
    if (cJSON_GetArraySize(all) > LINE_MSG_MAX_MESSAGES) goto fail;
    cJSON_Delete(more);
    return all;
fail:
    cJSON_Delete(all);
    cJSON_Delete(more);
    return NULL;
}

cJSON *citizen_messages_status(enum chat_lang lang, int found, const char *tracking_code,
                               int category, const char *status, int64_t updated_at_ms,
                               const char *team_name)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CITIZEN_NAME_MAX * 4 + 1];
    char when[WORDS_WHEN_SIZE];
    cJSON *m[2];
    char *text;

    words_code(tracking_code, code);
    line_messages_clip(team, sizeof(team), team_name, CITIZEN_NAME_MAX);
    if (!found) {
        text_buf_add(&b, WORDS_T(lang, "ไม่พบเคสรหัส ", "No case has the code "));
        text_buf_add(&b, code[0] != '\0' ? code : "-");
        text_buf_add(&b, WORDS_T(lang, " ค่ะ ลองตรวจสอบรหัสอีกครั้งนะคะ", ". Please check the code."));
    } else {
        words_when(updated_at_ms, lang, when);
        /* Never the category: the phone may be read by the person who is feared. */
        text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
        text_buf_add(&b, code);
        text_buf_add(&b, ": ");
        text_buf_add(&b, citizen_status_word(status, lang));
        if (team[0] != '\0') {
            text_buf_add(&b, WORDS_T(lang, "\nทีม: ", "\nTeam: "));
            text_buf_add(&b, team);
        }
        if (when[0] != '\0') {
            text_buf_add(&b, WORDS_T(lang, "\nอัปเดตล่าสุด: ", "\nLast update: "));
            text_buf_add(&b, when);
        }
    }
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m[0] = line_messages_text(text);
    free(text);
    if (found && category == INCIDENT_MENTAL_CRISIS) {
        m[1] = citizen_safety_lines(lang);
        return line_messages_array(m, 2);
    }
    return line_messages_array(m, 1);
}

/* "เรื่องที่คุณแจ้ง {code}: " / "Your report {code}: " then the waiting words; no quick reply. */
static cJSON *citizen_talk_waiting_one(enum chat_lang lang, const char *code)
{
    struct text_buf b = {0};
    cJSON *m;
    char *text;

    text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
    text_buf_add(&b, code);
    text_buf_add(&b, WORDS_T(lang,
                             ": ได้ค่ะ เจ้าหน้าที่จะตอบคุณในแชตนี้ กรุณารอสักครู่นะคะ "
                             "พิมพ์เล่าได้เลย เจ้าหน้าที่จะเห็นทุกข้อความค่ะ",
                             ": a person will answer you here shortly. You can write now: they "
                             "will read everything you send."));
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return m;
}

cJSON *citizen_messages_talk_waiting(enum chat_lang lang, const char *tracking_code)
{
    char code[TRACK_CODE_SIZE];
    cJSON *m;

    words_code(tracking_code, code);
    if (code[0] == '\0') return NULL;
    m = citizen_talk_waiting_one(lang, code);
    return line_messages_array(&m, 1);
}

cJSON *citizen_messages_talk_created(enum chat_lang lang, const char *tracking_code,
                                     const char *team_name, const char *public_url)
{
    char code[TRACK_CODE_SIZE];
    cJSON *all = citizen_messages_created(lang, tracking_code, team_name, public_url);
    cJSON *m;

    words_code(tracking_code, code);
    if (all == NULL) return NULL;
    cJSON_ArrayForEach (m, all) {
        cJSON_DeleteItemFromObjectCaseSensitive(m, "quickReply");
    }
    m = citizen_talk_waiting_one(lang, code);
    if (m == NULL || !cJSON_AddItemToArray(all, m)) { /* three and one: within LINE's five */
        cJSON_Delete(m);
        cJSON_Delete(all);
        return NULL;
    }
    return all;
}

cJSON *citizen_messages_chat_closed(enum chat_lang lang)
{
    cJSON *m = citizen_prompt(
        WORDS_T(lang,
                "เจ้าหน้าที่จบการสนทนาแล้วค่ะ ถ้าอยากคุยอีก พิมพ์ “คุยกับเจ้าหน้าที่” ได้ทุกเมื่อ "
                "ส่ง “สถานะ” เพื่อดูความคืบหน้าค่ะ",
                "The operator has ended the chat. To talk again, send “talk to a person” at any "
                "time; send “status” to see how your report is going."),
        0, NULL, WORDS_T(lang, "สถานะ", "Status"), "status", NULL, NULL);

    m = citizen_add_talk(lang, m);
    return line_messages_array(&m, 1);
}

cJSON *citizen_messages_cancel(enum chat_lang lang, int found, const char *tracking_code,
                               const char *status)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    cJSON *m;
    char *text;
    const char *talk = WORDS_T(lang, "คุยกับเจ้าหน้าที่", "Talk to a person");

    words_code(tracking_code, code);
    if (!found || code[0] == '\0' || status == NULL || strcmp(status, "resolved") == 0 ||
        strcmp(status, "closed") == 0) {
        struct chat_outcome done = {
            .action = CHAT_ACTION_REPLY, .prompt = CHAT_PROMPT_CANCELLED, .lang = lang};

        return citizen_messages(NULL, &done); /* nothing open: nothing to keep */
    }
    text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
    text_buf_add(&b, code);
    text_buf_add(&b, WORDS_T(lang,
                             " ยังเปิดอยู่ค่ะ เจ้าหน้าที่ยังดูแลเรื่องนี้ให้คุณ "
                             "ถ้าตอนนี้ปลอดภัยแล้ว หรืออยากคุยกับเจ้าหน้าที่ กดปุ่มด้านล่าง "
                             "หรือพิมพ์บอกเราได้เลยค่ะ",
                             " stays open: our operators are still looking after it. If you "
                             "are safe now, or want to talk to a person, tap below or tell us "
                             "here."));
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    /* A message action: the words reach the conversation as the reporter's own text. */
    if (m != NULL && line_messages_quick(m, line_messages_message_action(talk, talk)) != 0) {
        cJSON_Delete(m);
        m = NULL;
    }
    return line_messages_array(&m, 1);
}

cJSON *citizen_messages_progress(enum chat_lang lang, const char *tracking_code, const char *status,
                                 const char *team_name)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CITIZEN_NAME_MAX * 4 + 1];
    char who[sizeof(team) + 8];
    const char *sep;
    cJSON *m;
    char *text;

    if (status == NULL) return NULL;
    words_code(tracking_code, code);
    line_messages_clip(team, sizeof(team), team_name, CITIZEN_NAME_MAX);
    if (team[0] != '\0') {
        snprintf(who, sizeof(who), "“%s”", team);
    } else {
        snprintf(who, sizeof(who), "%s", WORDS_T(lang, "ทีมช่วยเหลือ", "the team"));
    }
    if (code[0] != '\0') {
        text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
        text_buf_add(&b, code);
        text_buf_add(&b, ": ");
    }
    /* Thai runs words together; a quoted team name stands apart. */
    sep = lang == CHAT_LANG_EN || team[0] != '\0' ? " " : "";
    if (strcmp(status, "queued") == 0) {
        text_buf_add(&b, WORDS_T(lang,
                                 "เจ้าหน้าที่กำลังหาความช่วยเหลือให้คุณค่ะ "
                                 "ส่งข้อความมาที่นี่ได้ตลอดนะคะ",
                                 "an operator is finding help for you. You can message us here "
                                 "at any time."));
    } else if (strcmp(status, "assigned") == 0) {
        text_buf_add(&b, WORDS_T(lang, "ส่งต่อให้", "passed to"));
        text_buf_add(&b, sep);
        text_buf_add(&b, who);
        text_buf_add(&b, lang == CHAT_LANG_EN ? "." : sep);
        text_buf_add(&b, lang == CHAT_LANG_EN ? "" : "แล้วค่ะ");
    } else if (strcmp(status, "acknowledged") == 0) {
        text_buf_add(&b, who);
        text_buf_add(&b, sep);
        text_buf_add(&b, WORDS_T(lang, "รับเรื่องแล้ว กำลังเตรียมไปช่วยค่ะ",
                                 "accepted your case and is getting ready."));
    } else if (strcmp(status, "en_route") == 0) {
        text_buf_add(&b, who);
        text_buf_add(&b, sep);
        text_buf_add(&b, WORDS_T(lang, "กำลังเดินทางไปค่ะ", "is on the way."));
    } else if (strcmp(status, "on_scene") == 0) {
        text_buf_add(&b, who);
        text_buf_add(&b, sep);
        text_buf_add(&b, WORDS_T(lang, "ถึงที่เกิดเหตุแล้วค่ะ", "has arrived."));
    } else if (strcmp(status, "resolved") == 0) {
        text_buf_add(&b, WORDS_T(lang, "ให้ความช่วยเหลือเรียบร้อยแล้วค่ะ ขอบคุณที่แจ้งเรานะคะ",
                                 "resolved. Thank you for letting us know."));
    } else {
        free(text_buf_take(&b));
        return NULL;
    }
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return line_messages_array(&m, 1);
}

cJSON *citizen_messages_abandoned(enum chat_lang lang, const char *tracking_code,
                                  const char *public_url)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    cJSON *m;
    char *text;

    words_code(tracking_code, code);
    if (code[0] == '\0') return NULL;
    text_buf_add(&b, WORDS_T(lang, "เรื่องที่คุณแจ้ง ", "Your report "));
    text_buf_add(&b, code);
    text_buf_add(&b, WORDS_T(lang,
                             ": ได้รับแล้วค่ะ เจ้าหน้าที่กำลังดูเรื่องนี้อยู่ "
                             "ส่งข้อความมาที่นี่ได้ตลอดนะคะ",
                             ": received. An operator is looking at it now. You can message us "
                             "here at any time."));
    citizen_add_link(&b, lang, public_url, code);
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return line_messages_array(&m, 1);
}
