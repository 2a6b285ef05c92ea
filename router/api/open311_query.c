/* What an Open311 request asks (open311_query.h): the resource of a path segment and the query
 * of requests.json. */
#include "open311_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

#include "incident.h"
#include "text.h"

#define DAY_MS 86400000LL

enum open311_resource open311_query_resource(const char *segment, char *name, size_t size)
{
    const char *dot = strrchr(segment, '.');
    size_t n = dot ? (size_t)(dot - segment) : 0;

    if (dot == NULL || n == 0) return OPEN311_RESOURCE_NO_FORMAT;
    if (strcmp(dot + 1, "json") != 0) return OPEN311_RESOURCE_NOT_JSON;
    if (n >= size) n = size - 1; /* a longer name matches nothing */
    memcpy(name, segment, n);
    name[n] = '\0';
    return OPEN311_RESOURCE_JSON;
}

/* The value of name in params, NULL when absent or empty (GeoReport: an empty optional argument
 * is one not given). */
static const char *query_value(struct evkeyvalq *params, const char *name)
{
    const char *v = evhttp_find_header(params, name);
    return v && v[0] ? v : NULL;
}

/* The next item of the comma-separated list at *p into *item and *n, *p moved past it and its
 * comma. 1 for an item, 0 at the end, -1 for an empty item (",," or a comma at either end). */
static int csv_next(const char **p, const char **item, size_t *n)
{
    if (**p == '\0') return 0;
    *item = *p;
    *n = strcspn(*p, ",");
    *p += *n;
    if (**p == ',' && *++*p == '\0') return -1; /* a comma at the end */
    return *n ? 1 : -1;
}

const char *open311_query_read(struct evkeyvalq *params, int64_t now, struct open311_query *q)
{
    const char *v, *start_s = query_value(params, "start_date"),
                   *end_s = query_value(params, "end_date");
    int64_t start, end;
    int open = 0, closed = 0;

    memset(q, 0, sizeof *q);
    if (query_value(params, "service_request_id"))
        return "service_request_id is not taken here: ask for each request by its code, "
               "/open311/v2/requests/{service_request_id}.json.";
    end = now;
    if (end_s && (end = text_time_parse_w3c(end_s)) < 0)
        return "end_date must be a W3C date and time with its zone, as 2026-12-01T00:00:00+07:00 "
               "or 2026-11-30T17:00:00Z.";
    start = end - OPEN311_MAX_DAYS * DAY_MS;
    if (start_s && (start = text_time_parse_w3c(start_s)) < 0)
        return "start_date must be a W3C date and time with its zone, as "
               "2026-12-01T00:00:00+07:00 or 2026-11-30T17:00:00Z.";
    if (start > end) return "start_date must not be after end_date.";
    if (end - start > OPEN311_MAX_DAYS * DAY_MS)
        return "The span from start_date to end_date (now when not given) is at most 90 days.";
    snprintf(q->from, sizeof q->from, "%lld", (long long)start);
    snprintf(q->to, sizeof q->to, "%lld", (long long)end);
    if ((v = query_value(params, "status"))) {
        const char *p = v, *item;
        size_t n;
        int more;
        while ((more = csv_next(&p, &item, &n)) == 1) {
            if (n == 4 && strncmp(item, "open", 4) == 0)
                open = 1;
            else if (n == 6 && strncmp(item, "closed", 6) == 0)
                closed = 1;
            else
                break;
        }
        if (more != 0) return "status must be open, closed, or both separated by a comma.";
        if (open != closed) snprintf(q->status, sizeof q->status, "%s", open ? "open" : "closed");
    }
    if ((v = query_value(params, "service_code"))) {
        const char *p = v, *item;
        size_t n, len = 0;
        unsigned named = 0; /* bit c: category c asked for */
        int more, c;
        while ((more = csv_next(&p, &item, &n)) == 1 &&
               (c = incident_category_parse(item, n)) != INCIDENT_CATEGORY_NONE)
            named |= 1u << c;
        if (more != 0)
            return "service_code must be codes of /open311/v2/services.json, separated by a "
                   "comma.";
        for (c = 0; c < INCIDENT_CATEGORY_COUNT; c++)
            if (named & (1u << c))
                len += (size_t)snprintf(q->categories + len, sizeof q->categories - len, "%s%s",
                                        len ? "," : "", incident_category_code(c));
    }
    return NULL;
}
