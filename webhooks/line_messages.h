/* LINE message objects (Messaging API) built as cJSON within LINE's limits: text messages,
 * quick-reply buttons, postback and location actions, a buttons template, and arrays of messages.
 * Only webhooks/ knows LINE's format: the citizen's and the team's messages are built with these.
 * Pure: no I/O. */
#ifndef ESS_WEBHOOKS_LINE_MESSAGES_H
#define ESS_WEBHOOKS_LINE_MESSAGES_H

#include <stddef.h>

#include "line.h" /* LINE_POSTBACK_MAX: postback data, in bytes */

struct cJSON;

/* LINE's limits, in characters as LINE counts them (UTF-16 code units). */
#define LINE_MSG_TEXT_MAX 5000    /* text message */
#define LINE_MSG_LABEL_MAX 20     /* quick-reply and template action label */
#define LINE_MSG_DISPLAY_MAX 300  /* postback displayText */
#define LINE_MSG_ALT_MAX 400      /* template altText */
#define LINE_MSG_TEMPLATE_MAX 160 /* buttons template text without title or image */
#define LINE_MSG_QUICK_MAX 13     /* quickReply.items */
#define LINE_MSG_MESSAGE_MAX 300  /* message action text */
#define LINE_MSG_MAX_MESSAGES 5   /* messages in one reply or push */

/* Copies at most max_units characters of src (NULL reads as "") into dst (cap bytes, cap >= 1,
 * always NUL-terminated), cut at a character boundary; LINE counts characters in UTF-16 code
 * units. */
void line_messages_clip(char *dst, size_t cap, const char *src, size_t max_units);

/* {"type":"text","text":text}, the text cut to LINE's limit. A new object the caller owns; NULL
 * when memory runs out. */
struct cJSON *line_messages_text(const char *text);

/* Adds a quick-reply button with action to msg (at most LINE_MSG_QUICK_MAX). action is taken: it
 * belongs to msg on success and is freed on failure. 0, or -1 (msg or action NULL, too many
 * buttons, out of memory). */
int line_messages_quick(struct cJSON *msg, struct cJSON *action);

/* A postback action: label cut to 20 characters, displayText (display; "" leaves it out) to 300;
 * data must fit LINE_POSTBACK_MAX bytes. A new object; NULL when data does not fit, or when memory
 * runs out. */
struct cJSON *line_messages_postback(const char *label, const char *data, const char *display);

/* A message action: tapping it sends text (cut to 300 characters) as the user's own text message;
 * label cut to 20. A new object; NULL when out of memory. */
struct cJSON *line_messages_message_action(const char *label, const char *text);

/* The quick-reply action that opens LINE's location picker. A new object; NULL when out of
 * memory. */
struct cJSON *line_messages_location_action(const char *label);

/* A buttons template message (it stays in a chat's history, where a quick reply would vanish
 * with the next message): alt_text cut to 400 characters, text to 160, and the one action, which
 * it takes (freed on failure). A new object; NULL when action is NULL or memory runs out. */
struct cJSON *line_messages_buttons(const char *alt_text, const char *text, struct cJSON *action);

/* An array of the messages m[0..n), which it takes (every m[i] is set to NULL). A new array the
 * caller owns; NULL (every message freed) when one of them is NULL because memory ran out, or
 * when memory runs out now. */
struct cJSON *line_messages_array(struct cJSON **m, size_t n);

#endif
