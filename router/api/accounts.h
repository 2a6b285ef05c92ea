/* What the admin's puts of accounts share (operators.c, agencies.c): the id in the path, the
 * members every account has (name, disabled, rotate_token), the token drawn for each put and
 * shown once (on creation or rotation), and the answer of the store's put (201 created, 200
 * updated, 400 missing_field for a new account without what it needs). */
#ifndef ESS_ROUTER_ACCOUNTS_H
#define ESS_ROUTER_ACCOUNTS_H

#include "auth.h"

struct http_call;
struct cJSON;

#define ACCOUNT_NAME_MAX 200 /* bytes */

/* A kind of account (a constant of its module). */
struct account_kind {
    const char *word;          /* "operator": the member of the store's answer; logs, messages */
    const char *title;         /* "Operator": a sentence's first word */
    const char *needs;         /* what a new one needs: "name, role and password" */
    const char *token_prefix;  /* AUTH_ACCOUNT_TOKEN_PREFIX, AUTH_AGENCY_TOKEN_PREFIX */
    const char *disabled_note; /* logged after a put that disables one ("": nothing) */
};

/* One put of an account, part of its handler's state (which cleanses it when the call ends). */
struct account_put {
    const struct account_kind *kind;
    char id[AUTH_TEAM_ID_MAX + 1];
    const char *name; /* body's name (lives as long as body), NULL: absent or null (unchanged) */
    char disabled[2]; /* "1", "0" or "": unchanged */
    int rotate;       /* rotate_token */
    char token[64];   /* drawn for every put; the store keeps its hash on creation or rotation */
    char token_hash[AUTH_HASH_HEX + 1];
};

/* Checks the account id of the path (call->params[0]). 0, or -1: the call was answered 400. */
int account_id_check(struct http_call *call, const struct account_kind *kind);

/* Starts a of kind for the call's id (checked) and reads body's name (1 to ACCOUNT_NAME_MAX bytes
 * of plain text), disabled and rotate_token into it. NULL, or the sentence of a 400
 * invalid_field. */
const char *account_put_read(struct account_put *a, const struct account_kind *kind,
                             const struct http_call *call, const struct cJSON *body);

/* Draws the put's token (its kind's prefix) and its hash into a. 0, or -1: answered 500. */
int account_token_draw(struct http_call *call, struct account_put *a);

/* Answers the reply of the store's put (ess.lua's account_put: {"created", "token_set",
 * "<word>": the account} or a refusal), which it takes: 201 when created, else 200, the token
 * added only when the store set it. Ends the call. */
void account_put_answer(struct http_call *call, const struct account_put *a, struct cJSON *reply);

#endif
