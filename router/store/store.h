/* The Redis store: one asynchronous hiredis connection on the router's libevent loop, kept up by
 * reconnecting with backoff, with the function library (ess.lua) loaded at each connect.
 * Requests are never queued while Redis is away: callers get STORE_UNAVAILABLE at once and answer
 * 503. A watchdog pings Redis and drops a connection whose replies stall.
 *
 * With Sentinels (store_target.sentinel), each connect asks them for the primary first; a link
 * to a server that is not (or no longer) the primary is dropped and the Sentinels asked again:
 * at connect (ROLE), on a READONLY answer, and when a Sentinel announces a fail-over. The store
 * never writes to a replica. */
#ifndef ESS_ROUTER_STORE_H
#define ESS_ROUTER_STORE_H

#include <stddef.h>

struct event_base;
struct sentinel;
struct store;

/* Where a store connects, and how it confirms writes. The strings are copied by store_new. */
struct store_target {
    const char *host; /* the Redis server, unless sentinel is set */
    int port;
    const char *password; /* "" for none */
    int db;
    const char *key_prefix;
    struct sentinel *sentinel; /* not NULL: the primary it names (host and port unused); it must
                                  outlive the store */
    int wait_replicas;         /* store_wait_replicated: WAIT for this many replicas; 0: none */
    int wait_timeout_ms;       /* WAIT's timeout */
};

enum store_status {
    STORE_OK = 0,          /* data holds the reply (a string, or an integer as text) */
    STORE_UNAVAILABLE = 1, /* not connected, or the connection was lost before the reply */
    STORE_ERROR = 2,       /* Redis answered with an error; data holds its text */
    STORE_CANCELLED = 3    /* the store is stopping (store_stop): no reply will come */
};

/* Called once per command. data is valid only inside the callback; it is NULL when the status
 * is STORE_UNAVAILABLE, and may be NULL for a nil reply. */
typedef void (*store_cb)(enum store_status status, const char *data, size_t len, void *arg);

/* One element of an array reply (or the whole of a scalar one): data is NULL for nil, integers
 * come as decimal text; valid only inside the callback. */
struct store_item {
    const char *data;
    size_t len;
};

/* Called once per command with the reply's elements (a scalar reply is one element; nested
 * arrays come as nil). items is NULL and n 0 unless the status is STORE_OK; on STORE_ERROR,
 * items[0] holds the error text. */
typedef void (*store_array_cb)(enum store_status status, const struct store_item *items, size_t n,
                               void *arg);

/* One entry of a stream reply (XRANGE, XREVRANGE, XREAD): its id and its fields as name, value,
 * name, value... (nfields items); valid only inside the callback. */
struct store_stream_entry {
    const char *id;
    size_t id_len;
    const struct store_item *fields;
    size_t nfields;
};

/* Called once per command with the reply's entries (none: XREAD BLOCK timed out, or the range is
 * empty). entries is NULL and n 0 unless the status is STORE_OK; on STORE_ERROR, entries[0].id
 * holds the error text (n 1, no fields). */
typedef void (*store_stream_cb)(enum store_status status, const struct store_stream_entry *entries,
                                size_t n, void *arg);

/* Creates the store and starts connecting. NULL on allocation failure. */
struct store *store_new(struct event_base *base, const struct store_target *target);

/* The same for a connection of its own that loads no functions (the case-log reader, which
 * blocks in XREAD): up once connected, SELECTed and found to be the primary. Same reconnection
 * and watchdog; a command that blocks must answer well within the watchdog's 5 s. */
struct store *store_new_reader(struct event_base *base, const struct store_target *target);

/* on_up(arg) runs each time the link comes up (again): after a loss, pending commands were
 * answered STORE_UNAVAILABLE, and this says when to send again. NULL: none. */
void store_set_on_up(struct store *store, void (*on_up)(void *arg), void *arg);

/* Stops the store for good: disconnects, calling every pending callback with STORE_CANCELLED
 * (data and items NULL), and never reconnects; later calls answer -1 as when Redis is down. Call
 * it while the modules whose callbacks may be pending are still alive. Accepts NULL. */
void store_stop(struct store *store);

/* Stops the store (as store_stop) and frees it. Accepts NULL. */
void store_free(struct store *store);

/* 1 when connected and the function library is loaded. */
int store_is_up(const struct store *store);

/* The number of the current link: it grows each time the link comes up. A caller whose writes
 * began under another number cannot know that they reached the primary it now talks to. */
unsigned store_link_number(const struct store *store);

/* The replicas store_wait_replicated waits for (store_target.wait_replicas). */
int store_wait_replicas(const struct store *store);

/* Calls cb once the writes made so far through this store, and every write the primary held
 * before, are held by store_wait_replicas() replicas (WAIT): STORE_OK; or STORE_UNAVAILABLE when
 * WAIT timed out with fewer, or the link was lost (data NULL). Callers that ask at once share one
 * WAIT. Returns 0 when cb will be called, -1 when Redis is not up (cb is not called). */
int store_wait_replicated(struct store *store, store_cb cb, void *arg);

/* The most arguments a call may pass (store_fcall's argv, store_command's argv). */
#define STORE_MAX_ARGS 4096

/* Calls a function of ess.lua: FCALL (or FCALL_RO when read_only) name 0 <prefix> argv...
 * argv[i] has argvlen[i] bytes (NULL argvlen: NUL-terminated strings); at most STORE_MAX_ARGS.
 * Returns 0 when sent (cb will be called exactly once, possibly with STORE_UNAVAILABLE), -1 when
 * Redis is not up or argc is out of range (cb is not called). */
int store_fcall(struct store *store, const char *name, int read_only, int argc, const char **argv,
                const size_t *argvlen, store_cb cb, void *arg);

/* store_fcall with the reply given element by element (for functions answering an array). */
int store_fcall_array(struct store *store, const char *name, int read_only, int argc,
                      const char **argv, const size_t *argvlen, store_array_cb cb, void *arg);

/* Sends a plain command (argv[0] is its name); keys must begin with store_prefix(). Same
 * contract as store_fcall. */
int store_command(struct store *store, int argc, const char **argv, const size_t *argvlen,
                  store_array_cb cb, void *arg);

/* store_command for XRANGE, XREVRANGE, XREAD or XREADGROUP (argv[0]; their first stream
 * only), the reply given entry by entry. */
int store_stream_command(struct store *store, int argc, const char **argv, const size_t *argvlen,
                         store_stream_cb cb, void *arg);

/* XAUTOCLAIM's answer: the entries claimed (those deleted meanwhile are not given) and, when the
 * status is STORE_OK, next: where the scan of the pending list goes on (NUL-terminated; "0-0" once
 * it reached the list's end), else NULL. Redis looks at no more than 10 × COUNT pending entries a
 * call, so a caller that wants every idle entry calls again from next. Otherwise as
 * store_stream_cb. */
typedef void (*store_claim_cb)(enum store_status status, const char *next,
                               const struct store_stream_entry *entries, size_t n, void *arg);

/* store_command for XAUTOCLAIM. */
int store_claim_command(struct store *store, int argc, const char **argv, const size_t *argvlen,
                        store_claim_cb cb, void *arg);

/* 1 when the text of a STORE_ERROR reply is Redis' refusal for want of memory (maxmemory with
 * noeviction: "OOM ..."), which it gives before the command runs: nothing was read or written. */
int store_error_is_oom(const char *text, size_t len);

/* The key prefix (ESS_KEY_PREFIX). Owned by the store. */
const char *store_prefix(const struct store *store);

#endif
