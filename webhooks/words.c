/* Shared words of the LINE messages (webhooks/words.h). */
#include "words.h"

#include "incident.h"
#include "rules.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Short forms for buttons when the table's label is longer than LINE's 20 characters, and labels
 * when the table has none. */
static const char *const words_short_th[INCIDENT_CATEGORY_COUNT] = {
    "ถูกข่มขู่", "ถูกกักขัง", "เสี่ยงถูกล่วงละเมิด", "ผู้คลุ้มคลั่ง", "มั่วสุม", "เรื่องอื่น ๆ"};
static const char *const words_short_en[INCIDENT_CATEGORY_COUNT] = {
    "Threatened",    "Detained",          "Sexual abuse risk",
    "Mental crisis", "Illicit gathering", "Something else"};

int words_category_valid(int category)
{
    return category >= 0 && category < INCIDENT_CATEGORY_COUNT;
}

const char *words_category_label(const struct rules_table *rules, int category, enum chat_lang lang)
{
    const char *label = rules_category_label(rules, category, WORDS_T(lang, "th", "en"));

    if (label[0] != '\0') return label;
    return WORDS_T(lang, words_short_th[category], words_short_en[category]);
}

const char *words_category_chat_label(const struct rules_table *rules, int category,
                                      enum chat_lang lang)
{
    const char *label = rules_category_chat_label(rules, category, WORDS_T(lang, "th", "en"));

    if (label[0] != '\0') return label;
    return WORDS_T(lang, words_short_th[category], words_short_en[category]);
}

const char *words_category_short(int category, enum chat_lang lang)
{
    return WORDS_T(lang, words_short_th[category], words_short_en[category]);
}

void words_when(int64_t ms, enum chat_lang lang, char out[WORDS_WHEN_SIZE])
{
    words_when_plain(ms, lang, out);
    if (lang == CHAT_LANG_EN && out[0] != '\0')
        snprintf(out + strlen(out), WORDS_WHEN_SIZE - strlen(out), " (Thailand time)");
}

void words_when_plain(int64_t ms, enum chat_lang lang, char out[WORDS_WHEN_SIZE])
{
    static const char *const th_months[] = {"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
                                            "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",  "พ.ย.", "ธ.ค."};
    static const char *const en_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t local = (time_t)(ms / 1000 + 7 * 3600); /* Thailand: UTC+7 all year */
    struct tm tm;

    out[0] = '\0';
    if (ms <= 0 || gmtime_r(&local, &tm) == NULL) return;
    if (lang == CHAT_LANG_EN)
        snprintf(out, WORDS_WHEN_SIZE, "%d %s %d, %02d:%02d", tm.tm_mday, en_months[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
    else
        snprintf(out, WORDS_WHEN_SIZE, "%d %s %d %02d:%02d น.", tm.tm_mday, th_months[tm.tm_mon],
                 tm.tm_year + 1900 + 543, tm.tm_hour, tm.tm_min);
}

void words_code(const char *code, char out[TRACK_CODE_SIZE])
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
