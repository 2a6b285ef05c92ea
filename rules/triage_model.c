/* The triage model's weights and the softmax that turns a text's features into probabilities (see
 * triage_model.h for the file's format). Features are found by their 64-bit hash in an
 * open-addressing table built at load time, so a text costs one probe per feature. */
#include "triage_model.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triage_features.h"

#define NCLASS INCIDENT_CATEGORY_COUNT
#define MAX_LINE_WORDS 8
#define MAX_FEATURES 4000000

/* One slot of the table: a feature's hash (0: empty) and its weights, 32 bytes, so that finding
 * a feature costs one cache line. */
struct slot {
    uint64_t key;
    float w[NCLASS];
};

struct triage_model {
    double bias[NCLASS];
    struct slot *slots; /* owned: an open-addressing table, a power of two long */
    size_t nfeatures, mask;
    double confident, confident_other;
    char corpus[TRIAGE_DIGEST_SIZE], keywords[TRIAGE_DIGEST_SIZE];
};

void triage_digest(const void *bytes, size_t len, char out[TRIAGE_DIGEST_SIZE])
{
    snprintf(out, TRIAGE_DIGEST_SIZE, "%016llx", (unsigned long long)triage_bytes_hash(bytes, len));
}

void triage_model_free(struct triage_model *m)
{
    if (m == NULL) return;
    free(m->slots);
    free(m);
}

/* A parse in progress: the cursor, the line number and where errors go. */
struct reader {
    const char *p, *end, *name;
    int line;
    char *err;
    size_t errlen;
};

static int fail(struct reader *r, const char *fmt, const char *what, const char *detail)
{
    char msg[256];

    snprintf(msg, sizeof msg, fmt, what, detail);
    snprintf(r->err, r->errlen, "%s:%d: %s", r->name, r->line, msg);
    return -1;
}

/* The next line that is neither empty nor a comment, cut at tabs into words (at most
 * MAX_LINE_WORDS; the words point into line, a copy the caller provides of at most linesz bytes).
 * The number of words, 0 at the end, or -1 (with the error) on a line too long. */
static int next_line(struct reader *r, char *line, size_t linesz, char *words[MAX_LINE_WORDS])
{
    while (r->p < r->end) {
        const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        size_t len = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
        int n = 0;

        r->line++;
        if (len >= linesz) return fail(r, "%s%s", "line too long", "");
        memcpy(line, r->p, len);
        line[len] = '\0';
        r->p += len + (nl != NULL);
        if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        for (char *at = line; at != NULL && n < MAX_LINE_WORDS;) {
            char *tab = strchr(at, '\t');

            words[n++] = at;
            if (tab) *tab++ = '\0';
            at = tab;
        }
        return n;
    }
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

static int parse_weights(struct reader *r, char **words, int n, const char *name, double *out)
{
    if (n != NCLASS + 1) return fail(r, "feature '%s': expected %s weights", name, "6");
    for (int c = 0; c < NCLASS; c++) {
        /* The table keeps floats: a larger weight would be infinite there, every probability NaN */
        if (parse_number(words[c + 1], &out[c]) != 0 || fabs(out[c]) > FLT_MAX)
            return fail(r, "feature '%s': '%s' is not a finite number", name, words[c + 1]);
    }
    return 0;
}

/* Reads "key<TAB>value" with the given key. */
static const char *header(struct reader *r, char *line, size_t linesz, const char *key)
{
    char *words[MAX_LINE_WORDS];
    int n = next_line(r, line, linesz, words);

    if (n < 0) return NULL;
    if (n == 0) {
        fail(r, "expected '%s'%s", key, " before the end of the file");
        return NULL;
    }
    if (strcmp(words[0], key) != 0 || n != 2) {
        fail(r, "expected '%s' and one value%s", key, "");
        return NULL;
    }
    return words[1];
}

static int header_probability(struct reader *r, char *line, size_t linesz, const char *key,
                              double *out)
{
    const char *v = header(r, line, linesz, key);

    if (v == NULL) return -1;
    if (parse_number(v, out) != 0 || *out < 0 || *out > 1)
        return fail(r, "%s: expected a number from 0 to 1, got '%s'", key, v);
    return 0;
}

static int header_digest(struct reader *r, char *line, size_t linesz, const char *key,
                         char out[TRIAGE_DIGEST_SIZE])
{
    const char *v = header(r, line, linesz, key);

    if (v == NULL) return -1;
    if (strlen(v) != TRIAGE_DIGEST_SIZE - 1 || strspn(v, "0123456789abcdef") != strlen(v))
        return fail(r, "%s: expected 16 lowercase hex digits, got '%s'", key, v);
    memcpy(out, v, TRIAGE_DIGEST_SIZE);
    return 0;
}

static int header_integer(struct reader *r, char *line, size_t linesz, const char *key, long min,
                          long max, long *out)
{
    const char *v = header(r, line, linesz, key);
    char *end;

    if (v == NULL) return -1;
    errno = 0;
    *out = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || *out < min || *out > max)
        return fail(r, "%s: '%s' is out of range", key, v);
    return 0;
}

