/* Telling people about a case, for the outbox: the dispatch to the team that holds it (a signed
 * POST to its webhook, or a LINE push to its group with an accept button) and the notice to the
 * supervisors when a case is escalated. Each attempt's outcome lands on the case's timeline. */
#ifndef ESS_ROUTER_DISPATCH_H
#define ESS_ROUTER_DISPATCH_H

struct cJSON;
struct router;

enum delivery_outcome {
    DELIVERY_DONE = 0, /* delivered, or no longer needed (the team lost the case) */
    DELIVERY_RETRY,    /* try again after delay_ms */
    DELIVERY_GIVE_UP   /* reason says why */
};

/* Called once per delivery attempt. reason is valid only inside the callback. */
typedef void (*delivery_cb)(enum delivery_outcome outcome, long delay_ms, const char *reason,
                            void *arg);

/* Delivers a "dispatch" outbox message: {"case_id", "team_id", "attempt", "notify",
 * "token_nonce"} and the case's facts as they were when the team was claimed (ess.lua's
 * queue_dispatch). payload is only read during the call. attempts counts earlier tries; retry_key
 * identifies this message across them (X-ESS-Delivery and X-Line-Retry-Key). cb is called exactly
 * once, later, from the loop. */
void dispatch_deliver(struct router *router, const struct cJSON *payload, int attempts,
                      const char *retry_key, delivery_cb cb, void *arg);

/* DESIGN's dispatch JSON (the body a team's webhook receives, signed), from a "dispatch"
 * payload or case hash c (only read; fields as text or numbers). A new string the caller
 * frees, or NULL when memory runs out: never a dispatch with a fact missing. */
char *dispatch_body(const struct cJSON *c);

/* The supervisors' escalation notice for case c (only read): its reference facts and reason,
 * nothing personal. A new string the caller frees, or NULL when memory runs out. */
char *dispatch_escalation_body(const struct cJSON *c, const char *reason);

/* Delivers an "escalation" outbox message ({"case_id", "reason"}) to ESS_SUPERVISOR_WEBHOOK
 * and/or ESS_SUPERVISOR_LINE_TO (done at once when neither is set). As above. */
void dispatch_escalation(struct router *router, const struct cJSON *payload, int attempts,
                         const char *retry_key, delivery_cb cb, void *arg);

#endif
