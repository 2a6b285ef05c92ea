/* One HTTP request in flight (a "call"): its route, caller, body and path parameters, and the
 * replies that end it. Handlers run on the event loop and may wait on Redis: if the client goes
 * away meanwhile, call->req becomes NULL and the reply functions just free the call. */
#ifndef ESS_ROUTER_HTTP_H
#define ESS_ROUTER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "http_query.h"
#include "metrics.h"
#include "store.h"

struct bufferevent;
struct evhttp_request;
struct evkeyvalq;
struct cJSON;
struct net_cidr;
struct router;

#define HTTP_MAX_PARAMS 2
#define HTTP_MAX_PARAM_LEN 96

/* What a route answers, which decides the headers every answer of its calls carries (set in one
 * place, http.c, from the route table):
 *   HTTP_KIND_API   JSON; Cache-Control: no-store, X-Content-Type-Options: nosniff.
 *   HTTP_KIND_PAGE  an HTML page for the public: the same, plus Referrer-Policy: no-referrer,
 *                   X-Robots-Tag: noindex, X-Frame-Options: DENY and HTTP_PAGE_CSP.
 *   HTTP_KIND_FILE  a file of /assets/: as a page, but Cache-Control: no-cache on 200 and 304
 *                   (kept, revalidated with its ETag).
 *   HTTP_KIND_CONSOLE the operator console's page: as a file, but its Content-Security-Policy
 *                   (http_console_csp) also lets images come from the map tiles' host.
 *   HTTP_KIND_OPEN311 Open311's public read (open311.h): as API, plus
 *                   Access-Control-Allow-Origin: * (any web page may read it: it holds nothing
 *                   personal and needs no credential); its errors are in Open311's shape,
 *                   [{"code": <HTTP status>, "description": message}] (http_reply_error). */
enum http_kind {
    HTTP_KIND_API = 0,
    HTTP_KIND_PAGE,
    HTTP_KIND_FILE,
    HTTP_KIND_CONSOLE,
    HTTP_KIND_OPEN311
};

/* The public pages' Content-Security-Policy: the router itself only, no inline script or style,
 * forms post back here, no framing. */
#define HTTP_PAGE_CSP                                                                              \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* The operator console's Content-Security-Policy into out (outsize bytes, NUL-terminated): as
 * HTTP_PAGE_CSP, with connect-src 'self' (the API and its event stream) and img-src also allowing
 * the origin (scheme, host and port) of tiles, the ESS_MAP_TILES template ("" or NULL: none).
 * Returns 0, or -1 when it does not fit (out then holds HTTP_PAGE_CSP). */
int http_console_csp(const char *tiles, char *out, size_t outsize);

struct http_call {
    struct evhttp_request *req; /* NULL once the client has gone away */
    struct router *router;
    enum metrics_route route;
    enum http_kind kind; /* the route's; HTTP_KIND_API for unmatched paths */
    uint64_t started_us; /* monotonic */
    unsigned store_link; /* store_link_number when the call began */
    struct auth auth;
    const char *body; /* the request body, valid while req is; not NUL-terminated */
    size_t body_len;
    char params[HTTP_MAX_PARAMS][HTTP_MAX_PARAM_LEN + 1]; /* percent-decoded path segments */
    void *data; /* the handler's own state, freed with data_free */
    void (*data_free)(void *data);
    void (*on_reply)(struct http_call *call, struct cJSON *reply); /* see http_fcall */
    /* When set, http_reply_error hands its error to this instead of answering JSON (an HTML
     * page's error page, in the page's language); cleared before it runs. */
    void (*reply_error)(struct http_call *call, int status, const char *code, const char *message);
    /* The server's record of the connection, when it keeps one (else NULL): its close callback
     * then stays on the connection and ends the call's req (see http_call_gone), and conn_ended
     * is told when the call ends. */
    void *conn;
    void (*conn_ended)(void *conn);
    /* While the caller's session or account token is looked up: the server's route of the call
     * and what runs once the caller is known (session_resolve). */
    const void *route_entry;
    void (*on_auth)(struct http_call *call);
    /* Streams (http_stream_start) and watched calls (http_call_watch): on_gone runs when the
     * client goes away (from http_call_gone); it must end the call with http_call_free, at once
     * or later. */
    void (*on_gone)(struct http_call *call);
    void (*written)(struct http_call *call); /* see http_stream_write */
    int streaming;
    /* While watched: the read callback evhttp had on the connection, given back at the end */
    void (*watch_readcb)(struct bufferevent *bev, void *arg);
    int watched;
};

/* Starts a call for req: watches the connection so that a client that goes away is noticed.
 * NULL when memory runs out. */
