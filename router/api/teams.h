/* The team API: the admin creates and updates teams (PUT /v1/teams/{id}); a team reports its
 * position and availability (POST /v1/teams/{id}/position). call->params[0] is the team id. */
#ifndef ESS_ROUTER_TEAMS_H
#define ESS_ROUTER_TEAMS_H

#include <stddef.h>

struct http_call;
struct router;

void teams_put(struct http_call *call);           /* admin */
void teams_post_position(struct http_call *call); /* the team itself */

/* Derives the token of the team whose nonce is given (see auth_team_token_derive), keyed with
 * ESS_TOKEN_SECRET or else the key kept in Redis. 0, or -1 when no key is known yet (Redis has
 * not been reached since start) or out is too small. */
int teams_token_for(const struct router *router, const char *team_id, const char *nonce, char *out,
                    size_t outlen);

#endif
