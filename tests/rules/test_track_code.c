/* Unit tests of rules/track_code.c: DESIGN.md's examples, round trips, the error detection of the
 * Luhn mod 32 check character (measured, not assumed), and the lenient parsing of typed codes. */
#include "tap.h"
#include "track_code.h"

#include <stdint.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* A fixed-seed xorshift generator: the test is reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_code(char out[TRACK_CODE_SIZE])
{
    uint8_t r[5];
    uint64_t x = rng_next();

    for (int i = 0; i < 5; i++) r[i] = (uint8_t)(x >> (8 * i));
    track_code_make(r, out);
}

/* Index in the canonical string of the k-th code character (k in 0..8). */
static int char_index(int k)
{
    return 3 + k + k / 3;
}

static int parses(const char *s, const char *expect)
{
    char out[TRACK_CODE_SIZE];

    memset(out, 'x', sizeof(out));
    return track_code_parse(s, strlen(s), out) == TRACK_CODE_OK && strcmp(out, expect) == 0;
}

static enum track_code_result parse_result(const char *s, size_t len)
{
    char out[TRACK_CODE_SIZE];

    return track_code_parse(s, len, out);
}

static void test_design_examples(void)
{
    const uint8_t bits[5] = {0x3C, 0xC7, 0x74, 0xF7, 0x4D};
    const uint8_t zeros[5] = {0};
    const uint8_t ones[5] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const int values[8] = {7, 19, 3, 23, 9, 29, 26, 13}; /* 7K3Q9XTD */
    char out[TRACK_CODE_SIZE];

    CHECK(parses("HM-7K3-Q9X-TD8", "HM-7K3-Q9X-TD8"), "HM-7K3-Q9X-TD8 is valid (DESIGN.md)");
    CHECK(parse_result("HM-7K3-Q9X-TD4", 14) == TRACK_CODE_BAD_CHECK,
          "HM-7K3-Q9X-TD4 is a bad check (DESIGN.md)");
    CHECK(track_code_check_char(values) == '8', "check character of 7K3Q9XTD is 8");
    track_code_make(bits, out);
    CHECK(strcmp(out, "HM-7K3-Q9X-TD8") == 0, "make: the 40 bits of 7K3Q9XTD give HM-7K3-Q9X-TD8");
    CHECK(strlen(out) == TRACK_CODE_LEN, "make: canonical length is TRACK_CODE_LEN");
    track_code_make(zeros, out);
    CHECK(strcmp(out, "HM-000-000-000") == 0, "make: all zero bits");
    track_code_make(ones, out);
    CHECK(strcmp(out, "HM-ZZZ-ZZZ-ZZ8") == 0, "make: all one bits (8 * 31 = 248, check 8)");
}

static void test_round_trips(void)
{
    int ok = 0, well_formed = 0, distinct_first = 0;
    const int n = 100000;
    char first[TRACK_CODE_SIZE] = "";

    for (int i = 0; i < n; i++) {
        char code[TRACK_CODE_SIZE];
        char out[TRACK_CODE_SIZE];

        random_code(code);
        if (i == 0)
            memcpy(first, code, sizeof(first));
        else if (strcmp(first, code) != 0)
            distinct_first++;
        if (strncmp(code, "HM-", 3) == 0 && code[6] == '-' && code[10] == '-' &&
            strlen(code) == TRACK_CODE_LEN &&
            strspn(code + 3, "-0123456789ABCDEFGHJKMNPQRSTVWXYZ") == TRACK_CODE_LEN - 3)
            well_formed++;
        if (track_code_parse(code, strlen(code), out) == TRACK_CODE_OK && strcmp(out, code) == 0)
            ok++;
    }
    CHECK(well_formed == n, "100000 random codes are HM-XXX-XXX-XXX in the Crockford alphabet");
    CHECK(ok == n, "100000 random codes parse back to themselves");
    CHECK(distinct_first > n - 10, "random inputs give different codes");
}

