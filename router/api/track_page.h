/* e-Tracking for people (DESIGN: "e-Tracking, the public page"): HTML rendered here, no
 * JavaScript. GET /track is the form; GET /track?code=… redirects (303) to /track/{code}; GET
 * /track/{code} shows the case's public status, from the same lookup and rate limit as GET
 * /v1/track/{code} (track.h). Thai, or English with ?lang=en or an Accept-Language preferring it.
 * The security headers come from http.c (the routes are HTTP_KIND_PAGE). */
#ifndef ESS_ROUTER_TRACK_PAGE_H
#define ESS_ROUTER_TRACK_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"

struct http_call;
struct text_buf;

/* Where "leave this page" goes: a neutral site, at once. */
#define TRACK_PAGE_LEAVE_URL "https://www.google.com/"

/* The page's language: lang_param ("en" or "th", from ?lang=; NULL or anything else: not given)
 * decides; else English when accept_language (an Accept-Language header, NULL: none) ranks en or
 * en-* above th and th-* (a higher q-value, or the same one listed first; q=0 is not wanted);
 * else Thai. */
enum chat_lang track_page_lang(const char *lang_param, const char *accept_language);

/* The steps of the page, in order, each with the time it was reached (ms since 1970; 0: not
 * reached). */
#define TRACK_PAGE_STEPS 7
extern const char *const track_page_step_status[TRACK_PAGE_STEPS]; /* "received" … "closed" */

/* Reads a public timeline (timeline[0..len), the JSON array of {"status", "at"} ess.lua keeps
 * beside the view; NULL: none) into the time of each step: the latest time each was reached,
 * forgetting the steps after it when the case went back (reassigned or queued: no team holds
 * it; an earlier step again). Entries without a status and a time are skipped. */
void track_page_steps(const char *timeline, size_t len, int64_t at_ms[TRACK_PAGE_STEPS]);

void track_page_form(struct http_call *call); /* GET /track[?code=…] */
void track_page_get(struct http_call *call);  /* GET /track/{code} */

#endif
