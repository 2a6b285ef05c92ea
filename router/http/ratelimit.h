/* Request limits per client address and minute, counted in Redis (one round trip: ess_rate_hit)
 * so that every router process in front of one Redis shares the count. Used by the tracking-code
 * lookups (GET /v1/track/{code}, and the public page to come). Client addresses are never logged
 * and never stored as such: the counter's key holds a hash of the address. */
#ifndef ESS_ROUTER_RATELIMIT_H
#define ESS_ROUTER_RATELIMIT_H

#include <stddef.h>

struct http_call;
struct net_list;

#define RATELIMIT_ADDR_MAX 64 /* room for any IPv4 or IPv6 address as text */

/* The client's address of the call: the socket peer, or, when the peer is inside trusted, the
 * last address of X-Forwarded-For (when that is a valid address; else the peer). Written to out
 * as text. 0, or -1 when the connection is gone or has no peer address. */
int ratelimit_client_address(struct http_call *call, const struct net_list *trusted, char *out,
                             size_t outlen);

/* Counts one request of the call's client in bucket (a short name such as "track") for the
 * current minute. Within per_min, next(call) continues the call; past it, the call is answered
 * 429 rate_limited with Retry-After (seconds until the minute ends). IPv6 clients are counted by
 * their /64, which one subscriber usually holds whole. Redis being unavailable is answered 503
 * and a client gone meanwhile is freed; next is then not called. bucket must be a static
 * string. */
void ratelimit_check(struct http_call *call, const char *bucket, int per_min,
                     void (*next)(struct http_call *call));

#endif
