/* The words the citizen's and the team's LINE messages share: category labels from the rule
 * table (with built-in short forms), times shown in Thailand's time, tracking codes as shown.
 * Pure: no I/O. */
#ifndef ESS_WEBHOOKS_WORDS_H
#define ESS_WEBHOOKS_WORDS_H

#include <stdint.h>

#include "chat.h"
#include "track_code.h"

struct rules_table;

/* The Thai or the English of a pair of strings. */
#define WORDS_T(lang, th, en) ((lang) == CHAT_LANG_EN ? (en) : (th))

#define WORDS_WHEN_SIZE 64

/* 1 for an incident category a label exists for, else 0. */
int words_category_valid(int category);

/* The category's label from the table (NULL: none) in the language; the short form when the
 * table has none. Static or owned by the table. category must be valid. */
const char *words_category_label(const struct rules_table *rules, int category,
                                 enum chat_lang lang);

/* The category as the reporter reads it in the chat: the table's chat_label (its label when it
 * has none; NULL table: the short form). Static or owned by the table. category must be valid. */
const char *words_category_chat_label(const struct rules_table *rules, int category,
                                      enum chat_lang lang);

/* The built-in short form of the category's label (at most LINE's 20 characters, for buttons).
 * Static. category must be valid. */
const char *words_category_short(int category, enum chat_lang lang);

/* Writes the time ms (milliseconds since 1970, UTC) as Thailand's local time (UTC+7, no
 * daylight saving) in the language: "21 พ.ย. 2569 10:04 น." (Buddhist era) or
 * "21 Nov 2026, 10:04 (Thailand time)". ms <= 0 (not known) writes "". */
void words_when(int64_t ms, enum chat_lang lang, char out[WORDS_WHEN_SIZE]);

/* words_when() without the English "(Thailand time)", for a page whose heading says it. */
void words_when_plain(int64_t ms, enum chat_lang lang, char out[WORDS_WHEN_SIZE]);

/* The tracking code as shown: up to TRACK_CODE_LEN characters of [A-Z0-9-] as they are;
 * anything else (NULL included) is shown as "". */
void words_code(const char *code, char out[TRACK_CODE_SIZE]);

#endif
