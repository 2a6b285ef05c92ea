/* The words of the LINE Official Account (webhooks/chat.h): each prompt of the conversation, the
 * tracking code, status answers and progress pushes for the citizen, in Thai (polite, ค่ะ) or
 * English, and the dispatch a team's LINE group gets. LINE message objects as cJSON, within the
 * Messaging API's limits. Pure: no I/O. */
#include "chat.h"

#include "incident.h"
#include "rules.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LINE's limits, in characters as LINE counts them (UTF-16 code units). */
#define CHAT_TEXT_MAX 5000    /* text message */
#define CHAT_LABEL_MAX 20     /* quick-reply and template action label */
#define CHAT_DISPLAY_MAX 300  /* postback displayText */
#define CHAT_DATA_MAX 300     /* postback data (bytes) */
#define CHAT_ALT_MAX 400      /* template altText */
#define CHAT_TEMPLATE_MAX 160 /* buttons template text without title or image */
#define CHAT_QUICK_MAX 13     /* quickReply.items */
#define CHAT_NAME_MAX 100     /* a team name as shown (ours, not LINE's) */
#define CHAT_WHEN_SIZE 64

/* ---- text helpers ---- */

/* Copies at most max_units characters of src (NULL reads as "") into dst (cap bytes); LINE
 * counts characters in UTF-16 code units. */
