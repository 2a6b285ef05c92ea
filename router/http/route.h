/* Route splitting and matching for the route table of router/http/server.c: a request path
 * becomes percent-decoded segments, and a pattern of literal segments, "*" wildcards and a
 * trailing "**" (a prefix: /assets/ and anything under it) picks its parameters out of them. Pure,
 * no allocation. */
#ifndef ESS_ROUTER_ROUTE_H
#define ESS_ROUTER_ROUTE_H

#define ROUTE_MAX_SEGMENTS 6 /* no route has more; a longer path is refused */
#define ROUTE_SEGMENT_MAX 96 /* bytes kept of a segment (HTTP_MAX_PARAM_LEN) */
#define ROUTE_MAX_PARAMS 2   /* "*" segments collected (HTTP_MAX_PARAMS) */

/* Splits path ("/a/b", NUL-terminated) into at most ROUTE_MAX_SEGMENTS percent-decoded,
 * NUL-terminated segments in seg, each cut at ROUTE_SEGMENT_MAX bytes, and their count in
 * *nseg. "/" has no segment; one trailing slash is tolerated. Returns 0, or -1 when path does
 * not start with '/', has more segments, an empty segment, an escape without two hex digits,
 * or a decoded byte that is a control character (NUL included). seg's contents are undefined
 * after -1. */
int route_split(const char *path, char seg[][ROUTE_SEGMENT_MAX + 1], int *nseg);

/* 1 when the nseg segments match pattern (segments between slashes, a lone "*" for any
 * segment, and as the last one "**" for whatever follows, any number of segments, none
 * included), copying the "*" segments, in order, into params (at most ROUTE_MAX_PARAMS; params
 * may be written even when the answer is 0, and what is written is NUL-terminated). "**" takes
 * the next parameter: the rest of the path, its segments joined with '/' ("" for none); a rest
 * longer than ROUTE_SEGMENT_MAX bytes does not match (its parameter is then ""). 0 otherwise. */
int route_match(const char *pattern, char seg[][ROUTE_SEGMENT_MAX + 1], int nseg,
                char params[][ROUTE_SEGMENT_MAX + 1]);

#endif
