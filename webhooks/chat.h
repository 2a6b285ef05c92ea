/* The citizen's conversation with the LINE Official Account (DESIGN.md, "The LINE
 * conversation"): a pure state machine from (state, event) to (new state, what to say, what to
 * do); webhooks/citizen_messages.h says it, in Thai or English, every question with quick-reply
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
    CHAT_STEP_DETAILS,          /* the case was created (last_tracking_code): asked "Anything
                                   else we should know?", whose answer becomes a note on it */
    CHAT_STEP_ADDRESS,          /* chose to type the address (LINE on a desktop cannot share a
                                   location): the case will have no coordinates, and the
                                   operators place and assign it */
    CHAT_STEP_CONSENT           /* "anything else?" answered or skipped: asked once whether the
                                   agencies that help may see the reporter's details; anything
                                   but an answer drops the question (following the case) */
};

#define CHAT_ADDRESS_MAX 500
#define CHAT_REPORT_ID_MAX 40 /* [A-Za-z0-9_-] */

/* One user's conversation state. Stored by the router (JSON, with an expiry) under a key derived
 * from the user id; it never holds the user id itself. The report in progress (category,
 * location, description) lives here only until the case is created or the report cancelled: it
 * is the report's own content, kept no longer than the state's expiry. After creating a case the
 * router stores its code: snprintf(state->last_tracking_code, TRACK_CODE_SIZE, "%s", code). */
struct chat_state {
    enum chat_step step;
    enum chat_lang lang;
    int lang_known; /* 1 once a message with letters decided the language (see chat_handle) */
    int category;   /* enum incident_category, or INCIDENT_CATEGORY_NONE; in CONFIRM_CATEGORY the
                       candidate read from the free text */
    int has_location;
    double lat, lon;
    char address[CHAT_ADDRESS_MAX + 1];
    /* The first message when it named an emergency (the report in the user's words), "" else:
     * the case's description. */
    char description[INCIDENT_MAX_DESCRIPTION + 1];
    char last_tracking_code[TRACK_CODE_SIZE]; /* the last case this user reported, or "" */
    /* 1 from the case's creation for as long as it is open: with no report in progress, what the
     * user sends (text, a location, media) is a note on that case, not a new report. The router
     * clears it (before chat_handle) once the case is resolved or closed; the "newreport"
     * postback ("แจ้งเหตุใหม่" / "New report") clears it and starts a report. */
    int follow;
    /* The report in progress's own id, "" when none: the router gives one to a report when it
     * begins (a random nonce) and creates its case with it as the call_id, so that two events
     * handled at once for the same last step cannot create two cases. Kept as read; cleared
     * whenever the report ends (case created or cancelled). */
    char report_id[CHAT_REPORT_ID_MAX + 1];
};

