/* POST /webhooks/line: the LINE Official Account's webhook. Verifies X-Line-Signature over the
 * raw body, handles the events in timestamp order (dropping repeats by webhookEventId), advances
 * each citizen's conversation, creates cases through the same path as the hotline, queues the
 * replies in the outbox, and answers 200 once all of that is stored; the replies go out after. */
#ifndef ESS_ROUTER_LINEBOT_H
#define ESS_ROUTER_LINEBOT_H

struct http_call;

/* How long a citizen's conversation state is kept (seconds, as Redis takes them). An idle state
 * holds only the user's last tracking code (and whether it is followed): kept a week, so
 * "status" finds it. A report in progress holds its description and location: kept an hour,
 * then dropped. */
#define LINEBOT_IDLE_STATE_TTL_S "604800"
#define LINEBOT_REPORT_STATE_TTL_S "3600"

void linebot_webhook(struct http_call *call); /* public: the signature is the credential */

#endif