/* Every single-character substitution by another alphabet character is refused. */
static void test_substitutions(void)
{
    long tried = 0, detected = 0, bad_check = 0;

    for (int i = 0; i < 2000; i++) {
        char code[TRACK_CODE_SIZE];

        random_code(code);
        for (int k = 0; k < 9; k++) {
            int at = char_index(k);

            for (int a = 0; a < 32; a++) {
                char typo[TRACK_CODE_SIZE];
                enum track_code_result r;

                if (alphabet[a] == code[at]) continue;
                memcpy(typo, code, sizeof(typo));
                typo[at] = alphabet[a];
                r = parse_result(typo, strlen(typo));
                tried++;
                detected += r != TRACK_CODE_OK;
                bad_check += r == TRACK_CODE_BAD_CHECK;
            }
        }
    }
    printf("# substitutions: %ld of %ld detected\n", detected, tried);
    CHECK(tried == 2000L * 9 * 31, "every position and every other character was tried");
    CHECK(detected == tried, "every single-character substitution is detected");
    CHECK(bad_check == tried, "a substitution inside the alphabet is reported as BAD_CHECK");

    /* A substitution by a character outside the alphabet is MALFORMED. */
    {
        char typo[TRACK_CODE_SIZE] = "HM-7K3-Q9X-TD8";
        int all = 1;
        const char *outside = "Uu*#_./\x80";

        for (int k = 0; k < 9; k++)
            for (const char *c = outside; *c != '\0'; c++) {
                char t[TRACK_CODE_SIZE];

                memcpy(t, typo, sizeof(t));
                t[char_index(k)] = *c;
                all &= parse_result(t, strlen(t)) == TRACK_CODE_MALFORMED;
            }
        CHECK(all, "U and other characters outside the alphabet are MALFORMED at every position");
    }
}

/* Adjacent transpositions: Luhn mod 32 misses exactly the swap of 0 and Z (values 0 and 31
 * both fold to a difference of 0), the analogue of Luhn mod 10 missing 09 <-> 90. */
static void test_transpositions(void)
{
    long tried = 0, detected = 0, missed_other = 0;

    for (int i = 0; i < 20000; i++) {
        char code[TRACK_CODE_SIZE];

        random_code(code);
        for (int k = 0; k < 8; k++) {
            int a = char_index(k), b = char_index(k + 1);
            char t[TRACK_CODE_SIZE];

            if (code[a] == code[b]) continue;
            memcpy(t, code, sizeof(t));
            t[a] = code[b];
            t[b] = code[a];
            tried++;
            if (parse_result(t, strlen(t)) != TRACK_CODE_OK) {
                detected++;
            } else {
                int zero_z =
                    (code[a] == '0' && code[b] == 'Z') || (code[a] == 'Z' && code[b] == '0');

                missed_other += !zero_z;
            }
        }
    }
    printf("# adjacent transpositions: %ld of %ld detected (%.3f%%)\n", detected, tried,
           100.0 * (double)detected / (double)tried);
    CHECK(missed_other == 0, "every adjacent transposition other than 0 <-> Z is detected");
    CHECK(detected * 1000 >= tried * 997, "at least 99.7% of adjacent transpositions are detected");

    /* Exhaustively over the pairs of distinct values at one doubled/undoubled position pair. */
    {
        int pairs = 0, missed = 0, missed_zero_z = 0;

        for (int x = 0; x < 32; x++)
            for (int y = 0; y < 32; y++) {
                int v1[8] = {5, 5, 5, 5, 5, 5, x, y};
                int v2[8] = {5, 5, 5, 5, 5, 5, y, x};

                if (x == y) continue;
                pairs++;
                if (track_code_check_char(v1) == track_code_check_char(v2)) {
                    missed++;
                    missed_zero_z += (x == 0 && y == 31) || (x == 31 && y == 0);
                }
            }
        printf("# exhaustive: %d of %d ordered pairs of distinct values missed\n", missed, pairs);
        CHECK(missed == 2 && missed_zero_z == 2,
              "exhaustively, only the 0 <-> Z transposition escapes the check (2 of 992 pairs)");
    }
}

