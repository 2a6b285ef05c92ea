/* e-Tracking: validates the code (a mistyped one is refused without a lookup) and serves the
 * case's public view as ess.lua keeps it: category, labels, status, team name, and the timeline
 * of statuses and times. Nothing else is stored there, so nothing else can leak. */
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "ratelimit.h"
#include "router.h"
#include "store.h"
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
    struct track_view v = {0, "", "", "", "", "", "", "", 0, "", 0, 0};
    char category[32], state[32], team[256], team_en[256], updated[24], label_th[256],
        label_en[256];

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
    if (items[0].data != NULL) {
        copy_item(&items[1], category, sizeof category);
        copy_item(&items[2], state, sizeof state);
        copy_item(&items[3], updated, sizeof updated);
        copy_item(&items[4], team, sizeof team);
        copy_item(&items[5], team_en, sizeof team_en);
        copy_item(&items[6], label_th, sizeof label_th);
        copy_item(&items[7], label_en, sizeof label_en);
        v.found = 1;
        v.view = items[0].data;
        v.view_len = items[0].len;
        v.category = category;
        v.status = state;
        v.team_name = team;
        v.team_name_en = team_en;
        v.label_th = label_th;
        v.label_en = label_en;
        v.timeline = items[8].data ? items[8].data : "";
        v.timeline_len = items[8].data ? items[8].len : 0;
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
    snprintf(key, sizeof key, "%strack:%s", store_prefix(call->router->store), code);
    argv[0] = "HMGET";
    argv[1] = key;
    argv[2] = "view";
    argv[3] = "category";
    argv[4] = "status";
    argv[5] = "updated_at";
    argv[6] = "team_name";
    argv[7] = "team_name_en";
    argv[8] = "label_th";
    argv[9] = "label_en";
    argv[10] = "timeline";
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

static void on_track(struct http_call *call, const struct track_view *v)
{
    if (!v->found) {
        http_reply_error(call, 404, "not_found", "No case has this tracking code.");
        return;
    }
    http_reply_text(call, 200, "application/json; charset=utf-8", v->view, v->view_len);
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
