/* The process's own counters and the assignment-latency histogram, rendered in the Prometheus text
 * exposition format 0.0.4. One event loop owns them, so there is no locking; the counters live
 * for the whole process and only metrics_reset (tests) puts them back to zero. */
#include "metrics.h"

#include "incident.h"
#include "text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599
#define METRICS_NSTATUS (METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)

/* Upper bounds of the assignment histogram in seconds, as doubles and as rendered; +Inf is the
 * last bucket, implied by the count. */
static const double metrics_bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1,    2.5};
static const char *const metrics_bucket_labels[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
};
#define METRICS_NBUCKETS (sizeof metrics_bucket_bounds / sizeof metrics_bucket_bounds[0])

static const char *const metrics_route_names[METRICS_ROUTE_COUNT] = {
    [METRICS_ROUTE_INCIDENTS] = "incidents",
    [METRICS_ROUTE_CASE_GET] = "case_get",
    [METRICS_ROUTE_CASE_LIST] = "case_list",
    [METRICS_ROUTE_CASE_STATUS] = "case_status",
    [METRICS_ROUTE_CASE_ACK] = "case_ack",
    [METRICS_ROUTE_CASE_ASSIGN] = "case_assign",
    [METRICS_ROUTE_TEAM_PUT] = "team_put",
    [METRICS_ROUTE_TEAM_POSITION] = "team_position",
    [METRICS_ROUTE_TRACK] = "track",
    [METRICS_ROUTE_TRACK_PAGE] = "track_page",
    [METRICS_ROUTE_ASSETS] = "assets",
    [METRICS_ROUTE_CONSOLE] = "console",
    [METRICS_ROUTE_LINE_WEBHOOK] = "line_webhook",
    [METRICS_ROUTE_HEALTHZ] = "healthz",
    [METRICS_ROUTE_METRICS] = "metrics",
    [METRICS_ROUTE_OPERATOR_PUT] = "operator_put",
    [METRICS_ROUTE_OPERATOR_LIST] = "operator_list",
    [METRICS_ROUTE_AGENCY_PUT] = "agency_put",
    [METRICS_ROUTE_AGENCY_LIST] = "agency_list",
    [METRICS_ROUTE_FEED] = "feed",
    [METRICS_ROUTE_FEED_ACK] = "feed_ack",
    [METRICS_ROUTE_SESSION_LOGIN] = "session_login",
    [METRICS_ROUTE_SESSION_LOGOUT] = "session_logout",
    [METRICS_ROUTE_EVENTS] = "events",
    [METRICS_ROUTE_CASE_LOCATION] = "case_location",
    [METRICS_ROUTE_CASE_NOTE] = "case_note",
    [METRICS_ROUTE_CASE_CONSENT] = "case_consent",
    [METRICS_ROUTE_CASE_TRIAGE] = "case_triage",
    [METRICS_ROUTE_CASE_MERGE] = "case_merge",
    [METRICS_ROUTE_CASE_CANDIDATES] = "case_candidates",
    [METRICS_ROUTE_CHAT] = "chat",
    [METRICS_ROUTE_TEAM_LIST] = "team_list",
    [METRICS_ROUTE_CLASSIFY] = "classify",
    [METRICS_ROUTE_CASE_ACCESS_LOG] = "case_access_log",
    [METRICS_ROUTE_AUDIT] = "audit",
    [METRICS_ROUTE_CASE_ERASE] = "case_erase",
    [METRICS_ROUTE_CASE_EIDO] = "case_eido",
    [METRICS_ROUTE_OPEN311] = "open311",
    [METRICS_ROUTE_STATS] = "stats",
    [METRICS_ROUTE_OPENAPI] = "openapi",
    [METRICS_ROUTE_OTHER] = "other",
};