static int valid_name(const char *name)
{
    static const char *const kinds[] = {"w:", "b:", "c:", "k:"};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strncmp(name, kinds[i], 2) == 0 && name[2] != '\0') return 1;
    }
    return 0;
}

/* Puts a feature with hash h and weights w in the table; -1 when the hash is there already. */
static int table_put(struct triage_model *m, uint64_t h, const double w[NCLASS])
{
    size_t s;

    if (h == 0) h = 1; /* 0 marks an empty slot */
    for (s = h & m->mask; m->slots[s].key != 0; s = (s + 1) & m->mask) {
        if (m->slots[s].key == h) return -1;
    }
    m->slots[s].key = h;
    for (int c = 0; c < NCLASS; c++) m->slots[s].w[c] = (float)w[c];
    return 0;
}

static const float *table_get(const struct triage_model *m, uint64_t h)
{
    if (h == 0) h = 1;
    for (size_t s = h & m->mask; m->slots[s].key != 0; s = (s + 1) & m->mask) {
        if (m->slots[s].key == h) return m->slots[s].w;
    }
    return NULL;
}

static int read_model(struct reader *r, struct triage_model *m)
{
    char line[4096];
    char *words[MAX_LINE_WORDS];
    long version, count;
    double w[NCLASS];
    size_t size = 2;
    int n;

    if (header_integer(r, line, sizeof line, "version", 1, 1000, &version) != 0) return -1;
    if (version != TRIAGE_MODEL_VERSION)
        return fail(r, "version: this router reads version %s%s", "1 only", "");
    if (header_integer(r, line, sizeof line, "features_version", 1, 1000, &version) != 0) return -1;
    if (version != TRIAGE_FEATURES_VERSION)
        return fail(r, "features_version: the model was trained with other features; %s%s",
                    "run scripts/train-triage", "");
    if ((n = next_line(r, line, sizeof line, words)) < 0) return -1;
    if (n != NCLASS + 1 || strcmp(words[0], "classes") != 0)
        return fail(r, "expected 'classes' and the six category codes%s%s", "", "");
    for (int c = 0; c < NCLASS; c++) {
        if (strcmp(words[c + 1], incident_category_code(c)) != 0)
            return fail(r, "classes: expected '%s' here, got '%s'", incident_category_code(c),
                        words[c + 1]);
    }
    if (header_digest(r, line, sizeof line, "corpus", m->corpus) != 0 ||
        header_digest(r, line, sizeof line, "keywords", m->keywords) != 0 ||
        header_probability(r, line, sizeof line, "confident", &m->confident) != 0 ||
        header_probability(r, line, sizeof line, "confident_other", &m->confident_other) != 0 ||
        header_integer(r, line, sizeof line, "weights", 0, MAX_FEATURES, &count) != 0)
        return -1;
    if ((n = next_line(r, line, sizeof line, words)) < 0) return -1;
    if (n == 0 || strcmp(words[0], "bias") != 0)
        return fail(r, "expected 'bias' and six weights%s%s", "", "");
    if (parse_weights(r, words, n, "bias", m->bias) != 0) return -1;

    while (3 * size < 4 * (size_t)count) size *= 2; /* at most three quarters full */
    m->mask = size - 1;
    if ((m->slots = calloc(size, sizeof(*m->slots))) == NULL)
        return fail(r, "out of memory%s%s", "", "");
    while ((n = next_line(r, line, sizeof line, words)) > 0) {
        if (m->nfeatures == (size_t)count)
            return fail(r, "more feature lines than 'weights' says%s%s", "", "");
        if (!valid_name(words[0]))
            return fail(r, "feature '%s': a name starts with w:, b:, c: or k:%s", words[0], "");
        if (parse_weights(r, words, n, words[0], w) != 0) return -1;
        if (table_put(m, triage_feature_hash(words[0], strlen(words[0])), w) != 0)
            return fail(r, "feature '%s': listed twice%s", words[0], "");
        m->nfeatures++;
    }
    if (n < 0) return -1;
    if (m->nfeatures != (size_t)count)
        return fail(r, "the file ends after %s feature lines; 'weights' says %s", "fewer", "more");
    return 0;
}

