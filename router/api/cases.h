/* The case API: hotline intake (POST /v1/incidents) and the operators' and teams' case
 * endpoints. Each handler answers its call exactly once; the server has already checked the
 * caller's role and put the path's case id in call->params[0]. */
#ifndef ESS_ROUTER_CASES_H
#define ESS_ROUTER_CASES_H

struct cJSON;
struct http_call;
struct incident;

void cases_post_incident(struct http_call *call); /* operator */
void cases_get(struct http_call *call);           /* operator, or the team holding the case */
void cases_list(struct http_call *call);          /* operator */
void cases_post_status(struct http_call *call);   /* operator, or the team holding the case */
void cases_post_ack(struct http_call *call);      /* the team holding the case */
void cases_post_assign(struct http_call *call);   /* operator */

/* Creates and routes a case from a normalised incident, as every channel does: the rule engine
 * decides, ess_case_create stores it, assigns or queues it, atomically. call_id (NULL: none)
 * makes it idempotent; line_lang ("th"/"en", NULL for other channels) is kept for the
 * reporter's progress messages. incident, call_id and line_lang are borrowed and must stay valid
 * until on_created runs. on_created(call, reply) gets the store's answer ({"created": bool,
 * "case": summary} or a refusal), which it owns, and must end or continue the call. Redis being
 * unavailable is answered here (503) and on_created is not called. */
void cases_create(struct http_call *call, const struct incident *incident, const char *call_id,
                  const char *line_lang,
                  void (*on_created)(struct http_call *call, struct cJSON *reply));

/* 1 when id looks like a case id (26 Crockford base32 characters). */
int cases_id_valid(const char *id);

#endif
