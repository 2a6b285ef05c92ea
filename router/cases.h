/* The case API: hotline intake (POST /v1/incidents) and the operators' and teams' case
 * endpoints. Each handler answers its call exactly once; the server has already checked the
 * caller's role and put the path's case id in call->params[0]. */
#ifndef ESS_ROUTER_CASES_H
#define ESS_ROUTER_CASES_H

struct http_call;

void cases_post_incident(struct http_call *call); /* operator */
void cases_get(struct http_call *call);           /* operator, or the team holding the case */
void cases_list(struct http_call *call);          /* operator */
void cases_post_status(struct http_call *call);   /* operator, or the team holding the case */
void cases_post_ack(struct http_call *call);      /* the team holding the case */
void cases_post_assign(struct http_call *call);   /* operator */

/* 1 when id looks like a case id (26 Crockford base32 characters). */
int cases_id_valid(const char *id);

#endif
