/* Unit tests of the operator console's Content-Security-Policy (http_console_csp in
 * router/http/http.c): the router itself, plus the origin of the map tiles when there are any. */
#include "http.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

#define BASE_START "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'"
#define BASE_END "; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static int csp_is(const char *tiles, const char *img_extra)
{
    char out[1024], want[1024];
    if (http_console_csp(tiles, out, sizeof out) != 0) return 0;
    snprintf(want, sizeof want, "%s%s%s", BASE_START, img_extra, BASE_END);
    if (strcmp(out, want) != 0) {
        printf("# got: %s\n", out);
        return 0;
    }
    return 1;
}

int main(void)
{
    char small[64];

    CHECK(csp_is(NULL, ""), "no tiles: the router only");
    CHECK(csp_is("", ""), "empty tiles: the router only");
    CHECK(
        csp_is("https://tile.openstreetmap.org/{z}/{x}/{y}.png", " https://tile.openstreetmap.org"),
        "the tile origin, without the path");
    CHECK(csp_is("http://127.0.0.1:8099/t/{z}/{x}/{y}.png", " http://127.0.0.1:8099"),
          "a port is part of the origin");
    CHECK(csp_is("HTTPS://Tiles.Example.org?{z}&{x}&{y}", " HTTPS://Tiles.Example.org"),
          "a query right after the host");
    CHECK(csp_is("https://tiles.example.org#{z}{x}{y}", " https://tiles.example.org"),
          "a fragment right after the host");
    CHECK(http_console_csp("https://tiles.example.org/{z}/{x}/{y}.png", small, sizeof small) ==
                  -1 &&
              strlen(small) < sizeof small,
          "too small a buffer: -1, and what is written still fits");
    CHECK(strstr(HTTP_PAGE_CSP, "img-src 'self'") != NULL, "the public pages' policy unchanged");
    return tap_done();
}
