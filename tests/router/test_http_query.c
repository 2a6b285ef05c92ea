/* Unit tests of router/http/http_query.c: query strings split into decoded parameters (none,
 * escapes, '+', malformed ones) and whole numbers read from them (digits only, at most 12, in
 * range). */
#include "http_query.h"
#include "tap.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>
#include <sys/queue.h>

static void test_split(void)
{
    struct evkeyvalq q;
    const char *v;

    CHECK(http_query_split(NULL, &q) == 0 && TAILQ_EMPTY(&q), "no query: no parameter");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("", &q) == 0 && TAILQ_EMPTY(&q), "an empty query: no parameter");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("a=1&b=x+y%20z%E0%B8%81", &q) == 0 &&
              (v = evhttp_find_header(&q, "a")) != NULL && strcmp(v, "1") == 0 &&
              (v = evhttp_find_header(&q, "b")) != NULL && strcmp(v, "x y z\xe0\xb8\x81") == 0,
          "parameters are split and decoded, '+' a blank");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("a=1&", &q) == 0 && evhttp_find_header(&q, "a") != NULL,
          "a trailing '&' is tolerated");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("a", &q) == -1, "a name without '=' is malformed");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("=1", &q) == -1, "a value without a name is malformed");
    evhttp_clear_headers(&q);
    CHECK(http_query_split("a=1&&b=2", &q) == -1, "an empty parameter is malformed");
    evhttp_clear_headers(&q);
}

static void test_long(void)
{
    long v = -7;

    CHECK(http_query_long("42", 1, 100, &v) == 0 && v == 42, "a number in range");
    CHECK(http_query_long("0042", 1, 100, &v) == 0 && v == 42, "leading zeros are read");
    CHECK(http_query_long("1", 1, 100, &v) == 0 && v == 1 &&
              http_query_long("100", 1, 100, &v) == 0 && v == 100,
          "both bounds are in range");
    v = -7;
    CHECK(http_query_long("0", 1, 100, &v) == -1 && http_query_long("101", 1, 100, &v) == -1 &&
              v == -7,
          "out of range: refused, *out untouched");
    CHECK(http_query_long("", 0, 100, &v) == -1 && http_query_long("-1", -5, 100, &v) == -1 &&
              http_query_long("+1", 0, 100, &v) == -1 && http_query_long(" 1", 0, 100, &v) == -1,
          "empty, signed or blank-led: refused");
    CHECK(http_query_long("1a", 0, 100, &v) == -1 && http_query_long("1.0", 0, 100, &v) == -1,
          "trailing bytes: refused");
    CHECK(http_query_long("999999999999", 0, 999999999999L, &v) == 0 && v == 999999999999L &&
              http_query_long("0000000000001", 0, 100, &v) == -1,
          "at most twelve digits");
}

int main(void)
{
    test_split();
    test_long();
    return tap_done();
}
