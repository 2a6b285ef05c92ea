/* Request limits per client address and minute, counted in Redis (one round trip: ess_rate_hit)
 * so that every router process in front of one Redis shares the count. Used by the tracking-code
 * lookups (GET /v1/track/{code}, and the public page to come). Client addresses are never logged
 * and never stored as such: the counter's key holds an HMAC of the address under a key derived
 * from ESS_TOKEN_SECRET, which Redis never sees (a plain hash of an IPv4 address is reversible). */
#ifndef ESS_ROUTER_RATELIMIT_H
#define ESS_ROUTER_RATELIMIT_H

#include <stddef.h>

struct http_call;
struct ratelimit_ticket;

/* The label of the key client addresses are hashed with (auth_keyed_new(ESS_TOKEN_SECRET, this)),
 * made once by main.c as router->address_key. */
#define RATELIMIT_KEY_LABEL "ess-router rate limit key"

/* Writes to hex (65 bytes) the keyed hash that names the call's client address in Redis: the
 * socket peer, or the last X-Forwarded-For address when the peer is in ESS_TRUSTED_PROXIES; an
 * IPv6 client by its /64 (one subscriber usually holds it whole). The address is keyed (HMAC)
 * with a key derived from ESS_TOKEN_SECRET, which never reaches Redis: a plain hash of an IPv4
 * address is reversed by trying all 2^32 of them. 0, or -1 when the address is unknown. */
int ratelimit_client_hash(struct http_call *call, char hex[64 + 1]);

/* Counts one request of the call's client in bucket (a short name such as "track") for the
 * current minute, pipelined with the caller's own Redis command so that both cost one round
 * trip: ratelimit_start sends the count and returns at once; the caller sends its command right
 * after, and in that command's callback (which runs after the count's: one connection answers
 * in order) asks ratelimit_verdict. IPv6 clients are counted by their /64, which one subscriber
 * usually holds whole. NULL when the call was answered already (Redis not up: 503; no client
 * address: 400; out of memory: 500). */
struct ratelimit_ticket *ratelimit_start(struct http_call *call, const char *bucket, int per_min);

/* 1: within per_min, go on with the call. 0: the call was answered (429 rate_limited with
 * Retry-After, the seconds until the minute ends; or 503/500 when the count failed) and ended.
 * Frees the ticket. The call's client must still be there (call->req != NULL). */
int ratelimit_verdict(struct ratelimit_ticket *ticket, struct http_call *call);

/* Gives up a ticket without a verdict (the call ended another way). Accepts NULL. */
void ratelimit_ticket_drop(struct ratelimit_ticket *ticket);

#endif
