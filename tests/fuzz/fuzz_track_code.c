/* libFuzzer target for rules/track_code.c: whatever a citizen types or a client puts in
 * GET /v1/track/{code}. An accepted code must be canonical and parse back to itself; 40 random
 * bits must always make a code that parses. */
#include "track_code.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[TRACK_CODE_SIZE];
    char again[TRACK_CODE_SIZE];
    enum track_code_result r = track_code_parse((const char *)data, size, out);

    if (r != TRACK_CODE_OK && r != TRACK_CODE_MALFORMED && r != TRACK_CODE_BAD_CHECK) abort();
    if (r == TRACK_CODE_OK) {
        if (strlen(out) != TRACK_CODE_LEN || memcmp(out, "HM-", 3) != 0 || out[6] != '-' ||
            out[10] != '-')
            abort();
        if (track_code_parse(out, TRACK_CODE_LEN, again) != TRACK_CODE_OK ||
            strcmp(out, again) != 0)
            abort();
    }
    if (size >= 5) {
        track_code_make(data, out);
        if (track_code_parse(out, strlen(out), again) != TRACK_CODE_OK || strcmp(out, again) != 0)
            abort();
    }
    return 0;
}
