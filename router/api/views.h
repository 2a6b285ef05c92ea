/* The JSON views of a case for operators and teams, built from what the store functions return
 * (ess.lua: hash fields as strings, times in ms): the full view and the list summary. The public
 * e-Tracking view is track.c's. */
#ifndef ESS_ROUTER_VIEWS_H
#define ESS_ROUTER_VIEWS_H

struct cJSON;

/* Each returns a new object the caller owns (NULL when memory runs out); raw is only read. */

/* The operator's view (DESIGN: GET /v1/cases/{id}), with its timeline. */
struct cJSON *views_case(const struct cJSON *raw);

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

#endif
