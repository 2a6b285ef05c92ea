/* Unit tests of router/base/log.c: the escaping of untrusted text into one printable line
 * (controls, backslashes, invalid UTF-8, C1 controls, line separators, a full buffer, a message
 * cut inside a UTF-8 sequence) and whole lines written by log_write. */
#include "log.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when escaping msg[0..n) into cap bytes gives exactly expect, with *cut as want_cut. */
static int escapes_to(const char *msg, size_t n, size_t cap, int cut_input, const char *expect,
                      int want_cut)
{
    char out[256];
    int cut = -1;
    size_t len = log_escape(out, cap, msg, n, cut_input, &cut);
    int ok = len == strlen(expect) && memcmp(out, expect, len) == 0 && cut == want_cut;

    if (!ok) printf("# escaped to \"%.*s\" (cut %d)\n", (int)len, out, cut);
    return ok;
}

#define ESC(lit, expect) escapes_to((lit), sizeof(lit) - 1, 256, 0, (expect), 0)

static void test_escape(void)
{
    CHECK(ESC("case c-1 assigned", "case c-1 assigned"), "printable ASCII is kept");
    CHECK(ESC("ทีมกู้ภัย", "ทีมกู้ภัย"), "Thai text is kept");
    CHECK(ESC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"), "an emoji is kept");
    CHECK(ESC("a\nb\rc\td\\e", "a\\nb\\rc\\td\\\\e"), "newline, return, tab and backslash");
    CHECK(ESC("x\nINFO forged", "x\\nINFO forged"), "a newline cannot start a forged line");
    CHECK(ESC("\x01\x1b[31m\x7f", "\\x01\\x1b[31m\\x7f"), "other controls and DEL as \\xHH");
    CHECK(escapes_to("a\0b", 3, 256, 0, "a\\x00b", 0), "a NUL byte as \\x00");
    CHECK(ESC("\xc2\x85", "\\u0085"), "a C1 control (NEL) as \\u0085");
    CHECK(ESC("\xc2\x9f\xc2\xa0", "\\u009f\xc2\xa0"), "C1 ends at U+009F; U+00A0 is kept");
    CHECK(ESC("a\xe2\x80\xa8"
              "b\xe2\x80\xa9",
              "a\\u2028b\\u2029"),
          "line and paragraph separators as \\u2028, \\u2029");
    CHECK(ESC("\xe2\x80\xa7", "\xe2\x80\xa7"), "U+2027 next to them is kept");
    CHECK(ESC("\xff\xfe", "\\xff\\xfe"), "bytes that are never UTF-8 as \\xHH");
    CHECK(ESC("\xc0\xaf", "\\xc0\\xaf"), "an overlong as \\xHH");
    CHECK(ESC("\xed\xa0\x80", "\\xed\\xa0\\x80"), "a surrogate as \\xHH");
    CHECK(ESC("\xe0\xb8", "\\xe0\\xb8"), "a sequence cut short, not by the formatter, as \\xHH");
    CHECK(escapes_to("ok\xe0\xb8", 4, 256, 1, "ok", 0),
          "a message cut by the formatter drops its incomplete last sequence");
    CHECK(escapes_to("ok\xff", 3, 256, 1, "ok\\xff", 0),
          "a cut message still escapes a byte that starts no sequence");
    CHECK(escapes_to("abcdef", 6, 4, 0, "abcd", 1), "a full buffer cuts and says so");
    CHECK(escapes_to("ab\ncd", 5, 3, 0, "ab", 1), "an escape is never cut in half");
    CHECK(escapes_to("a\xe0\xb8\x81", 4, 3, 0, "a", 1), "a character is never cut in half");
    CHECK(escapes_to("abcd", 4, 4, 0, "abcd", 0), "a message that fits exactly is not cut");
}

/* Runs log_write with stderr sent to a temporary file; returns what was written (caller frees). */
static char *captured(enum log_level level, const char *msg)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    char *out = NULL;
    long size;

    if (tmp == NULL || saved < 0) goto done;
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    log_write(level, "%s", msg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    size = ftell(tmp);
    if (size < 0 || fseek(tmp, 0, SEEK_SET) != 0) goto done;
    out = calloc((size_t)size + 1, 1);
    if (out != NULL && fread(out, 1, (size_t)size, tmp) != (size_t)size) {
        free(out);
        out = NULL;
    }
done:
    if (saved >= 0) close(saved);
    if (tmp != NULL) fclose(tmp);
    return out;
}

static void test_write(void)
{
    char *line = captured(LOG_LEVEL_WARN, "bad\nline");
    char *big;
    size_t n;

    CHECK(line != NULL && strlen(line) > 25 && line[4] == '-' && line[10] == 'T' &&
              strstr(line, "Z WARN bad\\nline\n") != NULL,
          "a line: time, level, the escaped message and one newline");
    CHECK(line != NULL && strchr(line, '\n') == line + strlen(line) - 1,
          "the only newline ends the line");
    free(line);

    big = malloc(5000);
    if (big != NULL) {
        memset(big, '\n', 4999);
        big[4999] = '\0';
    }
    line = big != NULL ? captured(LOG_LEVEL_ERROR, big) : NULL;
    n = line != NULL ? strlen(line) : 0;
    CHECK(n > 0 && n <= 2048 && line[n - 1] == '\n' && strchr(line, '\n') == line + n - 1,
          "a message of newlines stays one line within the line limit");
    CHECK(n > 4 && memcmp(line + n - 4, "\xe2\x80\xa6\n", 4) == 0,
          "a cut line ends with an ellipsis (U+2026)");
    free(line);
    free(big);
}

int main(void)
{
    log_min_level = LOG_LEVEL_DEBUG;
    test_escape();
    test_write();
    return tap_done();
}