static void test_lenient_forms(void)
{
    const int with_aliases[8] = {1, 0, 1, 0, 1, 0, 12, 13}; /* 101010CD */
    char canonical[TRACK_CODE_SIZE];
    char typed[32];

    CHECK(parses("hm-7k3-q9x-td8", "HM-7K3-Q9X-TD8"), "lower case");
    CHECK(parses("Hm-7k3-Q9x-tD8", "HM-7K3-Q9X-TD8"), "mixed case");
    CHECK(parses("HM7K3Q9XTD8", "HM-7K3-Q9X-TD8"), "no hyphens");
    CHECK(parses("7K3-Q9X-TD8", "HM-7K3-Q9X-TD8"), "no HM prefix");
    CHECK(parses("7k3q9xtd8", "HM-7K3-Q9X-TD8"), "7k3q9xtd8: no prefix, no hyphens, lower case");
    CHECK(parses("HM 7K3 Q9X TD8", "HM-7K3-Q9X-TD8"), "spaces instead of hyphens");
    CHECK(parses("  HM-7K3-Q9X-TD8 \n", "HM-7K3-Q9X-TD8"), "surrounding white space");
    CHECK(parses("H M - 7 K 3 Q9X-TD-8", "HM-7K3-Q9X-TD8"), "separators anywhere");

    snprintf(canonical, sizeof(canonical), "HM-101-010-CD%c", track_code_check_char(with_aliases));
    snprintf(typed, sizeof(typed), "hm-i0l-o1o-cd%c", canonical[13]);
    CHECK(parses(canonical, canonical), "a code with 1 and 0 parses");
    CHECK(parses(typed, canonical), "I and L read as 1, O as 0 (lower case)");
    snprintf(typed, sizeof(typed), "HM-IOL-OIO-CD%c", canonical[13]);
    CHECK(parses(typed, canonical), "I and L read as 1, O as 0 (upper case)");
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "HM",
        "HM-",
        "HM-7K3-Q9X-TD",     /* eight characters */
        "HM-7K3-Q9X-TD88",   /* ten characters */
        "7K3-Q9X-T",         /* seven characters */
        "HX-7K3-Q9X-TD8",    /* wrong prefix */
        "XM7K3Q9XTD8",       /* wrong prefix, no hyphens */
        "HM-7K3-Q9X-TDU",    /* U is not in the alphabet */
        "HM-7K3_Q9X-TD8",    /* underscore */
        "HM.7K3.Q9X.TD8",    /* dots */
        "HM-7K3-Q9X-TD8 HM", /* trailing garbage */
        ("HM-7K3-Q9X-T\xc3\x89"
         "8"), /* non-ASCII */
        "HMHM-7K3-Q9X-TD8",
    };
    char long_input[4096];
    char out[TRACK_CODE_SIZE];
    int all = 1;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        all &= parse_result(bad[i], strlen(bad[i])) == TRACK_CODE_MALFORMED;
    CHECK(all, "wrong lengths, prefixes and characters are MALFORMED");
    CHECK(parse_result("HM-7K3-Q9X-TD8-", 15) == TRACK_CODE_OK, "a trailing hyphen is ignored");
    CHECK(parse_result("HM-7K3\0Q9X-TD8", 14) == TRACK_CODE_MALFORMED,
          "an embedded NUL is MALFORMED");
    CHECK(parse_result("HM-7K3-Q9X-TD8", 13) == TRACK_CODE_MALFORMED,
          "the length argument is honoured (truncated input)");
    memset(long_input, '-', sizeof(long_input));
    memcpy(long_input + 1000, "7K3Q9XTD8", 9);
    CHECK(parse_result(long_input, sizeof(long_input)) == TRACK_CODE_OK,
          "a long run of separators around a code is fine");
    memset(long_input, 'A', sizeof(long_input));
    CHECK(parse_result(long_input, sizeof(long_input)) == TRACK_CODE_MALFORMED,
          "4096 code characters are MALFORMED");
    CHECK(track_code_parse(NULL, 0, out) == TRACK_CODE_MALFORMED, "NULL input is MALFORMED");
}

int main(void)
{
    test_design_examples();
    test_round_trips();
    test_substitutions();
    test_transpositions();
    test_lenient_forms();
    test_malformed();
    return tap_done();
}
