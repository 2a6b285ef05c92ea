/* The team API: the admin creates and updates teams (PUT /v1/teams/{id}); a team reports its
 * position and availability (POST /v1/teams/{id}/position). call->params[0] is the team id. */
#ifndef ESS_ROUTER_TEAMS_H
#define ESS_ROUTER_TEAMS_H

#include <stddef.h>

struct http_call;
struct router;

void teams_put(struct http_call *call);           /* admin */
void teams_post_position(struct http_call *call); /* the team itself */

#endif
