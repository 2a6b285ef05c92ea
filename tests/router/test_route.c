/* Unit tests of router/http/route.c: splitting request paths into percent-decoded segments
 * (escapes, bad escapes, control bytes, segment count and length, empty segments, trailing
 * slash) and matching them against route patterns, prefix patterns (a last "**" segment) included.
 */
#include "route.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static char seg[ROUTE_MAX_SEGMENTS][ROUTE_SEGMENT_MAX + 1];
static int nseg;

static int split(const char *path)
{
    nseg = -1;
    return route_split(path, seg, &nseg);
}

static void test_split(void)
{
    CHECK(split("/") == 0 && nseg == 0, "/ has no segment");
    CHECK(split("/v1/cases") == 0 && nseg == 2 && strcmp(seg[0], "v1") == 0 &&
              strcmp(seg[1], "cases") == 0,
          "segments are split at slashes");
    CHECK(split("/v1/cases/") == 0 && nseg == 2 && strcmp(seg[1], "cases") == 0,
          "one trailing slash is tolerated");
    CHECK(split("/v1/cases//") == -1, "two trailing slashes make an empty segment");
    CHECK(split("/v1//cases") == -1, "an empty segment is refused");
    CHECK(split("//") == -1, "a path of one empty segment is refused");
    CHECK(split("") == -1, "an empty path is refused");
    CHECK(split("v1/cases") == -1, "a path without its leading slash is refused");

    CHECK(split("/v1/track/A%2Fb%20c") == 0 && nseg == 3 && strcmp(seg[2], "A/b c") == 0,
          "percent escapes are decoded, an escaped slash stays in its segment");
    CHECK(split("/%e0%B8%81") == 0 && strcmp(seg[0], "\xe0\xb8\x81") == 0,
          "escapes of either case decode UTF-8 bytes");
    CHECK(split("/a%2") == -1, "an escape cut short by the end is refused");
    CHECK(split("/a%2/b") == -1, "an escape cut short by a slash is refused");
    CHECK(split("/a%") == -1, "a lone percent sign is refused");
    CHECK(split("/a%zz") == -1, "an escape without hex digits is refused");
    CHECK(split("/a%00") == -1, "an escaped NUL is refused");
    CHECK(split("/a%0a") == -1, "an escaped newline is refused");
    CHECK(split("/a%7F") == -1, "an escaped DEL is refused");
    CHECK(split("/a\tb") == -1, "a raw control byte is refused");
    CHECK(split("/a\x7f") == -1, "a raw DEL is refused");
    CHECK(split("/%c2%85") == 0 && strcmp(seg[0], "\xc2\x85") == 0,
          "bytes >= 0x80 pass as they are (validators check their own text)");

    CHECK(split("/1/2/3/4/5/6") == 0 && nseg == ROUTE_MAX_SEGMENTS, "six segments are accepted");
    CHECK(split("/1/2/3/4/5/6/") == 0 && nseg == ROUTE_MAX_SEGMENTS,
          "six segments and a trailing slash are accepted");
    CHECK(split("/1/2/3/4/5/6/7") == -1, "a seventh segment is refused");

    {
        char path[2 + 3 * ROUTE_SEGMENT_MAX];
        char want[ROUTE_SEGMENT_MAX + 1];

        path[0] = '/';
        memset(path + 1, 'x', ROUTE_SEGMENT_MAX + 40);
        path[ROUTE_SEGMENT_MAX + 41] = '\0';
        memset(want, 'x', ROUTE_SEGMENT_MAX);
        want[ROUTE_SEGMENT_MAX] = '\0';
        CHECK(split(path) == 0 && nseg == 1 && strcmp(seg[0], want) == 0,
              "an over-long segment is kept cut at ROUTE_SEGMENT_MAX bytes");
        path[1 + ROUTE_SEGMENT_MAX + 40] = '/';
        path[1 + ROUTE_SEGMENT_MAX + 41] = 'y';
        path[1 + ROUTE_SEGMENT_MAX + 42] = '\0';
        CHECK(split(path) == 0 && nseg == 2 && strcmp(seg[0], want) == 0 &&
                  strcmp(seg[1], "y") == 0,
              "the segment after an over-long one is read whole");
        memset(path + 1, 'x', ROUTE_SEGMENT_MAX);
        path[ROUTE_SEGMENT_MAX + 1] = '\0';
        CHECK(split(path) == 0 && strlen(seg[0]) == ROUTE_SEGMENT_MAX,
              "a segment of exactly ROUTE_SEGMENT_MAX bytes is whole");
    }
}

