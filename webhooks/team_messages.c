/* The LINE messages of the teams and supervisors (webhooks/team_messages.h): the dispatch a
 * team's LINE group gets, with its accept button, the answer when it is pressed, and the notice
 * supervisors get when a case needs manual assignment. Pure: no I/O. */
#include "team_messages.h"

#include "incident.h"
#include "line_messages.h"
#include "rules.h"
#include "text.h"
#include "words.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the team's dispatch ---- */

/* 1 for a case id that can ride in "ack=<case_id>": 1..296 bytes of [A-Za-z0-9_-]. */
static int team_case_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n > LINE_POSTBACK_MAX - 4) return 0;
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
static cJSON *team_accept_template(const char *case_id, const char *code)
{
    char data[LINE_POSTBACK_MAX + 1];
    char text[LINE_MSG_TEMPLATE_MAX * 4 + 1];
    char alt[128];

    snprintf(data, sizeof(data), "ack=%s", case_id);
    snprintf(text, sizeof(text), "รับเคส %s ไหมคะ? / Accept this case?", code);
    snprintf(alt, sizeof(alt), "เคสใหม่ %s: กดรับเคส / New case: accept", code);
    return line_messages_buttons(alt, text,
                                 line_messages_postback("รับเคส / Accept", data, "รับเคส / Accept"));
}

cJSON *team_messages_dispatch(const struct rules_table *rules, const char *case_id,
                              const char *tracking_code, int category, const char *priority,
                              const char *description, double lat, double lon, const char *address,
                              double distance_km, int64_t ack_deadline_ms)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    char prio[8];
    char num[96];
    char when[WORDS_WHEN_SIZE];
    cJSON *m[2];
    char *text;

    if (!team_case_id_ok(case_id)) return NULL;
    words_code(tracking_code, code);
    line_messages_clip(prio, sizeof(prio), priority, 4);
    text_buf_add(&b, "🚨 เคสใหม่ / New case");
    if (prio[0] != '\0') {
        text_buf_add(&b, " · ");
        text_buf_add(&b, prio);
    }
    if (words_category_valid(category)) {
        text_buf_add(&b, "\nประเภท: ");
        text_buf_add(&b, words_category_label(rules, category, CHAT_LANG_TH));
        text_buf_add(&b, " (");
        text_buf_add(&b, words_category_label(rules, category, CHAT_LANG_EN));
        text_buf_add(&b, ")");
    }
    if (isfinite(distance_km) && distance_km >= 0.0) {
        snprintf(num, sizeof(num), "\nระยะทาง: %.1f กม.", distance_km);
        text_buf_add(&b, num);
    }
    if (description != NULL && description[0] != '\0') {
        text_buf_add(&b, "\nรายละเอียด: ");
        text_buf_add(&b, description);
    }
    if (address != NULL && address[0] != '\0') {
        text_buf_add(&b, "\nที่อยู่: ");
        text_buf_add(&b, address);
    }
    if (isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0) {
        snprintf(num, sizeof(num), "\nแผนที่: https://www.google.com/maps?q=%.6f,%.6f", lat, lon);
        text_buf_add(&b, num);
    }
    words_when(ack_deadline_ms, CHAT_LANG_TH, when);
    if (when[0] != '\0') {
        text_buf_add(&b, "\nกดรับเคสภายใน: ");
        text_buf_add(&b, when);
    }
    if (code[0] != '\0') {
        text_buf_add(&b, "\nรหัสติดตาม: ");
        text_buf_add(&b, code);
    }
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m[0] = line_messages_text(text);
    free(text);
    m[1] = team_accept_template(case_id, code);
    return line_messages_array(m, 2);
}

cJSON *team_messages_ack(int result, const char *tracking_code)
{
    struct text_buf b = {0};
    char code[TRACK_CODE_SIZE];
    cJSON *m;
    char *text;

    words_code(tracking_code, code);
    if (result > 0) {
        text_buf_add(&b, "✅ รับเคส");
        if (code[0] != '\0') {
            text_buf_add(&b, " ");
            text_buf_add(&b, code);
        }
        text_buf_add(&b, " แล้ว ขอบคุณค่ะ\nCase ");
        if (code[0] != '\0') {
            text_buf_add(&b, code);
            text_buf_add(&b, " ");
        }
        text_buf_add(&b, "accepted. Thank you.");
    } else if (result == 0) {
        text_buf_add(&b, "รับเคสนี้ไม่ได้แล้วค่ะ เคสอาจถูกส่งต่อให้ทีมอื่นเพราะเลยเวลารับเคส\n"
                         "This case can no longer be accepted: it may have passed to another team "
                         "after the deadline.");
    } else {
        text_buf_add(&b, "กลุ่มนี้ยังไม่ได้เชื่อมกับทีมใดค่ะ กรุณาติดต่อผู้ดูแลระบบ\n"
                         "This group is not linked to a team. Please contact the administrator.");
    }
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return line_messages_array(&m, 1);
}

cJSON *team_messages_escalation(const char *tracking_code, const char *category,
                                const char *priority, const char *reason)
{
    struct text_buf b = {0};
    cJSON *m;
    char *text;

    if (tracking_code == NULL) tracking_code = "";
    if (reason != NULL && strcmp(reason, "chat_wait") == 0) /* the case keeps its team */
        text_buf_printf(&b,
                        "⚠️ เคส %s: ผู้แจ้งรอคุยกับเจ้าหน้าที่นานเกินกำหนด ยังไม่มีใครรับแชต / Case %s: "
                        "a "
                        "reporter has waited too long for someone to take their chat",
                        tracking_code, tracking_code);
    else
        text_buf_printf(&b,
                        "⚠️ เคส %s (%s, %s) ยังไม่มีทีมรับ ต้องมอบหมายด้วยมือ / Case needs "
                        "manual "
                        "assignment: %s",
                        tracking_code, category != NULL ? category : "",
                        priority != NULL ? priority : "", reason != NULL ? reason : "");
    text = text_buf_take(&b);
    if (text == NULL) return NULL;
    m = line_messages_text(text);
    free(text);
    return line_messages_array(&m, 1);
}
