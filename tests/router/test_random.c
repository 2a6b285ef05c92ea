/* Unit tests of router/base/random.c: token lengths and alphabet (unpadded base64url), buffer
 * limits, UUID v4 format and version/variant bits, and that two draws differ. */
#include "random.h"
#include "tap.h"

#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;

    return p != NULL ? (int)(p - b64url) : -1;
}

/* 1 when s is unpadded base64url of exactly n bytes whose unused trailing bits are zero. */
static int is_token_of(const char *s, size_t n)
{
    size_t len = strlen(s);
    size_t want = n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
    int last;

    if (len != want) return 0;
    for (size_t i = 0; i < len; i++) {
        if (b64url_value(s[i]) < 0) return 0;
    }
    last = b64url_value(s[len - 1]);
    if (n % 3 == 1 && (last & 0x0F) != 0) return 0; /* 2 chars carry 8 bits: 4 spare */
    if (n % 3 == 2 && (last & 0x03) != 0) return 0; /* 3 chars carry 16 bits: 2 spare */
    return 1;
}

static void test_bytes(void)
{
    unsigned char a[64], b[64], zero[64] = {0};

    CHECK(random_bytes(a, sizeof a) == 0 && random_bytes(b, sizeof b) == 0,
          "random_bytes fills 64 bytes twice");
    CHECK(memcmp(a, zero, sizeof a) != 0, "64 random bytes are not all zero");
    CHECK(memcmp(a, b, sizeof a) != 0, "two draws of 64 bytes differ");
    CHECK(random_bytes(a, 0) == 0, "zero bytes is a success");
}

/* Small draws come from a pool refilled now and then: across several refills no draw repeats
 * another, and every bit position takes both values. */
static void test_small_draws(void)
{
    enum { DRAWS = 400, LEN = 10 }; /* a case id's randomness; 4,000 bytes: several pools */
    static unsigned char seen[DRAWS][LEN];
    unsigned char ones[LEN] = {0}, zeros[LEN] = {0};
    int ok = 1, distinct = 1;

    for (int i = 0; i < DRAWS; i++) {
        ok &= random_bytes(seen[i], LEN) == 0;
        for (int k = 0; k < LEN; k++) {
            ones[k] |= seen[i][k];
            zeros[k] |= (unsigned char)~seen[i][k];
        }
        for (int j = 0; j < i; j++) distinct &= memcmp(seen[i], seen[j], LEN) != 0;
    }
    CHECK(ok, "400 draws of 10 bytes");
    CHECK(distinct, "no draw repeats another, across the pool's refills");
    for (int k = 0; k < LEN; k++) ok &= ones[k] == 0xff && zeros[k] == 0xff;
    CHECK(ok, "every bit of every byte is seen set and clear");
}

static void test_tokens(void)
{
    char out[512], other[512];
    int seen[64] = {0}, all = 1, ok = 1;

    for (size_t n = 1; n <= 100; n++) {
        if (random_token(out, sizeof out, n) != 0 || !is_token_of(out, n)) ok = 0;
    }
    CHECK(ok, "tokens of 1..100 bytes have the unpadded base64url length and alphabet");

    CHECK(random_token(out, sizeof out, 32) == 0 && strlen(out) == 43, "32 bytes -> 43 chars");
    CHECK(random_token(out, sizeof out, 300) == 0 && is_token_of(out, 300),
          "a token spanning several internal chunks is well-formed");
    CHECK(random_token(out, 44, 32) == 0 && strlen(out) == 43,
          "a buffer of exactly 44 bytes holds a 32-byte token");
    CHECK(random_token(out, 43, 32) == -1 && out[0] == '\0',
          "a buffer one byte short is refused and left empty");
    CHECK(random_token(out, sizeof out, 0) == -1, "a token of zero bytes is refused");
    CHECK(random_token(out, 0, 8) == -1, "a zero-length buffer is refused");

    CHECK(random_token(out, sizeof out, 32) == 0 && random_token(other, sizeof other, 32) == 0 &&
              strcmp(out, other) != 0,
          "two tokens differ");

    for (int i = 0; i < 200; i++) {
        if (random_token(out, sizeof out, 30) != 0) break;
        for (const char *p = out; *p != '\0'; p++) seen[b64url_value(*p)] = 1;
    }
    for (int i = 0; i < 64; i++) all &= seen[i];
    CHECK(all, "all 64 base64url characters occur over many tokens (- and _ included)");
}

static void test_uuid(void)
{
    char a[37], b[37];
    int format = 1;

    CHECK(random_uuid(a) == 0 && random_uuid(b) == 0, "two UUIDs drawn");
    CHECK(strlen(a) == 36, "a UUID is 36 characters");
    for (int i = 0; i < 36; i++) {
        int hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        char c = a[i];

        if (hyphen ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) format = 0;
    }
    CHECK(format, "UUID is 8-4-4-4-12 lowercase hex");
    CHECK(a[14] == '4', "UUID version nibble is 4");
    CHECK(strchr("89ab", a[19]) != NULL, "UUID variant is RFC 4122 (8, 9, a or b)");
    CHECK(strcmp(a, b) != 0, "two UUIDs differ");

    format = 1;
    for (int i = 0; i < 200; i++) {
        if (random_uuid(a) != 0 || a[14] != '4' || strchr("89ab", a[19]) == NULL) format = 0;
    }
    CHECK(format, "200 UUIDs all carry version 4 and the RFC 4122 variant");
}

int main(void)
{
    test_bytes();
    test_small_draws();
    test_tokens();
    test_uuid();
    return tap_done();
}