static void test_match(void)
{
    char params[ROUTE_MAX_PARAMS][ROUTE_SEGMENT_MAX + 1];

    memset(params, 0, sizeof params);
    split("/v1/teams/t-1/position");
    CHECK(route_match("v1/teams/*/position", seg, nseg, params) == 1 &&
              strcmp(params[0], "t-1") == 0,
          "a pattern with a star matches and collects its segment");
    CHECK(route_match("v1/teams/*", seg, nseg, params) == 0, "a shorter pattern does not match");
    CHECK(route_match("v1/teams/*/position/x", seg, nseg, params) == 0,
          "a longer pattern does not match");
    CHECK(route_match("v1/teams/*/positions", seg, nseg, params) == 0,
          "a different literal does not match");
    split("/v1/cases/c-9/events/e-2");
    CHECK(route_match("v1/cases/*/events/*", seg, nseg, params) == 1 &&
              strcmp(params[0], "c-9") == 0 && strcmp(params[1], "e-2") == 0,
          "two stars collect two parameters in order");
    split("/");
    CHECK(route_match("healthz", seg, nseg, params) == 0, "/ matches no route");
    split("/healthz");
    CHECK(route_match("healthz", seg, nseg, params) == 1, "a one-segment route");
    CHECK(route_match("health", seg, nseg, params) == 0, "a prefix of a segment does not match");
}

/* 1 when path splits and matches pattern with parameters p0 and p1 (NULL: not looked at); a
 * pattern that does not match gives 0. */
static int matches(const char *path, const char *pattern, const char *p0, const char *p1)
{
    char params[ROUTE_MAX_PARAMS][ROUTE_SEGMENT_MAX + 1];

    memset(params, 0, sizeof params);
    snprintf(params[0], sizeof params[0], "%s", "stale");
    if (split(path) != 0 || !route_match(pattern, seg, nseg, params)) return 0;
    return (p0 == NULL || strcmp(params[0], p0) == 0) && (p1 == NULL || strcmp(params[1], p1) == 0);
}

static void test_match_prefix(void)
{
    static const struct {
        const char *path, *pattern, *p0, *p1;
        int want;
        const char *what;
    } cases[] = {
        {"/assets/leaflet/images/marker-icon.png", "assets/**", "leaflet/images/marker-icon.png",
         NULL, 1, "a prefix pattern matches any depth and keeps the rest joined with slashes"},
        {"/assets/track.css", "assets/**", "track.css", NULL, 1, "one segment under the prefix"},
        {"/assets", "assets/**", "", NULL, 1, "the prefix itself, with an empty rest"},
        {"/assets/", "assets/**", "", NULL, 1, "the prefix and its trailing slash: empty rest"},
        {"/assetsx/a", "assets/**", NULL, NULL, 0, "a longer first segment is not under it"},
        {"/asset/a", "assets/**", NULL, NULL, 0, "another first segment does not match"},
        {"/", "assets/**", NULL, NULL, 0, "/ is not under a prefix"},
        {"/console/cases/01JD", "console/**", "cases/01JD", NULL, 1,
         "a console deep link is under /console/"},
        {"/v1/x/c-1/a/b", "v1/x/*/**", "c-1", "a/b", 1,
         "a star before the rest: the parameters in order"},
        {"/v1/x", "v1/x/*/**", NULL, NULL, 0, "the segments named before ** must be there"},
        {"/a/**/b", "a/**/b", NULL, NULL, 1, "** that is not the last segment is a literal"},
        {"/a/x/b", "a/**/b", NULL, NULL, 0, "** in the middle matches only itself"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(matches(cases[i].path, cases[i].pattern, cases[i].p0, cases[i].p1) == cases[i].want,
              cases[i].what);
    {
        /* six segments of 20 bytes: a rest of 5 * 20 + 4 = 104 bytes does not fit */
        char path[160];
        char params[ROUTE_MAX_PARAMS][ROUTE_SEGMENT_MAX + 1];
        int n = snprintf(path, sizeof path, "/assets");
        for (int i = 0; i < 5; i++) n += snprintf(path + n, sizeof path - (size_t)n, "/%020d", i);
        CHECK(split(path) == 0 && nseg == 6, "a path of six long segments splits");
        CHECK(route_match("assets/**", seg, nseg, params) == 0,
              "a rest longer than ROUTE_SEGMENT_MAX bytes does not match (never cut)");
        /* Found by fuzz_route (corpus/fuzz_route/regress-rest-too-long): the part of the rest
         * written before it ran out of room was left without its NUL. */
        memset(params, 'x', sizeof params);
        CHECK(route_match("assets/**", seg, nseg, params) == 0 && params[0][0] == '\0',
              "a rest that does not fit leaves its parameter empty, not unterminated");
        path[7 + 4 * 21] = '\0'; /* four segments: 4 * 20 + 3 = 83 bytes */
        CHECK(split(path) == 0 && route_match("assets/**", seg, nseg, params) == 1 &&
                  strlen(params[0]) == 83,
              "a rest that fits is kept whole");
    }
}

int main(void)
{
    test_split();
    test_match();
    test_match_prefix();
    return tap_done();
}
