/* The case API: hotline intake (POST /v1/incidents) and the operators' and teams' case
 * endpoints. Each handler answers its call exactly once; the server has already checked the
 * caller's role and put the path's case id in call->params[0]. */
#ifndef ESS_ROUTER_CASES_H
#define ESS_ROUTER_CASES_H

#include <stddef.h>

struct cJSON;
struct http_call;
struct incident;
struct router;

void cases_post_incident(struct http_call *call); /* operator */
void cases_get(struct http_call *call);           /* operator, or the team holding the case */
void cases_list(struct http_call *call);          /* operator */
void cases_post_status(struct http_call *call);   /* operator, or the team holding the case */
void cases_post_ack(struct http_call *call);      /* the team holding the case */
void cases_post_assign(struct http_call *call);   /* operator */
void cases_post_location(struct http_call *call); /* operator */
void cases_post_note(struct http_call *call);     /* operator */

/* Answers a store function's list page ({"cases", "next"}, which this takes) in the shape of
 * GET /v1/cases, or its refusal. */
void cases_reply_list(struct http_call *call, struct cJSON *reply);

/* How creating a case ended. */
enum cases_result {
    CASES_CREATED = 0,      /* a new case */
    CASES_EXISTS,           /* call_id was used before with the same content: that case */
    CASES_CALL_ID_CONFLICT, /* call_id was used before with other content: that case, unchanged;
                               nothing was created */
    CASES_UNAVAILABLE,      /* Redis is not reachable, or the store is stopping: nothing stored,
                               or not known to be */
    CASES_FAILED            /* out of memory, or Redis refused or answered oddly (logged) */
};

/* summary: {"case_id", and ess.lua's SUMMARY_FIELDS, all strings} for CREATED, EXISTS and
 * CALL_ID_CONFLICT, else NULL; done owns it. */
typedef void (*cases_done_fn)(void *arg, enum cases_result result, struct cJSON *summary);

/* The one way every channel (hotline console, LINE, tests) creates a case from a normalised
 * incident: the rule engine decides, ess_case_create stores it, assigns or queues it, atomically.
 * call_id (NULL: none) makes it idempotent (see enum cases_result); line_lang ("th"/"en", NULL for
 * other channels) is kept for the reporter's progress messages. incident, call_id and line_lang
 * are only read during this call (what is needed is copied). by is who the timeline's first entry
 * names: the authenticated caller for the API, NULL for the channel's own name ("line"). done(arg,
 * ...) is called exactly once, possibly before cases_create returns (CASES_UNAVAILABLE or
 * CASES_FAILED when the request could not be sent), so the caller does not touch arg after calling
 * (done may have ended it); arg stays valid until done runs. There is no cancelling: the store
 * answers every request it took (store_stop answers the pending ones as cancelled, seen here as
 * CASES_UNAVAILABLE), so an HTTP caller whose client went away frees its call in done (call->req is
 * NULL then). */
void cases_create(struct router *router, const struct incident *incident, const char *call_id,
                  const char *line_lang, const char *by, cases_done_fn done, void *arg);

/* 1 when id looks like a case id (26 Crockford base32 characters). */
int cases_id_valid(const char *id);

/* For a request on a case (the path's id) that sends nothing but the id: 404 not_found when the id
 * is not a case id's shape (cases_id_valid), else the audited store function fn is called with it
 * (http_fcall_audited) and its answer goes to on_reply. */
void cases_fcall_by_id(struct http_call *call, const char *fn,
                       void (*on_reply)(struct http_call *call, struct cJSON *reply));

/* For a request on a case (the path's id) that carries one text a person typed, the required
 * member name of its JSON body: checks the id (404), reads the text (http_body_text: at most
 * max_bytes, and when max_chars is not 0 at most max_chars code points; else 400 with problem),
 * and calls the audited store function with the case id and the text (http_fcall_audited), whose
 * answer goes to on_reply. */
void cases_call_with_text(struct http_call *call, const char *name, size_t max_bytes,
                          size_t max_chars, const char *problem, const char *function,
                          void (*on_reply)(struct http_call *call, struct cJSON *reply));

#endif
