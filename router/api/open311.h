/* Open311 GeoReport v2 (DESIGN "The shared record"): the public, read-only view of cases for
 * civic tools, in JSON only: the discovery document, the service list (the five categories and
 * "other"), service requests by creation time (ess_open311_list) and one request by its tracking
 * code (ess_open311_get). No personal data: the tracking code, category, public status, the
 * team's public name, times rounded down to the hour and places rounded to 0.01 degree.
 * abuse_risk cases are never listed, only found by their code. Lookups of cases count against
 * the tracking lookups' limit (ESS_TRACK_RATE_PER_MIN, the "track" bucket). The routes' kind,
 * HTTP_KIND_OPEN311, answers errors in Open311's shape, [{"code", "description"}] (http.c). */
#ifndef ESS_ROUTER_OPEN311_H
#define ESS_ROUTER_OPEN311_H

struct http_call;

#define OPEN311_MAX_REQUESTS 1000 /* GeoReport v2's "first 1000 requests" */
#define OPEN311_SCAN_MAX 10000    /* cases of its span one list request may look at */

/* GET /open311/v2/{discovery|services|requests}.json (params[0]: the last segment). */
void open311_get(struct http_call *call);

/* GET /open311/v2/services/{service_code}.json: no service has a definition (metadata is false
 * for all): 404 for every code, saying which. */
void open311_service_get(struct http_call *call);

/* GET /open311/v2/requests/{tracking_code}.json: an array of one request. */
void open311_request_get(struct http_call *call);

/* Anything else under /open311/: 404 in Open311's shape. */
void open311_not_found(struct http_call *call);

#endif
