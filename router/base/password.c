/* scrypt password hashes (OpenSSL EVP_PBE_scrypt) in a self-describing string. */
#include "password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "random.h"
#include "text.h"

/* scrypt's cost: N = 2^15, r = 8, p = 1 uses 32 MiB and about 90 ms of one core here. */
#define PASSWORD_LOG2_N 15
#define PASSWORD_R 8
#define PASSWORD_P 1
#define PASSWORD_SALT_BYTES 16
#define PASSWORD_KEY_BYTES 32
#define PASSWORD_MAXMEM (256ull * 1024 * 1024) /* the most memory a stored cost may ask */

const char password_dummy_hash[] =
    "scrypt$15$8$1$00112233445566778899aabbccddeeff$"
    "0000000000000000000000000000000000000000000000000000000000000000";

int password_acceptable(const char *pw, size_t len)
{
    size_t i, chars = 0;
    if (len > PASSWORD_MAX_BYTES || !text_utf8_valid(pw, len)) return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f) return 0;
        if ((c & 0xc0) != 0x80) chars++; /* the first byte of each character */
    }
    return chars >= PASSWORD_MIN_CHARS;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads exactly 2 * n lowercase or uppercase hex digits from s into d. 0 or -1. */
static int from_hex(const char *s, size_t slen, unsigned char *d, size_t n)
{
    size_t i;
    if (slen != 2 * n) return -1;
    for (i = 0; i < n; i++) {
        int b = text_hex_byte(s + 2 * i);
        if (b < 0) return -1;
        d[i] = (unsigned char)b;
    }
    return 0;
}

static int scrypt(const char *pw, size_t len, const unsigned char *salt, size_t saltlen,
                  unsigned log2n, unsigned r, unsigned p, unsigned char key[PASSWORD_KEY_BYTES])
{
    return EVP_PBE_scrypt(pw, len, salt, saltlen, (uint64_t)1 << log2n, r, p, PASSWORD_MAXMEM, key,
                          PASSWORD_KEY_BYTES) == 1
               ? 0
               : -1;
}

int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_SIZE])
{
    unsigned char salt[PASSWORD_SALT_BYTES], key[PASSWORD_KEY_BYTES];
    char salt_hex[2 * PASSWORD_SALT_BYTES + 1], key_hex[2 * PASSWORD_KEY_BYTES + 1];
    int rc = -1, n;

    out[0] = '\0';
    if (random_bytes(salt, sizeof salt) != 0 ||
        scrypt(pw, len, salt, sizeof salt, PASSWORD_LOG2_N, PASSWORD_R, PASSWORD_P, key) != 0)
        goto done;
    to_hex(salt, sizeof salt, salt_hex);
    to_hex(key, sizeof key, key_hex);
    n = snprintf(out, PASSWORD_HASH_SIZE, "scrypt$%d$%d$%d$%s$%s", PASSWORD_LOG2_N, PASSWORD_R,
                 PASSWORD_P, salt_hex, key_hex);
    if (n < 0 || n >= PASSWORD_HASH_SIZE) {
        out[0] = '\0';
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(key_hex, sizeof key_hex);
    return rc;
}

/* Reads a small decimal s[0..n) within [min, max]. 0 or -1. */
static int read_uint(const char *s, size_t n, unsigned min, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t i;
    if (n == 0 || n > 3) return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

int password_verify(const char *pw, size_t len, const char *encoded)
{
    static const char scheme[] = "scrypt$";
    const char *part[5];
    size_t plen[5];
    unsigned char salt[PASSWORD_SALT_BYTES], want[PASSWORD_KEY_BYTES], got[PASSWORD_KEY_BYTES];
    unsigned log2n, r, p;
    const char *s;
    int i, rc = -1;

    if (encoded == NULL || strncmp(encoded, scheme, sizeof scheme - 1) != 0) return -1;
    s = encoded + sizeof scheme - 1;
    for (i = 0; i < 5; i++) {
        const char *end = strchr(s, '$');
        if ((end == NULL) != (i == 4)) return -1;
        part[i] = s;
        plen[i] = end ? (size_t)(end - s) : strlen(s);
        s = end ? end + 1 : s;
    }
    /* Bounds: a stored cost never asks for more than PASSWORD_MAXMEM or hours of CPU. */
    if (read_uint(part[0], plen[0], 10, 20, &log2n) != 0 ||
        read_uint(part[1], plen[1], 1, 32, &r) != 0 || read_uint(part[2], plen[2], 1, 4, &p) != 0 ||
        from_hex(part[3], plen[3], salt, sizeof salt) != 0 ||
        from_hex(part[4], plen[4], want, sizeof want) != 0)
        return -1;
    if (scrypt(pw, len, salt, sizeof salt, log2n, r, p, got) == 0)
        rc = CRYPTO_memcmp(got, want, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return rc;
}
