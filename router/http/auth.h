/* Who is calling: the bearer token of the Authorization header, read as the admin's, an
 * operator's or a team's. Operator and admin tokens come from the configuration and are compared
 * in constant time; a team token ("<team_id>.<secret>") is checked by Redis against the SHA-256
 * stored for that team, so it is only parsed here. An operator account's API token
 * ("OP.<secret>") and the console's session cookie are looked up in Redis by their hash before
 * the call is dispatched (session.h). */
#ifndef ESS_ROUTER_AUTH_H
#define ESS_ROUTER_AUTH_H

#include <stddef.h>

struct config;
struct router;

enum auth_role {
    AUTH_NONE = 0, /* no Authorization header */
    AUTH_INVALID,  /* present but not a token of any kind we issue */
    AUTH_ADMIN,
    AUTH_OPERATOR,
    AUTH_TEAM,       /* parsed, not yet verified: Redis checks team_id and token_hash */
    AUTH_SUPERVISOR, /* an operator account with role supervisor: all an operator may, and more */
    AUTH_PENDING,    /* an account's token or a session cookie, not yet looked up (session.h) */
    AUTH_AGENCY      /* a partner agency, by its token (looked up as AUTH_PENDING first) */
};

/* An operator account's API token: this prefix (which no team id can start with: ids are
 * lowercase), then 43 characters of base64url (256 random bits). */
#define AUTH_ACCOUNT_TOKEN_PREFIX "OP."
#define AUTH_ACCOUNT_TOKEN_LEN (3 + 43)
/* A partner agency's token: this prefix, then 43 characters of base64url (256 random bits). */
#define AUTH_AGENCY_TOKEN_PREFIX "AG."
#define AUTH_CSRF_MAX 64

#define AUTH_TEAM_ID_MAX 64
#define AUTH_HASH_HEX 64

struct auth {
    enum auth_role role;
    char team_id[AUTH_TEAM_ID_MAX + 1];     /* AUTH_TEAM only */
    char token_hash[AUTH_HASH_HEX + 1];     /* AUTH_TEAM and AUTH_PENDING: hex SHA-256 of the whole
                                               token (or of the session cookie's value) */
    char operator_id[AUTH_TEAM_ID_MAX + 1]; /* AUTH_OPERATOR, AUTH_SUPERVISOR: who */
    int by_cookie;                          /* authenticated (or pending) by the session cookie */
    int agency_token; /* pending by an agency's token (AUTH_AGENCY_TOKEN_PREFIX) */
    char agency_id[AUTH_TEAM_ID_MAX + 1]; /* AUTH_AGENCY: which agency */
    char csrf[AUTH_CSRF_MAX + 1];         /* by_cookie, once resolved: the session's CSRF token */
};

/* Reads an Authorization header value (NULL when absent) into out. A configured operator token
 * gives AUTH_OPERATOR with the id of its ESS_OPERATOR_TOKENS entry; an account's token gives
 * AUTH_PENDING (token_hash set). */
void auth_identify(const struct config *cfg, const char *authorization, struct auth *out);

/* 1 when id matches [a-z0-9][a-z0-9_-]{0,63}. */
int auth_team_id_valid(const char *id, size_t len);

/* Writes the hex SHA-256 of token[0..len) and its NUL to hex (65 bytes). */
void auth_token_hash(const char *token, size_t len, char hex[AUTH_HASH_HEX + 1]);

/* A keyed hash for one use, made once and used for every request: HMAC-SHA256 under a key derived
 * from secret for that use, HMAC-SHA256(secret, label). Each label keys its own use, and a label
 * holding a blank never equals a team token's message ("<team_id>:<nonce>"), so no two uses
 * share a key. The digest states of the HMAC's inner and outer keys are computed once, so each
 * hash costs two short digests instead of a full HMAC set-up. */
struct auth_keyed;

/* A new keyed hash the caller frees with auth_keyed_free; NULL when secret is NULL or "" or
 * memory runs out. secret and label are not kept. */
struct auth_keyed *auth_keyed_new(const char *secret, const char *label);
void auth_keyed_free(struct auth_keyed *k); /* NULL: nothing */

/* Writes to hex (65 bytes) the hex HMAC-SHA256 of data[0..len) under k's key. 0, or -1 (then hex
 * is ""). k's scratch state changes: not for use from two threads at once. */
int auth_keyed_hex(struct auth_keyed *k, const void *data, size_t len, char hex[AUTH_HASH_HEX + 1]);

/* 1 when an Authorization header value is "Bearer <token>" (scheme in any case, blanks around
 * the token), compared in constant time; 0 otherwise, also when token is NULL or "". */
int auth_bearer_matches(const char *authorization, const char *token);

/* Derives a team's token, "<team_id>.<43 characters of base64url>" =
 * HMAC-SHA256(key, "<team_id>:<nonce>"), into out. The router keeps only the token's hash and
 * the nonce, and derives the token again to sign the team's dispatches with it. A new nonce
 * makes a new token (rotation). 0, or -1 (no key, or out too small). */
int auth_team_token_derive(const char *key, const char *team_id, const char *nonce, char *out,
                           size_t outlen);

/* Derives the token of the team whose nonce is given (auth_team_token_derive), keyed with
 * ESS_TOKEN_SECRET (required at start-up; never kept in Redis): what the team API issues and
 * what dispatches to the team are signed with. 0, or -1 when out is too small. */
int auth_team_token_for(const struct router *router, const char *team_id, const char *nonce,
                        char *out, size_t outlen);

#endif
