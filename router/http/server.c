/* The HTTP server: evhttp with limits (body, headers, a deadline per request, a cap on
 * connections), the route table, role and body checks, /healthz, /metrics, and the graceful
 * stop. */
#include "server.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "agencies.h"
#include "audit.h"
#include "cases.h"
#include "config.h"
#include "consent.h"
#include "console.h"
#include "eido.h"
#include "erase.h"
#include "events.h"
#include "feed.h"
#include "handoff.h"
#include "http.h"
#include "linebot.h"
#include "log.h"
#include "merge.h"
#include "metrics.h"
#include "netaddr.h"
#include "open311.h"
#include "openapi.h"
#include "operators.h"
#include "random.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "static.h"
#include "stats.h"
#include "store.h"
#include "teams.h"
#include "text.h"
#include "track.h"
#include "track_page.h"
#include "triage.h"

#define MAX_HEADERS_BYTES 16384
/* Bodies up to max(max_body_bytes, this) are read and refused with a JSON 413 when over
 * max_body_bytes; beyond it libevent 2.1 refuses by itself, with an HTML 413 (it has no error
 * callback before 2.2), as soon as it reads a Content-Length that large. */
#define HARD_BODY_LIMIT (1024 * 1024)
#define DRAIN_TICK_MS 50

#define ROLE(r) (1u << (r))
#define SUPERVISOR ROLE(AUTH_SUPERVISOR)
#define OPERATOR (ROLE(AUTH_OPERATOR) | SUPERVISOR) /* a supervisor may all an operator may */
#define ADMIN ROLE(AUTH_ADMIN)
#define TEAM ROLE(AUTH_TEAM)
#define AGENCY ROLE(AUTH_AGENCY)
#define PUBLIC 0u

enum { BODY_NONE = 0, BODY_JSON, BODY_SIGNED };
#define API HTTP_KIND_API
#define PAGE HTTP_KIND_PAGE
#define ASSET HTTP_KIND_FILE
#define CONSOLE HTTP_KIND_CONSOLE
#define OPEN311 HTTP_KIND_OPEN311   /* API, with CORS and Open311's error shape */
#define LINE_MAX_BODY (1024 * 1024) /* LINE sends up to 100 events of up to 5000 characters */

/* One client connection. From its accept until a request is complete (and again from the end of
 * a call until the next request is complete), its deadline timer runs: a client that trickles
 * bytes is cut at ESS_REQUEST_TIMEOUT_S, however often it sends. A streaming answer (GET
 * /v1/events, http_stream_start) is a call that lasts: its connection stays counted against the
 * caps, and no deadline runs until the stream ends (its stalled writes are cut by http.c). */
struct conn {
    struct server *srv;
    struct bufferevent *bev;         /* until attached: held with a reference */
    struct evhttp_connection *evcon; /* once attached; NULL before */
    struct event *timer;             /* first the attach, then the deadline */
    struct http_call *call;          /* the call in flight on it, if any */
    struct conn_client *client;      /* its client's count, once attached; NULL: not counted */
    evutil_socket_t fd;              /* its socket once attached (srv->by_fd), else -1 */
    struct conn *prev, *next;
};

/* The connections open from one client address (the socket peer; IPv6: its /64), for
 * ESS_MAX_CONNECTIONS_PER_CLIENT. */
#define CONN_KEY_LEN 9 /* IPv4: 4 bytes, IPv6: 8 (its /64), and which of the two */
struct conn_client {
    struct conn_client *next; /* in its bucket */
    unsigned char key[CONN_KEY_LEN];
    unsigned n;
};

struct server {
    struct router *router;
    struct conn *conns; /* every connection with a record, attached or not */
    unsigned nattached; /* connections counted against ESS_MAX_CONNECTIONS */

    struct conn_client **clients; /* hash table of client counts; NULL when there is no cap */
    size_t nbuckets;              /* a power of two */
    uint64_t seed;                /* random: a client cannot choose addresses sharing a bucket */
    struct conn **by_fd;          /* attached records by socket: a request finds its own in O(1) */
    size_t by_fd_len;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    int port;
    struct event *drain_timer;
    int drain_ticks_left;
    void (*drain_done)(void *arg);
    void *drain_arg;
};

