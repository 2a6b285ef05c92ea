/* GET /v1/stats: the range checked here, the counting done by ess_stats_read in one call. */
#include "stats.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "text.h"

#define DAY_MS INT64_C(86400000)
#define THAI_OFFSET_MS (INT64_C(7) * 3600 * 1000)

/* The day number (days since 1970-01-01) of a date "YYYY-MM-DD", or -1 when s is not a real date
 * from 1970 on (parsed as midnight UTC, then written back: 2026-02-29 does not come back). */
static int64_t day_of(const char *s)
{
    char iso[TEXT_TIME_SIZE], back[TEXT_TIME_SIZE];
    int64_t ms;

    if (strlen(s) != 10) return -1;
    snprintf(iso, sizeof iso, "%.10sT00:00:00Z", s);
    if ((ms = text_time_parse_rfc3339(iso)) < 0) return -1;
    text_time_rfc3339(ms, back);
    if (strncmp(back, s, 10) != 0) return -1;
    return ms / DAY_MS;
}

/* Today's day number in Thai time. */
static int64_t thai_today(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec * 1000 + THAI_OFFSET_MS) / DAY_MS;
}

static void on_read(struct http_call *call, cJSON *reply)
{
    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    http_reply_json(call, 200, reply);
}

/* Reads from and to into *first and *days; the problem, or NULL when the range is good. */
static const char *range_read(struct evkeyvalq *params, int64_t *first, int64_t *days)
{
    const char *from = evhttp_find_header(params, "from");
    const char *to = evhttp_find_header(params, "to");
    int64_t a, b;

    b = to ? day_of(to) : thai_today();
    if (b < 0) return "to must be a date, as 2026-11-21.";
    a = from ? day_of(from) : b - (STATS_DEFAULT_DAYS - 1);
    if (a < 0) return "from must be a date, as 2026-11-21.";
    if (a > b) return "from must not be after to.";
    if (b - a + 1 > STATS_MAX_DAYS) return "A range is at most 366 days.";
    *first = a;
    *days = b - a + 1;
    return NULL;
}

void stats_get(struct http_call *call)
{
    struct evkeyvalq params;
    const char *problem, *argv[2];
    char first_s[24], days_s[8];
    int64_t first = 0, days = 0;

    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    problem = range_read(&params, &first, &days);
    evhttp_clear_headers(&params);
    if (problem) {
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    snprintf(first_s, sizeof first_s, "%lld", (long long)first);
    snprintf(days_s, sizeof days_s, "%lld", (long long)days);
    argv[0] = first_s;
    argv[1] = days_s;
    http_fcall(call, "ess_stats_read", 1, 2, argv, NULL, on_read);
}
