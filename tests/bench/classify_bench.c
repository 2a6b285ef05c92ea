/* The classification phase of scripts/bench: how long the rule engine takes to decide for one
 * report (rules_decide, as POST /v1/incidents calls it without a category), with the triage model
 * and with the keywords alone, over every held-out and fresh report (tests/rules/triage-*.tsv),
 * many rounds. Prints one JSON object: per-report mean, p50, p99 and max in microseconds.
 *
 *   classify_bench SOURCE_ROOT [ROUNDS]                                                       */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "rules.h"

#define MAX_REPORTS 4000

static int read_texts(const char *path, char **texts, int n)
{
    FILE *f = fopen(path, "r");
    char line[16384];

    if (f == NULL) return n;
    while (n < MAX_REPORTS && fgets(line, sizeof line, f) != NULL) {
        char *tab = strchr(line, '\t');
        size_t len;

        if (tab == NULL) continue;
        len = strlen(tab + 1);
        while (len > 0 && (tab[len] == '\n' || tab[len] == '\r')) tab[len--] = '\0';
        texts[n++] = strdup(tab + 1);
    }
    fclose(f);
    return n;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times every text rounds times; prints "name": {...} (with a comma after when more). */
static void run(const char *name, const struct rules_table *t, char **texts, int n, int rounds,
                int more)
{
    size_t count = (size_t)n * (size_t)rounds, k = 0;
    double *us = malloc(count * sizeof(*us)), sum = 0;
    struct rules_decision d;
    int classified_as[INCIDENT_CATEGORY_COUNT] = {0};

    if (us == NULL) exit(1);
    for (int i = 0; i < n; i++) { /* warm-up */
        struct incident in = {.category = INCIDENT_CATEGORY_NONE, .description = texts[i]};
        rules_decide(t, &in, &d);
    }
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            struct incident in = {.category = INCIDENT_CATEGORY_NONE, .description = texts[i]};
            long long start = now_ns();

            rules_decide(t, &in, &d);
            us[k] = (double)(now_ns() - start) / 1000.0;
            sum += us[k++];
            if (r == 0) classified_as[d.category]++;
        }
    }
    qsort(us, count, sizeof(*us), by_value);
    printf("  \"%s\": {\"reports\": %d, \"rounds\": %d, \"mean_us\": %.2f, \"p50_us\": %.2f, "
           "\"p99_us\": %.2f, \"max_us\": %.2f, \"other\": %d}%s\n",
           name, n, rounds, sum / (double)count, us[count / 2], us[count * 99 / 100], us[count - 1],
           classified_as[INCIDENT_OTHER], more ? "," : "");
    free(us);
}

int main(int argc, char **argv)
{
    static char *texts[MAX_REPORTS];
    char path[4096], err[512];
    struct rules_table *model_table, *keyword_table;
    long rounds = argc > 2 ? parse_long(argv[2], 1, 100000) : 50;
    size_t bytes = 0;
    int n = 0;

    if (argc < 2 || rounds < 0) {
        fprintf(stderr, "usage: classify_bench SOURCE_ROOT [ROUNDS]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/tests/rules/triage-holdout.tsv", argv[1]);
    n = read_texts(path, texts, n);
    snprintf(path, sizeof path, "%s/tests/rules/triage-fresh.tsv", argv[1]);
    n = read_texts(path, texts, n);
    snprintf(path, sizeof path, "%s/rules/rules.json", argv[1]);
    model_table = rules_load_file(path, err, sizeof err);
    keyword_table = rules_load_file(path, err, sizeof err);
    snprintf(path, sizeof path, "%s/rules/triage-model.tsv", argv[1]);
    if (n == 0 || model_table == NULL || keyword_table == NULL ||
        rules_load_model_file(model_table, path, err, sizeof err) != 0) {
        fprintf(stderr, "classify_bench: %s\n", n == 0 ? "no reports to classify" : err);
        return 1;
    }
    for (int i = 0; i < n; i++) bytes += strlen(texts[i]);
    printf("{\n  \"mean_bytes\": %.0f,\n", (double)bytes / n);
    run("model", model_table, texts, n, (int)rounds, 1);
    run("keywords", keyword_table, texts, n, (int)rounds, 0);
    printf("}\n");
    for (int i = 0; i < n; i++) free(texts[i]);
    rules_free(model_table);
    rules_free(keyword_table);
    return 0;
}
