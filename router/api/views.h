/* The JSON views of a case for operators and teams, built from what the store functions return
 * (ess.lua: hash fields as strings, times in ms): the full view and the list summary. The public
 * e-Tracking view is track.c's. */
#ifndef ESS_ROUTER_VIEWS_H
#define ESS_ROUTER_VIEWS_H

struct cJSON;

/* Each returns a new object the caller owns (NULL when memory runs out); raw is only read. */

/* The operator's view (DESIGN: GET /v1/cases/{id}), with its timeline. Once the case's personal
 * data is erased its fields read null, and "erased_at" and "erased_by" say when and by whom (else
 * null). */
struct cJSON *views_case(const struct cJSON *raw);

/* The supervisor's view: views_case with "erase_reason" (the words given with the erasure). */
struct cJSON *views_case_supervisor(const struct cJSON *raw);

/* The summary in lists and in the answer to POST /v1/incidents. */
struct cJSON *views_case_summary(const struct cJSON *raw);

/* A list page, {"cases": [summaries], "next_cursor": string or null}, from a store answer
 * {"cases": [raw cases], "next": string (absent or null: the last page)}. */
struct cJSON *views_case_list(const struct cJSON *reply);

/* A page of a case's conversation, {"case_id", "chat", "chat_since", "chat_operator",
 * "chat_escalated", "messages": [{"seq", "author" (reporter|operator), "by", "text", "at",
 * "sent_at" (LINE's time, or null)}], "next_after": the seq to ask after for more, or null}, from
 * ess_chat_messages' answer. */
struct cJSON *views_chat_messages(const struct cJSON *reply);

/* One entry of a conversation as views_chat_messages shows it ({"seq", "author", "by", "text",
 * "at", "sent_at"}), from the stored entry (ess_chat_say's answer). */
struct cJSON *views_chat_entry(const struct cJSON *raw);

/* The state of a case's chat, {"case_id", "tracking_code", "chat", "chat_since",
 * "chat_operator", "chat_escalated"}, from the answer of ess_chat_take or ess_chat_close. */
struct cJSON *views_chat(const struct cJSON *raw);

/* The data of `event: chat` on GET /v1/events, {"case_id", "tracking_code", "seq", "author",
 * "by", "at"}, from a case-log entry whose event is chat_message (its fields as strings). It never
 * reads a text: the entry has none, and a text field there would be ignored. */
struct cJSON *views_chat_event(const struct cJSON *raw);

#endif
