/* triage-train: learns the triage model from a labelled corpus and writes its weights file.
 *
 *   triage-train --rules rules/rules.json --corpus rules/triage/corpus.tsv \
 *                --out rules/triage-model.tsv [--folds 5]
 *   triage-train --words TEXT        (how the features read TEXT: words, "!" negated, "|" clauses)
 *
 * The corpus has one report per line, "code<TAB>text". Every report gives the features of
 * triage_features.h (the rule table's keywords among them); a feature seen in fewer than two
 * reports is dropped. The model is a multinomial logistic regression with an L2 penalty, fitted by
 * AdaGrad in a fixed order, so the same corpus and table give the same file. It has no bias (the
 * file's bias line is zeros): a report the model cannot read gets even odds, so it is unsure, never
 * an "other" by default. Before the final fit,
 * a k-fold cross-validation on the corpus alone chooses the two confidence thresholds (and prints
 * what it measured): "other" is confident from the lowest probability at which at most 0.5% of the
 * emergencies would be filed as a confident "other", an emergency guess from the lowest at which
 * the confident guesses are right at least 96% of the time. Held-out reports are never read. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_internal.h"
#include "thai_words.h"
#include "triage_features.h"
#include "triage_model.h"

#define NCLASS INCIDENT_CATEGORY_COUNT
#define MIN_REPORTS 2        /* a feature must appear in this many reports to be kept */
#define EPOCHS 40            /* passes of AdaGrad over the corpus */
#define LEARNING_RATE 0.5    /* AdaGrad's base step */
#define L2 0.00002           /* penalty per weight, per report seen */
#define KEEP_WEIGHT 0.0005   /* a feature whose weights are all smaller is not written */
#define OTHER_SINK_MAX 0.005 /* emergencies as confident "other", at most, in cross-validation */
#define CONFIDENT_RIGHT                                                                            \
    0.96 /* confident emergency guesses right, at least, in cross-validation                       \
          */

struct entry {
    uint32_t feature;
    float value;
};

struct report {
    int label;
    struct entry *x; /* owned */
    size_t n;
};

struct vocabulary {
    char **names; /* owned */
    uint32_t *reports;
    size_t n, cap;
    uint64_t *keys; /* open addressing: hash (0 empty) */
    uint32_t *index;
    size_t mask;
};

static _Noreturn void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "triage-train: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

