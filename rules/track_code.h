/* Tracking codes: "HM-" then nine Crockford base32 characters in groups of three, the first eight
 * from a CSPRNG (40 bits) and the ninth a Luhn mod 32 check character (DESIGN.md, e-Tracking).
 * Pure: the caller supplies the random bytes. */
#ifndef ESS_RULES_TRACK_CODE_H
#define ESS_RULES_TRACK_CODE_H

#include <stddef.h>
#include <stdint.h>

/* "HM-7K3-Q9X-TD8" and its NUL. */
#define TRACK_CODE_LEN 14
#define TRACK_CODE_SIZE (TRACK_CODE_LEN + 1)

enum track_code_result {
    TRACK_CODE_OK = 0,
    TRACK_CODE_MALFORMED = -1, /* wrong length, prefix or characters */
    TRACK_CODE_BAD_CHECK = -2  /* well formed, but the check character does not match */
};

/* Writes the canonical code for the 40 bits in random[0..5) into out (TRACK_CODE_SIZE bytes). */
void track_code_make(const uint8_t random[5], char out[TRACK_CODE_SIZE]);

/* The Luhn mod 32 check character over eight Crockford values (each 0..31). */
char track_code_check_char(const int values[8]);

/* Parses user input leniently: case-insensitive, hyphens and spaces optional, the "HM" prefix
 * optional, I and L read as 1, O as 0. On TRACK_CODE_OK writes the canonical form to out. */
enum track_code_result track_code_parse(const char *in, size_t len, char out[TRACK_CODE_SIZE]);

#endif
