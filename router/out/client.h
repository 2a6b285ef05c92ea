/* Outbound HTTP for the daemon: POSTs to the LINE Messaging API and to team webhooks through
 * libcurl's multi interface, driven by the router's libevent loop so that no transfer ever
 * blocks it. One client per event loop; connections are kept alive and reused. */
#ifndef ESS_ROUTER_CLIENT_H
#define ESS_ROUTER_CLIENT_H

#include <stddef.h>

struct event_base;
struct net_list;

struct client;         /* one per event loop */
struct client_request; /* one transfer in flight */

/* The largest response body kept; the rest of a longer body is read and discarded. */
#define CLIENT_BODY_MAX (64 * 1024)

/* The outcome of one transfer. Every pointer in it is valid only inside the callback. */
struct client_response {
    int status;        /* HTTP status of a complete response; 0 when error is set */
    const char *error; /* NULL, or a short static description: "timeout", "connect failed",
                        * "cancelled", ... (never contains the URL, headers or body) */
    int timed_out;     /* 1 when the transfer hit its timeout */
    int sent;          /* 1 when the request went out, in part or whole: even with no answer
                        * (error set), the receiver may have acted on it */
    const char *body;  /* the response body, NUL-terminated, at most CLIENT_BODY_MAX bytes;
                        * "" when there is none */
    size_t body_len;
    double seconds; /* total time of the transfer */
};

/* Runs once per transfer, from the event loop (never from inside client_post). It may call
 * client_post and client_cancel, and client_free on its own client. */
typedef void (*client_cb)(const struct client_response *res, void *arg);

/* A client whose transfers run on base, which must outlive it. curl_global_init must have been
 * called. Returns NULL on failure (out of memory). Free with client_free. */
struct client *client_new(struct event_base *base);

/* Cancels every transfer still in flight, running each callback with status 0 and error
 * "cancelled" (client_post returns NULL from within them), then frees the client. Accepts
 * NULL. Called from a callback, the client is released once that callback returns. */
void client_free(struct client *c);

/* Starts a POST of body[0..body_len) to url (http:// or https:// only) with the given headers,
 * each a "Name: value" string. url, headers and body are copied; the caller keeps ownership.
 * Include a Content-Type header: curl's default is application/x-www-form-urlencoded.
 * timeout_ms (> 0) bounds the whole transfer; connecting is bounded by min(timeout_ms, 5000).
 * Redirects are not followed. Returns the request handle, valid until its callback has run or
 * it is cancelled; NULL on immediate failure (bad URL or scheme, a header containing CR or LF,
 * out of memory, client being freed), in which case cb is never called. */
struct client_request *client_post(struct client *c, const char *url, const char *const *headers,
                                   size_t nheaders, const char *body, size_t body_len,
                                   int timeout_ms, client_cb cb, void *arg);

/* Aborts a transfer in flight and frees r; its callback is NOT called. Accepts NULL. Called
 * on a request whose callback is running, it does nothing. */
void client_cancel(struct client_request *r);

/* Every transfer connects only to public addresses, to loopback ones when its URL names a
 * loopback host (127.0.0.1, localhost, [::1]), and to the networks of allow (copied; by default
 * none): checked on the resolved address of each new connection (an "address refused" error
 * otherwise), so neither a name nor a redirect reaches the cloud metadata service or the LAN. */
void client_set_allowed_nets(struct client *c, const struct net_list *allow);

/* The number of transfers started and not yet completed or cancelled. */
size_t client_in_flight(const struct client *c);

#endif
