/* The operator console (DESIGN: "The operator console"): a single-page application of our own
 * HTML, CSS and JavaScript (router/pages/console/, embedded at build and served under
 * /assets/console/). GET /console/ and every path under it answer its index.html, so deep links
 * (/console/cases/{id}, /console/new, /console/teams) load it and its script shows the screen;
 * GET /console/config.json tells the script the map tile template. */
#ifndef ESS_ROUTER_CONSOLE_H
#define ESS_ROUTER_CONSOLE_H

struct http_call;

/* GET /console and /console/{anything}: index.html with an ETag (304 to a matching
 * If-None-Match); the headers (the console's Content-Security-Policy) come from http.c, the route
 * being HTTP_KIND_CONSOLE. */
void console_page(struct http_call *call);

/* GET /console/config.json: {"map_tiles": ESS_MAP_TILES or null}. Public: it holds no secret. */
void console_config(struct http_call *call);

#endif