static void healthz(struct http_call *call);
static void metrics_get(struct http_call *call);
static void dispatch_known(struct http_call *call);

struct route {
    enum evhttp_cmd_type method;
    const char *pattern; /* "/"-separated segments; "*" matches one segment, a parameter; a
                            last "**" matches the rest of the path, any depth (route.h) */
    enum metrics_route metric;
    unsigned roles; /* who may call; PUBLIC: anyone */
    int body;       /* BODY_NONE, BODY_JSON (size and Content-Type checked), BODY_SIGNED (size
                       checked; the handler verifies a signature before anything else) */
    void (*handler)(struct http_call *call);
    enum http_kind kind; /* API (JSON), PAGE (public HTML), ASSET (/assets/): decides the headers
                            every answer carries (http.h) */
};

static const struct route routes[] = {
    {EVHTTP_REQ_POST, "v1/incidents", METRICS_ROUTE_INCIDENTS, OPERATOR, BODY_JSON,
     cases_post_incident, API},
    {EVHTTP_REQ_GET, "v1/cases", METRICS_ROUTE_CASE_LIST, OPERATOR, BODY_NONE, cases_list, API},
    {EVHTTP_REQ_GET, "v1/cases/*", METRICS_ROUTE_CASE_GET, OPERATOR | TEAM, BODY_NONE, cases_get,
     API},
    {EVHTTP_REQ_POST, "v1/cases/*/status", METRICS_ROUTE_CASE_STATUS, OPERATOR | TEAM, BODY_JSON,
     cases_post_status, API},
    {EVHTTP_REQ_POST, "v1/cases/*/ack", METRICS_ROUTE_CASE_ACK, TEAM, BODY_NONE, cases_post_ack,
     API},
    {EVHTTP_REQ_POST, "v1/cases/*/assign", METRICS_ROUTE_CASE_ASSIGN, OPERATOR, BODY_JSON,
     cases_post_assign, API},
    {EVHTTP_REQ_PUT, "v1/teams/*", METRICS_ROUTE_TEAM_PUT, ADMIN, BODY_JSON, teams_put, API},
    {EVHTTP_REQ_POST, "v1/cases/*/location", METRICS_ROUTE_CASE_LOCATION, OPERATOR, BODY_JSON,
     cases_post_location, API},
    {EVHTTP_REQ_POST, "v1/cases/*/notes", METRICS_ROUTE_CASE_NOTE, OPERATOR, BODY_JSON,
     cases_post_note, API},
    {EVHTTP_REQ_POST, "v1/cases/*/consent", METRICS_ROUTE_CASE_CONSENT, OPERATOR, BODY_JSON,
     consent_post, API},
    {EVHTTP_REQ_POST, "v1/cases/*/triage", METRICS_ROUTE_CASE_TRIAGE, OPERATOR, BODY_JSON,
     triage_post, API},
    {EVHTTP_REQ_POST, "v1/cases/*/merge", METRICS_ROUTE_CASE_MERGE, OPERATOR, BODY_JSON, merge_post,
     API},
    {EVHTTP_REQ_GET, "v1/cases/*/candidates", METRICS_ROUTE_CASE_CANDIDATES, OPERATOR, BODY_NONE,
     teams_candidates, API},
    {EVHTTP_REQ_GET, "v1/cases/*/chat/messages", METRICS_ROUTE_CHAT, OPERATOR, BODY_NONE,
     handoff_messages_get, API},
    {EVHTTP_REQ_POST, "v1/cases/*/chat/take", METRICS_ROUTE_CHAT, OPERATOR, BODY_NONE, handoff_take,
     API},
    {EVHTTP_REQ_POST, "v1/cases/*/chat/messages", METRICS_ROUTE_CHAT, OPERATOR, BODY_JSON,
     handoff_say, API},
    {EVHTTP_REQ_POST, "v1/cases/*/chat/close", METRICS_ROUTE_CHAT, OPERATOR, BODY_NONE,
     handoff_close, API},
    {EVHTTP_REQ_POST, "v1/classify", METRICS_ROUTE_CLASSIFY, OPERATOR, BODY_JSON, triage_classify,
     API},
    {EVHTTP_REQ_GET, "v1/teams", METRICS_ROUTE_TEAM_LIST, OPERATOR | ADMIN, BODY_NONE, teams_list,
     API},
    {EVHTTP_REQ_POST, "v1/teams/*/position", METRICS_ROUTE_TEAM_POSITION, TEAM, BODY_JSON,
     teams_post_position, API},
    {EVHTTP_REQ_PUT, "v1/operators/*", METRICS_ROUTE_OPERATOR_PUT, ADMIN, BODY_JSON, operators_put,
     API},
    {EVHTTP_REQ_GET, "v1/operators", METRICS_ROUTE_OPERATOR_LIST, ADMIN, BODY_NONE, operators_list,
     API},
    {EVHTTP_REQ_PUT, "v1/agencies/*", METRICS_ROUTE_AGENCY_PUT, ADMIN, BODY_JSON, agencies_put,
     API},
    {EVHTTP_REQ_GET, "v1/agencies", METRICS_ROUTE_AGENCY_LIST, ADMIN, BODY_NONE, agencies_list,
     API},
    {EVHTTP_REQ_GET, "v1/feed", METRICS_ROUTE_FEED, AGENCY, BODY_NONE, feed_get, API},
    {EVHTTP_REQ_POST, "v1/feed/ack", METRICS_ROUTE_FEED_ACK, AGENCY, BODY_JSON, feed_ack, API},
    {EVHTTP_REQ_POST, "v1/session", METRICS_ROUTE_SESSION_LOGIN, PUBLIC, BODY_JSON, operators_login,
     API},
    {EVHTTP_REQ_DELETE, "v1/session", METRICS_ROUTE_SESSION_LOGOUT, OPERATOR, BODY_NONE,
     operators_logout, API},
    {EVHTTP_REQ_GET, "v1/events", METRICS_ROUTE_EVENTS, OPERATOR, BODY_NONE, events_get, API},
    {EVHTTP_REQ_GET, "v1/cases/*/access-log", METRICS_ROUTE_CASE_ACCESS_LOG, SUPERVISOR, BODY_NONE,
     audit_case_log, API},
    {EVHTTP_REQ_GET, "v1/cases/*/eido", METRICS_ROUTE_CASE_EIDO, OPERATOR | AGENCY, BODY_NONE,
     eido_get, API},
    {EVHTTP_REQ_GET, "v1/audit", METRICS_ROUTE_AUDIT, SUPERVISOR, BODY_NONE, audit_list, API},
    {EVHTTP_REQ_GET, "v1/stats", METRICS_ROUTE_STATS, SUPERVISOR, BODY_NONE, stats_get, API},
    {EVHTTP_REQ_DELETE, "v1/cases/*/personal-data", METRICS_ROUTE_CASE_ERASE, SUPERVISOR, BODY_JSON,
     erase_case_delete, API},
    {EVHTTP_REQ_GET, "v1/track/*", METRICS_ROUTE_TRACK, PUBLIC, BODY_NONE, track_get, API},
    {EVHTTP_REQ_GET, "open311/v2/*", METRICS_ROUTE_OPEN311, PUBLIC, BODY_NONE, open311_get,
     OPEN311},
    {EVHTTP_REQ_GET, "open311/v2/services/*", METRICS_ROUTE_OPEN311, PUBLIC, BODY_NONE,
     open311_service_get, OPEN311},
    {EVHTTP_REQ_GET, "open311/v2/requests/*", METRICS_ROUTE_OPEN311, PUBLIC, BODY_NONE,
     open311_request_get, OPEN311},
    {EVHTTP_REQ_GET, "open311/**", METRICS_ROUTE_OPEN311, PUBLIC, BODY_NONE, open311_not_found,
     OPEN311},
    {EVHTTP_REQ_GET, "track", METRICS_ROUTE_TRACK_PAGE, PUBLIC, BODY_NONE, track_page_form, PAGE},
    {EVHTTP_REQ_GET, "track/*", METRICS_ROUTE_TRACK_PAGE, PUBLIC, BODY_NONE, track_page_get, PAGE},
    {EVHTTP_REQ_GET, "assets/**", METRICS_ROUTE_ASSETS, PUBLIC, BODY_NONE, static_get, ASSET},
    {EVHTTP_REQ_GET, "console/config.json", METRICS_ROUTE_CONSOLE, PUBLIC, BODY_NONE,
     console_config, API},
    {EVHTTP_REQ_GET, "console/**", METRICS_ROUTE_CONSOLE, PUBLIC, BODY_NONE, console_page, CONSOLE},
    {EVHTTP_REQ_POST, "webhooks/line", METRICS_ROUTE_LINE_WEBHOOK, PUBLIC, BODY_SIGNED,
     linebot_webhook, API},
    {EVHTTP_REQ_GET, "healthz", METRICS_ROUTE_HEALTHZ, PUBLIC, BODY_NONE, healthz, API},
    {EVHTTP_REQ_GET, "metrics", METRICS_ROUTE_METRICS, PUBLIC, BODY_NONE, metrics_get, API},
    {EVHTTP_REQ_GET, "openapi.json", METRICS_ROUTE_OPENAPI, PUBLIC, BODY_NONE, openapi_get, ASSET},
};

