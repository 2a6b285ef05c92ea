/* Unit tests of router/base/metrics.c: counters render as the expected Prometheus lines, only
 * non-zero request counts appear, histogram buckets are cumulative with _sum and _count, every
 * metric has its # HELP and # TYPE, the delivery counters (acknowledgment timeouts, escalations,
 * LINE and team delivery failures) count, and metrics_reset brings everything back to zero. */
#include "incident.h"
#include "metrics.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1 when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line)) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') return 1;
    }
    return 0;
}

static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);

    if (text != NULL && strlen(text) != len) {
        free(text);
        return NULL;
    }
    return text;
}

static void test_empty(void)
{
    char *text;

    metrics_reset();
    text = render();
    CHECK(text != NULL, "render succeeds and *len matches the text");
    if (text == NULL) return;
    CHECK(strstr(text, "ess_http_requests_total{") == NULL, "no request lines when none counted");
    CHECK(has_line(text, "# TYPE ess_http_requests_total counter") &&
              has_line(text, "# TYPE ess_assignment_seconds histogram") &&
              has_line(text, "# TYPE ess_cases_created_total counter") &&
              has_line(text, "# TYPE ess_redis_errors_total counter") &&
              has_line(text, "# TYPE ess_redis_reconnects_total counter") &&
              has_line(text, "# TYPE ess_process_start_time_seconds gauge"),
          "every metric has its # TYPE");
    CHECK(strstr(text, "# HELP ess_http_requests_total ") &&
              strstr(text, "# HELP ess_assignment_seconds ") &&
              strstr(text, "# HELP ess_cases_created_total ") &&
              strstr(text, "# HELP ess_redis_errors_total ") &&
              strstr(text, "# HELP ess_redis_reconnects_total ") &&
              strstr(text, "# HELP ess_process_start_time_seconds "),
          "every metric has its # HELP");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"+Inf\"} 0") &&
              has_line(text, "ess_assignment_seconds_count 0") &&
              has_line(text, "ess_assignment_seconds_sum 0"),
          "an empty histogram renders zeros");
    CHECK(has_line(text, "ess_cases_created_total{category=\"threat\"} 0") &&
              has_line(text, "ess_cases_created_total{category=\"other\"} 0"),
          "every category renders, zero included");
    CHECK(text[strlen(text) - 1] == '\n', "the text ends with a newline");
    free(text);
}

static void test_counts(void)
{
    char *text;

    metrics_reset();
    metrics_count_request(METRICS_ROUTE_INCIDENTS, 201);
    metrics_count_request(METRICS_ROUTE_INCIDENTS, 201);
    metrics_count_request(METRICS_ROUTE_INCIDENTS, 400);
    metrics_count_request(METRICS_ROUTE_TRACK, 404);
    metrics_count_request(METRICS_ROUTE_HEALTHZ, 100);
    metrics_count_request(METRICS_ROUTE_METRICS, 599);
    metrics_count_request(METRICS_ROUTE_LINE_WEBHOOK, 99);  /* dropped */
    metrics_count_request(METRICS_ROUTE_LINE_WEBHOOK, 600); /* dropped */
    metrics_count_request((enum metrics_route)42, 500);     /* counted as other */
    metrics_count_case_created(INCIDENT_DETENTION);
    metrics_count_case_created(INCIDENT_DETENTION);
    metrics_count_case_created(INCIDENT_MENTAL_CRISIS);
    metrics_count_case_created(INCIDENT_CATEGORY_NONE);  /* dropped */
    metrics_count_case_created(INCIDENT_CATEGORY_COUNT); /* dropped */
    metrics_count_redis_error();
    metrics_count_redis_error();
    metrics_count_redis_error();
    metrics_count_redis_reconnect();

    text = render();
    CHECK(text != NULL, "render with counts succeeds");
    if (text == NULL) return;
    CHECK(has_line(text, "ess_http_requests_total{route=\"incidents\",code=\"201\"} 2"),
          "incidents 201 counted twice");
    CHECK(has_line(text, "ess_http_requests_total{route=\"incidents\",code=\"400\"} 1"),
          "incidents 400 counted once");
    CHECK(has_line(text, "ess_http_requests_total{route=\"track\",code=\"404\"} 1"),
          "track 404 counted");
    CHECK(has_line(text, "ess_http_requests_total{route=\"healthz\",code=\"100\"} 1") &&
              has_line(text, "ess_http_requests_total{route=\"metrics\",code=\"599\"} 1"),
          "status 100 and 599, the ends of the range, are counted");
    CHECK(strstr(text, "route=\"line_webhook\"") == NULL, "statuses out of 100..599 are dropped");
    CHECK(has_line(text, "ess_http_requests_total{route=\"other\",code=\"500\"} 1"),
          "an unknown route counts as other");
    CHECK(strstr(text, "route=\"incidents\",code=\"200\"") == NULL &&
              strstr(text, "route=\"case_get\"") == NULL,
          "zero request counts are not rendered");
    CHECK(has_line(text, "ess_cases_created_total{category=\"detention\"} 2") &&
              has_line(text, "ess_cases_created_total{category=\"mental_crisis\"} 1") &&
              has_line(text, "ess_cases_created_total{category=\"threat\"} 0"),
          "cases created by category");
    CHECK(has_line(text, "ess_redis_errors_total 3"), "redis errors counted");
    CHECK(has_line(text, "ess_redis_reconnects_total 1"), "redis reconnects counted");
    CHECK(strstr(text, "\ness_process_start_time_seconds 1") != NULL,
          "process start time is a plausible epoch time");
    free(text);

    CHECK(strcmp(metrics_route_name(METRICS_ROUTE_INCIDENTS), "incidents") == 0 &&
              strcmp(metrics_route_name(METRICS_ROUTE_LINE_WEBHOOK), "line_webhook") == 0 &&
              strcmp(metrics_route_name(METRICS_ROUTE_COUNT), "other") == 0,
          "route names, out of range reads as other");
}

