/* Query strings, the pure half of http_query_parse (http.h): a request's query string split into
 * its decoded parameters, and whole numbers read from them. No I/O; the fuzz target
 * tests/fuzz/fuzz_route.c runs the same code on any request target. */
#ifndef ESS_ROUTER_HTTP_QUERY_H
#define ESS_ROUTER_HTTP_QUERY_H

struct evkeyvalq;

/* Splits query (the part after '?', NULL: none) into params, which this initialises and the
 * caller empties with evhttp_clear_headers (also on failure): evhttp_parse_query_str's reading,
 * '+' a blank and %XX escapes decoded. 0, or -1 when it is malformed. */
int http_query_split(const char *query, struct evkeyvalq *params);

/* Reads a query string value that must be a whole number within [min, max] (digits only, at
 * most 12) into *out. 0, or -1 when it is not one (*out untouched). */
int http_query_long(const char *s, long min, long max, long *out);

#endif