static int is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    if (ct == NULL) return 0;
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, want, n) != 0) return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Path segments become call->params as they are. */
_Static_assert(ROUTE_SEGMENT_MAX == HTTP_MAX_PARAM_LEN && ROUTE_MAX_PARAMS == HTTP_MAX_PARAMS,
               "route.h and http.h must agree on path parameters");

/* ------------------------------------------------------------------------------------------ */
/* Connections: the deadline of each request and the cap on connections. libevent 2.1 has no
 * callback for a new connection but the one that makes its bufferevent (evhttp_set_bevcb); the
 * connection itself exists once that returns, so it is attached from the event loop right after
 * (an active event, run in accept order, before any byte of the connection is read). */

static size_t conn_client_bucket(const struct server *srv, const unsigned char *key)
{
    uint64_t h = srv->seed ^ 0xcbf29ce484222325u; /* FNV-1a from a random basis, then mixed */
    for (size_t i = 0; i < CONN_KEY_LEN; i++) h = (h ^ key[i]) * 0x100000001b3u;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return (size_t)h & (srv->nbuckets - 1);
}

/* Counts evcon's connection for its client in c->client. 0, or -1 when that client has
 * ESS_MAX_CONNECTIONS_PER_CLIENT open already. Without a cap, a peer address or memory for the
 * count, the connection goes on uncounted. */
