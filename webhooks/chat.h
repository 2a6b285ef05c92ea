/* The citizen's conversation with the LINE Official Account (DESIGN.md, "The LINE
 * conversation"): a pure state machine from (state, event) to (new state, what to say, what to
 * do), and the LINE messages that say it, in Thai or English, every question with quick-reply
 * buttons. No I/O: the router loads and stores the state and carries out the action. */
#ifndef ESS_WEBHOOKS_CHAT_H
#define ESS_WEBHOOKS_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "incident.h"
#include "track_code.h"

struct cJSON;
struct line_event;
struct rules_table;

enum chat_lang { CHAT_LANG_TH = 0, CHAT_LANG_EN };

enum chat_step {
    CHAT_STEP_IDLE = 0,         /* no report in progress */
    CHAT_STEP_CATEGORY,         /* asked "What is happening?" */
    CHAT_STEP_CONFIRM_CATEGORY, /* free text named an emergency: asked to confirm it */
    CHAT_STEP_LOCATION,         /* asked "Where are you?" */
    CHAT_STEP_DETAILS           /* asked "Anything else we should know?" */
};

#define CHAT_ADDRESS_MAX 500

/* One user's conversation state. Stored by the router (JSON, with an expiry) under a key derived
 * from the user id; it never holds the user id itself. The report in progress (category,
 * location, description) lives here only until the case is created or the report cancelled: it
 * is the report's own content, kept no longer than the state's expiry. After creating a case the
 * router stores its code: snprintf(state->last_tracking_code, TRACK_CODE_SIZE, "%s", code). */
struct chat_state {
    enum chat_step step;
    enum chat_lang lang;
    int category; /* enum incident_category, or INCIDENT_CATEGORY_NONE; in CONFIRM_CATEGORY the
                     candidate read from the free text */
    int has_location;
    double lat, lon;
    char address[CHAT_ADDRESS_MAX + 1];
    /* The first message when it named an emergency (the report in the user's words), "" else;
     * the details sentence is appended to it when the case is created. */
    char description[INCIDENT_MAX_DESCRIPTION + 1];
    char last_tracking_code[TRACK_CODE_SIZE]; /* the last case this user reported, or "" */
};

enum chat_action {
    CHAT_ACTION_NONE = 0,   /* nothing to say (unfollow, a standby event, a sticker mid-way…) */
    CHAT_ACTION_REPLY,      /* reply with chat_messages(outcome) */
    CHAT_ACTION_CREATE_CASE, /* create the case from outcome.incident, then reply with
                               chat_messages_created() */
    CHAT_ACTION_STATUS      /* look up outcome.tracking_code, then reply with chat_messages_status() */
};

/* What to say when the action is CHAT_ACTION_REPLY. */
enum chat_prompt {
    CHAT_PROMPT_NONE = 0,
    CHAT_PROMPT_GREETING,         /* follow event: welcome, with a "report" button */
    CHAT_PROMPT_ASK_CATEGORY,     /* the five categories and "other" as postbacks, and cancel */
    CHAT_PROMPT_CONFIRM_CATEGORY, /* "It sounds like <label>: is that right?" yes / choose again */
    CHAT_PROMPT_ASK_LOCATION,     /* the location quick-reply action, and cancel */
    CHAT_PROMPT_ASK_DETAILS,      /* optional sentence, with skip and cancel */
    CHAT_PROMPT_CANCELLED,        /* the half-finished report was dropped */
    CHAT_PROMPT_NO_CASE,          /* "status" asked, but this user has no case to look up */
    CHAT_PROMPT_BAD_CODE          /* a tracking code with a typing mistake */
};

struct chat_outcome {
    enum chat_action action;
    enum chat_prompt prompt;
    enum chat_lang lang;
    int category;                         /* for CONFIRM_CATEGORY */
    char tracking_code[TRACK_CODE_SIZE];  /* for CHAT_ACTION_STATUS (canonical form) */
    struct incident incident;             /* for CREATE_CASE: channel line, category, location,
                                             description, reporter_line_user; owned, freed by
                                             chat_outcome_clear() */
};

/* Starts a fresh state (idle, Thai, nothing known). */
void chat_state_init(struct chat_state *state);

/* Serialises state as a JSON object: a new string the caller frees (NULL when out of memory). */
char *chat_state_to_json(const struct chat_state *state);

/* Reads what chat_state_to_json() wrote; anything malformed or missing gives a fresh state.
 * Returns 0, or -1 (state initialised) when the text was not a valid state. */
int chat_state_from_json(const char *json, size_t len, struct chat_state *state);

/* Advances the conversation of the user who sent event (a user-source event: the router handles
 * group events and standby mode before calling). rules classify free text to pre-select a
 * category. The user id is copied into outcome.incident only for CREATE_CASE. Returns 0 (out
 * filled, state updated in place), -1 when memory runs out. */
int chat_handle(const struct rules_table *rules, struct chat_state *state,
                const struct line_event *event, struct chat_outcome *out);

void chat_outcome_clear(struct chat_outcome *out); /* frees the incident; accepts NULL */

/* The LINE message objects (a JSON array of 1..5, for line_reply_body) for a prompt. rules give
 * the category labels. A new array the caller owns; NULL when out of memory. */
struct cJSON *chat_messages(const struct rules_table *rules, const struct chat_outcome *outcome);

/* The reply once the case is created: the tracking code, and whether a team is on its way
 * (team_name non-empty) or the operators are finding one. Never echoes the description or the
 * address. */
struct cJSON *chat_messages_created(enum chat_lang lang, const char *tracking_code,
                                    const char *team_name);

/* The answer to a status question: the case's category label, status in words, and when it last
 * changed (RFC 3339 UTC). found 0: no case has that code. */
struct cJSON *chat_messages_status(const struct rules_table *rules, enum chat_lang lang,
                                   int found, const char *tracking_code, int category,
                                   const char *status, const char *updated_at,
                                   const char *team_name);

/* The push a reporter gets when the case moves: assigned, acknowledged, en_route, on_scene,
 * resolved (others give NULL). */
struct cJSON *chat_messages_progress(enum chat_lang lang, const char *tracking_code,
                                     const char *status, const char *team_name);

/* The dispatch a team's LINE group gets (issue 4): the facts a team needs and an accept button
 * whose postback data is "ack=<case_id>". */
struct cJSON *chat_messages_dispatch(const struct rules_table *rules, const char *case_id,
                                     const char *tracking_code, int category,
                                     const char *priority, const char *description, double lat,
                                     double lon, const char *address, double distance_km,
                                     const char *ack_deadline);

#endif