struct triage_model *triage_model_load_buffer(const char *text, size_t len, const char *name,
                                              char *err, size_t errlen)
{
    struct reader r = {.p = text, .end = text + len, .name = name, .err = err, .errlen = errlen};
    struct triage_model *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (read_model(&r, m) != 0) {
        triage_model_free(m);
        return NULL;
    }
    return m;
}

struct triage_model *triage_model_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    struct triage_model *m = NULL;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    do {
        if (cap - len < 65536) {
            char *more = realloc(buf, cap ? 2 * cap : 1 << 20);

            if (more == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            buf = more;
            cap = cap ? 2 * cap : 1 << 20;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot be read", path);
        goto out;
    }
    m = triage_model_load_buffer(buf, len, path, err, errlen);
out:
    fclose(f);
    free(buf);
    return m;
}

void triage_model_predict(const struct triage_model *m, const struct triage_feature_set *set,
                          double prob[INCIDENT_CATEGORY_COUNT])
{
    double z[NCLASS], top, sum = 0;

    /* The table is larger than the caches: ask for every feature's slot first, so that the
     * memory fetches overlap instead of following one another. */
    for (size_t i = 0; i < set->n; i++) {
        uint64_t h = set->items[i].hash ? set->items[i].hash : 1;
        __builtin_prefetch(&m->slots[h & m->mask]);
    }
    memcpy(z, m->bias, sizeof(z));
    for (size_t i = 0; i < set->n; i++) {
        const float *w = table_get(m, set->items[i].hash);

        if (w == NULL) continue;
        for (int c = 0; c < NCLASS; c++) z[c] += (double)set->items[i].value * w[c];
    }
    top = z[0];
    for (int c = 1; c < NCLASS; c++) top = z[c] > top ? z[c] : top;
    for (int c = 0; c < NCLASS; c++) sum += (prob[c] = exp(z[c] - top));
    for (int c = 0; c < NCLASS; c++) prob[c] /= sum;
}

double triage_model_threshold(const struct triage_model *m, int category)
{
    return category == INCIDENT_OTHER ? m->confident_other : m->confident;
}

const char *triage_model_corpus_digest(const struct triage_model *m)
{
    return m->corpus;
}

const char *triage_model_keywords_digest(const struct triage_model *m)
{
    return m->keywords;
}

size_t triage_model_size(const struct triage_model *m)
{
    return m->nfeatures;
}