static int conn_client_take(struct conn *c, struct evhttp_connection *evcon)
{
    struct server *srv = c->srv;
    const struct sockaddr *sa = evhttp_connection_get_addr(evcon);
    unsigned char key[CONN_KEY_LEN] = {0};
    struct conn_client *e;
    struct net_cidr a;
    size_t b;

    if (srv->clients == NULL || sa == NULL || net_cidr_from_sockaddr(sa, &a) != 0) return 0;
    key[0] = (unsigned char)a.v6;
    memcpy(key + 1, a.addr, a.v6 ? 8 : 4);
    b = conn_client_bucket(srv, key);
    for (e = srv->clients[b]; e && memcmp(e->key, key, CONN_KEY_LEN) != 0; e = e->next) continue;
    if (e == NULL) {
        if ((e = calloc(1, sizeof *e)) == NULL) return 0;
        memcpy(e->key, key, CONN_KEY_LEN);
        e->next = srv->clients[b];
        srv->clients[b] = e;
    }
    if (e->n >= (unsigned)srv->router->cfg->max_conns_per_client) return -1;
    e->n++;
    c->client = e;
    return 0;
}

static void conn_client_release(struct server *srv, struct conn_client *e)
{
    struct conn_client **p;
    if (e == NULL || --e->n > 0) return;
    for (p = &srv->clients[conn_client_bucket(srv, e->key)]; *p != e; p = &(*p)->next) continue;
    *p = e->next;
    free(e);
}