static void chat_clip(char *dst, size_t cap, const char *src, size_t max_units)
{
    size_t n;

    if (src == NULL) src = "";
    n = text_utf16_prefix(src, max_units);
    if (n > cap - 1) n = text_utf8_complete(src, cap - 1); /* cut by bytes */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A growing string; a failed allocation is remembered and reported by chat_buf_take(). */
struct chat_buf {
    char *s;
    size_t len, cap;
    int failed;
};

static void chat_add(struct chat_buf *b, const char *s)
{
    size_t n;

    if (b->failed || s == NULL) return;
    n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;

        while (b->len + n + 1 > cap) cap *= 2;
        p = realloc(b->s, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* The string built so far (the caller frees it), or NULL when an allocation failed. */
static char *chat_buf_take(struct chat_buf *b)
{
    if (b->failed) {
        free(b->s);
        return NULL;
    }
    if (b->s == NULL) {
        b->s = malloc(1);
        if (b->s != NULL) b->s[0] = '\0';
    }
    return b->s;
}

/* ---- LINE message objects ---- */

/* {"type":"text","text":text}, the text cut to LINE's limit. NULL when memory runs out. */
static cJSON *chat_text_message(const char *text)
{
    cJSON *msg = cJSON_CreateObject();
    size_t n = text_utf16_prefix(text, CHAT_TEXT_MAX);
    char *cut;

    if (msg == NULL) return NULL;
    cut = text_dup_len(text, n);
    if (cut == NULL) {
        cJSON_Delete(msg);
        return NULL;
    }
    if (cJSON_AddStringToObject(msg, "type", "text") == NULL ||
        cJSON_AddStringToObject(msg, "text", cut) == NULL) {
        cJSON_Delete(msg);
        msg = NULL;
    }
    free(cut);
    return msg;
}

/* Adds a quick-reply button with action (taken: freed on failure) to msg. 0 or -1. */
static int chat_quick(cJSON *msg, cJSON *action)
{
    cJSON *qr, *items, *item;

    if (msg == NULL || action == NULL) goto fail;
    qr = cJSON_GetObjectItemCaseSensitive(msg, "quickReply");
    if (qr == NULL) {
        qr = cJSON_AddObjectToObject(msg, "quickReply");
        if (qr == NULL || cJSON_AddArrayToObject(qr, "items") == NULL) goto fail;
    }
    items = cJSON_GetObjectItemCaseSensitive(qr, "items");
    if (cJSON_GetArraySize(items) >= CHAT_QUICK_MAX) goto fail;
    item = cJSON_CreateObject();
    if (item == NULL) goto fail;
    if (!cJSON_AddItemToArray(items, item)) {
        cJSON_Delete(item);
        goto fail;
    }
    if (cJSON_AddStringToObject(item, "type", "action") == NULL) goto fail;
    if (!cJSON_AddItemToObject(item, "action", action)) goto fail;
    return 0;
fail:
    cJSON_Delete(action);
    return -1;
}

/* A postback action: label cut to 20 characters, displayText to 300; data must fit LINE's 300
 * bytes. NULL when it does not, or when memory runs out. */
static cJSON *chat_postback(const char *label, const char *data, const char *display)
{
    char l[CHAT_LABEL_MAX * 4 + 1];
    char d[CHAT_DISPLAY_MAX * 4 + 1];
    cJSON *a;

    if (strlen(data) > CHAT_DATA_MAX) return NULL;
    chat_clip(l, sizeof(l), label, CHAT_LABEL_MAX);
    chat_clip(d, sizeof(d), display, CHAT_DISPLAY_MAX);
    a = cJSON_CreateObject();
    if (a == NULL) return NULL;
    if (cJSON_AddStringToObject(a, "type", "postback") == NULL ||
        cJSON_AddStringToObject(a, "label", l) == NULL ||
        cJSON_AddStringToObject(a, "data", data) == NULL ||
        (d[0] != '\0' && cJSON_AddStringToObject(a, "displayText", d) == NULL)) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* The quick-reply action that opens LINE's location picker. */
static cJSON *chat_location_action(const char *label)
{
    cJSON *a = cJSON_CreateObject();

    if (a == NULL) return NULL;
    if (cJSON_AddStringToObject(a, "type", "location") == NULL ||
        cJSON_AddStringToObject(a, "label", label) == NULL) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* An array of the messages m[0..n), which it takes; NULL (every one freed) when one of them is
 * NULL because memory ran out, or when memory runs out now. */
static cJSON *chat_array(cJSON **m, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    int ok = arr != NULL;

    for (size_t i = 0; i < n; i++)
        if (m[i] == NULL) ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (ok && cJSON_AddItemToArray(arr, m[i])) {
            m[i] = NULL;
            continue;
        }
        ok = 0;
        cJSON_Delete(m[i]);
        m[i] = NULL;
    }
    if (!ok) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* ---- words ---- */

#define CHAT_T(lang, th, en) ((lang) == CHAT_LANG_EN ? (en) : (th))

/* Short forms for buttons when the table's label is longer than LINE's 20 characters, and labels
 * when the table has none. */
static const char *const chat_short_th[INCIDENT_CATEGORY_COUNT] = {
    "ถูกข่มขู่", "ถูกกักขัง", "เสี่ยงถูกล่วงละเมิด", "ผู้คลุ้มคลั่ง", "มั่วสุม", "เรื่องอื่น ๆ"};
static const char *const chat_short_en[INCIDENT_CATEGORY_COUNT] = {
    "Threatened",    "Detained",          "Sexual abuse risk",
    "Mental crisis", "Illicit gathering", "Something else"};

static int chat_category_valid(int category)
{
    return category >= 0 && category < INCIDENT_CATEGORY_COUNT;
}

/* The category's label from the table in the language; a built-in one when the table has none.
 * Static or owned by the table. category must be valid. */
static const char *chat_label(const struct rules_table *rules, int category, enum chat_lang lang)
{
    const char *label = rules_category_label(rules, category, CHAT_T(lang, "th", "en"));

    if (label[0] != '\0') return label;
    return CHAT_T(lang, chat_short_th[category], chat_short_en[category]);
}

/* The label for a button: the table's when it fits LINE's 20 characters, else the short form. */
static const char *chat_button_label(const struct rules_table *rules, int category,
                                     enum chat_lang lang)
{
    const char *label = chat_label(rules, category, lang);

    if (text_utf16_units(label, strlen(label)) <= CHAT_LABEL_MAX) return label;
    return CHAT_T(lang, chat_short_th[category], chat_short_en[category]);
}

static const struct {
    const char *code, *th, *en;
} chat_status_words[] = {
    {"received", "รับแจ้งแล้ว", "Received"},
    {"queued", "รอทีมที่ว่าง เจ้าหน้าที่กำลังหาทีมให้", "Waiting for a free team"},
    {"assigned", "ส่งต่อให้ทีมช่วยเหลือแล้ว", "Assigned to a team"},
    {"reassigned", "กำลังส่งต่อให้ทีมอื่น", "Passed to another team"},
    {"acknowledged", "ทีมรับเรื่องแล้ว", "Accepted by the team"},
    {"en_route", "ทีมกำลังเดินทางไป", "Team on the way"},
    {"on_scene", "ทีมถึงที่เกิดเหตุแล้ว", "Team on scene"},
    {"resolved", "ช่วยเหลือเรียบร้อยแล้ว", "Resolved"},
    {"closed", "ปิดเคสแล้ว", "Closed"},
};

static const char *chat_status_word(const char *status, enum chat_lang lang)
{
    for (size_t i = 0; i < sizeof(chat_status_words) / sizeof(chat_status_words[0]); i++)
        if (status != NULL && strcmp(status, chat_status_words[i].code) == 0)
            return CHAT_T(lang, chat_status_words[i].th, chat_status_words[i].en);
    return CHAT_T(lang, "กำลังดำเนินการ", "In progress");
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long chat_days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void chat_civil_from_days(long z, long *y, long *m, long *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* Reads n digits at s; -1 when they are not all digits. */
static long chat_digits(const char *s, int n)
{
    long v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Writes an RFC 3339 UTC time ("2026-11-21T03:04:05Z", fractions allowed) as Thailand's local
 * time (UTC+7, no daylight saving) in the language: "21 พ.ย. 2569 10:04 น." (Buddhist era) or
 * "21 Nov 2026, 10:04 (Thailand time)". Anything else is written as given when it is short
 * printable ASCII, else as "". */
static void chat_when(const char *rfc3339, enum chat_lang lang, char out[CHAT_WHEN_SIZE])
{
    static const char *const th_months[] = {"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
                                            "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",  "พ.ย.", "ธ.ค."};
    static const char *const en_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *s = rfc3339 != NULL ? rfc3339 : "";
    size_t len = strlen(s);
    long y, mo, d, h, mi, minutes;
    const char *tail;

    out[0] = '\0';
    if (len >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':' &&
        s[16] == ':') {
        y = chat_digits(s, 4);
        mo = chat_digits(s + 5, 2);
        d = chat_digits(s + 8, 2);
        h = chat_digits(s + 11, 2);
        mi = chat_digits(s + 14, 2);
        tail = s + 19;
        if (*tail == '.')
            for (tail++; *tail >= '0' && *tail <= '9'; tail++) {
            }
        if (chat_digits(s + 17, 2) >= 0 && y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
            h >= 0 && h <= 23 && mi >= 0 && mi <= 59 &&
            (strcmp(tail, "Z") == 0 || strcmp(tail, "z") == 0 || strcmp(tail, "+00:00") == 0)) {
            minutes = chat_days_from_civil(y, mo, d) * 1440 + h * 60 + mi + 7 * 60;
            chat_civil_from_days(minutes / 1440, &y, &mo, &d);
            h = (minutes % 1440) / 60;
            mi = minutes % 60;
            if (lang == CHAT_LANG_EN)
                snprintf(out, CHAT_WHEN_SIZE, "%ld %s %ld, %02ld:%02ld (Thailand time)", d,
                         en_months[mo - 1], y, h, mi);
            else
                snprintf(out, CHAT_WHEN_SIZE, "%ld %s %ld %02ld:%02ld น.", d, th_months[mo - 1],
                         y + 543, h, mi);
            return;
        }
    }
    if (len > 0 && len < 40) {
        for (size_t i = 0; i < len; i++)
            if (s[i] < 0x20 || s[i] > 0x7E) return;
        memcpy(out, s, len + 1);
    }
}

/* The tracking code as shown: canonical codes are 14 printable ASCII characters; anything else
 * is shown as "". */
static void chat_code(const char *code, char out[TRACK_CODE_SIZE])
{
    size_t n = code != NULL ? strlen(code) : 0;

    out[0] = '\0';
    if (n == 0 || n > TRACK_CODE_LEN) return;
    for (size_t i = 0; i < n; i++)
        if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9') ||
              code[i] == '-'))
            return;
    memcpy(out, code, n + 1);
}

/* ---- the citizen's prompts ---- */

static cJSON *chat_ask_category(const struct rules_table *rules, enum chat_lang lang)
{
    cJSON *m = chat_text_message(
        CHAT_T(lang, "เกิดอะไรขึ้นคะ? เลือกจากปุ่มด้านล่างได้เลยค่ะ", "What is happening? Choose below."));
    char data[32];

    for (int c = INCIDENT_THREAT; c < INCIDENT_CATEGORY_COUNT && m != NULL; c++) {
        snprintf(data, sizeof(data), "cat=%s", incident_category_code(c));
        if (chat_quick(m, chat_postback(chat_button_label(rules, c, lang), data,
                                        chat_label(rules, c, lang))) != 0) {
            cJSON_Delete(m);
            m = NULL;
        }
    }
    if (m != NULL && chat_quick(m, chat_postback(CHAT_T(lang, "ยกเลิก", "Cancel"), "cancel",
                                                 CHAT_T(lang, "ยกเลิก", "Cancel"))) != 0) {
        cJSON_Delete(m);
        m = NULL;
    }
    return m;
}

static cJSON *chat_confirm(const struct rules_table *rules, enum chat_lang lang, int category)
{
    struct chat_buf b = {0};
    char data[32];
    char *text;
    cJSON *m;

    chat_add(&b, CHAT_T(lang, "ฟังดูเหมือนเรื่อง “", "It sounds like “"));
    chat_add(&b, chat_label(rules, category, lang));
    chat_add(&b, CHAT_T(lang, "” ใช่ไหมคะ?", "”. Is that right?"));
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m = chat_text_message(text);
    free(text);
    snprintf(data, sizeof(data), "cat=%s", incident_category_code(category));
    if (chat_quick(m, chat_postback(CHAT_T(lang, "ใช่", "Yes"), data, CHAT_T(lang, "ใช่", "Yes"))) !=
            0 ||
        chat_quick(m, chat_postback(CHAT_T(lang, "เลือกประเภทอื่น", "Choose another"), "choose",
                                    CHAT_T(lang, "เลือกประเภทอื่น", "Choose another"))) != 0 ||
        chat_quick(m, chat_postback(CHAT_T(lang, "ยกเลิก", "Cancel"), "cancel",
                                    CHAT_T(lang, "ยกเลิก", "Cancel"))) != 0) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* A text with up to two postback buttons (label == NULL: none) and, when with_location, the
 * location action first. The label is also the displayText. */
static cJSON *chat_prompt(const char *text, int with_location, const char *location_label,
                          const char *label1, const char *data1, const char *label2,
                          const char *data2)
{
    cJSON *m = chat_text_message(text);

    if (m == NULL) return NULL;
    if ((with_location && chat_quick(m, chat_location_action(location_label)) != 0) ||
        (label1 != NULL && chat_quick(m, chat_postback(label1, data1, label1)) != 0) ||
        (label2 != NULL && chat_quick(m, chat_postback(label2, data2, label2)) != 0)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

cJSON *chat_messages(const struct rules_table *rules, const struct chat_outcome *outcome)
{
    enum chat_lang lang;
    const char *cancel;
    cJSON *m = NULL;

    if (outcome == NULL) return NULL;
    lang = outcome->lang == CHAT_LANG_EN ? CHAT_LANG_EN : CHAT_LANG_TH;
    cancel = CHAT_T(lang, "ยกเลิก", "Cancel");
    switch (outcome->prompt) {
    case CHAT_PROMPT_NONE:
    case CHAT_PROMPT_COUNT:
        return NULL;
    case CHAT_PROMPT_GREETING:
        /* The first words anyone reads, before we know their language: both. */
        m = chat_prompt("สวัสดีค่ะ ที่นี่ ESS Help Me รับแจ้งเหตุฉุกเฉินทางสังคมค่ะ "
                        "กดปุ่ม “แจ้งเหตุ” หรือพิมพ์เล่าสั้น ๆ ว่าเกิดอะไรขึ้นได้เลยค่ะ\n\n"
                        "Hello, this is ESS Help Me. To report a social emergency, tap "
                        "“Report” or tell us in a few words what is happening.",
                        0, NULL, "แจ้งเหตุ / Report", "report", "สถานะ / Status", "status");
        break;
    case CHAT_PROMPT_ASK_CATEGORY:
        m = chat_ask_category(rules, lang);
        break;
    case CHAT_PROMPT_CONFIRM_CATEGORY:
        if (chat_category_valid(outcome->category))
            m = chat_confirm(rules, lang, outcome->category);
        else
            m = chat_ask_category(rules, lang);
        break;
    case CHAT_PROMPT_ASK_LOCATION:
        m = chat_prompt(CHAT_T(lang, "คุณอยู่ที่ไหนคะ? กดปุ่ม “ส่งตำแหน่ง” ด้านล่างค่ะ",
                               "Where are you? Tap “Send location” below."),
                        1, CHAT_T(lang, "ส่งตำแหน่ง", "Send location"),
                        CHAT_T(lang, "พิมพ์ที่อยู่แทน", "Type the address"), "address", cancel, "cancel");
        break;
    case CHAT_PROMPT_ASK_ADDRESS:
        m = chat_prompt(CHAT_T(lang,
                               "พิมพ์ที่อยู่ หรือสถานที่ใกล้ ๆ ที่คุณอยู่ได้เลยค่ะ "
                               "เจ้าหน้าที่จะช่วยหาตำแหน่งและส่งทีมไปค่ะ",
                               "Type the address, or a place near you. Our operators will find "
                               "it and send a team."),
                        1, CHAT_T(lang, "ส่งตำแหน่ง", "Send location"), cancel, "cancel", NULL, NULL);
        break;
    case CHAT_PROMPT_ASK_DETAILS:
        m = chat_prompt(CHAT_T(lang, "มีอะไรที่เราควรรู้เพิ่มไหมคะ? พิมพ์สั้น ๆ หนึ่งประโยค หรือกด “ข้าม” ค่ะ",
                               "Anything else we should know? Type a sentence, or skip."),
                        0, NULL, CHAT_T(lang, "ข้าม", "Skip"), "skip", cancel, "cancel");
        break;
    case CHAT_PROMPT_CANCELLED:
        m = chat_prompt(CHAT_T(lang, "ยกเลิกการแจ้งเหตุแล้วค่ะ ถ้าต้องการความช่วยเหลือ ส่งข้อความมาได้ทุกเมื่อค่ะ",
                               "Report cancelled. Message us any time you need help."),
                        0, NULL, CHAT_T(lang, "แจ้งเหตุ", "Report"), "report", NULL, NULL);
        break;
    case CHAT_PROMPT_NO_CASE:
        m = chat_prompt(CHAT_T(lang,
                               "ยังไม่พบเคสที่คุณแจ้งไว้ค่ะ ถ้ามีรหัสติดตาม (เช่น HM-7K3-Q9X-TD8) "
                               "พิมพ์ส่งมาได้เลยค่ะ",
                               "We have no report from you yet. If you have a tracking code "
                               "(like HM-7K3-Q9X-TD8), send it here."),
                        0, NULL, CHAT_T(lang, "แจ้งเหตุ", "Report"), "report", NULL, NULL);
        break;
    case CHAT_PROMPT_BAD_CODE:
        m = chat_text_message(CHAT_T(lang,
                                     "รหัสติดตามนี้ไม่ถูกต้องค่ะ อาจพิมพ์ผิด ลองตรวจสอบแล้วส่งใหม่อีกครั้งนะคะ",
                                     "That tracking code is not right: there may be a typo. "
                                     "Please check it and send it again."));
        break;
    }
    return chat_array(&m, 1);
}

cJSON *chat_messages_created(enum chat_lang lang, const char *tracking_code, const char *team_name)
{
    struct chat_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CHAT_NAME_MAX * 4 + 1];
    cJSON *m[2];
    char *text;

    chat_code(tracking_code, code);
    chat_clip(team, sizeof(team), team_name, CHAT_NAME_MAX);
    if (code[0] == '\0') return NULL;
    chat_add(&b, CHAT_T(lang, "รับแจ้งเหตุแล้วค่ะ รหัสติดตามของคุณคือ ",
                        "We have your report. Your tracking code is "));
    chat_add(&b, code);
    chat_add(&b, "\n");
    if (team[0] != '\0') {
        chat_add(&b, CHAT_T(lang, "ทีมที่กำลังไปช่วยคุณ: ", "Help is on the way: "));
        chat_add(&b, team);
    } else {
        chat_add(&b, CHAT_T(lang, "เจ้าหน้าที่กำลังหาทีมที่อยู่ใกล้ที่สุดให้ค่ะ",
                            "Our operators are finding the nearest team."));
    }
    chat_add(&b, CHAT_T(lang, "\nส่งรหัสนี้มาได้ทุกเมื่อเพื่อดูสถานะค่ะ",
                        "\nSend this code any time to check the status."));
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m[0] = chat_text_message(text);
    free(text);
    /* The code alone, easy to copy, with a button for later. */
    m[1] = chat_text_message(code);
    if (m[1] != NULL &&
        chat_quick(m[1], chat_postback(CHAT_T(lang, "ดูสถานะ", "Check status"), "status",
                                       CHAT_T(lang, "ดูสถานะ", "Check status"))) != 0) {
        cJSON_Delete(m[1]);
        m[1] = NULL;
    }
    return chat_array(m, 2);
}

cJSON *chat_messages_status(const struct rules_table *rules, enum chat_lang lang, int found,
                            const char *tracking_code, int category, const char *status,
                            const char *updated_at, const char *team_name)
{
    struct chat_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CHAT_NAME_MAX * 4 + 1];
    char when[CHAT_WHEN_SIZE];
    cJSON *m;
    char *text;

    chat_code(tracking_code, code);
    chat_clip(team, sizeof(team), team_name, CHAT_NAME_MAX);
    if (!found) {
        chat_add(&b, CHAT_T(lang, "ไม่พบเคสรหัส ", "No case has the code "));
        chat_add(&b, code[0] != '\0' ? code : "-");
        chat_add(&b, CHAT_T(lang, " ค่ะ ลองตรวจสอบรหัสอีกครั้งนะคะ", ". Please check the code."));
    } else {
        chat_when(updated_at, lang, when);
        chat_add(&b, CHAT_T(lang, "เคส ", "Case "));
        chat_add(&b, code);
        if (chat_category_valid(category)) {
            chat_add(&b, CHAT_T(lang, "\nเรื่อง: ", "\nAbout: "));
            chat_add(&b, chat_label(rules, category, lang));
        }
        chat_add(&b, CHAT_T(lang, "\nสถานะ: ", "\nStatus: "));
        chat_add(&b, chat_status_word(status, lang));
        if (team[0] != '\0') {
            chat_add(&b, CHAT_T(lang, "\nทีม: ", "\nTeam: "));
            chat_add(&b, team);
        }
        if (when[0] != '\0') {
            chat_add(&b, CHAT_T(lang, "\nอัปเดตล่าสุด: ", "\nLast update: "));
            chat_add(&b, when);
        }
    }
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m = chat_text_message(text);
    free(text);
    return chat_array(&m, 1);
}

cJSON *chat_messages_progress(enum chat_lang lang, const char *tracking_code, const char *status,
                              const char *team_name)
{
    struct chat_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char team[CHAT_NAME_MAX * 4 + 1];
    char who[sizeof(team) + 8];
    const char *sep;
    cJSON *m;
    char *text;

    if (status == NULL) return NULL;
    chat_code(tracking_code, code);
    chat_clip(team, sizeof(team), team_name, CHAT_NAME_MAX);
    if (team[0] != '\0') {
        snprintf(who, sizeof(who), "“%s”", team);
    } else {
        snprintf(who, sizeof(who), "%s", CHAT_T(lang, "ทีมช่วยเหลือ", "the team"));
    }
    if (code[0] != '\0') {
        chat_add(&b, CHAT_T(lang, "เคส ", "Case "));
        chat_add(&b, code);
        chat_add(&b, ": ");
    }
    /* Thai runs words together; a quoted team name stands apart. */
    sep = lang == CHAT_LANG_EN || team[0] != '\0' ? " " : "";
    if (strcmp(status, "assigned") == 0) {
        chat_add(&b, CHAT_T(lang, "ส่งต่อให้", "passed to"));
        chat_add(&b, sep);
        chat_add(&b, who);
        chat_add(&b, lang == CHAT_LANG_EN ? "." : sep);
        chat_add(&b, lang == CHAT_LANG_EN ? "" : "แล้วค่ะ");
    } else if (strcmp(status, "acknowledged") == 0) {
        chat_add(&b, who);
        chat_add(&b, sep);
        chat_add(&b, CHAT_T(lang, "รับเรื่องแล้ว กำลังเตรียมไปช่วยค่ะ",
                            "accepted your case and is getting ready."));
    } else if (strcmp(status, "en_route") == 0) {
        chat_add(&b, who);
        chat_add(&b, sep);
        chat_add(&b, CHAT_T(lang, "กำลังเดินทางไปค่ะ", "is on the way."));
    } else if (strcmp(status, "on_scene") == 0) {
        chat_add(&b, who);
        chat_add(&b, sep);
        chat_add(&b, CHAT_T(lang, "ถึงที่เกิดเหตุแล้วค่ะ", "has arrived."));
    } else if (strcmp(status, "resolved") == 0) {
        chat_add(&b, CHAT_T(lang, "ให้ความช่วยเหลือเรียบร้อยแล้วค่ะ ขอบคุณที่แจ้งเรานะคะ",
                            "resolved. Thank you for letting us know."));
    } else {
        free(chat_buf_take(&b));
        return NULL;
    }
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m = chat_text_message(text);
    free(text);
    return chat_array(&m, 1);
}

/* ---- the team's dispatch ---- */

/* 1 for a case id that can ride in "ack=<case_id>": 1..296 bytes of [A-Za-z0-9_-]. */
static int chat_case_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n > CHAT_DATA_MAX - 4) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The buttons template that carries the accept button (it stays in the group's history, where
 * a quick reply would vanish with the next message). */
static cJSON *chat_accept_template(const char *case_id, const char *code)
{
    char data[CHAT_DATA_MAX + 1];
    char text[CHAT_TEMPLATE_MAX * 4 + 1];
    char alt[128];
    cJSON *m = cJSON_CreateObject();
    cJSON *t, *actions;

    if (m == NULL) return NULL;
    snprintf(data, sizeof(data), "ack=%s", case_id);
    snprintf(text, sizeof(text), "รับเคส %s ไหมคะ? / Accept this case?", code);
    snprintf(alt, sizeof(alt), "เคสใหม่ %s: กดรับเคส / New case: accept", code);
    if (cJSON_AddStringToObject(m, "type", "template") == NULL ||
        cJSON_AddStringToObject(m, "altText", alt) == NULL ||
        (t = cJSON_AddObjectToObject(m, "template")) == NULL ||
        cJSON_AddStringToObject(t, "type", "buttons") == NULL ||
        cJSON_AddStringToObject(t, "text", text) == NULL ||
        (actions = cJSON_AddArrayToObject(t, "actions")) == NULL) {
        cJSON_Delete(m);
        return NULL;
    }
    t = chat_postback("รับเคส / Accept", data, "รับเคส / Accept");
    if (t == NULL || !cJSON_AddItemToArray(actions, t)) {
        cJSON_Delete(t);
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

cJSON *chat_messages_dispatch(const struct rules_table *rules, const char *case_id,
                              const char *tracking_code, int category, const char *priority,
                              const char *description, double lat, double lon, const char *address,
                              double distance_km, const char *ack_deadline)
{
    struct chat_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char prio[8];
    char num[96];
    char when[CHAT_WHEN_SIZE];
    cJSON *m[2];
    char *text;

    if (!chat_case_id_ok(case_id)) return NULL;
    chat_code(tracking_code, code);
    chat_clip(prio, sizeof(prio), priority, 4);
    chat_add(&b, "🚨 เคสใหม่ / New case");
    if (prio[0] != '\0') {
        chat_add(&b, " · ");
        chat_add(&b, prio);
    }
    if (chat_category_valid(category)) {
        chat_add(&b, "\nประเภท: ");
        chat_add(&b, chat_label(rules, category, CHAT_LANG_TH));
        chat_add(&b, " (");
        chat_add(&b, chat_label(rules, category, CHAT_LANG_EN));
        chat_add(&b, ")");
    }
    if (isfinite(distance_km) && distance_km >= 0.0) {
        snprintf(num, sizeof(num), "\nระยะทาง: %.1f กม.", distance_km);
        chat_add(&b, num);
    }
    if (description != NULL && description[0] != '\0') {
        chat_add(&b, "\nรายละเอียด: ");
        chat_add(&b, description);
    }
    if (address != NULL && address[0] != '\0') {
        chat_add(&b, "\nที่อยู่: ");
        chat_add(&b, address);
    }
    if (isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0) {
        snprintf(num, sizeof(num), "\nแผนที่: https://www.google.com/maps?q=%.6f,%.6f", lat, lon);
        chat_add(&b, num);
    }
    chat_when(ack_deadline, CHAT_LANG_TH, when);
    if (when[0] != '\0') {
        chat_add(&b, "\nกดรับเคสภายใน: ");
        chat_add(&b, when);
    }
    if (code[0] != '\0') {
        chat_add(&b, "\nรหัสติดตาม: ");
        chat_add(&b, code);
    }
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m[0] = chat_text_message(text);
    free(text);
    m[1] = chat_accept_template(case_id, code);
    return chat_array(m, 2);
}

cJSON *chat_messages_team_ack(int result, const char *tracking_code)
{
    struct chat_buf b = {0};
    char code[TRACK_CODE_SIZE];
    cJSON *m;
    char *text;

    chat_code(tracking_code, code);
    if (result > 0) {
        chat_add(&b, "✅ รับเคส");
        if (code[0] != '\0') {
            chat_add(&b, " ");
            chat_add(&b, code);
        }
        chat_add(&b, " แล้ว ขอบคุณค่ะ\nCase ");
        if (code[0] != '\0') {
            chat_add(&b, code);
            chat_add(&b, " ");
        }
        chat_add(&b, "accepted. Thank you.");
    } else if (result == 0) {
        chat_add(&b, "รับเคสนี้ไม่ได้แล้วค่ะ เคสอาจถูกส่งต่อให้ทีมอื่นเพราะเลยเวลารับเคส\n"
                     "This case can no longer be accepted: it may have passed to another team "
                     "after the deadline.");
    } else {
        chat_add(&b, "กลุ่มนี้ยังไม่ได้เชื่อมกับทีมใดค่ะ กรุณาติดต่อผู้ดูแลระบบ\n"
                     "This group is not linked to a team. Please contact the administrator.");
    }
    text = chat_buf_take(&b);
    if (text == NULL) return NULL;
    m = chat_text_message(text);
    free(text);
    return chat_array(&m, 1);
}
