/* Thai word boundaries through libthai (see thai_words.h). libthai works in TIS-620, one byte per
 * Thai character; every Thai character is three bytes in UTF-8, so offsets convert by a factor of
 * three. th_brk_find_breaks builds its working state per call, so one breaker serves any number of
 * callers at once. */
#include "thai_words.h"

#include <stdio.h>
#include <stdlib.h>
#include <thai/thbrk.h>
#include <thai/thwchar.h>

#define THAI_RUN_STACK 256 /* Thai characters cut without an allocation */

struct thai_words {
    ThBrk *brk;
};

struct thai_words *thai_words_open(char *err, size_t errlen)
{
    struct thai_words *tw = calloc(1, sizeof(*tw));

    if (tw == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    tw->brk = th_brk_new(NULL);
    if (tw->brk == NULL) {
        snprintf(err, errlen, "cannot load libthai's word-break dictionary (package libthai-data)");
        free(tw);
        return NULL;
    }
    return tw;
}

void thai_words_free(struct thai_words *tw)
{
    if (tw == NULL) return;
    th_brk_delete(tw->brk);
    free(tw);
}

int thai_words_is_thai(uint32_t cp)
{
    return cp >= 0x0E01 && cp <= 0x0E5B;
}

int thai_words_cut(const struct thai_words *tw, const char *s, size_t len, size_t *cuts,
                   size_t maxcuts)
{
    thchar_t stack_tis[THAI_RUN_STACK + 1];
    int stack_pos[THAI_RUN_STACK];
    thchar_t *tis = stack_tis;
    int *pos = stack_pos;
    size_t n = len / 3, k = 0;
    int found;

    if (tw == NULL || len % 3 != 0) return -1;
    if (n == 0) return 0;
    if (n > THAI_RUN_STACK) {
        tis = malloc(n + 1);
        pos = malloc(n * sizeof(*pos));
        if (tis == NULL || pos == NULL) {
            k = (size_t)-1;
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = (const unsigned char *)s + 3 * i;
        uint32_t cp =
            ((uint32_t)(c[0] & 0x0F) << 12) | ((uint32_t)(c[1] & 0x3F) << 6) | (c[2] & 0x3F);

        if ((c[0] & 0xF0) != 0xE0 || !thai_words_is_thai(cp)) {
            k = (size_t)-1;
            goto out;
        }
        tis[i] = th_uni2tis((thwchar_t)cp);
    }
    tis[n] = 0;
    /* The breaker's own bound is one cut per character; the last cut (the end) is not kept. */
    found = th_brk_find_breaks(tw->brk, tis, pos, n);
    for (int i = 0; i < found && k < maxcuts; i++) {
        if (pos[i] > 0 && (size_t)pos[i] < n) cuts[k++] = 3 * (size_t)pos[i];
    }
out:
    if (tis != stack_tis) free(tis);
    if (pos != stack_pos) free(pos);
    return k == (size_t)-1 ? -1 : (int)k;
}
