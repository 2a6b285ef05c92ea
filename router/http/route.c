/* Route splitting and matching (router/http/route.h): the pure half of the route table. */
#include "route.h"

#include <stddef.h>
#include <string.h>

#include "text.h"

int route_split(const char *path, char seg[][ROUTE_SEGMENT_MAX + 1], int *nseg)
{
    const char *p = path;
    int n = 0;
    if (*p != '/') return -1;
    p++;
    if (*p == '\0') {
        *nseg = 0;
        return 0;
    }
    for (;;) {
        size_t len = 0;
        if (n == ROUTE_MAX_SEGMENTS) return -1;
        while (*p && *p != '/') {
            unsigned char c = (unsigned char)*p;
            if (c == '%') {
                int v = text_hex_byte(p + 1);
                if (v < 0) return -1;
                c = (unsigned char)v;
                p += 2;
            }
            if (c < 0x20 || c == 0x7f) return -1;
            /* An over-long segment is kept cut: no id is that long, so every validator refuses
             * it with the answer that suits its route (a 400 for a tracking code, say). */
            if (len < ROUTE_SEGMENT_MAX) seg[n][len++] = (char)c;
            p++;
        }
        seg[n][len] = '\0';
        if (len == 0) return -1;
        n++;
        if (*p == '\0') break;
        p++;
        if (*p == '\0') break; /* a trailing slash is tolerated */
    }
    *nseg = n;
    return 0;
}

/* The "**" of a pattern: segments from..nseg-1, joined with '/', into out (NULL: not kept). 1, or
 * 0 when they do not fit in ROUTE_SEGMENT_MAX bytes (a cut rest could name another path); out is
 * then "", never a part of the rest without its NUL. */
static int route_match_rest(char seg[][ROUTE_SEGMENT_MAX + 1], int from, int nseg, char *out)
{
    size_t len = 0;
    for (int i = from; i < nseg; i++) {
        size_t n = strlen(seg[i]);
        if (len + (i > from) + n > ROUTE_SEGMENT_MAX) {
            if (out) out[0] = '\0';
            return 0;
        }
        if (out) {
            if (i > from) out[len] = '/';
            memcpy(out + len + (i > from), seg[i], n);
        }
        len += (i > from) + n;
    }
    if (out) out[len] = '\0';
    return 1;
}

int route_match(const char *pattern, char seg[][ROUTE_SEGMENT_MAX + 1], int nseg,
                char params[][ROUTE_SEGMENT_MAX + 1])
{
    int i = 0, np = 0;
    const char *p = pattern;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '*' && p[1] == '*' && p[2] == '\0')
            return route_match_rest(seg, i, nseg, np < ROUTE_MAX_PARAMS ? params[np] : NULL);
        if (i >= nseg) return 0;
        if (len == 1 && p[0] == '*') {
            if (np < ROUTE_MAX_PARAMS) memcpy(params[np++], seg[i], ROUTE_SEGMENT_MAX + 1);
        } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
            return 0;
        }
        i++;
        p += len;
        if (*p == '/') p++;
    }
    return i == nseg;
}