static struct {
    uint64_t requests[METRICS_ROUTE_COUNT][METRICS_NSTATUS];
    uint64_t buckets[METRICS_NBUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
    double assignment_sum;
    uint64_t assignment_count;
    uint64_t cases_created[INCIDENT_CATEGORY_COUNT];
    uint64_t redis_errors;
    uint64_t redis_reconnects;
    uint64_t ack_timeouts;
    uint64_t escalations;
    uint64_t line_delivery_failures;
    uint64_t team_delivery_failures;
    uint64_t event_streams; /* a gauge */
    uint64_t event_streams_dropped;
    uint64_t feed_reads_waiting; /* a gauge */
} metrics;

/* The feed gauges, set by the sweep (metrics_set_feed_gauges); outside `metrics` since
 * metrics_reset's memset would lose the allocation. */
static struct metrics_feed_gauge *metrics_feed;
static size_t metrics_feed_count;

static double metrics_start_time; /* seconds since the epoch; 0 until metrics_init */

static double metrics_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (double)time(NULL);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

void metrics_init(void)
{
    metrics_start_time = metrics_now();
}

const char *metrics_route_name(enum metrics_route route)
{
    if ((int)route < 0 || route >= METRICS_ROUTE_COUNT) return "other";
    return metrics_route_names[route];
}

void metrics_count_request(enum metrics_route route, int http_status)
{
    if ((int)route < 0 || route >= METRICS_ROUTE_COUNT) route = METRICS_ROUTE_OTHER;
    if (http_status < METRICS_STATUS_MIN || http_status > METRICS_STATUS_MAX) return;
    metrics.requests[route][http_status - METRICS_STATUS_MIN]++;
}

void metrics_observe_assignment(double seconds)
{
    size_t b = 0;

    if (!isfinite(seconds)) return;
    if (seconds < 0) seconds = 0;
    while (b < METRICS_NBUCKETS && seconds > metrics_bucket_bounds[b]) b++;
    metrics.buckets[b]++;
    metrics.assignment_sum += seconds;
    metrics.assignment_count++;
}

void metrics_count_case_created(int category)
{
    if (category < 0 || category >= INCIDENT_CATEGORY_COUNT) return;
    metrics.cases_created[category]++;
}

void metrics_count_redis_error(void)
{
    metrics.redis_errors++;
}

void metrics_count_redis_reconnect(void)
{
    metrics.redis_reconnects++;
}

void metrics_count_ack_timeout(void)
{
    metrics.ack_timeouts++;
}

void metrics_count_escalation(void)
{
    metrics.escalations++;
}

void metrics_count_line_delivery_failure(void)
{
    metrics.line_delivery_failures++;
}

void metrics_count_team_delivery_failure(void)
{
    metrics.team_delivery_failures++;
}

void metrics_set_event_streams(unsigned open)
{
    metrics.event_streams = open;
}

void metrics_count_event_stream_dropped(void)
{
    metrics.event_streams_dropped++;
}

void metrics_set_feed_reads_waiting(unsigned n)
{
    metrics.feed_reads_waiting = n;
}

int metrics_set_feed_gauges(const struct metrics_feed_gauge *g, size_t n)
{
    struct metrics_feed_gauge *copy = NULL;

    if (n > 0) {
        copy = malloc(n * sizeof *copy);
        if (copy == NULL) return -1;
        memcpy(copy, g, n * sizeof *copy);
    }
    free(metrics_feed);
    metrics_feed = copy;
    metrics_feed_count = n;
    return 0;
}

void metrics_reset(void)
{
    memset(&metrics, 0, sizeof metrics);
    metrics_set_feed_gauges(NULL, 0);
}

/* Writes v in the shortest of %.15g / %.17g that reads back as v. */
static void metrics_format_double(char *out, size_t outlen, double v)
{
    snprintf(out, outlen, "%.15g", v);
    if (strtod(out, NULL) != v) snprintf(out, outlen, "%.17g", v);
}

static void metrics_header(struct text_buf *b, const char *name, const char *type, const char *help)
{
    text_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter of one series: its header and its value. */
static void metrics_counter(struct text_buf *b, const char *name, const char *help, uint64_t value)
{
    metrics_header(b, name, "counter", help);
    text_buf_printf(b, "%s %" PRIu64 "\n", name, value);
}

char *metrics_render(size_t *len)
{
    struct text_buf b = {0};
    char num[64];
    uint64_t cumulative = 0;
    size_t n;
    char *out;

    if (metrics_start_time == 0) metrics_init();

    metrics_header(&b, "ess_http_requests_total", "counter",
                   "HTTP requests answered, by route and status code.");
    for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
        for (int s = 0; s < METRICS_NSTATUS; s++) {
            if (metrics.requests[r][s] == 0) continue;
            text_buf_printf(&b, "ess_http_requests_total{route=\"%s\",code=\"%d\"} %" PRIu64 "\n",
                            metrics_route_names[r], s + METRICS_STATUS_MIN, metrics.requests[r][s]);
        }
    }

    metrics_header(&b, "ess_assignment_seconds", "histogram",
                   "Time from an incident's arrival to its case stored and assigned.");
    for (size_t i = 0; i < METRICS_NBUCKETS; i++) {
        cumulative += metrics.buckets[i];
        text_buf_printf(&b, "ess_assignment_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
                        metrics_bucket_labels[i], cumulative);
    }
    cumulative += metrics.buckets[METRICS_NBUCKETS];
    text_buf_printf(&b, "ess_assignment_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cumulative);
    metrics_format_double(num, sizeof num, metrics.assignment_sum);
    text_buf_printf(&b, "ess_assignment_seconds_sum %s\n", num);
    text_buf_printf(&b, "ess_assignment_seconds_count %" PRIu64 "\n", metrics.assignment_count);

    metrics_header(&b, "ess_cases_created_total", "counter", "Cases created, by category.");
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        text_buf_printf(&b, "ess_cases_created_total{category=\"%s\"} %" PRIu64 "\n",
                        incident_category_code(c), metrics.cases_created[c]);
    }

    metrics_counter(&b, "ess_redis_errors_total",
                    "Redis commands that failed or answered with an error.", metrics.redis_errors);
    metrics_counter(&b, "ess_redis_reconnects_total",
                    "Times the connection to Redis was re-established.", metrics.redis_reconnects);

    metrics_counter(&b, "ess_ack_timeouts_total",
                    "Claims released because the team did not acknowledge in time.",
                    metrics.ack_timeouts);
    metrics_counter(&b, "ess_escalations_total",
                    "Cases escalated to the operators' queue after missed acknowledgments.",
                    metrics.escalations);
    metrics_counter(&b, "ess_line_delivery_failures_total",
                    "Sends to the LINE Messaging API that failed (each attempt).",
                    metrics.line_delivery_failures);
    metrics_counter(&b, "ess_team_delivery_failures_total",
                    "Dispatch attempts to a team (webhook or LINE group) that failed.",
                    metrics.team_delivery_failures);

    metrics_header(&b, "ess_event_streams", "gauge",
                   "Live-update streams (GET /v1/events) open in this process.");
    text_buf_printf(&b, "ess_event_streams %" PRIu64 "\n", metrics.event_streams);
    metrics_counter(&b, "ess_event_streams_dropped_total",
                    "Live-update streams closed because their client fell too far behind.",
                    metrics.event_streams_dropped);
    metrics_header(&b, "ess_feed_reads_waiting", "gauge",
                   "Feed reads (GET /v1/feed with block_ms) waiting for new entries in this "
                   "process.");
    text_buf_printf(&b, "ess_feed_reads_waiting %" PRIu64 "\n", metrics.feed_reads_waiting);

    metrics_header(&b, "ess_feed_lag", "gauge",
                   "Case-log entries an agency's feed has not read yet (-1: unknown, entries were "
                   "trimmed first), as read every 15 s.");
    for (size_t i = 0; i < metrics_feed_count; i++)
        text_buf_printf(&b, "ess_feed_lag{agency=\"%s\"} %lld\n", metrics_feed[i].agency_id,
                        metrics_feed[i].lag);
    metrics_header(&b, "ess_feed_pending", "gauge",
                   "Feed entries an agency has read and not acknowledged, as read every 15 s.");
    for (size_t i = 0; i < metrics_feed_count; i++)
        text_buf_printf(&b, "ess_feed_pending{agency=\"%s\"} %lld\n", metrics_feed[i].agency_id,
                        metrics_feed[i].pending);

    metrics_header(&b, "ess_process_start_time_seconds", "gauge",
                   "Start time of the process since the Unix epoch in seconds.");
    snprintf(num, sizeof num, "%.3f", metrics_start_time);
    text_buf_printf(&b, "ess_process_start_time_seconds %s\n", num);

    n = b.len;
    out = text_buf_take(&b);
    if (out != NULL && len != NULL) *len = n;
    return out;
}
