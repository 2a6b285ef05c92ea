/* libFuzzer target for Open311's public read (router/api/open311_query.c): the last path segment
 * ("requests.json", "HM-7K3-Q9X-TD8.json") and the query of requests.json (start_date, end_date,
 * status, service_code), split by router/http/http_query.c as the router does. The input is both
 * the segment and the query. Checks: a resource name is what precedes ".json"; a good query gives
 * Redis a span of at most 90 days ending at end_date (now when not given), a status of "",
 * "open" or "closed" and distinct category codes in order; a W3C time read writes back and reads
 * again as itself. */
#include "fuzz_common.h"
#include "http_query.h"
#include "incident.h"
#include "open311_query.h"
#include "text.h"
#include "track_code.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define NOW_MS 1796515200000LL /* 2026-12-06T00:00:00Z: a fixed "now" */
#define SPAN_MS (OPEN311_MAX_DAYS * 86400000LL)

static void check_resource(const char *segment, size_t size)
{
    char name[128], code[TRACK_CODE_SIZE];
    const char *dot = strrchr(segment, '.');
    enum open311_resource r = open311_query_resource(segment, name, size);

    switch (r) {
    case OPEN311_RESOURCE_JSON: {
        size_t n = (size_t)(dot - segment);
        if (dot == NULL || n == 0 || strcmp(dot, ".json") != 0) abort();
        if (n > size - 1) n = size - 1;
        if (strlen(name) != n || memcmp(name, segment, n) != 0) abort();
        (void)track_code_parse(name, strlen(name), code); /* requests/{code}.json */
        break;
    }
    case OPEN311_RESOURCE_NO_FORMAT:
        if (dot != NULL && dot != segment) abort();
        break;
    case OPEN311_RESOURCE_NOT_JSON:
        if (dot == NULL || dot == segment || strcmp(dot, ".json") == 0) abort();
        break;
    default:
        abort();
    }
}

/* A decimal number of milliseconds, as Redis gets it. */
static long long ms_value(const char *s)
{
    char *end = NULL;
    long long v;

    if (s[0] == '\0' || strspn(s, "-0123456789") != strlen(s)) abort();
    v = strtoll(s, &end, 10);
    if (*end != '\0') abort();
    return v;
}

/* A time read writes back in RFC 3339 and reads again as itself. */
static void check_time(const char *s)
{
    int64_t t = text_time_parse_w3c(s);
    char out[TEXT_TIME_SIZE];

    if (t < -1) abort();
    if (t < 0) return;
    text_time_rfc3339(t, out);
    if (text_time_parse_w3c(out) != t || text_time_parse_rfc3339(out) != t) abort();
}

static void check_query(const char *query)
{
    struct evkeyvalq params;
    struct evkeyval *kv;
    struct open311_query q;
    const char *problem, *end_date;

    if (http_query_split(query, &params) != 0) goto done;
    TAILQ_FOREACH (kv, &params, next) check_time(kv->value);
    problem = open311_query_read(&params, NOW_MS, &q);
    if (problem != NULL) {
        if (problem[0] == '\0') abort();
        goto done;
    }
    if (memchr(q.from, '\0', sizeof q.from) == NULL || memchr(q.to, '\0', sizeof q.to) == NULL ||
        memchr(q.status, '\0', sizeof q.status) == NULL ||
        memchr(q.categories, '\0', sizeof q.categories) == NULL)
        abort();
    {
        long long from = ms_value(q.from), to = ms_value(q.to);
        end_date = evhttp_find_header(&params, "end_date");
        if (from > to || to - from > SPAN_MS) abort();
        if ((end_date == NULL || end_date[0] == '\0') && to != NOW_MS) abort();
    }
    if (strcmp(q.status, "") != 0 && strcmp(q.status, "open") != 0 &&
        strcmp(q.status, "closed") != 0)
        abort();
    {
        const char *p = q.categories;
        int last = -1;
        while (*p) {
            size_t n = strcspn(p, ",");
            int c = incident_category_parse(p, n);
            if (c == INCIDENT_CATEGORY_NONE || c <= last) abort();
            last = c;
            p += n;
            if (*p == ',' && *++p == '\0') abort();
        }
    }
done:
    evhttp_clear_headers(&params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);

    if (s == NULL) return 0;
    check_resource(s, 32);
    check_resource(s, 97);
    check_query(s);
    free(s);
    return 0;
}
