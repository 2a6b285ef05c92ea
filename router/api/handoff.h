/* Talking to a person (DESIGN.md, "Talking to a person"): a LINE reporter's chat with an
 * operator, as the API serves it. Not chat.h: that is the bot's conversation (webhooks/). */
#ifndef ESS_ROUTER_HANDOFF_H
#define ESS_ROUTER_HANDOFF_H

struct http_call;

/* GET /v1/cases/{id}/chat/messages?after=&limit= (operator): the case's conversation, oldest
 * first (views_chat_messages): after a seq (0..1e9, default 0), at most limit entries (1..500,
 * default 200). 404 for an unknown case, 400 invalid_query for a bad parameter. */
void handoff_messages_get(struct http_call *call);

#endif
