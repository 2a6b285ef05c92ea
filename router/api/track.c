/* e-Tracking: validates the code (a mistyped one is refused without a lookup) and serves the
 * case's public view from what ess.lua keeps of it: category, status, team name, and the timeline
 * of statuses and times; the category's labels come from the rule table. Nothing else is stored
 * there, so nothing else can leak. */
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "incident.h"
#include "ratelimit.h"
#include "router.h"
#include "rules.h"
#include "store.h"
#include "text.h"
#include "track_code.h"

struct lookup {
    struct http_call *call;
    track_cb cb;
    struct ratelimit_ticket *ticket; /* the client's count, asked just before; NULL: none */
    char code[TRACK_CODE_SIZE];
};

static void copy_item(const struct store_item *item, char *out, size_t outlen)
{
    size_t n = item->data ? item->len : 0;
    if (n >= outlen) n = outlen - 1;
    if (n) memcpy(out, item->data, n);
    out[n] = '\0';
}

static void on_lookup(enum store_status status, const struct store_item *items, size_t n, void *arg)
{
    struct lookup *l = arg;
    struct http_call *call = l->call;
    track_cb cb = l->cb;
    struct ratelimit_ticket *ticket = l->ticket;
    struct track_view v = {0, "", "", "", "", "", "", "", "", 0, 0};
    char category[32], state[32], team[256], team_en[256], updated[24], code[TRACK_CODE_SIZE];

    memcpy(code, l->code, sizeof code);
    free(l);
    if (call->req == NULL) {
        ratelimit_ticket_drop(ticket);
        http_call_free(call);
        return;
    }
    if (ticket && !ratelimit_verdict(ticket, call)) return; /* answered: over the limit */
    if (status != STORE_OK || n != 7) {
        http_reply_store_failure(call, status == STORE_OK ? STORE_ERROR : status);
        return;
    }
    if (items[1].data != NULL) {
        int cat = incident_category_parse(items[0].data ? items[0].data : "", items[0].len);
        copy_item(&items[0], category, sizeof category);
        copy_item(&items[1], state, sizeof state);
        copy_item(&items[2], updated, sizeof updated);
        copy_item(&items[3], team, sizeof team);
        copy_item(&items[4], team_en, sizeof team_en);
        if (items[6].data != NULL) copy_item(&items[6], code, sizeof code); /* a merged case's */
        v.found = 1;
        v.tracking_code = code;
        v.category = category;
        v.status = state;
        v.team_name = team;
        v.team_name_en = team_en;
        v.label_th = rules_category_label(call->router->rules, cat, "th");
        v.label_en = rules_category_label(call->router->rules, cat, "en");
        v.timeline = items[5].data ? items[5].data : "";
        v.timeline_len = items[5].data ? items[5].len : 0;
        v.updated_at_ms = strtoll(updated, NULL, 10);
    }
    cb(call, &v);
}

/* track_lookup, with the verdict of ticket (taken over; may be NULL) asked before cb runs. */
static void track_lookup_counted(struct http_call *call, const char *code, track_cb cb,
                                 struct ratelimit_ticket *ticket)
{
    struct lookup *l = calloc(1, sizeof *l);
    char key[128];
    const char *argv[9];
    if (l == NULL) {
        ratelimit_ticket_drop(ticket);
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    l->call = call;
    l->cb = cb;
    l->ticket = ticket;
    snprintf(l->code, sizeof l->code, "%s", code);
    snprintf(key, sizeof key, "%strack:%s", store_prefix(call->router->store), code);
    argv[0] = "HMGET";
    argv[1] = key;
    argv[2] = "category";
    argv[3] = "status";
    argv[4] = "updated_at";
    argv[5] = "team_name";
    argv[6] = "team_name_en";
    argv[7] = "timeline";
    argv[8] = "tracking_code";
    if (store_command(call->router->store, 9, argv, NULL, on_lookup, l) != 0) {
        free(l);
        ratelimit_ticket_drop(ticket);
        http_reply_store_failure(call, STORE_UNAVAILABLE);
    }
}

void track_lookup(struct http_call *call, const char *code, track_cb cb)
{
    track_lookup_counted(call, code, cb, NULL);
}

void track_lookup_limited(struct http_call *call, const char *code, track_cb cb)
{
    /* the count and the lookup go to Redis together: one round trip */
    struct ratelimit_ticket *ticket =
        ratelimit_start(call, "track", call->router->cfg->track_rate_per_min);
    if (ticket == NULL) return; /* answered */
    track_lookup_counted(call, code, cb, ticket);
}

/* Appends s as a JSON string. */
static void add_string(struct text_buf *b, const char *s)
{
    text_buf_add_json(b, s, strlen(s));
}

/* The string value after `"key":"` in p[0..end), up to its closing quote, into out (cut to
 * outlen - 1 bytes); the position after it, or NULL when there is none before end. Only for the
 * values an older ess.lua wrote into a JSON timeline (status codes and times: no escapes). */
static const char *scan_value(const char *p, const char *end, const char *key, char *out,
                              size_t outlen)
{
    size_t klen = strlen(key), n;
    const char *v, *q;

    for (v = p;; v++) { /* memmem, which C11 and POSIX lack */
        if (v >= end || (v = memchr(v, key[0], (size_t)(end - v))) == NULL) return NULL;
        if ((size_t)(end - v) < klen) return NULL;
        if (memcmp(v, key, klen) == 0) break;
    }
    v += klen;
    if ((q = memchr(v, '"', (size_t)(end - v))) == NULL) return NULL;
    n = (size_t)(q - v) < outlen ? (size_t)(q - v) : outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return q + 1;
}

/* The JSON form: each {"status": "...", "at": "<RFC 3339>"} in order, the time read within its
 * own entry only. */
static void timeline_each_json(const char *p, const char *end, track_step_fn fn, void *arg)
{
    char status[TRACK_STATUS_SIZE], at[40];

    while ((p = scan_value(p, end, "{\"status\":\"", status, sizeof status)) != NULL) {
        const char *close = memchr(p, '}', (size_t)(end - p));
        const char *next = scan_value(p, close ? close : end, "\"at\":\"", at, sizeof at);
        fn(status, next ? text_time_parse_rfc3339(at) : -1, arg);
    }
}

/* The short form: "<status>@<ms>" entries joined by commas. */
static void timeline_each_short(const char *p, const char *end, track_step_fn fn, void *arg)
{
    char status[TRACK_STATUS_SIZE];

    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *sign = memchr(p, '@', (size_t)(stop - p));
        if (sign != NULL && sign > p && (size_t)(sign - p) < sizeof status) {
            int64_t ms = 0;
            const char *d = sign + 1;
            memcpy(status, p, (size_t)(sign - p));
            status[sign - p] = '\0';
            for (; d < stop && *d >= '0' && *d <= '9' && ms < INT64_MAX / 10 - 9; d++)
                ms = ms * 10 + (*d - '0');
            fn(status, d == stop && d > sign + 1 ? ms : -1, arg);
        }
        p = stop + 1;
    }
}

