/* Talking to a person (DESIGN.md, "Talking to a person"): a LINE reporter's chat with an
 * operator, as the API serves it. Not chat.h: that is the bot's conversation (webhooks/). Every
 * route is the operators' (a supervisor's too); the server has put the path's case id in
 * call->params[0]. */
#ifndef ESS_ROUTER_HANDOFF_H
#define ESS_ROUTER_HANDOFF_H

struct http_call;

/* The longest text an operator may write, in UTF-16 code units (LINE's and the browser's
 * count); a longer one is refused, never cut. */
#define HANDOFF_TEXT_MAX 2000

/* GET /v1/cases/{id}/chat/messages?after=&limit=: the case's conversation, oldest first
 * (views_chat_messages): after a seq (0..1e9, default 0), at most limit entries (1..500,
 * default 200). 404 for an unknown case, 400 invalid_query for a bad parameter. */
void handoff_messages_get(struct http_call *call);

/* POST /v1/cases/{id}/chat/take (no body): the caller takes the waiting chat and answers it
 * alone. 200 with the chat's state (views_chat), also when the caller has it already; 409
 * chat_taken (with operator_id: who has it), 409 no_chat (none waiting), 404. */
void handoff_take(struct http_call *call);

/* POST /v1/cases/{id}/chat/messages {"text"}: the operator answering the open chat writes to
 * the reporter: the text (plain, trimmed, 1..HANDOFF_TEXT_MAX characters, else 400
 * missing_field / invalid_field) is stored in the conversation and pushed to the reporter once
 * (the outbox). 201 with the stored entry (views_chat_entry); 409 chat_not_open, chat_taken,
 * no_line_user; 404. */
void handoff_say(struct http_call *call);

/* POST /v1/cases/{id}/chat/close (no body): hands the reporter back to the bot, who gets the
 * closing line. Any operator may close a waiting chat, an open one its operator or a
 * supervisor. 200 with the chat's state (chat "closed"); 409 no_chat, chat_taken; 404. */
void handoff_close(struct http_call *call);

#endif
