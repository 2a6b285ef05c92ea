/* What an Open311 request asks, the pure half of open311.h: the resource name and format of a
 * path's last segment ("requests.json") and the query of requests.json (start_date, end_date,
 * status, service_code), read and checked. No I/O; the fuzz target tests/fuzz/fuzz_open311.c runs
 * the same code on any path segment and query. */
#ifndef ESS_ROUTER_OPEN311_QUERY_H
#define ESS_ROUTER_OPEN311_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct evkeyvalq;

#define OPEN311_MAX_DAYS 90 /* GeoReport v2's 90-day span */

/* What a requests.json query asks, read and checked: Redis' arguments, NUL-terminated. */
struct open311_query {
    char from[24], to[24]; /* ms since 1970, in decimal */
    char status[8];        /* "open", "closed" or "" (both) */
    char categories[128];  /* csv of category codes, in the categories' order, "" for all */
};

enum open311_resource {
    OPEN311_RESOURCE_JSON = 0,  /* "<name>.json" */
    OPEN311_RESOURCE_NO_FORMAT, /* no '.', or nothing before the last one */
    OPEN311_RESOURCE_NOT_JSON   /* another format */
};

/* The resource name of a last path segment "<name>.<format>" (NUL-terminated) into name (size
 * bytes, at least 1; a longer name is cut, and then matches nothing). OPEN311_RESOURCE_JSON when
 * the format is json (name then set), else what is wrong. */
enum open311_resource open311_query_resource(const char *segment, char *name, size_t size);

/* Reads a requests.json query's params (http_query_split's) into q; now: the wall clock, ms
 * (end_date's default). The problem, a static sentence for the 400 answer, or NULL when the query
 * is good. */
const char *open311_query_read(struct evkeyvalq *params, int64_t now, struct open311_query *q);

#endif
