/* Unit tests of the LINE message builders (webhooks/line_messages.c), the words the citizen's and
 * the team's messages share (webhooks/words.c) and the team's messages that have no conversation
 * around them (webhooks/team_messages.c): LINE's limits, times from milliseconds in Thailand's
 * time, tracking codes as shown, push targets. */
#include "line.h"
#include "line_messages.h"
#include "tap.h"
#include "team_messages.h"
#include "words.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_builders(void)
{
    char out[16];
    char big[LINE_MSG_TEXT_MAX + 10];
    cJSON *m, *a;
    int ok = 1;

    line_messages_clip(out, sizeof out, "ทีมหนึ่ง", 3);
    CHECK(strcmp(out, "ทีม") == 0, "clip: three characters of Thai");
    line_messages_clip(out, sizeof out, "ทีมหนึ่งสองสาม", 100);
    CHECK(strcmp(out, "ทีมหน") == 0, "clip: cut by bytes at a character boundary");
    line_messages_clip(out, sizeof out, NULL, 3);
    CHECK(out[0] == '\0', "clip: NULL reads as empty");

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    m = line_messages_text(big);
    CHECK(m != NULL && strcmp(jstr(m, "type"), "text") == 0 &&
              strlen(jstr(m, "text")) == LINE_MSG_TEXT_MAX,
          "text: cut to LINE's 5000 characters");
    for (int i = 0; i < LINE_MSG_QUICK_MAX; i++)
        if (line_messages_quick(m, line_messages_postback("b", "d", "")) != 0) ok = 0;
    CHECK(ok, "quick: thirteen buttons fit");
    CHECK(line_messages_quick(m, line_messages_postback("b", "d", "")) == -1,
          "quick: a fourteenth is refused (and freed)");
    CHECK(line_messages_quick(m, NULL) == -1, "quick: no action is refused");
    cJSON_Delete(m);

    memset(big, 'd', LINE_POSTBACK_MAX + 1);
    big[LINE_POSTBACK_MAX + 1] = '\0';
    CHECK(line_messages_postback("l", big, "") == NULL, "postback: data over 300 bytes is refused");
    big[LINE_POSTBACK_MAX] = '\0';
    a = line_messages_postback("a label longer than twenty", big, "");
    CHECK(a != NULL && strcmp(jstr(a, "label"), "a label longer than ") == 0 &&
              cJSON_GetObjectItemCaseSensitive(a, "displayText") == NULL,
          "postback: label cut to 20, no displayText when empty");
    {
        cJSON *ma = line_messages_message_action("คุยกับเจ้าหน้าที่ ตอนนี้เลย ได้ไหม", "คุยกับเจ้าหน้าที่");

        CHECK(ma != NULL && strcmp(jstr(ma, "type"), "message") == 0 &&
                  strcmp(jstr(ma, "label"), "คุยกับเจ้าหน้าที่ ตอ") == 0 &&
                  strcmp(jstr(ma, "text"), "คุยกับเจ้าหน้าที่") == 0,
              "message action: label cut to 20, the text sent as the user's message");
        cJSON_Delete(ma);
    }
    m = line_messages_buttons("alt", "Accept?", a);
    CHECK(m != NULL && strcmp(jstr(m, "type"), "template") == 0 &&
              strcmp(jstr(m, "altText"), "alt") == 0 &&
              strcmp(jstr(cJSON_GetObjectItemCaseSensitive(m, "template"), "type"), "buttons") == 0,
          "buttons: a template message with its action");
    cJSON_Delete(m);
    CHECK(line_messages_buttons("alt", "text", NULL) == NULL, "buttons: no action, no message");

    {
        cJSON *msgs[2] = {line_messages_text("a"), NULL};

        CHECK(line_messages_array(msgs, 2) == NULL && msgs[0] == NULL,
              "array: a missing message fails the whole and frees the rest");
    }
}