struct http_call *http_call_new(struct evhttp_request *req, struct router *router,
                                enum metrics_route route);

/* The client of the call went away: req becomes NULL (for a close callback the server keeps on
 * the connection; the call must then no longer point to it: conn and conn_ended are cleared),
 * and on_gone, when set, runs. */
void http_call_gone(struct http_call *call);

/* For a call whose answer may wait long (a parked long poll): watches its connection so that a
 * client that leaves is noticed at once, as a stream's is (call->req becomes NULL and on_gone
 * runs). evhttp reads nothing of a connection while its request is being answered, so without
 * this a departure is seen only when the answer is written. Meanwhile what the client sends is
 * kept unparsed for evhttp (at most HTTP_WATCH_READ_MAX bytes; beyond that it is no longer read,
 * and a departure no longer seen), the request's read timeout is off, and a client that shuts
 * down its side counts as gone. The call's end gives the connection back to evhttp as it was.
 * 0, or -1 when the client is already gone. */
#define HTTP_WATCH_READ_MAX 4096
int http_call_watch(struct http_call *call);

/* Frees the call without answering (the client is gone). Accepts NULL. */
void http_call_free(struct http_call *call);

/* Each of these ends the call: answers (when the client is still there), counts the request in
 * the metrics and frees the call. */
void http_reply_json(struct http_call *call, int status, struct cJSON *doc); /* takes doc */
/* http_reply_json for the answer to a new report (a case, a LINE event): with
 * ESS_REDIS_WAIT_REPLICAS, sent only once that many replicas hold what the call wrote (WAIT);
 * when they cannot confirm it in time, or the Redis link changed since the call began (its
 * writes may have gone to a primary since replaced), the answer is 503 instead, and the client's
 * retry (same call_id, same webhookEventId) is idempotent. Takes doc. */
void http_reply_json_replicated(struct http_call *call, int status, struct cJSON *doc);
/* content_type NULL sends none (a 304). */
void http_reply_text(struct http_call *call, int status, const char *content_type, const char *text,
                     size_t len);
/* http_reply_text without a copy: text is a heap string the reply takes over (and frees). */
void http_reply_owned(struct http_call *call, int status, const char *content_type, char *text,
                      size_t len);
/* http_reply_text without a copy of data, which must live as long as the process (a file
 * compiled in). */
void http_reply_static(struct http_call *call, int status, const char *content_type,
                       const void *data, size_t len);
void http_reply_error(struct http_call *call, int status, const char *code, const char *message);

/* A streaming answer (server-sent events): a 200 whose body is sent in pieces for as long as the
 * call lasts, with Connection: close. The call keeps its connection, which still counts against
 * the connection caps, but no request deadline applies: the read timeout is off, a client that
 * sends more is not read past a few KiB, and output that cannot be written for
 * HTTP_STREAM_STALL_S drops the connection (on_gone then runs). Counts the request (200).
 * 0, or -1 when the client is already gone (the call is then still the caller's). */
#define HTTP_STREAM_STALL_S 30
int http_stream_start(struct http_call *call, const char *content_type);

/* Queues data[0..len) on the stream (copied). With written set, written(call) runs once every
 * byte queued so far has been handed to the kernel (until the next write replaces it). 0, or -1
 * when memory runs out or the client is gone. */
int http_stream_write(struct http_call *call, const char *data, size_t len,
                      void (*written)(struct http_call *call));

/* Bytes queued on the stream and not yet written to its socket (0 when the client is gone). */
size_t http_stream_pending(const struct http_call *call);

/* Ends the stream cleanly (its last chunk; the connection closes once it is written) and frees
 * the call. */
void http_stream_end(struct http_call *call);

/* Closes the stream's connection at once, without running on_gone, and frees the call. */
void http_stream_abort(struct http_call *call);

/* http_reply_error with more members in the error object: those of extra (an object this takes
 * and frees; NULL: none), e.g. {"error": {"code", "message", "case_id"}}. */
void http_reply_error_with(struct http_call *call, int status, const char *code,
                           const char *message, struct cJSON *extra);

/* Answers a failed Redis call: 503 redis_unavailable, or 500 internal for a Redis error (a store
 * function's call refused for want of memory, Redis' OOM, answers 503 in http_fcall). */
void http_reply_store_failure(struct http_call *call, enum store_status status);

/* Answers the refusal code of a store function ({"err": code}): not_found 404, unauthorized
 * 401, forbidden 403, invalid_transition / not_assigned / team_full 409, case_open / erased 409
 * (an erasure asked of a case not closed; a note for an erased case), case_merged 409 (a triage
 * of a case merged into another), audit_unavailable 503
 * (the audit entry could not be written: nothing was read or changed), else 500. */
