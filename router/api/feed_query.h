/* What a partner agency's feed requests ask, the pure half of feed.h: GET /v1/feed's query
 * (count, block_ms, format) read and checked, and the entry ids POST /v1/feed/ack takes. No I/O;
 * the fuzz target tests/fuzz/fuzz_feed.c runs the same code on any query and id. */
#ifndef ESS_ROUTER_FEED_QUERY_H
#define ESS_ROUTER_FEED_QUERY_H

struct evkeyvalq;

#define FEED_COUNT_DEFAULT 100
#define FEED_COUNT_MAX 1000
#define FEED_BLOCK_MAX_MS 30000
#define FEED_STREAM_ID_MAX 41 /* "<ms>-<seq>": two 64-bit numbers */

/* What a GET /v1/feed asks. */
struct feed_query {
    long count;    /* entries at most, 1 to FEED_COUNT_MAX (FEED_COUNT_DEFAULT when not given) */
    long block_ms; /* how long to wait for one, 0 to FEED_BLOCK_MAX_MS (0 when not given) */
    int eido;      /* ?format=eido: each entry carries its case's EIDO */
};

/* Reads a GET /v1/feed query's params (http_query_split's) into q. The problem, a static sentence
 * for the 400 answer, or NULL when the query is good (q is then filled). */
const char *feed_query_read(struct evkeyvalq *params, struct feed_query *q);

/* 1 when s is an entry id of the feed, a stream id "<ms>-<seq>" (digits, 1 to 20 of each), at
 * most FEED_STREAM_ID_MAX bytes; else 0. */
int feed_query_ack_id_valid(const char *s);

#endif
