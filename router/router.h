/* The daemon's shared context: what every request handler needs, wired by main.c. */
#ifndef ESS_ROUTER_ROUTER_H
#define ESS_ROUTER_ROUTER_H

#include "store.h"

struct event_base;
struct config;
struct rules_table;
struct client;
struct outbox;
struct auth_keyed;
struct worker;
struct events;
struct feed;

/* Borrowed pointers, all owned by main() and alive until the loop has stopped. */
struct router {
    struct event_base *base;
    const struct config *cfg;
    const struct rules_table *rules;
    struct store *store;
    struct store_target redis;      /* where the stores connect (ESS_REDIS_*) */
    struct sentinel *sentinel;      /* ESS_REDIS_SENTINELS; NULL: ESS_REDIS_URL's server */
    struct client *client;          /* outbound HTTP (LINE, team webhooks) */
    struct outbox *outbox;          /* queued outgoing messages; kick it after queueing */
    struct auth_keyed *address_key; /* keys client addresses for per-client counts in Redis */
    struct worker *worker;          /* threads for the slow password hashes */
    struct events *events;          /* the live-update streams (GET /v1/events) */
    struct feed *feed;              /* partner agencies' parked feed reads (GET /v1/feed) */
    struct auth_keyed *phone_key;   /* keys reporters' phone digits for the search index */
    unsigned inflight;              /* HTTP calls started and not yet ended (for a graceful stop) */
};

#endif