void track_timeline_each(const char *timeline, size_t len, track_step_fn fn, void *arg)
{
    if (timeline == NULL || len == 0) return;
    if (timeline[0] == '[')
        timeline_each_json(timeline, timeline + len, fn, arg);
    else
        timeline_each_short(timeline, timeline + len, fn, arg);
}

struct timeline_json {
    struct text_buf *b;
    int entries;
};

static void add_step_json(const char *status, int64_t at_ms, void *arg)
{
    struct timeline_json *t = arg;
    char at[TEXT_TIME_SIZE];

    if (at_ms <= 0) return; /* not a status with a time */
    text_time_rfc3339(at_ms, at);
    text_buf_add(t->b, t->entries++ ? ",{\"status\":" : "{\"status\":");
    add_string(t->b, status);
    text_buf_add(t->b, ",\"at\":\"");
    text_buf_add(t->b, at);
    text_buf_add(t->b, "\"}");
}

char *track_view_json(const struct track_view *v, size_t *len)
{
    struct text_buf b = {0};
    char updated[TEXT_TIME_SIZE];

    text_time_rfc3339(v->updated_at_ms, updated);
    text_buf_reserve(&b, 384 + 3 * v->timeline_len);
    text_buf_add(&b, "{\"tracking_code\":");
    add_string(&b, v->tracking_code);
    text_buf_add(&b, ",\"category\":");
    add_string(&b, v->category);
    text_buf_add(&b, ",\"category_label\":{\"th\":");
    add_string(&b, v->label_th);
    text_buf_add(&b, ",\"en\":");
    add_string(&b, v->label_en);
    text_buf_add(&b, "},\"status\":");
    add_string(&b, v->status);
    text_buf_add(&b, ",\"updated_at\":");
    add_string(&b, updated);
    text_buf_add(&b, ",\"team\":");
    if (v->team_name[0] != '\0') {
        text_buf_add(&b, "{\"name\":");
        add_string(&b, v->team_name);
        text_buf_add(&b, "}");
    } else {
        text_buf_add(&b, "null");
    }
    text_buf_add(&b, ",\"timeline\":[");
    track_timeline_each(v->timeline, v->timeline_len, add_step_json,
                        &(struct timeline_json){&b, 0});
    text_buf_add(&b, "]}");
    *len = b.len;
    return text_buf_take(&b); /* NULL when an append failed */
}

static void on_track(struct http_call *call, const struct track_view *v)
{
    size_t len = 0;
    char *json;
    if (!v->found) {
        http_reply_error(call, 404, "not_found", "No case has this tracking code.");
        return;
    }
    if ((json = track_view_json(v, &len)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    http_reply_owned(call, 200, "application/json; charset=utf-8", json, len);
}

int track_code_read(struct http_call *call, const char *in, char out[TRACK_CODE_SIZE])
{
    switch (track_code_parse(in, strlen(in), out)) {
    case TRACK_CODE_OK:
        return 0;
    case TRACK_CODE_BAD_CHECK:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "This tracking code has a typing mistake: its check character does not "
                         "match. Please check it again.");
        return -1;
    default:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "A tracking code looks like HM-7K3-Q9X-TD8.");
        return -1;
    }
}

void track_get(struct http_call *call)
{
    /* params[1] is free on this route: it keeps the canonical code for the answer */
    if (track_code_read(call, call->params[0], call->params[1]) != 0) return;
    track_lookup_limited(call, call->params[1], on_track);
}
