/* Unit tests of router/api/feed_query.c: GET /v1/feed's query (defaults, bounds, format) and the
 * entry ids POST /v1/feed/ack takes. */
#include "feed_query.h"
#include "http_query.h"
#include "tap.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

/* feed_query_read on query; the problem or NULL. */
static const char *read_query(const char *query, struct feed_query *q)
{
    struct evkeyvalq params;
    const char *problem = "malformed";

    if (http_query_split(query, &params) == 0) problem = feed_query_read(&params, q);
    evhttp_clear_headers(&params);
    return problem;
}

static void test_query(void)
{
    struct feed_query q;

    CHECK(read_query("", &q) == NULL && q.count == FEED_COUNT_DEFAULT && q.block_ms == 0 &&
              q.eido == 0,
          "nothing asked: the defaults");
    CHECK(read_query("count=1000&block_ms=30000&format=eido", &q) == NULL && q.count == 1000 &&
              q.block_ms == 30000 && q.eido == 1,
          "the largest count and wait, with EIDO");
    CHECK(read_query("count=1&block_ms=0", &q) == NULL && q.count == 1 && q.block_ms == 0,
          "the smallest");
    CHECK(read_query("count=0", &q) != NULL && read_query("count=1001", &q) != NULL &&
              read_query("count=ten", &q) != NULL && read_query("count=", &q) != NULL,
          "a count out of range or not a number is refused");
    CHECK(read_query("block_ms=30001", &q) != NULL && read_query("block_ms=-1", &q) != NULL,
          "a wait out of range is refused");
    CHECK(read_query("format=json", &q) != NULL && read_query("format=", &q) != NULL,
          "a format other than eido is refused");
}

static void test_ack_id(void)
{
    CHECK(feed_query_ack_id_valid("1764990000123-0") && feed_query_ack_id_valid("0-0"),
          "stream ids are taken");
    CHECK(feed_query_ack_id_valid("18446744073709551615-18446744073709551615"),
          "twenty digits on each side");
    CHECK(!feed_query_ack_id_valid("184467440737095516150-1") &&
              !feed_query_ack_id_valid("1-184467440737095516150"),
          "twenty-one digits are refused");
    CHECK(!feed_query_ack_id_valid("") && !feed_query_ack_id_valid("1764990000123") &&
              !feed_query_ack_id_valid("-1") && !feed_query_ack_id_valid("1-"),
          "without both numbers: refused");
    CHECK(!feed_query_ack_id_valid("1-2-3") && !feed_query_ack_id_valid("a-1") &&
              !feed_query_ack_id_valid("1-1 ") && !feed_query_ack_id_valid("+1-1"),
          "anything but digits around one dash: refused");
}

int main(void)
{
    test_query();
    test_ack_id();
    return tap_done();
}