static void *must(void *p)
{
    if (p == NULL) die("out of memory%s%s", "", "");
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;

    if (f == NULL) die("%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("%s: cannot be read%s", path, "");
    buf = must(malloc((size_t)size + 1));
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) die("%s: cannot be read%s", path, "");
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void vocabulary_grow(struct vocabulary *v)
{
    size_t size = v->mask ? 2 * (v->mask + 1) : 1 << 16;
    uint64_t *keys = must(calloc(size, sizeof(*keys)));
    uint32_t *index = must(calloc(size, sizeof(*index)));

    for (size_t s = 0; v->mask && s <= v->mask; s++) {
        size_t t;
        if (v->keys[s] == 0) continue;
        for (t = v->keys[s] & (size - 1); keys[t] != 0; t = (t + 1) & (size - 1)) {
        }
        keys[t] = v->keys[s];
        index[t] = v->index[s];
    }
    free(v->keys);
    free(v->index);
    v->keys = keys;
    v->index = index;
    v->mask = size - 1;
}

/* The index of the feature named name (added when new). */
static uint32_t vocabulary_id(struct vocabulary *v, const struct triage_feature *f)
{
    uint64_t h = f->hash ? f->hash : 1;
    size_t s;

    if (2 * (v->n + 1) > v->mask) vocabulary_grow(v);
    for (s = h & v->mask; v->keys[s] != 0; s = (s + 1) & v->mask) {
        if (v->keys[s] == h) return v->index[s];
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1 << 16;
        v->names = must(realloc(v->names, v->cap * sizeof(*v->names)));
        v->reports = must(realloc(v->reports, v->cap * sizeof(*v->reports)));
    }
    v->names[v->n] = must(strdup(f->name));
    v->reports[v->n] = 0;
    v->keys[s] = h;
    v->index[s] = (uint32_t)v->n;
    return (uint32_t)v->n++;
}

static int by_feature(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

/* Reads the corpus into reports (features summed per report, sorted by index). */
static struct report *read_corpus(const char *path, const struct rules_table *rules,
                                  const struct thai_words *tw, struct vocabulary *v, size_t *count)
{
    size_t len, n = 0, cap = 0;
    char *text = read_file(path, &len), *line = text;
    struct report *reports = NULL;
    struct triage_feature_set set = {.with_names = 1};
    int lineno = 0;

    while (line < text + len) {
        char *nl = strchr(line, '\n'), *tab, where[64];
        struct rules_scan scan;
        struct report *r;
        int label;
        size_t k = 0;

        if (nl) *nl = '\0';
        lineno++;
        snprintf(where, sizeof where, "%d", lineno);
        if (*line == '\0') die("%s:%s: an empty line", path, where);
        if ((tab = strchr(line, '\t')) == NULL) die("%s:%s: expected code<TAB>text", path, where);
        *tab = '\0';
        label = incident_category_parse(line, strlen(line));
        if (label == INCIDENT_CATEGORY_NONE) die("%s:%s: unknown category code", path, where);
        if (rules_scan_text(rules, tab + 1, strlen(tab + 1), &scan) != 0 ||
            triage_features_extract(tw, tab + 1, strlen(tab + 1), scan.score, &set) != 0)
            die("out of memory%s%s", "", "");
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            reports = must(realloc(reports, cap * sizeof(*reports)));
        }
        r = &reports[n++];
        r->label = label;
        r->x = must(malloc((set.n ? set.n : 1) * sizeof(*r->x)));
        for (size_t i = 0; i < set.n; i++) {
            r->x[i].feature = vocabulary_id(v, &set.items[i]);
            r->x[i].value = set.items[i].value;
        }
        qsort(r->x, set.n, sizeof(*r->x), by_feature);
        for (size_t i = 0; i < set.n; i++) { /* repeats summed */
            if (k > 0 && r->x[k - 1].feature == r->x[i].feature)
                r->x[k - 1].value += r->x[i].value;
            else
                r->x[k++] = r->x[i];
        }
        r->n = k;
        for (size_t i = 0; i < k; i++) v->reports[r->x[i].feature]++;
        line = nl ? nl + 1 : text + len;
    }
    triage_features_free(&set);
    free(text);
    *count = n;
    return reports;
}

/* Drops the features seen in fewer than MIN_REPORTS reports (keyword features are kept). */
static void prune_rare(struct report *reports, size_t n, const struct vocabulary *v)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < reports[i].n; j++) {
            uint32_t f = reports[i].x[j].feature;
            if (v->reports[f] >= MIN_REPORTS || strncmp(v->names[f], "k:", 2) == 0)
                reports[i].x[k++] = reports[i].x[j];
        }
        reports[i].n = k;
    }
}

struct model {
    double *w; /* (nfeatures + 1) * NCLASS: the bias last */
    size_t nfeatures;
};

static void predict(const struct model *m, const struct report *r, double p[NCLASS])
{
    const double *bias = &m->w[m->nfeatures * NCLASS];
    double top, sum = 0;

    for (int c = 0; c < NCLASS; c++) p[c] = bias[c];
    for (size_t j = 0; j < r->n; j++) {
        const double *w = &m->w[(size_t)r->x[j].feature * NCLASS];
        for (int c = 0; c < NCLASS; c++) p[c] += r->x[j].value * w[c];
    }
    top = p[0];
    for (int c = 1; c < NCLASS; c++) top = p[c] > top ? p[c] : top;
    for (int c = 0; c < NCLASS; c++) sum += (p[c] = exp(p[c] - top));
    for (int c = 0; c < NCLASS; c++) p[c] /= sum;
}

/* Fits the model on the reports for which use[i] is set. */
static void fit(struct model *m, const struct report *reports, size_t n, const unsigned char *use)
{
    size_t size = (m->nfeatures + 1) * NCLASS;
    double *g2 = must(calloc(size, sizeof(*g2)));
    size_t *order = must(malloc(n * sizeof(*order)));
    uint64_t seed = 0x9e3779b97f4a7c15u;

    memset(m->w, 0, size * sizeof(*m->w));
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        for (size_t i = n; i > 1; i--) { /* a fixed shuffle per epoch */
            size_t j;
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            j = (size_t)(seed >> 33) % i;
            size_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t o = 0; o < n; o++) {
            const struct report *r = &reports[order[o]];
            double p[NCLASS];

            if (!use[order[o]]) continue;
            predict(m, r, p);
            p[r->label] -= 1.0;                 /* the gradient of the log-loss over z */
            for (size_t j = 0; j < r->n; j++) { /* the bias is not learned: see the top */
                size_t f = r->x[j].feature;
                double x = r->x[j].value;

                for (int c = 0; c < NCLASS; c++) {
                    size_t at = f * NCLASS + (size_t)c;
                    double g = p[c] * x + L2 * m->w[at];

                    g2[at] += g * g;
                    m->w[at] -= LEARNING_RATE * g / (sqrt(g2[at]) + 1e-8);
                }
            }
        }
    }
    free(g2);
    free(order);
}