/* Files c under its socket in srv->by_fd. 0, or -1 without memory (c is then not found by
 * conn_call_started: its requests run without deadline bookkeeping, as without a record). */
static int conn_index(struct server *srv, struct conn *c, evutil_socket_t fd)
{
    if (fd < 0) return -1;
    if ((size_t)fd >= srv->by_fd_len) {
        size_t len = srv->by_fd_len ? srv->by_fd_len : 64;
        struct conn **grown;
        while (len <= (size_t)fd) len *= 2;
        grown = realloc(srv->by_fd, len * sizeof *grown);
        if (grown == NULL) return -1;
        memset(grown + srv->by_fd_len, 0, (len - srv->by_fd_len) * sizeof *grown);
        srv->by_fd = grown;
        srv->by_fd_len = len;
    }
    srv->by_fd[fd] = c;
    c->fd = fd;
    return 0;
}

static void conn_free(struct conn *c)
{
    struct server *srv = c->srv;
    if (c->fd >= 0 && (size_t)c->fd < srv->by_fd_len && srv->by_fd[c->fd] == c)
        srv->by_fd[c->fd] = NULL;
    conn_client_release(srv, c->client);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->evcon && srv->nattached > 0) srv->nattached--;
    if (c->bev) bufferevent_decref(c->bev);
    if (c->timer) event_free(c->timer);
    free(c);
}

static void conn_deadline_start(struct conn *c)
{
    struct timeval tv = {c->srv->router->cfg->request_timeout_s, 0};
    evtimer_add(c->timer, &tv);
}

/* The connection is closing (evhttp is freeing it). */
static void conn_on_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    (void)evcon;
    if (c->call) http_call_gone(c->call);
    conn_free(c);
}

/* Called by the call when it ends: the connection may carry the next request. */
static void conn_call_ended(void *arg)
{
    struct conn *c = arg;
    c->call = NULL;
    conn_deadline_start(c);
}

static void conn_attach(struct conn *c)
{
    struct server *srv = c->srv;
    void *evcon = NULL;

    bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon); /* evhttp's argument: the connection */
    bufferevent_decref(c->bev);
    c->bev = NULL;
    if (evcon == NULL) { /* already closed */
        conn_free(c);
        return;
    }
    if (srv->nattached >= (unsigned)srv->router->cfg->max_connections) {
        log_debug("connection refused: %u connections open (ESS_MAX_CONNECTIONS)", srv->nattached);
        conn_free(c);
        evhttp_connection_free(evcon);
        return;
    }
    if (conn_client_take(c, evcon) != 0) {
        log_debug("connection refused: %d connections open from its client "
                  "(ESS_MAX_CONNECTIONS_PER_CLIENT)",
                  srv->router->cfg->max_conns_per_client);
        conn_free(c);
        evhttp_connection_free(evcon);
        return;
    }
    c->evcon = evcon;
    srv->nattached++;
    conn_index(srv, c, bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)));
    evhttp_connection_set_closecb(c->evcon, conn_on_close, c);
    conn_deadline_start(c);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (c->evcon == NULL) {
        conn_attach(c);
        return;
    }
    if (c->call) return; /* a handler is answering: the deadline was for the request */
    log_debug("closing a connection whose request missed its %d s deadline",
              c->srv->router->cfg->request_timeout_s);
    evhttp_connection_free(c->evcon); /* runs conn_on_close */
}

/* evhttp's bufferevent for a new connection; the connection is attached to a record from the
 * loop. Without memory for the record, the connection goes on without one. */
static struct bufferevent *conn_new_bufferevent(struct event_base *base, void *arg)
{
    struct server *srv = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    struct conn *c = bev ? calloc(1, sizeof *c) : NULL;

    if (c == NULL) return bev;
    c->timer = evtimer_new(base, conn_on_timer, c);
    if (c->timer == NULL) {
        free(c);
        return bev;
    }
    c->srv = srv;
    c->bev = bev;
    c->fd = -1;
    bufferevent_incref(bev);
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    event_active(c->timer, EV_TIMEOUT, 1);
    return bev;
}

