/* Per-client request limits in a fixed one-minute window kept in Redis (INCR and PEXPIRE in one
 * function call), keyed by an HMAC of the client's address, shared by every router process. The
 * count is sent just before the caller's own command, so both cost one round trip. */
#include "ratelimit.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "netaddr.h"
#include "router.h"
#include "store.h"

#define RATELIMIT_WINDOW "60000" /* ms */

int ratelimit_client_hash(struct http_call *call, char hex[AUTH_HASH_HEX + 1])
{
    struct net_cidr a;
    hex[0] = '\0';
    if (http_client_address(call, &a) != 0) return -1;
    return auth_keyed_hex(call->router->address_key, a.addr, a.v6 ? 8 : 4, hex);
}

/* The counter's name for the call's client in bucket, into name; -1 when the client address is
 * unknown. */
static int ratelimit_name(struct http_call *call, const char *bucket, char *name, size_t len)
{
    char hash[AUTH_HASH_HEX + 1];
    if (ratelimit_client_hash(call, hash) != 0) return -1;
    snprintf(name, len, "%s:%.32s", bucket, hash);
    return 0;
}

/* Answers 429 with Retry-After (seconds until the window ends, from left_ms). */
static void ratelimit_refuse(struct http_call *call, long left_ms)
{
    char retry[24];
    if (left_ms < 1) left_ms = 1;
    if (left_ms > 60000) left_ms = 60000;
    snprintf(retry, sizeof retry, "%ld", (left_ms + 999) / 1000);
    evhttp_add_header(evhttp_request_get_output_headers(call->req), "Retry-After", retry);
    http_reply_error(call, 429, "rate_limited",
                     "Too many lookups from your address. Please wait a minute, then try again.");
}

enum { TICKET_PENDING, TICKET_ANSWERED, TICKET_DROPPED };

struct ratelimit_ticket {
    int state;
    int per_min;
    enum store_status status;
    long count, left_ms;
};

static void ratelimit_on_ticket(enum store_status status, const struct store_item *items, size_t n,
                                void *arg)
{
    struct ratelimit_ticket *t = arg;
    if (t->state == TICKET_DROPPED) {
        free(t);
        return;
    }
    t->state = TICKET_ANSWERED;
    t->status = status;
    if (status == STORE_OK && (n != 2 || items[0].data == NULL || items[1].data == NULL))
        t->status = STORE_ERROR;
    if (t->status == STORE_OK) {
        t->count = strtol(items[0].data, NULL, 10);
        t->left_ms = strtol(items[1].data, NULL, 10);
    }
}

struct ratelimit_ticket *ratelimit_start(struct http_call *call, const char *bucket, int per_min)
{
    struct ratelimit_ticket *t;
    char name[96];
    const char *argv[2];

    if (ratelimit_name(call, bucket, name, sizeof name) != 0) {
        http_reply_error(call, 400, "bad_request", "The client address is unknown.");
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return NULL;
    }
    t->per_min = per_min;
    argv[0] = name;
    argv[1] = RATELIMIT_WINDOW;
    if (store_fcall_array(call->router->store, "ess_rate_hit", 0, 2, argv, NULL,
                          ratelimit_on_ticket, t) != 0) {
        free(t);
        http_reply_store_failure(call, STORE_UNAVAILABLE);
        return NULL;
    }
    return t;
}

int ratelimit_verdict(struct ratelimit_ticket *t, struct http_call *call)
{
    if (t->state != TICKET_ANSWERED) { /* not expected: one connection answers in order */
        t->state = TICKET_DROPPED;
        http_reply_store_failure(call, STORE_UNAVAILABLE);
        return 0;
    }
    if (t->status != STORE_OK) {
        http_reply_store_failure(call, t->status);
        free(t);
        return 0;
    }
    if (t->count <= t->per_min) {
        free(t);
        return 1;
    }
    ratelimit_refuse(call, t->left_ms);
    free(t);
    return 0;
}

void ratelimit_ticket_drop(struct ratelimit_ticket *t)
{
    if (t == NULL) return;
    if (t->state == TICKET_ANSWERED)
        free(t);
    else
        t->state = TICKET_DROPPED;
}
