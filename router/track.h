/* e-Tracking: GET /v1/track/{code}, the public status of a case by its tracking code, with no
 * personal data. call->params[0] is the code as typed (lenient form accepted). */
#ifndef ESS_ROUTER_TRACK_H
#define ESS_ROUTER_TRACK_H

struct http_call;

void track_get(struct http_call *call); /* anyone */

#endif
