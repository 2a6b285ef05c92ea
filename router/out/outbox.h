/* The outbox sender: delivers the messages queued in Redis (LINE replies and pushes, progress
 * notices to LINE reporters) through the curl client, retrying with backoff, so that nothing
 * the router promised to send is lost, even across a restart. Several router processes may run
 * it at once: each message is leased to one of them by ess_outbox_claim. */
#ifndef ESS_ROUTER_OUTBOX_H
#define ESS_ROUTER_OUTBOX_H

struct router;
struct outbox;

/* Starts polling the outbox on router's loop (router->store, router->client, router->cfg and
 * router->rules must be set). NULL on allocation failure. */
struct outbox *outbox_start(struct router *router);

/* Something was queued: look at the outbox now rather than at the next tick. Accepts NULL. */
void outbox_kick(struct outbox *outbox);

/* Stops polling and frees. Transfers in flight must have been cancelled first (client_free);
 * what they carried stays in Redis and is sent again once its lease runs out. Accepts NULL. */
void outbox_stop(struct outbox *outbox);

#endif
