/* The JSON views of a case for operators and teams, built from what the store functions return
 * (ess.lua: hash fields as strings, times in ms): the full view and the list summary. The public
 * e-Tracking view is track.c's. */
#ifndef ESS_ROUTER_VIEWS_H
#define ESS_ROUTER_VIEWS_H

struct cJSON;

/* Each returns a new object the caller owns (NULL when memory runs out); raw is only read. */

/* The operator's view (DESIGN: GET /v1/cases/{id}), with its timeline. */
struct cJSON *views_case(const struct cJSON *raw);

/* The summary in lists and in the answer to POST /v1/incidents. */
struct cJSON *views_case_summary(const struct cJSON *raw);

/* A list page, {"cases": [summaries], "next_cursor": string or null}, from a store answer
 * {"cases": [raw cases], "next": string (absent or null: the last page)}. */
struct cJSON *views_case_list(const struct cJSON *reply);

#endif
