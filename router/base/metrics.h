/* The process's own metrics (one event loop, so no locking): requests by route and status,
 * assignment latency, Redis errors and reconnects, cases created, acknowledgment timeouts,
 * escalations, failed LINE and team deliveries. Rendered in Prometheus text format; the gauges
 * kept in Redis (cases by category and status, queue length, outbox backlog) are appended by the
 * /metrics handler. */
#ifndef ESS_ROUTER_METRICS_H
#define ESS_ROUTER_METRICS_H

#include <stddef.h>

#include "text.h"

enum metrics_route {
    METRICS_ROUTE_INCIDENTS = 0, /* POST /v1/incidents */
    METRICS_ROUTE_CASE_GET,
    METRICS_ROUTE_CASE_LIST,
    METRICS_ROUTE_CASE_STATUS,
    METRICS_ROUTE_CASE_ACK,
    METRICS_ROUTE_CASE_ASSIGN,
    METRICS_ROUTE_TEAM_PUT,
    METRICS_ROUTE_TEAM_POSITION,
    METRICS_ROUTE_TRACK,
    METRICS_ROUTE_TRACK_PAGE, /* GET /track, /track/{code}: the public page */
    METRICS_ROUTE_ASSETS,     /* GET /assets/... */
    METRICS_ROUTE_CONSOLE,    /* GET /console/...: the operator console's page and settings */
    METRICS_ROUTE_LINE_WEBHOOK,
    METRICS_ROUTE_HEALTHZ,
    METRICS_ROUTE_METRICS,
    METRICS_ROUTE_OPERATOR_PUT,
    METRICS_ROUTE_OPERATOR_LIST,
    METRICS_ROUTE_AGENCY_PUT,
    METRICS_ROUTE_AGENCY_LIST,
    METRICS_ROUTE_FEED,
    METRICS_ROUTE_FEED_ACK,
    METRICS_ROUTE_SESSION_LOGIN,
    METRICS_ROUTE_SESSION_LOGOUT,
    METRICS_ROUTE_CASE_LOCATION,
    METRICS_ROUTE_CASE_NOTE,
    METRICS_ROUTE_CASE_CONSENT, /* POST /v1/cases/{id}/consent */
    METRICS_ROUTE_CASE_TRIAGE,
    METRICS_ROUTE_CASE_MERGE, /* POST /v1/cases/{id}/merge */
    METRICS_ROUTE_CASE_CANDIDATES,
    METRICS_ROUTE_CHAT, /* every /v1/cases/{id}/chat/... route */
    METRICS_ROUTE_TEAM_LIST,
    METRICS_ROUTE_CLASSIFY,
    METRICS_ROUTE_EVENTS,          /* GET /v1/events */
    METRICS_ROUTE_CASE_ACCESS_LOG, /* GET /v1/cases/{id}/access-log */
    METRICS_ROUTE_AUDIT,           /* GET /v1/audit */
    METRICS_ROUTE_CASE_ERASE,      /* DELETE /v1/cases/{id}/personal-data */
    METRICS_ROUTE_CASE_EIDO,       /* GET /v1/cases/{id}/eido */
    METRICS_ROUTE_OPEN311,         /* GET /open311/...: Open311 GeoReport v2 */
    METRICS_ROUTE_STATS,           /* GET /v1/stats */
    METRICS_ROUTE_OPENAPI,         /* GET /openapi.json */
    METRICS_ROUTE_OTHER,           /* anything unmatched */
    METRICS_ROUTE_COUNT
};

/* Records the process start time (ess_process_start_time_seconds); call once at start-up. When
 * it was never called, the first metrics_render records it. */
void metrics_init(void);

/* The label value of a route ("incidents", "case_get", ...). Static strings. */
const char *metrics_route_name(enum metrics_route route);

void metrics_count_request(enum metrics_route route, int http_status);
void metrics_observe_assignment(double seconds); /* request in to case stored and assigned */
void metrics_count_case_created(int category);   /* enum incident_category */
void metrics_count_redis_error(void);
void metrics_count_redis_reconnect(void);
void metrics_count_ack_timeout(void);            /* a claim released: no acknowledgment in time */
void metrics_count_escalation(void);             /* a case escalated to the operators' queue */
void metrics_count_line_delivery_failure(void);  /* a LINE API reply or push attempt failed */
void metrics_count_team_delivery_failure(void);  /* a dispatch attempt to a team failed */
void metrics_set_event_streams(unsigned open);   /* GET /v1/events streams open now */
void metrics_count_event_stream_dropped(void);   /* a stream closed: its client fell behind */
void metrics_set_feed_reads_waiting(unsigned n); /* GET /v1/feed reads parked now */

/* One agency's feed as Redis last told (ess_feed_lag, ess_feed_pending): lag is the log entries
 * its group has not read yet (-1: Redis cannot tell, entries were trimmed before it read them),
 * pending those read and not acknowledged. */
struct metrics_feed_gauge {
    char agency_id[TEXT_ID_MAX + 1]; /* of text_id_valid's form: safe as a label value */
    long long lag;
    long long pending;
};

/* Replaces the feed gauges with g[0..n) (copied; n may be 0). -1 when memory runs out (the old
 * ones stay), else 0. */
int metrics_set_feed_gauges(const struct metrics_feed_gauge *g, size_t n);

/* The metrics as Prometheus text (with # HELP and # TYPE lines) in a new heap string the caller
 * frees; *len receives its length. NULL when memory runs out. */
char *metrics_render(size_t *len);

/* Back to zero (for tests). */
void metrics_reset(void);

#endif
