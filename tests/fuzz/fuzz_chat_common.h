/* What the two conversation targets (fuzz_chat.c, fuzz_chat_state.c) share: libFuzzer's entry
 * points, the rule table and triage model the router classifies with, the router's part around
 * chat_handle (the report's id, the new case's code, the last case found closed), and the checks
 * of an outcome and of the state the router stores. Static functions: each target includes it
 * once. */
#ifndef ESS_TESTS_FUZZ_CHAT_COMMON_H
#define ESS_TESTS_FUZZ_CHAT_COMMON_H

#include "chat.h"
#include "incident.h"
#include "line.h"
#include "rules.h"
#include "text.h"
#include "track_code.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CASE_CODE "HM-7K3-Q9X-TD8" /* the code of the case the router "creates" */

/* rules/rules.json and rules/triage-model.tsv of the source tree (FUZZ_SOURCE_ROOT, set by
 * tests/fuzz/meson.build): the router's own table and model. Stops the target when they do not
 * load: the findings would not be the router's. */
static const struct rules_table *fuzz_chat_rules(void)
{
    static struct rules_table *rules;
    char err[512];

    if (rules != NULL) return rules;
    rules = rules_load_file(FUZZ_SOURCE_ROOT "/rules/rules.json", err, sizeof err);
    if (rules == NULL || rules_load_model_file(rules, FUZZ_SOURCE_ROOT "/rules/triage-model.tsv",
                                               err, sizeof err) != 0) {
        fprintf(stderr, "fuzz: %s\n", err);
        exit(2);
    }
    return rules;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Loads the table and the model before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_chat_rules();
    return 0;
}

/* Aborts (a finding) unless s is absent or valid UTF-8 of at most max bytes. */
static void fuzz_chat_check_text(const char *s, size_t max)
{
    if (s != NULL && (strlen(s) > max || !text_utf8_valid(s, strlen(s)))) abort();
}

/* A tracking code in an outcome is absent ("") or canonical. */
static void fuzz_chat_check_code(const char *code, int required)
{
    char again[TRACK_CODE_SIZE];

    if (memchr(code, '\0', TRACK_CODE_SIZE) == NULL) abort();
    if (code[0] == '\0') {
        if (required) abort();
        return;
    }
    if (track_code_parse(code, strlen(code), again) != TRACK_CODE_OK || strcmp(code, again) != 0)
        abort();
}

/* What chat_handle (talk 0) or chat_talk (talk 1) answered to ev. */
static void fuzz_chat_check_outcome(const struct chat_outcome *out, const struct line_event *ev,
                                    int talk)
{
    const struct incident *inc = &out->incident;

    if ((unsigned)out->action > CHAT_ACTION_QUIET || (unsigned)out->prompt >= CHAT_PROMPT_COUNT ||
        (out->lang != CHAT_LANG_TH && out->lang != CHAT_LANG_EN))
        abort();
    if (talk) {
        if (out->action != CHAT_ACTION_NONE && out->action != CHAT_ACTION_TALK) abort();
        if ((out->action == CHAT_ACTION_TALK) != (out->note != NULL)) abort();
        if (out->note != NULL &&
            (out->note[0] == '\0' || !text_utf8_valid(out->note, strlen(out->note))))
            abort();
        return;
    }
    fuzz_chat_check_text(out->note, 64 * 1024);
    fuzz_chat_check_code(out->tracking_code, out->action == CHAT_ACTION_STATUS ||
                                                 out->action == CHAT_ACTION_CANCEL_OPEN ||
                                                 out->action == CHAT_ACTION_CONSENT ||
                                                 out->action == CHAT_ACTION_QUIET ||
                                                 out->action == CHAT_ACTION_TALK_REQUEST);
    if (out->action == CHAT_ACTION_NOTE && out->note == NULL) abort();
    /* The user id leaves the conversation only with a new case. */
    if (out->action != CHAT_ACTION_CREATE_CASE && inc->reporter_line_user != NULL) abort();
    if (out->action == CHAT_ACTION_CREATE_CASE) {
        if (inc->channel != INCIDENT_CHANNEL_LINE || inc->category < 0 ||
            inc->category >= INCIDENT_CATEGORY_COUNT)
            abort();
        if (ev->user_id[0] != '\0' &&
            (inc->reporter_line_user == NULL || strcmp(inc->reporter_line_user, ev->user_id) != 0))
            abort();
        fuzz_chat_check_text(inc->description, INCIDENT_MAX_DESCRIPTION);
        fuzz_chat_check_text(inc->address, INCIDENT_MAX_ADDRESS);
    }
    if (inc->has_location &&
        !(inc->lat >= -90.0 && inc->lat <= 90.0 && inc->lon >= -180.0 && inc->lon <= 180.0))
        abort();
}

/* The router stores the state as JSON after every event and reads it back before the next: what
 * it stores must read back as itself (else the user's report would be lost). */
static void fuzz_chat_check_stored(const struct chat_state *st)
{
    char *json = chat_state_to_json(st), *again = NULL;
    struct chat_state back;

    if (json == NULL) return; /* out of memory */
    if (chat_state_from_json(json, strlen(json), &back) != 0) abort();
    again = chat_state_to_json(&back);
    if (again != NULL && strcmp(json, again) != 0) abort();
    free(again);
    free(json);
}

/* One event as the router runs it (router/api/linebot.c): the last case found closed (which
 * closed says) ends following it; a report gets its id; after chat_handle an idle state has no
 * report id, and a new case its code. Then the checks. */
static void fuzz_chat_step(struct chat_state *st, const struct line_event *ev, int closed)
{
    struct chat_outcome out;

    if (st->follow && (st->step == CHAT_STEP_IDLE || st->step == CHAT_STEP_CONSENT) &&
        st->last_tracking_code[0] && closed) {
        st->follow = 0;
        if (st->step == CHAT_STEP_CONSENT) st->step = CHAT_STEP_IDLE;
    }
    if (st->report_id[0] == '\0') snprintf(st->report_id, sizeof st->report_id, "%s", "r0Aq-9_z");
    if (chat_handle(fuzz_chat_rules(), st, ev, &out) != 0) return; /* out of memory */
    if (st->step == CHAT_STEP_IDLE) st->report_id[0] = '\0';
    fuzz_chat_check_outcome(&out, ev, 0);
    if (out.action == CHAT_ACTION_CREATE_CASE)
        snprintf(st->last_tracking_code, sizeof st->last_tracking_code, "%s", FUZZ_CASE_CODE);
    chat_outcome_clear(&out);
    fuzz_chat_check_stored(st);
    if (chat_talk(ev, &out) == 0) fuzz_chat_check_outcome(&out, ev, 1);
    chat_outcome_clear(&out);
}

#endif
