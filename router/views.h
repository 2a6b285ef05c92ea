/* The JSON views of a case, built from what the store functions return (ess.lua: hash fields as
 * strings, times in ms): the operator's full view, the list summary, and the public e-Tracking
 * view, which by construction holds no personal data. */
#ifndef ESS_ROUTER_VIEWS_H
#define ESS_ROUTER_VIEWS_H

struct cJSON;
struct rules_table;

/* Each returns a new object the caller owns (NULL when memory runs out); raw is only read. */

/* The operator's view (DESIGN: GET /v1/cases/{id}), with its timeline. */
struct cJSON *views_case(const struct cJSON *raw);

/* The summary in lists and in the answer to POST /v1/incidents. */
struct cJSON *views_case_summary(const struct cJSON *raw);

/* The public view of GET /v1/track/{code}: category, labels, status, team name, timeline of
 * statuses and times. Copies only those fields. */
struct cJSON *views_track(const struct cJSON *raw, const struct rules_table *rules);

#endif