enum chat_action {
    CHAT_ACTION_NONE = 0,     /* nothing to say (unfollow, a group or standby event, "ack=…") */
    CHAT_ACTION_REPLY,        /* reply with citizen_messages(outcome) */
    CHAT_ACTION_CREATE_CASE,  /* create the case from outcome.incident, then reply with
                                citizen_messages_created() and CHAT_PROMPT_ASK_DETAILS */
    CHAT_ACTION_STATUS,       /* look up outcome.tracking_code, then reply with
                                 citizen_messages_status() */
    CHAT_ACTION_NOTE,         /* add outcome.note to the case of state.last_tracking_code as the
                                 reporter's note, then reply with citizen_messages(outcome) */
    CHAT_ACTION_CANCEL_OPEN,  /* "cancel" with no report in progress (idle, or "anything else?"
                                 after the case was made): look up the last case
                                 (outcome.tracking_code), then reply with
                                 citizen_messages_cancel(), which never claims to cancel a case */
    CHAT_ACTION_LOCATE,       /* a location for the case of state.last_tracking_code (followed):
                                 move it to outcome.incident's lat, lon and address (a case
                                 queued for want of a place is routed from there) with
                                 outcome.note on its timeline, then reply with
                                 citizen_messages(outcome) (CHAT_PROMPT_LOCATION_ADDED) */
    CHAT_ACTION_TALK_REQUEST, /* "talk to a person" with the case of outcome.tracking_code (the
                                 last one, open) made: open a chat on it, then reply with
                                 citizen_messages_talk_waiting() */
    CHAT_ACTION_TALK,         /* chat_talk(): a message of an active chat; outcome.note is what
                                 the operator reads. No reply */
    CHAT_ACTION_CONSENT,      /* the answer to the consent question (outcome.consent) for the
                                 case of outcome.tracking_code: record it (basis consent, by the
                                 reporter), then reply with citizen_messages(outcome) */
    CHAT_ACTION_QUIET         /* quiet updates on (outcome.quiet 1) or off (0) for the open case
                                 of outcome.tracking_code: record it, then reply with
                                 citizen_messages(outcome) */
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
    CHAT_PROMPT_BAD_CODE,         /* a tracking code with a typing mistake */
    CHAT_PROMPT_ASK_ADDRESS,      /* "Type the address, or a landmark near you" */
    CHAT_PROMPT_NOTE_ADDED,       /* the answer to "anything else?" was added to the case */
    CHAT_PROMPT_DETAILS_SKIPPED,  /* "anything else?" skipped: thanks, the report is filed */
    CHAT_PROMPT_LOCATION_ADDED,   /* a location sent for the open case: it was added */
    CHAT_PROMPT_CONSENT_RECORDED, /* the consent answer (outcome.consent) was recorded: the
                                     closing line, with status, talk and quiet buttons */
    CHAT_PROMPT_QUIET_ON,         /* no more progress pushes; "status" still answers */
    CHAT_PROMPT_QUIET_OFF,        /* progress pushes again */
    CHAT_PROMPT_QUIET_NO_CASE,    /* quiet asked with no open case: nothing would be pushed */
    CHAT_PROMPT_COUNT             /* how many prompts there are (not a prompt) */
};

struct chat_outcome {
    enum chat_action action;
    enum chat_prompt prompt;
    enum chat_lang lang;
    int category; /* for CONFIRM_CATEGORY */
    int crisis;   /* 1: the message spoke of suicide or self-harm, the classifier read it as
                     mental_crisis, or the report is one: the answer gives the safety lines */
    char tracking_code[TRACK_CODE_SIZE]; /* for CHAT_ACTION_STATUS and CANCEL_OPEN (canonical
                                            form); the case's code for NOTE_ADDED and
                                            DETAILS_SKIPPED */
    struct incident incident;            /* for CREATE_CASE: channel line, category, location,
                                            description, reporter_line_user; for LOCATE: the
                                            location (has_location, lat, lon, address); owned,
                                            freed by chat_outcome_clear() */
    /* For NOTE: the reporter's words, cleaned. For LOCATE, and CREATE_CASE with a location: the
     * location as the timeline shows it ("[location] lat, lon address"); the router moves the
     * report's case there when it finds the case made already without it. Owned, freed by
     * chat_outcome_clear(). */
    char *note;
    int received;    /* 1: a media message with no open case: say "received" before the question */
    int talk;        /* with CHAT_ACTION_CREATE_CASE: the reporter asked to talk to a person: open a
                        chat on the case once it is made (citizen_messages_talk_created()) */
    int consent;     /* CHAT_ACTION_CONSENT: 1 the agencies may see the reporter's details, 0 not */
    int quiet;       /* CHAT_ACTION_QUIET: 1 quiet updates, 0 updates again */
    int ask_consent; /* "anything else?" just ended (CHAT_STEP_CONSENT next): the reply ends with
                        the consent question, and the router records on the case of
                        outcome.tracking_code that it was asked */
};

/* Starts a fresh state (idle, Thai, nothing known). */
void chat_state_init(struct chat_state *state);

/* The report in progress was filed as the case of tracking_code (canonical) without the
 * reporter's last step (ESS_LINE_ABANDON_S ran out): the report's content and id are dropped, and
 * what the user sends next goes to that case (idle, following it), as after "anything else?". */
void chat_report_filed(struct chat_state *state, const char *tracking_code);

/* Serialises state as a JSON object: a new string the caller frees (NULL when out of memory). */
char *chat_state_to_json(const struct chat_state *state);

/* Reads what chat_state_to_json() wrote (json[0..len), need not be NUL-terminated). Missing
 * fields take their fresh values and unknown ones are ignored; anything malformed (not one JSON
 * object, a field of the wrong type or out of range, a step without what it needs, trailing
 * bytes, over 64 KiB) gives a fresh state. Returns 0, or -1 (state initialised) when the text was
 * not a valid state. */
