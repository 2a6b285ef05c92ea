/* Live updates for the operators' console (GET /v1/events): the case-log reader, the fan-out of
 * its entries to every open stream, the replay from Last-Event-ID, heartbeats, and the limits (a
 * cap on streams, a cap on what a slow client may leave unread). */
#include "events.h"
#include "feed.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "store.h"
#include "text.h"
#include "views.h"

#define READ_COUNT "1000"    /* entries one XREAD may bring */
#define READ_BLOCK_MS "2000" /* well within the store's 5 s watchdog */
#define REPLAY_PAGE 200      /* entries one replay XRANGE brings */
#define REPLAY_PAGE_TEXT "200"
/* After a read that brought entries, the next waits this long: a burst of changes then reaches
 * the streams in a few large writes instead of one write per stream and change (an isolated
 * change is still sent at once: the reader was blocked waiting for it). */
#define READ_PAUSE_MS 10
#define MAX_EMPTY_PAGES 3
#define RETRY_MS 1000     /* after a Redis error, the reader reads again this much later */
#define ID_TEXT_MAX 48    /* "<20 digits>-<20 digits>", a leading "(" and the NUL */
#define KEY_MAX 96        /* ESS_KEY_PREFIX is at most 64 characters */
#define FIELD_NAME_MAX 32 /* longer field names of a log entry are not summary fields */
#define EVENT_CONTENT_TYPE "text/event-stream; charset=utf-8"

static const char heartbeat_text[] = ": keep-alive\n\n";

/* A stream entry's id, "<ms>-<seq>", compared as the pair of numbers. */
struct log_id {
    uint64_t ms, seq;
};

/* One open stream. */
struct client {
    struct events *ev;
    struct http_call *call; /* NULL once closed while a replay read was in flight: that read's
                               answer frees the record */
    struct log_id cursor;   /* the last entry sent, or the Last-Event-ID it came with */
    int replaying;          /* catching up from the log (XRANGE on the main store) before it
                               takes the live entries */
    int replay_in_flight;   /* a replay XRANGE awaits its answer */
    int replay_more;        /* the last replay page was full: read another once it is written */
    int empty_pages;        /* replay pages in a row with nothing after the cursor */
    struct client *prev, *next;
};

struct events {
    struct router *router;
    struct store *reader; /* a connection of its own, blocking in XREAD */
    struct log_id last;   /* the last entry the reader has seen */
    int last_known;       /* last was read from the log when the reader first connected */
    int reading;          /* a read of the reader is in flight */
    int draining;
    struct event *heartbeat;
    struct event *read_later; /* the next read, after READ_PAUSE_MS or a Redis error */
    struct client *clients;   /* every open stream */
    unsigned nclients;
};

/* Events made of some entries of the log, one text: frame i starts at start[i] and is entry
 * id[i]'s; end is the id of the last entry, framed or not (an entry without a case is skipped). */
struct batch {
    struct text_buf text;
    size_t *start;
    struct log_id *id;
    size_t n;
    struct log_id end;
    int has_end;
};

/* ------------------------------------------------------------------------------------------ */
/* Entry ids */

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20) return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Reads "<ms>-<seq>" (both decimal). 0, or -1 when s is not such an id. */
static int log_id_parse(const char *s, size_t len, struct log_id *out)
{
    const char *dash = memchr(s, '-', len);
    struct log_id id;
    if (dash == NULL || parse_u64(s, (size_t)(dash - s), &id.ms) != 0 ||
        parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &id.seq) != 0)
        return -1;
    *out = id;
    return 0;
}

static int log_id_cmp(const struct log_id *a, const struct log_id *b)
{
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}

