/* libFuzzer target for rules/text.c: free text from LINE chats and hotline descriptions.
 * Folding must give valid UTF-8 no longer than its input, be idempotent, and leave no ASCII
 * upper case, white space or punctuation; validation must agree with folding on valid input. */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t n = 0, n2 = 0;
    int valid = text_utf8_valid(s, size);
    char *f = text_fold(s, size, &n);
    char *f2 = NULL;

    if (f == NULL) abort();
    if (n > size || strlen(f) != n || !text_utf8_valid(f, n)) abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)f[i];

        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) abort();
    }
    f2 = text_fold(f, n, &n2);
    if (f2 == NULL || n2 != n || memcmp(f, f2, n) != 0) abort();
    /* When nothing was dropped, folding only lower-cased ASCII letters. */
    if (valid && n == size) {
        for (size_t i = 0; i < n; i++)
            if (f[i] != s[i] && !(s[i] >= 'A' && s[i] <= 'Z' && f[i] == s[i] - 'A' + 'a')) abort();
    }
    free(f2);
    free(f);
    return 0;
}
