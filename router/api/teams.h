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
void teams_list(struct http_call *call);          /* operator or admin: GET /v1/teams */
void teams_candidates(struct http_call *call);    /* operator: GET /v1/cases/{id}/candidates */

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

/* A team as GET /v1/teams lists it, from a team of ess_team_list's answer (only read): team_id,
 * name, name_en (when set), skills, available, active_cases, capacity, lat, lon, updated_at, and
 * with_notify (the admin) its notify object (or null); never a token hash or nonce. */
struct cJSON *teams_view(const struct cJSON *raw, int with_notify);

/* A candidate of GET /v1/cases/{id}/candidates, from one of ess_case_candidates' (only read):
 * teams_view's members but updated_at and notify, then free_capacity, can_take (available with
 * a free slot), distance_km (null for a case without coordinates), beyond_radius (farther than
 * max_radius_km, the case's widest search radius: assigning it needs confirm_far), excluded
 * (it did not acknowledge this case before) and holds_case. */
struct cJSON *teams_candidate_view(const struct cJSON *raw, double max_radius_km);

/* The answers of GET /v1/teams ({"teams": [...], "next_cursor"}) and of GET
 * /v1/cases/{id}/candidates ({"case_id", "skills", "max_radius_km", "radius_km", "candidates"})
 * from the store functions' replies (only read). Each is a new object the caller owns, or NULL
 * when memory ran out: never an answer with a member missing. */
struct cJSON *teams_list_answer(const struct cJSON *reply, int with_notify);
struct cJSON *teams_candidates_answer(const struct cJSON *reply);

#endif
