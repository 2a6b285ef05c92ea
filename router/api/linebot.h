/* POST /webhooks/line: the LINE Official Account's webhook. Verifies X-Line-Signature over the
 * raw body, handles the events in timestamp order (dropping repeats by webhookEventId), advances
 * each citizen's conversation, creates cases through the same path as the hotline, queues the
 * replies in the outbox, and answers 200 once all of that is stored; the replies go out after. */
#ifndef ESS_ROUTER_LINEBOT_H
#define ESS_ROUTER_LINEBOT_H

struct http_call;

void linebot_webhook(struct http_call *call); /* public: the signature is the credential */

#endif
