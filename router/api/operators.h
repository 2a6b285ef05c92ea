/* Operator accounts and console sessions: the admin creates, updates, disables and lists
 * operators (PUT /v1/operators/{id}, GET /v1/operators); an operator logs in and out of the
 * console (POST and DELETE /v1/session). Passwords are hashed and verified on the worker
 * threads (router->worker), never on the loop. */
#ifndef ESS_ROUTER_OPERATORS_H
#define ESS_ROUTER_OPERATORS_H

struct http_call;

void operators_put(struct http_call *call);    /* admin; call->params[0] is the operator id */
void operators_list(struct http_call *call);   /* admin */
void operators_login(struct http_call *call);  /* anyone: POST /v1/session */
void operators_logout(struct http_call *call); /* the session's operator: DELETE /v1/session */

/* DESIGN's lockout: after OPERATORS_LOGIN_ID_MAX failed logins to one operator id within
 * OPERATORS_LOGIN_WINDOW_MS, logins to that id are refused (429) for OPERATORS_LOGIN_WINDOW_MS;
 * after OPERATORS_LOGIN_ADDR_MAX from one client address, all logins from that address. */
#define OPERATORS_LOGIN_WINDOW_MS (15 * 60 * 1000)
#define OPERATORS_LOGIN_ID_MAX 5
#define OPERATORS_LOGIN_ADDR_MAX 30

#endif