/* A complete request arrived on req's connection: its deadline stops while the call runs, and
 * the call learns through the record when the client goes away. */
static void conn_call_started(struct server *srv, struct evhttp_request *req,
                              struct http_call *call)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    evutil_socket_t fd;
    struct conn *c;

    if (evcon == NULL) return;
    fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    c = fd >= 0 && (size_t)fd < srv->by_fd_len ? srv->by_fd[fd] : NULL;
    if (c == NULL || c->evcon != evcon) return;
    evtimer_del(c->timer);
    c->call = call;
    call->conn = c;
    call->conn_ended = conn_call_ended;
    evhttp_connection_set_closecb(evcon, conn_on_close, c);
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    char seg[ROUTE_MAX_SEGMENTS][HTTP_MAX_PARAM_LEN + 1];
    char params[HTTP_MAX_PARAMS][HTTP_MAX_PARAM_LEN + 1];
    const struct route *route = NULL;
    int nseg = 0, path_known = 0;
    enum http_kind path_kind = HTTP_KIND_API; /* the first route of the path, for its 405 */
    size_t i;
    struct http_call *call;

    memset(params, 0, sizeof params);
    if (path && route_split(path, seg, &nseg) == 0) {
        for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
            if (!route_match(routes[i].pattern, seg, nseg, params)) continue;
            if (!path_known) path_kind = routes[i].kind;
            path_known = 1;
            if (routes[i].method == method ||
                (method == EVHTTP_REQ_HEAD && routes[i].method == EVHTTP_REQ_GET)) {
                route = &routes[i];
                break;
            }
        }
    }
    call = http_call_new(req, srv->router, route ? route->metric : METRICS_ROUTE_OTHER);
    if (call == NULL) { /* out of memory: a fixed JSON answer, built without allocating much */
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"The server ran out of memory.\"}}";
        struct evbuffer *out = evbuffer_new();
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json; charset=utf-8");
        if (out) evbuffer_add_reference(out, oom, sizeof oom - 1, NULL, NULL);
        evhttp_send_reply(req, 500, NULL, out);
        if (out) evbuffer_free(out);
        return;
    }
    conn_call_started(srv, req, call);
    call->kind = route ? route->kind : path_kind;
    if (route == NULL) {
        if (path_known)
            http_reply_error(call, 405, "method_not_allowed", "This method is not allowed here.");
        else
            http_reply_error(call, 404, "not_found", "No such endpoint.");
        return;
    }
    memcpy(call->params, params, sizeof params);
    call->route_entry = route;
    auth_identify(srv->router->cfg,
                  evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"),
                  &call->auth);
    session_from_cookie(evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie"),
                        &call->auth);
    /* A session cookie or an account's token is looked up in Redis first; a configured token
     * (admin, ESS_OPERATOR_TOKENS) or a team's goes on at once. A public route needs no one. */
    if (call->auth.role == AUTH_PENDING && route->roles != PUBLIC) {
        session_resolve(call, dispatch_known);
        return;
    }
    dispatch_known(call);
}

/* The call's caller is known: role, CSRF and body checks, then its handler. */
static void dispatch_known(struct http_call *call)
{
    const struct route *route = call->route_entry;
    struct evhttp_request *req = call->req;

    if (route->roles != PUBLIC && http_require_role(call, route->roles)) return;
    if (route->roles != PUBLIC && !session_csrf_ok(call)) {
        http_reply_error(call, 403, "csrf_failed",
                         "A change made with the session cookie needs the session's "
                         "X-CSRF-Token header.");
        return;
    }
    if (route->body != BODY_NONE) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        size_t limit = call->router->cfg->max_body_bytes;
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        if (route->body == BODY_SIGNED && limit < LINE_MAX_BODY) limit = LINE_MAX_BODY;
        if (len > limit) {
            http_reply_error(call, 413, "body_too_large", "The request body is too large.");
            return;
        }
        if (route->body == BODY_JSON && !is_json_type(ct)) {
            http_reply_error(call, 415, "unsupported_media_type",
                             "Send the body as Content-Type: application/json.");
            return;
        }
        call->body = len ? (const char *)evbuffer_pullup(in, -1) : "";
        call->body_len = len;
    }
    route->handler(call);
}

