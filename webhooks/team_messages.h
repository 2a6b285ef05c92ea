/* The LINE messages of the teams and supervisors: a case dispatched to a team's LINE group
 * (issue 4) with its accept button, the answer in the group when the button is pressed, and the
 * notice a supervisors' LINE chat gets when a case needs manual assignment. Thai and English
 * together, since a group has no one language. Built with webhooks/line_messages.h. Pure: no
 * I/O. */
#ifndef ESS_WEBHOOKS_TEAM_MESSAGES_H
#define ESS_WEBHOOKS_TEAM_MESSAGES_H

#include <stdint.h>

struct cJSON;
struct rules_table;

/* The dispatch a team's LINE group gets: the facts a team needs (this one may carry the
 * description and address), a map link, the deadline (ack_deadline_ms, milliseconds since 1970;
 * <= 0: not shown) in Thailand's time, then a buttons template with an accept button whose
 * postback data is "ack=<case_id>". distance_km < 0: not shown. NULL when case_id is not 1..296
 * bytes of [A-Za-z0-9_-] or memory runs out. A new array the caller owns. */
struct cJSON *team_messages_dispatch(const struct rules_table *rules, const char *case_id,
                                     const char *tracking_code, int category, const char *priority,
                                     const char *description, double lat, double lon,
                                     const char *address, double distance_km,
                                     int64_t ack_deadline_ms);

/* The answer in a team's LINE group when its accept button was pressed (router/api/linebot.c):
 * result 1: the case is the team's (tracking_code shown when it is one); 0: the team no longer
 * holds it (passed on after the deadline, or no such case); -1: the group is linked to no team.
 * NULL when out of memory. */
struct cJSON *team_messages_ack(int result, const char *tracking_code);

/* The notice a supervisors' LINE chat gets when a case escalates to manual assignment: the
 * case's reference facts (tracking code, category and priority codes) and the reason, nothing
 * personal; for reason chat_wait (a LINE reporter waited ESS_CHAT_WAIT_S for a person, and the
 * case keeps its team) that nobody took the chat, with the code only. Strings are only read,
 * NULL reads as "". A new array; NULL when out of memory. */
struct cJSON *team_messages_escalation(const char *tracking_code, const char *category,
                                       const char *priority, const char *reason);

#endif
