/* Tracking codes (rules/track_code.h): "HM-" and nine Crockford base32 characters, eight from 40
 * random bits and a Luhn mod 32 check character, so that a mistyped code is refused without a
 * lookup. Making, checking and the lenient parsing of what a citizen types. */
#include "track_code.h"

static const char track_code_alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The value of a Crockford character, case-insensitive, with I and L read as 1 and O as 0;
 * -1 for any other character (U included). */
static int track_code_value(unsigned char c)
{
    if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 'a' + 'A');
    if (c == 'I' || c == 'L') return 1;
    if (c == 'O') return 0;
    for (int v = 0; v < 32; v++)
        if (track_code_alphabet[v] == (char)c) return v;
    return -1;
}

/* Luhn's doubling of one value, folded back into 0..31 (a permutation of 0..31). */
static int track_code_double(int v)
{
    int d = 2 * v;

    return d / 32 + d % 32;
}

char track_code_check_char(const int values[8])
{
    int sum = 0;

    /* From the eighth value leftwards, the eighth, sixth, fourth and second are doubled:
     * once the check value is appended they sit at the even distances from the right. */
    for (int i = 7; i >= 0; i--) {
        int v = values[i] & 31;

        sum += ((7 - i) % 2 == 0) ? track_code_double(v) : v;
    }
    return track_code_alphabet[(32 - sum % 32) % 32];
}

/* Writes the canonical form of eight data values and the check character into out. */
static void track_code_format(const int values[8], char check, char out[TRACK_CODE_SIZE])
{
    size_t o = 0;

    out[o++] = 'H';
    out[o++] = 'M';
    for (int i = 0; i < 9; i++) {
        if (i % 3 == 0) out[o++] = '-';
        out[o++] = i < 8 ? track_code_alphabet[values[i] & 31] : check;
    }
    out[o] = '\0';
}

void track_code_make(const uint8_t random[5], char out[TRACK_CODE_SIZE])
{
    uint64_t bits = 0;
    int values[8];

    for (int i = 0; i < 5; i++) bits = (bits << 8) | random[i];
    for (int i = 0; i < 8; i++) values[i] = (int)((bits >> (35 - 5 * i)) & 31u);
    track_code_format(values, track_code_check_char(values), out);
}

enum track_code_result track_code_parse(const char *in, size_t len, char out[TRACK_CODE_SIZE])
{
    /* The significant characters: "HM" and nine code characters at most. */
    unsigned char sig[11];
    size_t n = 0;
    const unsigned char *c;
    int values[9];

    if (in == NULL) return TRACK_CODE_MALFORMED;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];

        if (ch == '-' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
        if (n == sizeof(sig)) return TRACK_CODE_MALFORMED;
        sig[n++] = ch;
    }
    if (n == 11) {
        if ((sig[0] != 'H' && sig[0] != 'h') || (sig[1] != 'M' && sig[1] != 'm'))
            return TRACK_CODE_MALFORMED;
        c = sig + 2;
    } else if (n == 9) {
        c = sig;
    } else {
        return TRACK_CODE_MALFORMED;
    }
    for (int i = 0; i < 9; i++) {
        values[i] = track_code_value(c[i]);
        if (values[i] < 0) return TRACK_CODE_MALFORMED;
    }
    if (track_code_check_char(values) != track_code_alphabet[values[8]])
        return TRACK_CODE_BAD_CHECK;
    if (out != NULL) track_code_format(values, track_code_alphabet[values[8]], out);
    return TRACK_CODE_OK;
}
