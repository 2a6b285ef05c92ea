/* Cryptographically secure random values from OpenSSL's RAND_bytes: raw bytes, unpadded base64url
 * bearer tokens and version 4 UUIDs; small draws from a per-thread pool RAND_bytes fills. Nothing
 * here falls back to a weaker generator: when the CSPRNG fails, the call fails. */
#include "random.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Bytes drawn per RAND_bytes call in random_token: a multiple of 3, so each chunk encodes to
 * whole base64 quads. */
#define RANDOM_TOKEN_CHUNK 192

/* Small draws (a case id's randomness, a tracking code's) are served from a pool of this many
 * bytes per thread, filled by one RAND_bytes call: each call costs far more than its bytes. A
 * byte leaves the pool once served and is wiped there, so no value is given twice or kept. */
#define RANDOM_POOL_SIZE 512
#define RANDOM_POOL_DRAW_MAX 32

static _Thread_local unsigned char pool[RANDOM_POOL_SIZE];
static _Thread_local size_t pool_left; /* the pool's last pool_left bytes are unserved */

static int random_from_pool(unsigned char *out, size_t len)
{
    unsigned char *from;
    if (pool_left < len) {
        if (RAND_bytes(pool, (int)sizeof pool) != 1) {
            OPENSSL_cleanse(pool, sizeof pool);
            pool_left = 0;
            return -1;
        }
        pool_left = sizeof pool;
    }
    from = pool + sizeof pool - pool_left;
    memcpy(out, from, len);
    OPENSSL_cleanse(from, len);
    pool_left -= len;
    return 0;
}

int random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t done = 0;

    if (len <= RANDOM_POOL_DRAW_MAX) {
        if (random_from_pool(p, len) == 0) return 0;
        OPENSSL_cleanse(buf, len);
        return -1;
    }
    while (done < len) {
        size_t n = len - done;

        if (n > INT_MAX) n = INT_MAX;
        if (RAND_bytes(p + done, (int)n) != 1) {
            OPENSSL_cleanse(buf, len);
            return -1;
        }
        done += n;
    }
    return 0;
}

/* The length of the unpadded base64url text of n bytes (without the NUL). */
static size_t random_b64_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int random_token(char *out, size_t outlen, size_t nbytes)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char chunk[RANDOM_TOKEN_CHUNK];
    size_t pos = 0, done = 0;
    int rc = -1;

    if (out == NULL || outlen == 0) return -1;
    out[0] = '\0';
    if (nbytes == 0 || nbytes > (SIZE_MAX - 1) / 2 || random_b64_len(nbytes) + 1 > outlen) {
        return -1;
    }
    while (done < nbytes) {
        size_t n = nbytes - done;

        if (n > sizeof chunk) n = sizeof chunk;
        if (random_bytes(chunk, n) != 0) goto cleanup;
        for (size_t i = 0; i < n; i += 3) {
            uint32_t v = (uint32_t)chunk[i] << 16;
            size_t left = n - i;

            if (left > 1) v |= (uint32_t)chunk[i + 1] << 8;
            if (left > 2) v |= chunk[i + 2];
            out[pos++] = alphabet[(v >> 18) & 63];
            out[pos++] = alphabet[(v >> 12) & 63];
            if (left > 1) out[pos++] = alphabet[(v >> 6) & 63];
            if (left > 2) out[pos++] = alphabet[v & 63];
        }
        done += n;
    }
    out[pos] = '\0';
    rc = 0;
cleanup:
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (rc != 0) OPENSSL_cleanse(out, outlen > pos ? pos + 1 : outlen);
    return rc;
}

int random_uuid(char out[37])
{
    unsigned char b[16];

    if (random_bytes(b, sizeof b) != 0) {
        out[0] = '\0';
        return -1;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10xx (RFC 4122) */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}
