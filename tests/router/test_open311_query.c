/* Unit tests of router/api/open311_query.c: the resource of a path's last segment and the query
 * of requests.json (the 90-day span, status, service codes, and what is refused). */
#include "http_query.h"
#include "open311_query.h"
#include "tap.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#define NOW 1796515200000LL /* 2026-12-06T00:00:00Z */
#define DAY 86400000LL

static void test_resource(void)
{
    char name[32];

    CHECK(open311_query_resource("requests.json", name, sizeof name) == OPEN311_RESOURCE_JSON &&
              strcmp(name, "requests") == 0,
          "requests.json: the name requests");
    CHECK(open311_query_resource("HM-7K3-Q9X-TD8.json", name, sizeof name) ==
                  OPEN311_RESOURCE_JSON &&
              strcmp(name, "HM-7K3-Q9X-TD8") == 0,
          "a tracking code as the name");
    CHECK(open311_query_resource("a.b.json", name, sizeof name) == OPEN311_RESOURCE_JSON &&
              strcmp(name, "a.b") == 0,
          "the format is after the last dot");
    CHECK(open311_query_resource("requests.xml", name, sizeof name) == OPEN311_RESOURCE_NOT_JSON,
          "another format");
    CHECK(open311_query_resource("requests.JSON", name, sizeof name) == OPEN311_RESOURCE_NOT_JSON,
          "the format is lowercase");
    CHECK(open311_query_resource("requests", name, sizeof name) == OPEN311_RESOURCE_NO_FORMAT &&
              open311_query_resource(".json", name, sizeof name) == OPEN311_RESOURCE_NO_FORMAT,
          "no format, or no name before it");
    CHECK(open311_query_resource("abcdefghijklmnopqrstuvwxyz0123456789.json", name, sizeof name) ==
                  OPEN311_RESOURCE_JSON &&
              strlen(name) == sizeof name - 1,
          "a longer name is cut to the buffer");
}

/* open311_query_read on query; the problem or NULL. */
static const char *read_query(const char *query, struct open311_query *q)
{
    struct evkeyvalq params;
    const char *problem = "malformed";

    if (http_query_split(query, &params) == 0) problem = open311_query_read(&params, NOW, q);
    evhttp_clear_headers(&params);
    return problem;
}

static void test_query(void)
{
    struct open311_query q;
    char want[24];

    CHECK(read_query("", &q) == NULL && strcmp(q.status, "") == 0 &&
              strcmp(q.categories, "") == 0 && strcmp(q.to, "1796515200000") == 0 &&
              strcmp(q.from, "1788739200000") == 0,
          "nothing asked: the last 90 days, every status and service");
    CHECK(read_query("start_date=&status=&service_code=", &q) == NULL &&
              strcmp(q.from, "1788739200000") == 0,
          "empty arguments count as not given");
    CHECK(read_query("start_date=2026-11-01T00:00:00%2B07:00&end_date=2026-11-30T17:00:00Z", &q) ==
                  NULL &&
              strcmp(q.from, "1793466000000") == 0 && strcmp(q.to, "1796058000000") == 0,
          "a span with zones");
    CHECK(read_query("status=open", &q) == NULL && strcmp(q.status, "open") == 0 &&
              read_query("status=closed", &q) == NULL && strcmp(q.status, "closed") == 0 &&
              read_query("status=closed,open", &q) == NULL && strcmp(q.status, "") == 0,
          "status open, closed, or both");
    CHECK(read_query("service_code=gathering,threat,gathering", &q) == NULL &&
              strcmp(q.categories, "threat,gathering") == 0,
          "service codes in the categories' order, once each");
    CHECK(read_query("status=open,", &q) != NULL && read_query("status=pending", &q) != NULL &&
              read_query("status=,open", &q) != NULL,
          "a bad status list is refused");
    CHECK(read_query("service_code=threat,,other", &q) != NULL &&
              read_query("service_code=fire", &q) != NULL,
          "a bad service list is refused");
    CHECK(read_query("service_request_id=HM-7K3-Q9X-TD8", &q) != NULL,
          "service_request_id is refused here");
    CHECK(read_query("end_date=2026-12-01", &q) != NULL &&
              read_query("start_date=yesterday", &q) != NULL,
          "a time without its zone or not a time is refused");
    CHECK(read_query("start_date=2026-12-02T00:00Z&end_date=2026-12-01T00:00Z", &q) != NULL,
          "a start after the end is refused");
    CHECK(read_query("start_date=2026-01-01T00:00Z", &q) != NULL,
          "a span over 90 days (to now) is refused");
    snprintf(want, sizeof want, "%lld", NOW - 90 * DAY);
    CHECK(read_query("start_date=2026-09-07T00:00Z", &q) == NULL && strcmp(q.from, want) == 0,
          "exactly 90 days is taken");
}

int main(void)
{
    test_resource();
    test_query();
    return tap_done();
}
