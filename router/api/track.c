/* e-Tracking: validates the code (a mistyped one is refused without a lookup) and serves the
 * case's public view from what ess.lua keeps of it: category, labels, status, team name, and the
 * timeline of statuses and times. Nothing else is stored there, so nothing else can leak. */
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "ratelimit.h"
#include "router.h"
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
    char category[32], state[32], team[256], team_en[256], updated[24], label_th[256],
        label_en[256], code[TRACK_CODE_SIZE];

    memcpy(code, l->code, sizeof code);
    free(l);
    if (call->req == NULL) {
        ratelimit_ticket_drop(ticket);
        http_call_free(call);
        return;
    }
    if (ticket && !ratelimit_verdict(ticket, call)) return; /* answered: over the limit */
    if (status != STORE_OK || n != 9) {
        http_reply_store_failure(call, status == STORE_OK ? STORE_ERROR : status);
        return;
    }
    if (items[1].data != NULL) {
        copy_item(&items[0], category, sizeof category);
        copy_item(&items[1], state, sizeof state);
        copy_item(&items[2], updated, sizeof updated);
        copy_item(&items[3], team, sizeof team);
        copy_item(&items[4], team_en, sizeof team_en);
        copy_item(&items[5], label_th, sizeof label_th);
        copy_item(&items[6], label_en, sizeof label_en);
        if (items[8].data != NULL) copy_item(&items[8], code, sizeof code); /* a merged case's */
        v.found = 1;
        v.tracking_code = code;
        v.category = category;
        v.status = state;
        v.team_name = team;
        v.team_name_en = team_en;
        v.label_th = label_th;
        v.label_en = label_en;
        v.timeline = items[7].data ? items[7].data : "";
        v.timeline_len = items[7].data ? items[7].len : 0;
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
    const char *argv[11];
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
    argv[7] = "label_th";
    argv[8] = "label_en";
    argv[9] = "timeline";
    argv[10] = "tracking_code";
    if (store_command(call->router->store, 11, argv, NULL, on_lookup, l) != 0) {
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

char *track_view_json(const struct track_view *v, size_t *len)
{
    struct text_buf b = {0};
    char updated[TEXT_TIME_SIZE];

    text_time_rfc3339(v->updated_at_ms, updated);
    text_buf_reserve(&b, 384 + v->timeline_len);
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
    text_buf_add(&b, ",\"timeline\":");
    if (v->timeline_len > 0) /* ess.lua's JSON array */
        text_buf_add_len(&b, v->timeline, v->timeline_len);
    else
        text_buf_add(&b, "[]");
    text_buf_add(&b, "}");
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
