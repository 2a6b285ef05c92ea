/* The citizen's LINE messages: what the conversation of webhooks/chat.h says at each prompt,
 * the reply once a case is created, status answers and progress pushes, in Thai or English,
 * every question with quick-reply buttons. Built with webhooks/line_messages.h. Pure: no I/O. */
#ifndef ESS_WEBHOOKS_CITIZEN_MESSAGES_H
#define ESS_WEBHOOKS_CITIZEN_MESSAGES_H

#include <stdint.h>

#include "chat.h"

struct cJSON;
struct rules_table;

/* The LINE message objects (a JSON array of 1..5, for line_reply_body) for a prompt. rules give
 * the category labels as the chat words them (chat_label; built-in ones when NULL); a label
 * longer than LINE's 20 characters is shortened on its button. Category buttons carry no
 * displayText. outcome->crisis puts the safety lines (191, 1300, 1323) before the prompt. A new
 * array the caller owns; NULL for CHAT_PROMPT_NONE or when out of memory. */
struct cJSON *citizen_messages(const struct rules_table *rules, const struct chat_outcome *outcome);

/* The reply once the case is created: the tracking code, and the team it was passed to
 * (team_name non-empty; "on its way" is said only once the team accepts) or the operators
 * finding one, and the e-Tracking link {public_url}/track/{code} (?lang=en in English) when
 * public_url (ESS_PUBLIC_URL, validated: http(s)://host[:port]) is an http(s) URL ("" or NULL: no
 * link); the safety lines, then the code alone (easy to copy) with a "status" button; three
 * messages. Never echoes the description or the address. NULL when tracking_code is not a code
 * or memory runs out; strings are only read, NULL reads as "". */
struct cJSON *citizen_messages_created(enum chat_lang lang, const char *tracking_code,
                                       const char *team_name, const char *public_url);

/* The reply once the case is made: citizen_messages_created() (safety lines included), then the
 * CHAT_PROMPT_ASK_DETAILS question last, the only message with quick replies (LINE shows the last
 * one's); five messages at most. NULL when tracking_code is not a code or memory runs out. */
struct cJSON *citizen_messages_created_ask(const struct rules_table *rules, enum chat_lang lang,
                                           const char *tracking_code, const char *team_name,
                                           const char *public_url);

/* The answer to "talk to a person" on the open case: "เรื่องที่คุณแจ้ง {code}: ได้ค่ะ เจ้าหน้าที่จะตอบ
 * คุณในแชตนี้ …" / "Your report {code}: a person will answer you here shortly. …", said once;
 * never the category, never an echo. One message, no quick reply. NULL when tracking_code is not
 * a code or memory runs out. */
struct cJSON *citizen_messages_talk_waiting(enum chat_lang lang, const char *tracking_code);

/* The reply once a case made because the reporter asked to talk to a person is stored:
 * citizen_messages_created() without its quick replies, then the waiting line of
 * citizen_messages_talk_waiting(); four messages. NULL as citizen_messages_created(). */
struct cJSON *citizen_messages_talk_created(enum chat_lang lang, const char *tracking_code,
                                            const char *team_name, const char *public_url);

/* The push once an operator (or the case's closing) ends the chat: "เจ้าหน้าที่จบการสนทนาแล้วค่ะ …" /
 * "The operator has ended the chat. …", the bot answers again; quick replies สถานะ / Status
 * (postback status) and คุยกับเจ้าหน้าที่ / Talk to a person (postback talk). One message; NULL when
 * memory runs out. */
struct cJSON *citizen_messages_chat_closed(enum chat_lang lang);

/* The push to a reporter whose report stopped before its location (ESS_LINE_ABANDON_S) and
 * became a case all the same: received, its tracking code, an operator is looking at it, and the
 * e-Tracking link as citizen_messages_created() gives it (public_url "" or NULL: none); one
 * message. NULL when tracking_code is not a code or memory runs out. */
struct cJSON *citizen_messages_abandoned(enum chat_lang lang, const char *tracking_code,
                                         const char *public_url);

/* The answer to a status question: "your report HM-…: status in words", the team's name when
 * there is one, and when it last changed (updated_at_ms, milliseconds since 1970; <= 0: not
 * shown), in Thailand's time. Never the category (the phone may be read by the person who is
 * feared); category only decides whether the safety lines follow (mental_crisis). found 0: no
 * case has that code. NULL when out of memory. */
struct cJSON *citizen_messages_status(enum chat_lang lang, int found, const char *tracking_code,
                                      int category, const char *status, int64_t updated_at_ms,
                                      const char *team_name);

/* The answer to "cancel" with no report in progress (CHAT_ACTION_CANCEL_OPEN), once the last
 * case (tracking_code) was looked up: while it is open (found, status neither resolved nor
 * closed), that it stays open, with a "talk to a person" button that sends those words as the
 * reporter's text; otherwise the CHAT_PROMPT_CANCELLED prompt. NULL when out of memory. */
struct cJSON *citizen_messages_cancel(enum chat_lang lang, int found, const char *tracking_code,
                                      const char *status);

/* The push a reporter gets when the case moves: queued (an operator is finding help: the router
 * sends it once per case), assigned, acknowledged, en_route, on_scene, resolved (others give
 * NULL, as does running out of memory). */
struct cJSON *citizen_messages_progress(enum chat_lang lang, const char *tracking_code,
                                        const char *status, const char *team_name);

#endif
