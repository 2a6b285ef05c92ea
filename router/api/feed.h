/* Partner agencies' feed (DESIGN "The shared record"; their accounts are agencies.h's): the case
 * log read through a Redis consumer group of each agency's own (GET /v1/feed, POST /v1/feed/ack;
 * ess.lua's ess_feed_*). A read that finds nothing new with block_ms waits parked, holding no
 * Redis connection: the events reader (events.h) calls feed_wake when new log entries arrive, and
 * parked reads look again. */
#ifndef ESS_ROUTER_FEED_H
#define ESS_ROUTER_FEED_H

struct router;
struct http_call;
struct feed;

#define FEED_MAX_WAITS 1024 /* parked reads at once; one more is answered 503 too_many_waits */

/* The parked reads of one process. NULL when memory runs out. */
struct feed *feed_new(struct router *router);

/* New case-log entries were seen: every parked read reads again. Accepts NULL. */
void feed_wake(struct feed *f);

/* Answers every parked read with what it has (nothing) at once: the graceful stop. Accepts
 * NULL. */
void feed_drain(struct feed *f);

/* Frees f; call after the HTTP server is freed (no parked read is left). Accepts NULL. */
void feed_free(struct feed *f);

void feed_get(struct http_call *call); /* GET /v1/feed[?format=eido] (agency) */
void feed_ack(struct http_call *call); /* POST /v1/feed/ack (agency) */

#endif
