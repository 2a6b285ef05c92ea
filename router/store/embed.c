/* Build-time helper: turns a text file (the Redis function library) into a C source file that
 * defines `const char NAME[]` with its bytes and `const unsigned long NAME_len`.
 * Usage: embed INPUT OUTPUT NAME */
#include <stdio.h>

int main(int argc, char **argv)
{
    int rc = 1;
    FILE *in = NULL, *out = NULL;
    unsigned long n = 0;
    int ch;

    if (argc != 4) {
        fprintf(stderr, "usage: %s INPUT OUTPUT NAME\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        perror("embed");
        goto done;
    }
    fprintf(out, "/* Generated from %s by embed: do not edit. */\n", argv[1]);
    fprintf(out, "const char %s[] = {", argv[3]);
    while ((ch = fgetc(in)) != EOF) {
        fprintf(out, "%s%d,", (n % 20 == 0) ? "\n    " : "", ch);
        n++;
    }
    fprintf(out, "\n    0};\nconst unsigned long %s_len = %lu;\n", argv[3], n);
    rc = ferror(in) || ferror(out) ? 1 : 0;
done:
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = 1;
    return rc;
}