static void log_id_format(const struct log_id *id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

static void log_key(const struct events *ev, char key[KEY_MAX])
{
    snprintf(key, KEY_MAX, "%slog", ev->router->cfg->key_prefix);
}

/* ------------------------------------------------------------------------------------------ */
/* Events from log entries */

/* Appends the event of entry e to b: its id, `event: case` and the case's summary (views.c's,
 * the one the case list answers) made of the entry's fields; or, for a message stored in a
 * case's chat (event chat_message), `event: chat` and views_chat_event's data, which say that
 * one came (its place, author and time), never what it says: the console reads the text
 * through GET /v1/cases/{id}/chat/messages. 1 when added, 0 when the entry holds no case, -1
 * when memory runs out. */
static int frame_add(struct text_buf *b, const struct store_stream_entry *e)
{
    cJSON *raw = cJSON_CreateObject(), *summary = NULL;
    char *json = NULL;
    int rc = -1, chat;

    if (raw == NULL) goto done;
    for (size_t i = 0; i + 1 < e->nfields; i += 2) {
        const struct store_item *k = &e->fields[i], *v = &e->fields[i + 1];
        char name[FIELD_NAME_MAX], *value;
        int added;
        if (k->data == NULL || v->data == NULL || k->len == 0 || k->len >= sizeof name) continue;
        memcpy(name, k->data, k->len);
        name[k->len] = '\0';
        if ((value = text_dup_len(v->data, v->len)) == NULL) goto done;
        added = cJSON_AddStringToObject(raw, name, value) != NULL;
        free(value);
        if (!added) goto done;
    }
    if (json_string(raw, "case_id", "")[0] == '\0') {
        rc = 0;
        goto done;
    }
    chat = strcmp(json_string(raw, "event", ""), "chat_message") == 0;
    if ((summary = chat ? views_chat_event(raw) : views_case_summary(raw)) == NULL ||
        (json = cJSON_PrintUnformatted(summary)) == NULL)
        goto done;
    text_buf_printf(b, "id: %.*s\nevent: %s\ndata: %s\n\n", (int)e->id_len, e->id,
                    chat ? "chat" : "case", json);
    rc = b->failed ? -1 : 1;
done:
    free(json);
    cJSON_Delete(summary);
    cJSON_Delete(raw);
    return rc;
}

static void batch_free(struct batch *b)
{
    free(text_buf_take(&b->text));
    free(b->start);
    free(b->id);
}

/* Builds the events of the entries after `after` (NULL: all). 0, or -1 when memory runs out
 * (b is then freed). */
static int batch_build(struct batch *b, const struct store_stream_entry *entries, size_t n,
                       const struct log_id *after)
{
    memset(b, 0, sizeof *b);
    b->start = calloc(n ? n : 1, sizeof *b->start);
    b->id = calloc(n ? n : 1, sizeof *b->id);
    if (b->start == NULL || b->id == NULL) goto fail;
    for (size_t i = 0; i < n; i++) {
        struct log_id id;
        size_t at = b->text.len;
        int rc;
        if (log_id_parse(entries[i].id, entries[i].id_len, &id) != 0) continue;
        if (after && log_id_cmp(&id, after) <= 0) continue;
        b->end = id;
        b->has_end = 1;
        if ((rc = frame_add(&b->text, &entries[i])) < 0) goto fail;
        if (rc == 0) continue;
        b->start[b->n] = at;
        b->id[b->n] = id;
        b->n++;
    }
    return 0;
fail:
    batch_free(b);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Streams */

static void client_unlink(struct client *c)
{
    struct events *ev = c->ev;
    if (c->prev)
        c->prev->next = c->next;
    else
        ev->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    ev->nclients--;
    metrics_set_event_streams(ev->nclients);
}

enum close_how { CLOSE_END, CLOSE_DROP, CLOSE_GONE };

/* Takes c off the streams and ends its call: CLOSE_END with the stream's last chunk, CLOSE_DROP
 * by closing the connection, CLOSE_GONE (the client left) by freeing the call. The record goes
 * now, or with the answer of its replay read when one is in flight. */
static void client_close(struct client *c, enum close_how how)
{
    struct http_call *call = c->call;
    client_unlink(c);
    c->call = NULL;
    call->on_gone = NULL;
    if (how == CLOSE_END)
        http_stream_end(call);
    else if (how == CLOSE_DROP)
        http_stream_abort(call);
    else
        http_call_free(call);
    if (!c->replay_in_flight) free(c);
}

static void on_client_gone(struct http_call *call)
{
    client_close(call->data, CLOSE_GONE);
}

/* 1 when c has more unsent than ESS_EVENTS_BUFFER_BYTES: it is then dropped (it resumes with
 * Last-Event-ID). */
static int client_dropped_if_behind(struct client *c)
{
    size_t pending = http_stream_pending(c->call);
    if (pending <= c->ev->router->cfg->events_buffer_bytes) return 0;
    log_info("events: dropping a stream %zu bytes behind (ESS_EVENTS_BUFFER_BYTES)", pending);
    metrics_count_event_stream_dropped();
    client_close(c, CLOSE_DROP);
    return 1;
}

/* Sends c the events of b after its cursor. */
static void client_send(struct client *c, const struct batch *b)
{
    size_t k = 0;
    if (!b->has_end || log_id_cmp(&b->end, &c->cursor) <= 0) return;
    while (k < b->n && log_id_cmp(&b->id[k], &c->cursor) <= 0) k++;
    if (k < b->n) {
        if (client_dropped_if_behind(c)) return;
        if (http_stream_write(c->call, b->text.s + b->start[k], b->text.len - b->start[k], NULL) !=
            0) {
            client_close(c, CLOSE_DROP);
            return;
        }
    }
    c->cursor = b->end;
}

/* ------------------------------------------------------------------------------------------ */
/* Replay: a client with Last-Event-ID reads the log through the main store, page by page, each
 * once the last is written, until it has caught up with the reader; then it takes the live
 * entries (those after its cursor: none is missed, none repeated). */

static void client_replay(struct client *c);

/* Another page while the last was full, or while the reader has seen entries after the cursor
 * (the page may have been read just before they were written; after a few empty pages they are
 * taken as gone from the log, and the live entries follow). */
static void replay_continue(struct client *c)
{
    if (c->replay_more ||
        (log_id_cmp(&c->cursor, &c->ev->last) < 0 && c->empty_pages < MAX_EMPTY_PAGES)) {
        client_replay(c);
        return;
    }
    c->replaying = 0;
}

static void on_replay_written(struct http_call *call)
{
    replay_continue(call->data);
}

static void on_replay(enum store_status status, const struct store_stream_entry *entries, size_t n,
                      void *arg)
{
    struct client *c = arg;
    struct batch b;

    c->replay_in_flight = 0;
    if (c->call == NULL) { /* closed meanwhile */
        free(c);
        return;
    }
    if (status == STORE_CANCELLED) return; /* stopping: the connection closes with the server */
    if (status != STORE_OK) {
        client_close(c, CLOSE_END); /* it comes back with its Last-Event-ID */
        return;
    }
    if (batch_build(&b, entries, n, &c->cursor) != 0) {
        log_error("events: out of memory replaying the log to a stream");
        client_close(c, CLOSE_DROP);
        return;
    }
    c->replay_more = n == REPLAY_PAGE;
    c->empty_pages = b.has_end ? 0 : c->empty_pages + 1;
    if (b.has_end) c->cursor = b.end;
    if (b.n > 0) {
        if (http_stream_write(c->call, b.text.s, b.text.len, on_replay_written) != 0)
            client_close(c, CLOSE_DROP);
    } else {
        replay_continue(c);
    }
    batch_free(&b);
}

static void client_replay(struct client *c)
{
    char key[KEY_MAX], start[ID_TEXT_MAX];
    const char *argv[] = {"XRANGE", key, start, "+", "COUNT", REPLAY_PAGE_TEXT};

    log_key(c->ev, key);
    start[0] = '('; /* after the cursor */
    log_id_format(&c->cursor, start + 1, sizeof start - 1);
    if (store_stream_command(c->ev->router->store, 6, argv, NULL, on_replay, c) != 0) {
        client_close(c, CLOSE_END);
        return;
    }
    c->replay_in_flight = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* The reader */

static void reader_next(struct events *ev);

/* Whether a stream takes the live entries (one not replaying is open). */
static int any_live(const struct events *ev)
{
    for (const struct client *c = ev->clients; c; c = c->next)
        if (!c->replaying) return 1;
    return 0;
}

static void fan_out(struct events *ev, const struct store_stream_entry *entries, size_t n)
{
    struct batch b;
    struct client *c, *next;

    if (!any_live(ev)) { /* no event is written for nobody: only the reader's place moves */
        struct log_id id;
        for (size_t i = n; i-- > 0;) {
            if (log_id_parse(entries[i].id, entries[i].id_len, &id) == 0) {
                ev->last = id;
                break;
            }
        }
        return;
    }
    if (batch_build(&b, entries, n, NULL) != 0) {
        log_error("events: out of memory making events: dropping the live streams");
        for (c = ev->clients; c; c = next) {
            next = c->next;
            if (!c->replaying) client_close(c, CLOSE_DROP);
        }
        if (log_id_parse(entries[n - 1].id, entries[n - 1].id_len, &ev->last) != 0)
            ev->last_known = 0; /* read the log's end again */
        return;
    }
    if (b.has_end) ev->last = b.end;
    for (c = ev->clients; c; c = next) {
        next = c->next;
        if (!c->replaying) client_send(c, &b);
    }
    batch_free(&b);
}

/* After a failed read: the link's return (store_set_on_up) or, for a Redis error, a timer reads
 * again. */
static void reader_failed(struct events *ev, enum store_status status)
{
    struct timeval tv = {RETRY_MS / 1000, (RETRY_MS % 1000) * 1000};
    if (status == STORE_ERROR || (status == STORE_UNAVAILABLE && store_is_up(ev->reader)))
        evtimer_add(ev->read_later, &tv);
}

/* A read of the reader was answered: 1 when it succeeded, else 0 (the next read is arranged). */
static int reader_answered(struct events *ev, enum store_status status)
{
    ev->reading = 0;
    if (status == STORE_OK) return 1;
    reader_failed(ev, status);
    return 0;
}

static void on_log_end(enum store_status status, const struct store_stream_entry *entries, size_t n,
                       void *arg)
{
    struct events *ev = arg;
    if (!reader_answered(ev, status)) return;
    memset(&ev->last, 0, sizeof ev->last);
    if (n > 0 && log_id_parse(entries[0].id, entries[0].id_len, &ev->last) != 0)
        memset(&ev->last, 0, sizeof ev->last);
    ev->last_known = 1;
    reader_next(ev);
}

static void on_read(enum store_status status, const struct store_stream_entry *entries, size_t n,
                    void *arg)
{
    struct events *ev = arg;
    if (!reader_answered(ev, status)) return;
    if (n > 0) {
        struct timeval pause = {0, READ_PAUSE_MS * 1000};
        fan_out(ev, entries, n);
        feed_wake(ev->router->feed); /* parked feed reads look for their new entries */
        evtimer_add(ev->read_later, &pause);
        return;
    }
    reader_next(ev);
}

/* Reads the log's end (once), then the entries after the last one seen, blocking a while. */
static void reader_next(struct events *ev)
{
    char key[KEY_MAX], after[ID_TEXT_MAX];
    int rc;

    if (ev->reading) return;
    log_key(ev, key);
    if (!ev->last_known) {
        const char *argv[] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
        rc = store_stream_command(ev->reader, 6, argv, NULL, on_log_end, ev);
    } else {
        const char *argv[] = {"XREAD",       "COUNT",   READ_COUNT, "BLOCK",
                              READ_BLOCK_MS, "STREAMS", key,        after};
        log_id_format(&ev->last, after, sizeof after);
        rc = store_stream_command(ev->reader, 8, argv, NULL, on_read, ev);
    }
    if (rc == 0)
        ev->reading = 1;
    else
        reader_failed(ev, STORE_UNAVAILABLE);
}

static void on_reader_up(void *arg)
{
    reader_next(arg);
}

static void on_read_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reader_next(arg);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct events *ev = arg;
    struct client *c, *next;
    (void)fd;
    (void)what;
    for (c = ev->clients; c; c = next) {
        next = c->next;
        if (c->replaying || client_dropped_if_behind(c)) continue;
        if (http_stream_write(c->call, heartbeat_text, sizeof heartbeat_text - 1, NULL) != 0)
            client_close(c, CLOSE_DROP);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The handler and the life cycle */

void events_get(struct http_call *call)
{
    struct events *ev = call->router->events;
    const struct config *cfg = call->router->cfg;
    const char *last_id =
        evhttp_find_header(evhttp_request_get_input_headers(call->req), "Last-Event-ID");
    struct client *c;
    struct log_id from;

    if (ev == NULL || ev->draining) {
        http_reply_error(call, 503, "shutting_down", "The server is stopping; connect again.");
        return;
    }
    if (last_id && log_id_parse(last_id, strlen(last_id), &from) != 0) {
        http_reply_error(call, 400, "invalid_last_event_id",
                         "Last-Event-ID must be the id of an event of this stream.");
        return;
    }
    if (!ev->last_known || !store_is_up(ev->reader) || !store_is_up(call->router->store)) {
        http_reply_store_failure(call, STORE_UNAVAILABLE);
        return;
    }
    if (ev->nclients >= (unsigned)cfg->max_event_streams) {
        log_warn("events: %u streams open (ESS_MAX_EVENT_STREAMS): one more refused", ev->nclients);
        http_reply_error(call, 503, "too_many_streams",
                         "Too many live-update streams are open; try again shortly.");
        return;
    }
    if (evhttp_request_get_command(call->req) == EVHTTP_REQ_HEAD) {
        http_reply_text(call, 200, EVENT_CONTENT_TYPE, "", 0);
        return;
    }
    if ((c = calloc(1, sizeof *c)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    if (http_stream_start(call, EVENT_CONTENT_TYPE) != 0) {
        free(c);
        http_call_free(call);
        return;
    }
    c->ev = ev;
    c->call = call;
    call->data = c;
    call->on_gone = on_client_gone;
    c->next = ev->clients;
    if (ev->clients) ev->clients->prev = c;
    ev->clients = c;
    ev->nclients++;
    metrics_set_event_streams(ev->nclients);
    if (last_id) {
        c->cursor = from;
        c->replaying = 1;
        client_replay(c);
    } else {
        c->cursor = ev->last;
    }
}

struct events *events_start(struct router *router)
{
    const struct config *cfg = router->cfg;
    struct events *ev = calloc(1, sizeof *ev);
    struct timeval beat = {cfg->events_heartbeat_s, 0};

    if (ev == NULL) return NULL;
    ev->router = router;
    ev->heartbeat = event_new(router->base, -1, EV_PERSIST, on_heartbeat, ev);
    ev->read_later = evtimer_new(router->base, on_read_later, ev);
    ev->reader = store_new_reader(router->base, &router->redis);
    if (ev->heartbeat == NULL || ev->read_later == NULL || ev->reader == NULL) {
        events_free(ev);
        return NULL;
    }
    store_set_on_up(ev->reader, on_reader_up, ev);
    event_add(ev->heartbeat, &beat);
    metrics_set_event_streams(0);
    return ev;
}

void events_drain(struct events *ev)
{
    if (ev == NULL) return;
    ev->draining = 1;
    if (ev->nclients > 0) log_info("events: ending %u live-update streams", ev->nclients);
    while (ev->clients) client_close(ev->clients, CLOSE_END);
}

void events_stop(struct events *ev)
{
    if (ev == NULL) return;
    if (ev->heartbeat) event_del(ev->heartbeat);
    if (ev->read_later) event_del(ev->read_later);
    store_stop(ev->reader); /* its pending read is answered STORE_CANCELLED now */
}

void events_free(struct events *ev)
{
    if (ev == NULL) return;
    events_stop(ev);
    while (ev->clients) client_close(ev->clients, CLOSE_DROP); /* none once the server is gone */
    store_free(ev->reader);
    if (ev->heartbeat) event_free(ev->heartbeat);
    if (ev->read_later) event_free(ev->read_later);
    free(ev);
}
