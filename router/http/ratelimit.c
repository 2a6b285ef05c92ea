/* Per-client request limits in a fixed one-minute window kept in Redis (INCR and PEXPIRE in one
 * function call), keyed by a hash of the client's address, shared by every router process. */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "netaddr.h"
#include "router.h"
#include "store.h"

#define RATELIMIT_WINDOW "60000" /* ms */
#define RATELIMIT_XFF_MAX 4096   /* an X-Forwarded-For longer than this is not read */

struct ratelimit_wait {
    struct http_call *call;
    int per_min;
    void (*next)(struct http_call *call);
};

/* Parses s[0..n) (blanks around it ignored) as one address, no prefix. */
static int ratelimit_parse_addr(const char *s, size_t n, struct net_cidr *out)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || memchr(s, '/', n) != NULL) return -1;
    return net_cidr_parse(s, n, out);
}

/* The client's address as a single-address net_cidr (see ratelimit_client_address). */
static int ratelimit_client(struct http_call *call, const struct net_list *trusted,
                            struct net_cidr *out)
{
    struct evhttp_connection *evcon;
    char *peer = NULL;
    ev_uint16_t port = 0;
    const char *xff, *last;

    if (call->req == NULL || (evcon = evhttp_request_get_connection(call->req)) == NULL)
        return -1;
    evhttp_connection_get_peer(evcon, &peer, &port);
    if (peer == NULL || ratelimit_parse_addr(peer, strlen(peer), out) != 0) return -1;
    if (!net_list_contains(trusted, out)) return 0;
    xff = evhttp_find_header(evhttp_request_get_input_headers(call->req), "X-Forwarded-For");
    if (xff == NULL || strlen(xff) > RATELIMIT_XFF_MAX) return 0;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    {
        struct net_cidr fwd;
        if (ratelimit_parse_addr(last, strlen(last), &fwd) == 0) *out = fwd;
    }
    return 0;
}

int ratelimit_client_address(struct http_call *call, const struct net_list *trusted, char *out,
                             size_t outlen)
{
    struct net_cidr a;
    if (ratelimit_client(call, trusted, &a) != 0) return -1;
    return inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.addr, out, (socklen_t)outlen) ? 0 : -1;
}

static void ratelimit_on_hit(enum store_status status, const struct store_item *items, size_t n,
                             void *arg)
{
    struct ratelimit_wait *w = arg;
    struct http_call *call = w->call;
    int per_min = w->per_min;
    void (*next)(struct http_call *) = w->next;
    long count, left_ms;
    char retry[24];

    free(w);
    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    if (status != STORE_OK || n != 2 || items[0].data == NULL || items[1].data == NULL) {
        http_reply_store_failure(call, status == STORE_OK ? STORE_ERROR : status);
        return;
    }
    count = strtol(items[0].data, NULL, 10);
    left_ms = strtol(items[1].data, NULL, 10);
    if (count <= per_min) {
        next(call);
        return;
    }
    if (left_ms < 1) left_ms = 1;
    if (left_ms > 60000) left_ms = 60000;
    snprintf(retry, sizeof retry, "%ld", (left_ms + 999) / 1000);
    evhttp_add_header(evhttp_request_get_output_headers(call->req), "Retry-After", retry);
    http_reply_error(call, 429, "rate_limited",
                     "Too many lookups from your address. Please wait a minute, then try again.");
}

void ratelimit_check(struct http_call *call, const char *bucket, int per_min,
                     void (*next)(struct http_call *call))
{
    struct net_cidr a;
    struct ratelimit_wait *w;
    char hash[AUTH_HASH_HEX + 1], name[96];
    const char *argv[2];

    if (ratelimit_client(call, &call->router->cfg->trusted_proxies, &a) != 0) {
        http_reply_error(call, 400, "bad_request", "The client address is unknown.");
        return;
    }
    /* An IPv6 subscriber holds a whole /64: count it as one client. */
    auth_token_hash((const char *)a.addr, a.v6 ? 8 : 4, hash);
    snprintf(name, sizeof name, "%s:%.32s", bucket, hash);
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    w->call = call;
    w->per_min = per_min;
    w->next = next;
    argv[0] = name;
    argv[1] = RATELIMIT_WINDOW;
    if (store_fcall_array(call->router->store, "ess_rate_hit", 0, 2, argv, NULL, ratelimit_on_hit,
                          w) != 0) {
        free(w);
        http_reply_store_failure(call, STORE_UNAVAILABLE);
    }
}