static int argmax(const double p[NCLASS])
{
    int best = 0;
    for (int c = 1; c < NCLASS; c++) best = p[c] > p[best] ? c : best;
    return best;
}

static void print_matrix(int m[NCLASS][NCLASS])
{
    printf("%-14s", "label \\ guess");
    for (int c = 0; c < NCLASS; c++) printf(" %13s", incident_category_code(c));
    printf("\n");
    for (int a = 0; a < NCLASS; a++) {
        printf("%-14s", incident_category_code(a));
        for (int c = 0; c < NCLASS; c++) printf(" %13d", m[a][c]);
        printf("\n");
    }
}

/* Cross-validates on the corpus, prints what it found and chooses the two thresholds. */
static void cross_validate(struct model *m, const struct report *reports, size_t n, int folds,
                           double *confident, double *confident_other)
{
    double(*prob)[NCLASS] = must(malloc(n * sizeof(*prob)));
    unsigned char *use = must(calloc(n ? n : 1, 1));
    int matrix[NCLASS][NCLASS] = {{0}}, right = 0;

    for (int k = 0; k < folds; k++) {
        for (size_t i = 0; i < n; i++) use[i] = (int)(i % (size_t)folds) != k;
        fit(m, reports, n, use);
        for (size_t i = 0; i < n; i++) {
            if (!use[i]) predict(m, &reports[i], prob[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        int g = argmax(prob[i]);
        matrix[reports[i].label][g]++;
        right += g == reports[i].label;
    }
    printf("cross-validation (%d folds, %zu reports): %.1f%% right\n", folds, n,
           100.0 * right / (double)n);
    print_matrix(matrix);

    *confident_other = 0.95;
    for (double t = 0.30; t <= 0.951; t += 0.05) {
        size_t sunk = 0, emergencies = 0;
        for (size_t i = 0; i < n; i++) {
            if (reports[i].label == INCIDENT_OTHER) continue;
            emergencies++;
            sunk += argmax(prob[i]) == INCIDENT_OTHER && prob[i][INCIDENT_OTHER] >= t;
        }
        if ((double)sunk <= OTHER_SINK_MAX * (double)emergencies) {
            *confident_other = t;
            break;
        }
    }
    *confident = 0.95;
    printf("threshold  confident emergencies  right\n");
    for (double t = 0.30; t <= 0.951; t += 0.05) {
        size_t sure = 0, ok = 0, guesses = 0;
        for (size_t i = 0; i < n; i++) {
            int g = argmax(prob[i]);
            if (g == INCIDENT_OTHER) continue;
            guesses++;
            if (prob[i][g] < t) continue;
            sure++;
            ok += g == reports[i].label;
        }
        printf("%9.2f  %10zu of %-8zu  %5.1f%%\n", t, sure, guesses,
               sure ? 100.0 * (double)ok / (double)sure : 0.0);
        if (*confident == 0.95 && sure && (double)ok >= CONFIDENT_RIGHT * (double)sure)
            *confident = t;
    }
    printf("chosen: confident %.2f, confident_other %.2f\n", *confident, *confident_other);
    free(prob);
    free(use);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void write_model(const char *path, const struct model *m, const struct vocabulary *v,
                        const char *corpus_digest, const char *keywords_digest, double confident,
                        double confident_other)
{
    FILE *f = fopen(path, "w");
    char **order = must(malloc((v->n ? v->n : 1) * sizeof(*order)));
    size_t kept = 0;
    const double *bias = &m->w[m->nfeatures * NCLASS];

    if (f == NULL) die("%s: %s", path, strerror(errno));
    for (size_t i = 0; i < v->n; i++) {
        double top = 0;
        for (int c = 0; c < NCLASS; c++) top = fmax(top, fabs(m->w[i * NCLASS + c]));
        if (top >= KEEP_WEIGHT) order[kept++] = v->names[i];
    }
    qsort(order, kept, sizeof(*order), by_name);
    fprintf(f, "# ESS Router triage model: multinomial logistic regression over the features of\n"
               "# rules/triage_features.h. Written by scripts/train-triage from the corpus whose\n"
               "# digest it records; do not edit by hand.\n");
    fprintf(f, "version\t%d\nfeatures_version\t%d\nclasses", TRIAGE_MODEL_VERSION,
            TRIAGE_FEATURES_VERSION);
    for (int c = 0; c < NCLASS; c++) fprintf(f, "\t%s", incident_category_code(c));
    fprintf(f, "\ncorpus\t%s\nkeywords\t%s\nconfident\t%.2f\nconfident_other\t%.2f\n",
            corpus_digest, keywords_digest, confident, confident_other);
    fprintf(f, "weights\t%zu\nbias", kept);
    for (int c = 0; c < NCLASS; c++) fprintf(f, "\t%.4f", bias[c]);
    fprintf(f, "\n");
    for (size_t k = 0; k < kept; k++) {
        uint64_t h = triage_feature_hash(order[k], strlen(order[k]));
        size_t s, i;

        for (s = (h ? h : 1) & v->mask; v->keys[s] != (h ? h : 1); s = (s + 1) & v->mask) {
        }
        i = v->index[s];
        fprintf(f, "%s", order[k]);
        for (int c = 0; c < NCLASS; c++) fprintf(f, "\t%.4f", m->w[i * NCLASS + c] + 0.0);
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) die("%s: cannot be written%s", path, "");
    printf("%s: %zu features of %zu kept\n", path, kept, v->n);
    free(order);
}

int main(int argc, char **argv)
{
    const char *rules_path = "rules/rules.json", *corpus = "rules/triage/corpus.tsv";
    const char *out = "rules/triage-model.tsv", *words = NULL;
    int folds = 5;
    char err[512], corpus_digest[TRIAGE_DIGEST_SIZE], keywords_digest[RULES_DIGEST_SIZE];
    struct rules_table *rules;
    struct thai_words *tw;
    struct vocabulary v = {0};
    struct report *reports;
    struct model m = {0};
    unsigned char *use;
    size_t n, len;
    double confident, confident_other;
    char *bytes;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            rules_path = argv[++i];
        else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
            corpus = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--words") == 0 && i + 1 < argc)
            words = argv[++i];
        else if (strcmp(argv[i], "--folds") == 0 && i + 1 < argc)
            folds = (int)strtol(argv[++i], NULL, 10) >= 2 ? (int)strtol(argv[i], NULL, 10) : 5;
        else
            die("usage: triage-train [--rules FILE] [--corpus FILE] [--out FILE] [--folds K]%s%s",
                "", "");
    }
    if ((rules = rules_load_file(rules_path, err, sizeof err)) == NULL) die("%s%s", err, "");
    if ((tw = thai_words_open(err, sizeof err)) == NULL) die("%s%s", err, "");
    if (words != NULL) { /* how the features read one text: for tuning */
        char seen[8192];
        triage_features_words(tw, words, strlen(words), seen, sizeof seen);
        printf("%s\n", seen);
        thai_words_free(tw);
        rules_free(rules);
        return 0;
    }
    bytes = read_file(corpus, &len);
    triage_digest(bytes, len, corpus_digest);
    free(bytes);
    rules_keywords_digest(rules, keywords_digest);

    reports = read_corpus(corpus, rules, tw, &v, &n);
    prune_rare(reports, n, &v);
    m.nfeatures = v.n;
    m.w = must(malloc((v.n + 1) * NCLASS * sizeof(*m.w)));
    cross_validate(&m, reports, n, folds, &confident, &confident_other);
    use = must(malloc(n));
    memset(use, 1, n);
    fit(&m, reports, n, use);
    write_model(out, &m, &v, corpus_digest, keywords_digest, confident, confident_other);

    for (size_t i = 0; i < n; i++) free(reports[i].x);
    free(reports);
    for (size_t i = 0; i < v.n; i++) free(v.names[i]);
    free(v.names);
    free(v.reports);
    free(v.keys);
    free(v.index);
    free(m.w);
    free(use);
    thai_words_free(tw);
    rules_free(rules);
    return 0;
}
