/* Bearer tokens: constant-time comparison of configured tokens, team token parsing, hashing and
 * issuing. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "router.h"
#include "text.h"

#define TOKEN_MAX 512

static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256, its implementation fetched once: OpenSSL 3 looks it up by name on every digest made
 * with EVP_sha256(), which cost as much as the digest of a token itself. */
static void sha256(const char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    pthread_once(&sha256_once, sha256_fetch);
    EVP_Digest(data, len, out, &n, sha256_fetched ? sha256_fetched : EVP_sha256(), NULL);
}

static void hex32(const unsigned char d[32], char hex[AUTH_HASH_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[AUTH_HASH_HEX] = '\0';
}

void auth_token_hash(const char *token, size_t len, char hex[AUTH_HASH_HEX + 1])
{
    unsigned char d[32];
    sha256(token, len, d);
    hex32(d, hex);
}

struct auth_keyed {
    EVP_MD_CTX *inner;   /* SHA-256 after (key XOR ipad) */
    EVP_MD_CTX *outer;   /* SHA-256 after (key XOR opad) */
    EVP_MD_CTX *scratch; /* copied from one of them for each hash */
};

void auth_keyed_free(struct auth_keyed *k)
{
    if (k == NULL) return;
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_CTX_free(k->scratch);
    free(k);
}

struct auth_keyed *auth_keyed_new(const char *secret, const char *label)
{
    enum { BLOCK = 64 }; /* SHA-256's block: the HMAC key is padded to it (RFC 2104) */
    unsigned char key[32], ipad[BLOCK], opad[BLOCK];
    unsigned int keylen = 0;
    struct auth_keyed *k = NULL, *out = NULL;
    size_t i;

    if (secret == NULL || secret[0] == '\0') return NULL;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)label, strlen(label),
             key, &keylen) == NULL ||
        keylen != sizeof key)
        goto done;
    for (i = 0; i < BLOCK; i++) {
        unsigned char b = i < sizeof key ? key[i] : 0;
        ipad[i] = b ^ 0x36;
        opad[i] = b ^ 0x5c;
    }
    if ((k = calloc(1, sizeof *k)) == NULL) goto done;
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    k->scratch = EVP_MD_CTX_new();
    if (k->inner == NULL || k->outer == NULL || k->scratch == NULL ||
        EVP_DigestInit_ex(k->inner, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(k->inner, ipad, sizeof ipad) != 1 ||
        EVP_DigestInit_ex(k->outer, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(k->outer, opad, sizeof opad) != 1)
        goto done;
    out = k;
    k = NULL;
done:
    auth_keyed_free(k);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
    return out;
}

int auth_keyed_hex(struct auth_keyed *k, const void *data, size_t len, char hex[AUTH_HASH_HEX + 1])
{
    unsigned char inner[32], mac[32];
    unsigned int n = 0;

    hex[0] = '\0';
    if (k == NULL || EVP_MD_CTX_copy_ex(k->scratch, k->inner) != 1 ||
        EVP_DigestUpdate(k->scratch, data, len) != 1 ||
        EVP_DigestFinal_ex(k->scratch, inner, &n) != 1 ||
        EVP_MD_CTX_copy_ex(k->scratch, k->outer) != 1 ||
        EVP_DigestUpdate(k->scratch, inner, sizeof inner) != 1 ||
        EVP_DigestFinal_ex(k->scratch, mac, &n) != 1)
        return -1;
    hex32(mac, hex);
    return 0;
}

/* Whether b is the token whose digest is da, in time independent of where they differ: digests
 * are compared, so lengths leak nothing. */
static int token_equal(const unsigned char da[32], const char *b)
{
    unsigned char db[32];
    if (b == NULL || b[0] == '\0') return 0;
    sha256(b, strlen(b), db);
    return CRYPTO_memcmp(da, db, sizeof db) == 0;
}

int auth_team_id_valid(const char *id, size_t len)
{
    return text_id_valid(id, len);
}

void auth_identify(const struct config *cfg, const char *authorization, struct auth *out)
{
    const char *token, *dot;
    size_t len, i;
    int matched = 0;
    unsigned char digest[32];

    memset(out, 0, sizeof *out);
    if (authorization == NULL) {
        out->role = AUTH_NONE;
        return;
    }
    out->role = AUTH_INVALID;
    if (strncasecmp(authorization, "Bearer ", 7) != 0) return;
    token = authorization + 7;
    while (*token == ' ') token++;
    len = strlen(token);
    while (len > 0 && token[len - 1] == ' ') len--;
    if (len == 0 || len > TOKEN_MAX) return;

    /* Every configured token is compared, so timing does not tell which kind matched. */
    sha256(token, len, digest);
    if (token_equal(digest, cfg->admin_token)) {
        out->role = AUTH_ADMIN;
        matched = 1;
    }
    for (i = 0; i < cfg->noperator_tokens; i++) {
        if (token_equal(digest, cfg->operator_tokens[i]) && !matched) {
            out->role = AUTH_OPERATOR;
            snprintf(out->operator_id, sizeof out->operator_id, "%s", cfg->operator_ids[i]);
            matched = 1;
        }
    }
    if (matched) return;
    if (len == AUTH_ACCOUNT_TOKEN_LEN && (memcmp(token, AUTH_ACCOUNT_TOKEN_PREFIX, 3) == 0 ||
                                          memcmp(token, AUTH_AGENCY_TOKEN_PREFIX, 3) == 0)) {
        out->role = AUTH_PENDING;
        out->agency_token = memcmp(token, AUTH_AGENCY_TOKEN_PREFIX, 3) == 0;
        auth_token_hash(token, len, out->token_hash);
        return;
    }

    dot = memchr(token, '.', len);
    if (dot == NULL || !auth_team_id_valid(token, (size_t)(dot - token)) ||
        len - (size_t)(dot - token) - 1 < 16)
        return;
    out->role = AUTH_TEAM;
    memcpy(out->team_id, token, (size_t)(dot - token));
    out->team_id[dot - token] = '\0';
    auth_token_hash(token, len, out->token_hash);
}

int auth_bearer_matches(const char *authorization, const char *token)
{
    const char *t;
    size_t len;
    unsigned char digest[32];
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
    t = authorization + 7;
    while (*t == ' ') t++;
    len = strlen(t);
    while (len > 0 && t[len - 1] == ' ') len--;
    if (len == 0 || len > TOKEN_MAX) return 0;
    sha256(t, len, digest);
    return token_equal(digest, token);
}

int auth_team_token_derive(const char *key, const char *team_id, const char *nonce, char *out,
                           size_t outlen)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char mac[32];
    unsigned int maclen = 0;
    char msg[AUTH_TEAM_ID_MAX + 96];
    char secret[48];
    size_t i, o = 0;
    int n;

    n = snprintf(msg, sizeof msg, "%s:%s", team_id, nonce);
    if (n < 0 || (size_t)n >= sizeof msg || key == NULL || key[0] == '\0') return -1;
    if (HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)n, mac,
             &maclen) == NULL)
        return -1;
    /* 256 bits as 43 characters of unpadded base64url */
    for (i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)mac[i] << 16 | (i + 1 < 32 ? (unsigned)mac[i + 1] << 8 : 0) |
                     (i + 2 < 32 ? mac[i + 2] : 0);
        secret[o++] = b64url[v >> 18 & 63];
        secret[o++] = b64url[v >> 12 & 63];
        if (i + 1 < 32) secret[o++] = b64url[v >> 6 & 63];
        if (i + 2 < 32) secret[o++] = b64url[v & 63];
    }
    secret[o] = '\0';
    n = snprintf(out, outlen, "%s.%s", team_id, secret);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int auth_team_token_for(const struct router *router, const char *team_id, const char *nonce,
                        char *out, size_t outlen)
{
    return auth_team_token_derive(router->cfg->token_secret, team_id, nonce, out, outlen);
}