int chat_state_from_json(const char *json, size_t len, struct chat_state *state);

/* Advances the conversation of the user who sent event (a user-source event: the router handles
 * group events and standby mode before calling; such events, and "ack=…" postbacks, give
 * CHAT_ACTION_NONE and leave the state alone). rules (may be NULL: no pre-selection) classify
 * free text to pre-select a category and give the labels a typed category may match. out is
 * overwritten (clear a previous outcome first); event is only read. The user id is copied into
 * outcome.incident only for CREATE_CASE, which comes as soon as the report has a category and a
 * location or a typed address; the state then asks "anything else?" (CHAT_STEP_DETAILS, the
 * report's content and id dropped; the router stores the new case's code in
 * last_tracking_code), whose answer gives CHAT_ACTION_NOTE and "skip" ends it; "cancel" there
 * gives CHAT_ACTION_CANCEL_OPEN (the case stays open). Ended by its answer (a note, a location,
 * media), "skip" or quiet, outcome.ask_consent is set and the state asks the consent question
 * (CHAT_STEP_CONSENT): postback "consent=yes"/"consent=no" or the words ("ยินยอม"/"agree",
 * "ไม่ยินยอม"/"do not agree", yes, no) give CHAT_ACTION_CONSENT (idle, following); anything else
 * is handled as when following, the question dropped (asked once). While state.follow (the
 * last case open, the router checks), a text or media ("[image] id {message id}", [video], [audio],
 * [file]) with no report in progress is a CHAT_ACTION_NOTE on it (CHAT_PROMPT_NOTE_ADDED), a
 * location a CHAT_ACTION_LOCATE (CHAT_PROMPT_LOCATION_ADDED), and postback "address" asks for the
 * address, whose text is then a note; postback "newreport" starts a new report;
 * media with no open case sets outcome.received and asks the question. Text commands:
 * "ยกเลิก"/"cancel" (postback "cancel"), "สถานะ"/"status"/"เช็คสถานะ"/"check status" (postback
 * "status"), "เงียบ"/"ไม่ต้องแจ้ง"/"quiet"/"stop updates" (postback "quiet") and "แจ้งต่อ"/"updates
 * on" (postback "updates"): CHAT_ACTION_QUIET on the open case (chat_following: "anything
 * else?" asked, or following it), CHAT_PROMPT_QUIET_NO_CASE idle with none, the question again
 * mid-report; "คุยกับเจ้าหน้าที่"/"talk to a person" (postback "talk"): with the last case open
 * (following, or "anything else?" asked) CHAT_ACTION_TALK_REQUEST on it; with a category and no
 * location yet, CHAT_ACTION_CREATE_CASE with what is known and outcome.talk; with nothing chosen
 * (idle with no open case, asked the category or to confirm one) the same with category "other"
 * (a kept description goes with it); either way the state is then idle, following the case.
 * A tracking code (lenient; needs a digit or the HM prefix, and the prefix while the
 * details are asked). The language is decided by the first text with letters and changes only on
 * a sentence in the other language (three Latin words without Thai; ten Thai characters besides
 * polite endings), never on a code, digits, "ok" or "ครับ". outcome.crisis is set when the text
 * speaks of suicide or self-harm, the classifier reads it as mental_crisis, or the report in
 * progress is one. Returns 0 (out filled, state updated in place), -1 when memory runs out or an
 * argument is NULL (state unchanged). */
int chat_handle(const struct rules_table *rules, struct chat_state *state,
                const struct line_event *event, struct chat_outcome *out);

/* A message of an active chat (the router knows one is: chat_handle is not called then): out
 * (overwritten) gets CHAT_ACTION_TALK and in outcome.note what the operator reads: a text cleaned
 * of control characters (newlines kept) and never clipped; "[sticker]"; "[image]", "[video]",
 * "[audio]" or "[file]" (not downloaded); a location as the timeline shows it. Anything else
 * (a postback, old buttons included, follow, unfollow, text that is not UTF-8, a blank text)
 * gives CHAT_ACTION_NONE. Returns 0, or -1 when memory runs out or an argument is NULL. */
int chat_talk(const struct line_event *event, struct chat_outcome *out);

void chat_outcome_clear(struct chat_outcome *out); /* frees the incident; accepts NULL */

#endif
