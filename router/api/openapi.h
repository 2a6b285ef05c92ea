/* The OpenAPI document of the HTTP API (router/api/openapi.json, compiled in with the files of
 * /assets/): GET /openapi.json, public, with an ETag and Cache-Control: no-cache. */
#ifndef ESS_ROUTER_OPENAPI_H
#define ESS_ROUTER_OPENAPI_H

struct http_call;

void openapi_get(struct http_call *call); /* GET /openapi.json */

#endif