static void test_histogram(void)
{
    char *text;

    metrics_reset();
    metrics_observe_assignment(0.0003);   /* <= 0.0005 */
    metrics_observe_assignment(0.0005);   /* exactly on a bound: in that bucket */
    metrics_observe_assignment(0.004);    /* <= 0.005 */
    metrics_observe_assignment(0.2);      /* <= 0.25 */
    metrics_observe_assignment(3.0);      /* +Inf only */
    metrics_observe_assignment(-1.0);     /* clamped to 0 */
    metrics_observe_assignment(NAN);      /* ignored */
    metrics_observe_assignment(INFINITY); /* ignored */

    text = render();
    CHECK(text != NULL, "render with a histogram succeeds");
    if (text == NULL) return;
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"0.0005\"} 3"),
          "bucket 0.0005 holds 0.0003, 0.0005 and the clamped -1");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"0.001\"} 3") &&
              has_line(text, "ess_assignment_seconds_bucket{le=\"0.0025\"} 3"),
          "empty buckets repeat the cumulative count");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"0.005\"} 4") &&
              has_line(text, "ess_assignment_seconds_bucket{le=\"0.1\"} 4"),
          "bucket 0.005 adds 0.004 cumulatively");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"0.25\"} 5") &&
              has_line(text, "ess_assignment_seconds_bucket{le=\"2.5\"} 5"),
          "bucket 0.25 adds 0.2 cumulatively");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"+Inf\"} 6"), "+Inf holds all six");
    CHECK(has_line(text, "ess_assignment_seconds_count 6"),
          "count is six (NaN and infinity ignored)");
    CHECK(has_line(text, "ess_assignment_seconds_sum 3.2048"), "sum is 3.2048");
    CHECK(strstr(text, "le=\"0.0005\"") < strstr(text, "le=\"0.001\"") &&
              strstr(text, "le=\"2.5\"") < strstr(text, "le=\"+Inf\"") &&
              strstr(text, "le=\"+Inf\"") < strstr(text, "ess_assignment_seconds_sum"),
          "buckets in increasing order, then _sum");
    free(text);
}

static void test_reset(void)
{
    char *text;

    metrics_count_request(METRICS_ROUTE_CASE_ACK, 409);
    metrics_count_case_created(INCIDENT_GATHERING);
    metrics_count_redis_error();
    metrics_count_redis_reconnect();
    metrics_observe_assignment(0.01);
    metrics_reset();
    text = render();
    CHECK(text != NULL, "render after reset succeeds");
    if (text == NULL) return;
    CHECK(strstr(text, "ess_http_requests_total{") == NULL, "reset clears request counts");
    CHECK(has_line(text, "ess_cases_created_total{category=\"gathering\"} 0"),
          "reset clears cases created");
    CHECK(has_line(text, "ess_redis_errors_total 0") &&
              has_line(text, "ess_redis_reconnects_total 0"),
          "reset clears redis counters");
    CHECK(has_line(text, "ess_assignment_seconds_bucket{le=\"0.01\"} 0") &&
              has_line(text, "ess_assignment_seconds_count 0") &&
              has_line(text, "ess_assignment_seconds_sum 0"),
          "reset clears the histogram");
    free(text);
}

