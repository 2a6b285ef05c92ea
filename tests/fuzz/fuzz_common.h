/* What the fuzz targets of request parts share: libFuzzer's entry point and the input as a C
 * string. Static functions: each target includes it once. */
#ifndef ESS_TESTS_FUZZ_COMMON_H
#define ESS_TESTS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..size) as a NUL-terminated heap string the caller frees; NULL when memory runs out. A
 * request holds no NUL: what follows one in the input is not read. */
static char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL) return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
