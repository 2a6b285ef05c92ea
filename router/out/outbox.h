/* The outbox sender: delivers the messages queued in Redis (LINE replies and pushes, progress
 * notices to LINE reporters) through the curl client, retrying with backoff, so that nothing
 * the router promised to send is lost, even across a restart. Several router processes may run
 * it at once: each message is leased to one of them by ess_outbox_claim. */
#ifndef ESS_ROUTER_OUTBOX_H
#define ESS_ROUTER_OUTBOX_H

struct cJSON;
struct router;
struct outbox;

enum outbox_build {
    OUTBOX_BUILD_OK = 0,
    OUTBOX_BUILD_NOTHING,  /* the payload lacks what the message needs: nothing to send */
    OUTBOX_BUILD_NO_MEMORY /* memory ran out: try again later */
};

/* Starts polling the outbox on router's loop (router->store, router->client, router->cfg and
 * router->rules must be set). NULL on allocation failure. */
struct outbox *outbox_start(struct router *router);

/* Something was queued: look at the outbox now rather than at the next tick. Accepts NULL. */
void outbox_kick(struct outbox *outbox);

/* The push a LINE message becomes, from its outbox payload (only read): a reply whose token
 * expired ({"to", "messages"} copied) or a progress notice ({"to", "lang", "tracking_code",
 * "status", "team_name"} rendered). With OUTBOX_BUILD_OK *out is a whole push {"to",
 * "messages"} the caller owns; otherwise *out is NULL. */
enum outbox_build outbox_as_push(const struct cJSON *payload, struct cJSON **out);
enum outbox_build outbox_progress_push(const struct cJSON *payload, struct cJSON **out);
/* The same for the closing line of a chat an operator ended ({"to", "lang"}: kind chat_closed). */
enum outbox_build outbox_chat_closed_push(const struct cJSON *payload, struct cJSON **out);

/* Stops polling and frees. Transfers in flight must have been cancelled first (client_free);
 * what they carried stays in Redis and is sent again once its lease runs out. Accepts NULL. */
void outbox_stop(struct outbox *outbox);

#endif