static void test_words(void)
{
    char when[WORDS_WHEN_SIZE];
    char code[TRACK_CODE_SIZE];

    words_when(1795230245000LL, CHAT_LANG_TH, when);
    CHECK(strcmp(when, "21 พ.ย. 2569 10:04 น.") == 0, "when: Thai, Buddhist era, UTC+7");
    words_when(1798749000123LL, CHAT_LANG_EN, when);
    CHECK(strcmp(when, "1 Jan 2027, 03:30 (Thailand time)") == 0,
          "when: English, across the new year in Thailand's time");
    words_when(1709139600000LL, CHAT_LANG_EN, when);
    CHECK(strcmp(when, "29 Feb 2024, 00:00 (Thailand time)") == 0, "when: a leap day");
    words_when(0, CHAT_LANG_TH, when);
    CHECK(when[0] == '\0', "when: 0 is not known");
    words_when(-5, CHAT_LANG_EN, when);
    CHECK(when[0] == '\0', "when: a negative time is not known");

    words_code("HM-7K3-Q9X-TD8", code);
    CHECK(strcmp(code, "HM-7K3-Q9X-TD8") == 0, "code: a code is shown");
    words_code("hm-7k3", code);
    CHECK(code[0] == '\0', "code: lowercase is not a code as shown");
    words_code("HM-7K3-Q9X-TD8X", code);
    CHECK(code[0] == '\0', "code: too long");
    words_code(NULL, code);
    CHECK(code[0] == '\0', "code: NULL");

    CHECK(strcmp(words_category_label(NULL, INCIDENT_DETENTION, CHAT_LANG_TH), "ถูกกักขัง") == 0 &&
              strcmp(words_category_short(INCIDENT_DETENTION, CHAT_LANG_EN), "Detained") == 0,
          "labels: the built-in short forms without a rule table");
    CHECK(!words_category_valid(-1) && !words_category_valid(INCIDENT_CATEGORY_COUNT) &&
              words_category_valid(INCIDENT_OTHER),
          "labels: valid categories");
}

static void test_team(void)
{
    cJSON *m = team_messages_escalation("HM-7K3-Q9X-TD8", "detention", "P1", "no team accepted");
    const char *text = jstr(cJSON_GetArrayItem(m, 0), "text");

    CHECK(cJSON_GetArraySize(m) == 1 && strstr(text, "HM-7K3-Q9X-TD8") != NULL &&
              strstr(text, "(detention, P1)") != NULL &&
              strstr(text, "manual assignment: no team accepted") != NULL,
          "escalation: the supervisors' notice names code, category, priority, reason");
    cJSON_Delete(m);
    m = team_messages_escalation(NULL, NULL, NULL, NULL);
    CHECK(m != NULL, "escalation: NULL strings read as empty");
    cJSON_Delete(m);
    m = team_messages_escalation("HM-7K3-Q9X-TD8", "detention", "P1", "chat_wait");
    text = jstr(cJSON_GetArrayItem(m, 0), "text");
    CHECK(cJSON_GetArraySize(m) == 1 && text != NULL &&
              strstr(text, "เคส HM-7K3-Q9X-TD8: ผู้แจ้งรอคุยกับเจ้าหน้าที่นานเกินกำหนด") != NULL &&
              strstr(text, "Case HM-7K3-Q9X-TD8: a reporter has waited too long for someone to "
                           "take their chat") != NULL &&
              strstr(text, "manual assignment") == NULL && strstr(text, "detention") == NULL,
          "escalation: a chat nobody took says so, not manual assignment, no category");
    cJSON_Delete(m);
}

static void test_push_target(void)
{
    CHECK(line_push_target_valid("C4af4980629f8c2a17d4e5b8f1e2d3c9a"), "target: a group id");
    CHECK(line_push_target_valid("U1234abcd") && line_push_target_valid("R0"),
          "target: user and room ids");
    CHECK(!line_push_target_valid("C") && !line_push_target_valid("") &&
              !line_push_target_valid(NULL),
          "target: too short");
    CHECK(!line_push_target_valid("X1234") && !line_push_target_valid("C12AB") &&
              !line_push_target_valid("C12 4"),
          "target: another letter, uppercase hex, a space");
    {
        char id[LINE_PUSH_TARGET_MAX + 2];

        id[0] = 'C';
        memset(id + 1, 'a', LINE_PUSH_TARGET_MAX);
        id[LINE_PUSH_TARGET_MAX + 1] = '\0';
        CHECK(!line_push_target_valid(id), "target: over 64 bytes");
        id[LINE_PUSH_TARGET_MAX] = '\0';
        CHECK(line_push_target_valid(id), "target: 64 bytes");
    }
}

int main(void)
{
    test_builders();
    test_words();
    test_team();
    test_push_target();
    return tap_done();
}