void http_reply_refusal(struct http_call *call, const char *code);

/* Calls a store function for the call. When its JSON answer arrives, on_reply(call, reply) runs
 * with the parsed reply, which it owns (a refusal {"err": …} included: see http_refusal). Redis
 * being unavailable, a Redis error, or an answer that is not JSON are answered here (503/500)
 * and on_reply is not called; a client that went away meanwhile is freed silently. */
void http_fcall(struct http_call *call, const char *name, int read_only, int argc,
                const char **argv, const size_t *argvlen,
                void (*on_reply)(struct http_call *call, struct cJSON *reply));

/* http_fcall for an audited store function (ess.lua's audited()): it is called with the actor
 * context of the call (http_audit_ctx) and then argv[0..argc) (NUL-terminated strings, at most
 * HTTP_AUDITED_MAX_ARGS), never read-only (the audit entry is its first write). */
#define HTTP_AUDITED_MAX_ARGS 16
void http_fcall_audited(struct http_call *call, const char *name, int argc, const char **argv,
                        void (*on_reply)(struct http_call *call, struct cJSON *reply));

/* An on_reply of http_fcall for a store function whose answer is the body as it is (one that
 * answers only what may be shown): a refusal is answered as http_reply_refusal does, anything else
 * 200 with reply, which this takes. Ends the call. */
void http_reply_store_answer(struct http_call *call, struct cJSON *reply);

/* The refusal code of a store answer, or NULL when it is not a refusal. Owned by reply. */
const char *http_refusal(const struct cJSON *reply);

/* When reply is a refusal: answers it (http_reply_refusal), frees reply and returns 1; else 0
 * (reply untouched). */
int http_reply_refused(struct http_call *call, struct cJSON *reply);

/* Who the call is made by, as the timeline and the audit record it (`by`): the team's id for a
 * team, "admin" for the admin, and for an operator the authenticated operator's id (its account
 * id, or the id of its ESS_OPERATOR_TOKENS entry); "" for no one. Valid for the call's lifetime. */
const char *http_actor(const struct http_call *call);

/* The call's client address: the socket peer, or, when the peer is in ESS_TRUSTED_PROXIES, the
 * last address of X-Forwarded-For (when that is a valid address; else the peer). The rate limits
 * and the audit both name the client by it. 0, or -1 when the connection is gone or has no peer
 * address. */
int http_client_address(const struct http_call *call, struct net_cidr *out);

/* The actor context of an audited store function (ess.lua's audited()), one JSON argument:
 * {"kind": "operator" | "supervisor" | "team" | "admin" | "" (no one), "id": http_actor(),
 * "ip": the client address in text (http_client_address; "" when unknown), "keep_ms": the audit's
 * retention (ESS_AUDIT_RETENTION_DAYS), and for a team "auth_team" and "auth_hash" (its token's
 * SHA-256, which Redis checks)}. Written to out, NUL-terminated. 0, or -1 (out of memory: out is
 * then ""). */
#define HTTP_AUDIT_CTX_MAX 512
int http_audit_ctx(const struct http_call *call, char out[HTTP_AUDIT_CTX_MAX]);

/* Parses the body as a JSON object (at most 8 levels deep, valid UTF-8). On failure answers 400
 * and returns NULL; the caller owns the result. */
struct cJSON *http_body_object(struct http_call *call);

/* Reads the text a person typed from the required member name of body: a string of at most max
 * bytes with no control character but tab and line breaks (text_is_plain), trimmed
 * (text_trim_space). 0 with *s (pointing into body, living as long as it) and *n; else the call
 * was answered 400 (missing_field when name is absent, invalid_field with problem when it is not
 * such a text, invalid_field "<name> must not be blank." when only blanks) and -1. */
int http_body_text(struct http_call *call, const struct cJSON *body, const char *name, size_t max,
                   const char *problem, const char **s, size_t *n);

/* A 401 or 403 for a caller who is not one of the allowed roles (bit mask of 1 << AUTH_*).
 * Returns 1 when the call was answered. */
int http_require_role(struct http_call *call, unsigned allowed_roles);

/* Parses the call's query string (none: no parameters) into params with http_query_split
 * (http_query.h; http_query_long reads whole numbers from them), which this initialises and the
 * caller empties with evhttp_clear_headers (also on failure). 0, or -1 when it is malformed: then
 * the call was answered 400 invalid_query. */
int http_query_parse(struct http_call *call, struct evkeyvalq *params);

/* Microseconds of a monotonic clock. */
uint64_t http_now_us(void);

#endif