/* ------------------------------------------------------------------------------------------ */
/* /healthz and /metrics */

static void healthz(struct http_call *call)
{
    int up = store_is_up(call->router->store);
    cJSON *doc = cJSON_CreateObject();
    int whole = cJSON_AddStringToObject(doc, "status", up ? "ok" : "degraded") &&
                cJSON_AddStringToObject(doc, "redis", up ? "up" : "down");
    if (whole && !up) {
        cJSON *err = cJSON_AddObjectToObject(doc, "error");
        whole =
            cJSON_AddStringToObject(err, "code", "redis_unavailable") &&
            cJSON_AddStringToObject(err, "message", "The case store is unreachable; reconnecting.");
    }
    if (!whole) { /* out of memory: the fixed 500 body, never a 200 without its status */
        cJSON_Delete(doc);
        doc = NULL;
    }
    http_reply_json(call, up ? 200 : 503, doc);
}

/* Answers /metrics with text (which this takes and frees); NULL, a render that ran out of memory,
 * answers 500 rather than a 200 with series missing. */
static void reply_metrics(struct http_call *call, char *text, size_t len)
{
    if (text == NULL) {
        log_error("/metrics: out of memory while rendering");
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    http_reply_text(call, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

/* Appends the gauges kept in Redis to the process's own metrics and answers. */
static void on_stats(struct http_call *call, cJSON *reply)
{
    struct text_buf b = {0};
    size_t len = 0, total;
    char *local = metrics_render(&len);
    char *text;
    const cJSON *s;
    const cJSON *queue = cJSON_GetObjectItemCaseSensitive(reply, "queue");
    const cJSON *outbox = cJSON_GetObjectItemCaseSensitive(reply, "outbox");

    if (local == NULL) { /* the process's own series are missing: no partial answer */
        cJSON_Delete(reply);
        reply_metrics(call, NULL, 0);
        return;
    }
    text_buf_add(&b, local);
    free(local);
    if (!http_refusal(reply)) {
        text_buf_printf(&b, "# HELP ess_cases Cases by category and current status (all routers).\n"
                            "# TYPE ess_cases gauge\n");
        cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(reply, "stats")) {
            const char *bar = strchr(s->string, '|');
            if (bar == NULL || !cJSON_IsString(s)) continue;
            text_buf_printf(&b, "ess_cases{category=\"%.*s\",status=\"%s\"} %s\n",
                            (int)(bar - s->string), s->string, bar + 1, s->valuestring);
        }
        text_buf_printf(&b,
                        "# HELP ess_queue_length Cases waiting in the operators' queue.\n"
                        "# TYPE ess_queue_length gauge\ness_queue_length %.0f\n",
                        cJSON_IsNumber(queue) ? queue->valuedouble : 0);
        text_buf_printf(&b,
                        "# HELP ess_outbox_backlog Outgoing messages not yet delivered (all "
                        "routers).\n"
                        "# TYPE ess_outbox_backlog gauge\ness_outbox_backlog %.0f\n",
                        cJSON_IsNumber(outbox) ? outbox->valuedouble : 0);
    }
    cJSON_Delete(reply);
    total = b.len;
    text = text_buf_take(&b);
    reply_metrics(call, text, total);
}

static void metrics_get(struct http_call *call)
{
    const char *want = call->router->cfg->metrics_token;
    if (want[0] != '\0' &&
        !auth_bearer_matches(
            evhttp_find_header(evhttp_request_get_input_headers(call->req), "Authorization"),
            want)) {
        http_reply_error(call, 401, "unauthorized", "/metrics needs its bearer token.");
        return;
    }
    if (store_is_up(call->router->store)) {
        http_fcall(call, "ess_stats", 1, 0, NULL, NULL, on_stats);
        return;
    }
    {
        size_t len = 0;
        char *text = metrics_render(&len);
        reply_metrics(call, text, len);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Life cycle */

static struct evconnlistener *listen_on(struct event_base *base, const struct config *cfg,
                                        char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct evconnlistener *l = NULL;
    char port[8];
    unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    int rc;

    if (cfg->reuse_port) flags |= LEV_OPT_REUSEABLE_PORT;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    rc = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "ESS_LISTEN: cannot resolve %s: %s", cfg->listen_host,
                 gai_strerror(rc));
        return NULL;
    }
    for (ai = res; ai && l == NULL; ai = ai->ai_next)
        l = evconnlistener_new_bind(base, NULL, NULL, flags, 1024, ai->ai_addr,
                                    (int)ai->ai_addrlen);
    freeaddrinfo(res);
    if (l == NULL)
        snprintf(err, errlen,
                 "ESS_LISTEN: cannot listen on %s:%d (in use, or not an address of "
                 "this machine)",
                 cfg->listen_host, cfg->listen_port);
    return l;
}

static int bound_port(struct evconnlistener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

struct server *server_new(struct router *router, char *err, size_t errlen)
{
    const struct config *cfg = router->cfg;
    struct server *srv = calloc(1, sizeof *srv);
    struct evconnlistener *listener;
    struct timeval timeout = {cfg->request_timeout_s, 0};
    size_t hard_limit =
        cfg->max_body_bytes > HARD_BODY_LIMIT ? cfg->max_body_bytes : HARD_BODY_LIMIT;

    if (srv == NULL || (srv->http = evhttp_new(router->base)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(srv);
        return NULL;
    }
    srv->router = router;
    if (cfg->max_conns_per_client > 0) {
        srv->nbuckets = 64;
        while (srv->nbuckets < (size_t)cfg->max_connections) srv->nbuckets *= 2;
        srv->clients = calloc(srv->nbuckets, sizeof *srv->clients);
        if (srv->clients == NULL || random_bytes(&srv->seed, sizeof srv->seed) != 0) {
            snprintf(err, errlen, "out of memory or randomness for the connection counts");
            server_free(srv);
            return NULL;
        }
    }
    evhttp_set_timeout_tv(srv->http, &timeout);
    evhttp_set_max_headers_size(srv->http, MAX_HEADERS_BYTES);
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)hard_limit);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                              EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(srv->http, dispatch, srv);
    evhttp_set_bevcb(srv->http, conn_new_bufferevent, srv);
    listener = listen_on(router->base, cfg, err, errlen);
    if (listener == NULL) {
        server_free(srv);
        return NULL;
    }
    srv->port = bound_port(listener);
    srv->bound = evhttp_bind_listener(srv->http, listener);
    if (srv->bound == NULL) {
        evconnlistener_free(listener);
        snprintf(err, errlen, "cannot attach the listener");
        server_free(srv);
        return NULL;
    }
    return srv;
}

int server_port(const struct server *srv)
{
    return srv->port;
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->router->inflight == 0 || srv->drain_ticks_left-- <= 0) {
        if (srv->router->inflight > 0)
            log_warn("stopping with %u requests still in flight", srv->router->inflight);
        event_del(srv->drain_timer);
        srv->drain_done(srv->drain_arg);
    }
}

void server_drain(struct server *srv, void (*done)(void *arg), void *arg)
{
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    if (srv->drain_timer) return; /* already draining */
    if (srv->bound) {
        evhttp_del_accept_socket(srv->http, srv->bound);
        srv->bound = NULL;
    }
    srv->drain_done = done;
    srv->drain_arg = arg;
    srv->drain_ticks_left = srv->router->cfg->drain_timeout_s * 1000 / DRAIN_TICK_MS;
    srv->drain_timer = event_new(srv->router->base, -1, EV_PERSIST, on_drain_tick, srv);
    if (srv->drain_timer == NULL) {
        done(arg);
        return;
    }
    event_add(srv->drain_timer, &tick);
}

void server_free(struct server *srv)
{
    if (srv == NULL) return;
    if (srv->drain_timer) event_free(srv->drain_timer);
    if (srv->http) evhttp_free(srv->http);    /* closes every connection: their records go too */
    while (srv->conns) conn_free(srv->conns); /* those not yet attached */
    free(srv->clients);                       /* empty now: every count was released */
    free(srv->by_fd);
    free(srv);
}
