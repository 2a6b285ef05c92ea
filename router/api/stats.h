/* Statistics for supervisors (DESIGN "The shared record"): counts of cases by category, channel,
 * status and day, and the times from received to assigned, acknowledged and on scene, read from
 * the counters ess.lua keeps at each change (P stats:day:<date>), never from the cases. */
#ifndef ESS_ROUTER_STATS_H
#define ESS_ROUTER_STATS_H

struct http_call;

/* GET /v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD: Thai-time (UTC+7) dates, both included; default
 * the last 30 days to today. At most STATS_MAX_DAYS days; a bad date, from after to, or a longer
 * range is a 400 invalid_query. Not audited: the answer holds no case and no personal data. */
#define STATS_MAX_DAYS 366
#define STATS_DEFAULT_DAYS 30
void stats_get(struct http_call *call);

#endif
