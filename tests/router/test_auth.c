/* Tests of router/http/auth.c: who a bearer token says the caller is, team ids, token hashing and
 * the derivation of team tokens. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "tap.h"

static void test_identify(void)
{
    char *ops[] = {"op-token-1", "op-token-2"};
    char *ids[] = {"op-17", "operator-2"};
    struct config cfg = {0};
    struct auth a;

    cfg.admin_token = "admin-token";
    cfg.operator_tokens = ops;
    cfg.operator_ids = ids;
    cfg.noperator_tokens = 2;

    auth_identify(&cfg, NULL, &a);
    CHECK(a.role == AUTH_NONE, "no header: AUTH_NONE");
    auth_identify(&cfg, "Bearer admin-token", &a);
    CHECK(a.role == AUTH_ADMIN, "the admin token");
    auth_identify(&cfg, "bearer  op-token-2 ", &a);
    CHECK(a.role == AUTH_OPERATOR && strcmp(a.operator_id, "operator-2") == 0,
          "an operator token, scheme in any case, blanks around: the id of its entry");
    auth_identify(&cfg, "Bearer op-token-1", &a);
    CHECK(a.role == AUTH_OPERATOR && strcmp(a.operator_id, "op-17") == 0,
          "the first operator token: its own id");
    auth_identify(&cfg, "Bearer OP.0123456789abcdefghijABCDEFGHIJ0123456789abc", &a);
    CHECK(a.role == AUTH_PENDING && !a.by_cookie && strlen(a.token_hash) == 64 &&
              a.operator_id[0] == '\0',
          "an operator account's token: looked up by its hash");
    auth_identify(&cfg, "Bearer OP.0123456789abcdefghijABCDEFGHIJ0123456789ab", &a);
    CHECK(a.role == AUTH_INVALID, "an account token one character short is nothing");
    auth_identify(&cfg, "Bearer op-token-", &a);
    CHECK(a.role == AUTH_INVALID, "a prefix of an operator token is not one");
    auth_identify(&cfg, "Bearer op-token-1x", &a);
    CHECK(a.role == AUTH_INVALID, "an operator token with a suffix is not one");
    auth_identify(&cfg, "Basic b3A6dG9rZW4=", &a);
    CHECK(a.role == AUTH_INVALID, "another scheme");
    auth_identify(&cfg, "Bearer ", &a);
    CHECK(a.role == AUTH_INVALID, "an empty token");
    auth_identify(&cfg, "Bearer bkk-03.0123456789abcdefXYZ", &a);
    CHECK(a.role == AUTH_TEAM && strcmp(a.team_id, "bkk-03") == 0 && strlen(a.token_hash) == 64,
          "a team token: its team id and the hash of the whole token");
    auth_identify(&cfg, "Bearer BKK.0123456789abcdefXYZ", &a);
    CHECK(a.role == AUTH_INVALID, "a team token whose id is not a team id");
    auth_identify(&cfg, "Bearer bkk-03.short", &a);
    CHECK(a.role == AUTH_INVALID, "a team token with too short a secret");

    cfg.admin_token = "";
    cfg.noperator_tokens = 0;
    auth_identify(&cfg, "Bearer ", &a);
    CHECK(a.role == AUTH_INVALID, "with no tokens configured, an empty token matches nothing");
}

static void test_team_ids(void)
{
    CHECK(auth_team_id_valid("bkk-03", 6), "bkk-03");
    CHECK(auth_team_id_valid("a", 1), "one character");
    CHECK(!auth_team_id_valid("-a", 2), "not starting with a hyphen");
    CHECK(!auth_team_id_valid("_a", 2), "not starting with an underscore");
    CHECK(!auth_team_id_valid("Bkk", 3), "no capitals");
    CHECK(!auth_team_id_valid("bkk.03", 6), "no dots");
    CHECK(!auth_team_id_valid("", 0), "not empty");
    {
        char id[66];
        memset(id, 'a', 65);
        id[65] = '\0';
        CHECK(auth_team_id_valid(id, 64), "64 characters");
        CHECK(!auth_team_id_valid(id, 65), "not 65");
    }
}

static void test_tokens(void)
{
    char a[128], b[128], c[128], hex[65];
    struct auth who;
    struct config cfg = {0};
    char line[160];

    cfg.admin_token = "";
    CHECK(auth_team_token_derive("key", "bkk-03", "nonce-1", a, sizeof a) == 0,
          "a token is derived");
    CHECK(strncmp(a, "bkk-03.", 7) == 0 && strlen(a) == 7 + 43, "<team_id>.<43 characters>");
    CHECK(auth_team_token_derive("key", "bkk-03", "nonce-1", b, sizeof b) == 0 && strcmp(a, b) == 0,
          "the same key, team and nonce give the same token (dispatches are signed with it)");
    auth_team_token_derive("key", "bkk-03", "nonce-2", c, sizeof c);
    CHECK(strcmp(a, c) != 0, "a new nonce gives a new token (rotation)");
    auth_team_token_derive("other key", "bkk-03", "nonce-1", c, sizeof c);
    CHECK(strcmp(a, c) != 0, "another key gives another token");
    auth_team_token_derive("key", "bkk-04", "nonce-1", c, sizeof c);
    CHECK(strcmp(a + 7, c + 7) != 0, "another team gives another secret");
    CHECK(auth_team_token_derive("", "bkk-03", "nonce-1", c, sizeof c) == -1, "no key, no token");
    CHECK(auth_team_token_derive("key", "bkk-03", "nonce-1", c, 20) == -1, "too small a buffer");
    for (size_t i = 7; i < strlen(a); i++)
        if (!((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= 'a' && a[i] <= 'z') ||
              (a[i] >= '0' && a[i] <= '9') || a[i] == '-' || a[i] == '_'))
            CHECK(0, "the secret is base64url");

    snprintf(line, sizeof line, "Bearer %s", a);
    auth_identify(&cfg, line, &who);
    auth_token_hash(a, strlen(a), hex);
    CHECK(who.role == AUTH_TEAM && strcmp(who.token_hash, hex) == 0,
          "a derived token is read as its team's, with the hash Redis keeps");
    auth_token_hash("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
          "SHA-256 of the empty string");
}

/* hex of HMAC-SHA256(HMAC-SHA256(secret, label), data), by OpenSSL's one-shot HMAC. */
static void reference_keyed(const char *secret, const char *label, const void *data, size_t len,
                            char hex[AUTH_HASH_HEX + 1])
{
    unsigned char key[32], mac[32];
    unsigned int n = 0, i;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)label, strlen(label),
         key, &n);
    HMAC(EVP_sha256(), key, n, data, len, mac, &n);
    for (i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

static void test_keyed_hash(void)
{
    const char *secret = "0123456789abcdef0123456789abcdef-secret";
    const unsigned char v4[4] = {127, 0, 0, 1}, v6[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
    struct auth_keyed *k = auth_keyed_new(secret, "ess-router rate limit key");
    struct auth_keyed *other = auth_keyed_new(secret, "another use");
    char got[AUTH_HASH_HEX + 1], want[AUTH_HASH_HEX + 1], again[AUTH_HASH_HEX + 1];

    CHECK(k != NULL && other != NULL, "keyed hash: made from a secret and a label");
    CHECK(auth_keyed_new(NULL, "x") == NULL && auth_keyed_new("", "x") == NULL,
          "keyed hash: no secret, no hash");
    reference_keyed(secret, "ess-router rate limit key", v4, sizeof v4, want);
    CHECK(auth_keyed_hex(k, v4, sizeof v4, got) == 0 && strcmp(got, want) == 0,
          "keyed hash: HMAC-SHA256 under HMAC-SHA256(secret, label), as OpenSSL computes it");
    CHECK(auth_keyed_hex(k, v4, sizeof v4, again) == 0 && strcmp(again, got) == 0,
          "keyed hash: the same input, the same hash, time after time");
    reference_keyed(secret, "ess-router rate limit key", v6, sizeof v6, want);
    CHECK(auth_keyed_hex(k, v6, sizeof v6, got) == 0 && strcmp(got, want) == 0,
          "keyed hash: another input");
    CHECK(auth_keyed_hex(other, v6, sizeof v6, again) == 0 && strcmp(again, got) != 0,
          "keyed hash: another label keys another hash");
    CHECK(auth_keyed_hex(NULL, v4, sizeof v4, got) == -1 && got[0] == '\0',
          "keyed hash: none made, none given");
    auth_keyed_free(k);
    auth_keyed_free(other);
    auth_keyed_free(NULL);
}

int main(void)
{
    test_identify();
    test_team_ids();
    test_tokens();
    test_keyed_hash();
    return tap_done();
}
