/* The team API: the admin creates and updates teams (PUT /v1/teams/{id}); a team reports its
 * position and availability (POST /v1/teams/{id}/position). call->params[0] is the team id. */
#ifndef ESS_ROUTER_TEAMS_H
#define ESS_ROUTER_TEAMS_H

#include <stddef.h>

struct cJSON;
struct http_call;
struct router;

void teams_put(struct http_call *call);           /* admin */
void teams_post_position(struct http_call *call); /* the team itself */

enum teams_notify_result {
    TEAMS_NOTIFY_OK = 0,
    TEAMS_NOTIFY_INVALID = -1,  /* not {"webhook": URL} or {"line_to": group id} */
    TEAMS_NOTIFY_NO_MEMORY = -2 /* valid, but memory ran out */
};

/* Reads a team's "notify" (v, only read; NULL or null when absent) into its canonical JSON:
 * *out is a heap string the caller frees on TEAMS_NOTIFY_OK (NULL when absent), NULL otherwise. */
enum teams_notify_result teams_notify_read(const struct cJSON *v, char **out);

/* The answers to PUT /v1/teams/{id} (with "token" only when token is not NULL) and to POST
 * /v1/teams/{id}/position, from the store function's reply (only read). Each is a new object
 * the caller owns, or NULL when memory ran out: never an answer with a field missing. */
struct cJSON *teams_put_answer(const char *team_id, const char *token, const struct cJSON *reply);
struct cJSON *teams_position_answer(const char *team_id, const struct cJSON *reply);

#endif