static void test_delivery_counters(void)
{
    char *text;

    metrics_reset();
    text = render();
    CHECK(text != NULL, "render before any delivery event succeeds");
    if (text == NULL) return;
    CHECK(has_line(text, "# TYPE ess_ack_timeouts_total counter") &&
              has_line(text, "# TYPE ess_escalations_total counter") &&
              has_line(text, "# TYPE ess_line_delivery_failures_total counter") &&
              has_line(text, "# TYPE ess_team_delivery_failures_total counter") &&
              strstr(text, "# HELP ess_ack_timeouts_total ") &&
              strstr(text, "# HELP ess_escalations_total ") &&
              strstr(text, "# HELP ess_line_delivery_failures_total ") &&
              strstr(text, "# HELP ess_team_delivery_failures_total "),
          "the delivery counters have their # TYPE and # HELP");
    CHECK(has_line(text, "ess_ack_timeouts_total 0") && has_line(text, "ess_escalations_total 0") &&
              has_line(text, "ess_line_delivery_failures_total 0") &&
              has_line(text, "ess_team_delivery_failures_total 0"),
          "the delivery counters render zero before anything happened");
    free(text);

    metrics_count_ack_timeout();
    metrics_count_ack_timeout();
    metrics_count_ack_timeout();
    metrics_count_escalation();
    metrics_count_line_delivery_failure();
    metrics_count_line_delivery_failure();
    metrics_count_team_delivery_failure();
    metrics_count_team_delivery_failure();
    metrics_count_team_delivery_failure();
    metrics_count_team_delivery_failure();
    text = render();
    CHECK(text != NULL, "render with delivery events succeeds");
    if (text == NULL) return;
    CHECK(has_line(text, "ess_ack_timeouts_total 3"), "acknowledgment timeouts counted");
    CHECK(has_line(text, "ess_escalations_total 1"), "escalations counted");
    CHECK(has_line(text, "ess_line_delivery_failures_total 2"), "LINE delivery failures counted");
    CHECK(has_line(text, "ess_team_delivery_failures_total 4"), "team delivery failures counted");
    free(text);

    metrics_reset();
    text = render();
    CHECK(text != NULL && has_line(text, "ess_ack_timeouts_total 0") &&
              has_line(text, "ess_escalations_total 0") &&
              has_line(text, "ess_line_delivery_failures_total 0") &&
              has_line(text, "ess_team_delivery_failures_total 0"),
          "reset clears the delivery counters");
    free(text);
}

static void test_growth(void)
{
    char *text;
    size_t len = 0;
    int all = 1;

    /* Every route with every status: far beyond the first 4 KiB of the buffer. */
    metrics_reset();
    for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
        for (int s = 100; s <= 599; s++) metrics_count_request((enum metrics_route)r, s);
    }
    text = metrics_render(&len);
    CHECK(text != NULL && len > 100000 && strlen(text) == len,
          "6500 request lines render into a grown buffer");
    if (text != NULL) {
        all = has_line(text, "ess_http_requests_total{route=\"other\",code=\"599\"} 1") &&
              strstr(text, "\ness_process_start_time_seconds ") != NULL;
    }
    CHECK(all, "the last request line and the lines after it are all there");
    free(text);
    metrics_reset();
}

/* The feed gauges render one line per agency, replaced as a whole by each set. */
static void test_feed_gauges(void)
{
    struct metrics_feed_gauge g[2] = {{"dmh", -1, 0}, {"police", 3, 2}};
    char *text;

    metrics_reset();
    CHECK(metrics_set_feed_gauges(g, 2) == 0, "feed gauges set");
    text = metrics_render(NULL);
    CHECK(text != NULL && has_line(text, "ess_feed_lag{agency=\"dmh\"} -1") &&
              has_line(text, "ess_feed_lag{agency=\"police\"} 3") &&
              has_line(text, "ess_feed_pending{agency=\"dmh\"} 0") &&
              has_line(text, "ess_feed_pending{agency=\"police\"} 2") &&
              has_line(text, "# TYPE ess_feed_lag gauge"),
          "one lag and one pending line per agency");
    free(text);
    CHECK(metrics_set_feed_gauges(g + 1, 1) == 0, "set again");
    text = metrics_render(NULL);
    CHECK(text != NULL && strstr(text, "agency=\"dmh\"") == NULL &&
              has_line(text, "ess_feed_pending{agency=\"police\"} 2"),
          "an agency gone leaves the gauges");
    free(text);
    metrics_reset();
    text = metrics_render(NULL);
    CHECK(text != NULL && strstr(text, "ess_feed_lag{") == NULL, "reset empties them");
    free(text);
}

int main(void)
{
    metrics_init();
    test_empty();
    test_counts();
    test_histogram();
    test_reset();
    test_delivery_counters();
    test_growth();
    test_feed_gauges();
    return tap_done();
}
