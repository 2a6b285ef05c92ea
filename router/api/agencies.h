/* Partner agencies' accounts (DESIGN "The shared record"), the admin's: PUT /v1/agencies/{id}
 * creates or updates one (name, categories, identifying, disabled, rotate_token, from; its
 * token shown once), GET /v1/agencies lists them without secrets (ess.lua's ess_agency_*). An
 * agency's token reads its feed (feed.h). */
#ifndef ESS_ROUTER_AGENCIES_H
#define ESS_ROUTER_AGENCIES_H

struct http_call;

void agencies_put(struct http_call *call);  /* admin; call->params[0] is the agency id */
void agencies_list(struct http_call *call); /* admin */

#endif
