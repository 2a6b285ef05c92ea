/* e-Tracking: GET /v1/track/{code}, the public status of a case by its tracking code, with no
 * personal data; and the same lookup for the LINE bot's "status" answer. The public view lives
 * in its own Redis hash, brought up to date by ess.lua at every status change (its parts:
 * category, status, team names, the timeline of statuses and times), so a lookup is one HMGET;
 * the answer's JSON is written from the parts and the rule table's labels (track_view_json), as
 * are the public page and the LINE bot's answer. */
#ifndef ESS_ROUTER_TRACK_H
#define ESS_ROUTER_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "track_code.h"

struct http_call;

/* The public facts of a case. Strings are valid only inside the callback. */
struct track_view {
    int found;                 /* 0: no case has this code (the other fields are empty) */
    const char *tracking_code; /* canonical: the code looked up, or the surviving case's when
                                  the case was merged into another */
    const char *category;
    const char *status;
    const char *team_name;    /* "" when no team holds or held it */
    const char *team_name_en; /* the team's English name, "" when it has none */
    const char *label_th;     /* the category's labels, from the rule table ("" when it has none) */
    const char *label_en;
    const char *timeline; /* the view's timeline as ess.lua keeps it (track_timeline_each reads
                             it); not NUL-terminated */
    size_t timeline_len;
    int64_t updated_at_ms;
};

typedef void (*track_cb)(struct http_call *call, const struct track_view *view);

#define TRACK_STATUS_SIZE 32 /* a timeline's status code with its NUL, longer ones cut */

/* One status of a public timeline and when the case entered it (ms since the epoch; -1 when the
 * stored time cannot be read). status is valid only during the call. */
typedef void (*track_step_fn)(const char *status, int64_t at_ms, void *arg);

/* Calls fn for each status of timeline[0..len) (NULL or empty: none), in order. It reads both
 * forms ess.lua has kept: "<status>@<ms>" entries joined by commas, and, in views written before
 * schema 7, a JSON array of {"status", "at" (RFC 3339)}. Entries of neither form are skipped; a
 * cut-short timeline gives its whole entries. */
void track_timeline_each(const char *timeline, size_t len, track_step_fn fn, void *arg);

/* The answer of GET /v1/track/{code} (DESIGN) for a view found: {"tracking_code", "category",
 * "category_label": {"th", "en"}, "status", "updated_at", "team": {"name"} or null, "timeline"}.
 * A heap string of *len bytes, or NULL when memory runs out. */
char *track_view_json(const struct track_view *view, size_t *len);

/* Looks up a canonical tracking code for the call; cb continues or ends it. Redis being
 * unavailable is answered here (503) and cb is not called; neither is it when the client went
 * away. */
void track_lookup(struct http_call *call, const char *code, track_cb cb);

/* track_lookup for the public (GET /v1/track/{code}, the tracking page): the lookup counts against
 * ESS_TRACK_RATE_PER_MIN of the client's address (see ratelimit.h); past it the call is answered
 * 429 here and cb is not called. */
void track_lookup_limited(struct http_call *call, const char *code, track_cb cb);

/* Reads the tracking code in (NUL-terminated) leniently (track_code_parse: any case, hyphens and
 * spaces optional) into out, canonical. 0, or -1 when it is malformed or its check character is
 * wrong: the call was then answered 400 invalid_tracking_code, without a lookup. */
int track_code_read(struct http_call *call, const char *in, char out[TRACK_CODE_SIZE]);

void track_get(struct http_call *call); /* GET /v1/track/{code}: anyone */

#endif
