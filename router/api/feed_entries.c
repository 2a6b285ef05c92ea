/* The entries of one answer of a partner agency's feed (feed_entries.h). */
#include "feed_entries.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eido.h"
#include "log.h"
#include "store.h"
#include "text.h"

/* The fields of a log entry (ess.lua log_event) a feed entry is made of: first the case
 * summary's (SUMMARY_FIELDS of them), whose times are milliseconds in the log and RFC 3339 in the
 * feed and whose distance_km is a number, then the entry's own. */
#define FIELD(name)                                                                                \
    {                                                                                              \
        name, sizeof name - 1                                                                      \
    }
static const struct {
    const char *name;
    size_t len;
} log_fields[] = {FIELD("tracking_code"), FIELD("category"),
                  FIELD("priority"),      FIELD("status"),
                  FIELD("team_id"),       FIELD("team_name"),
                  FIELD("team_name_en"),  FIELD("distance_km"),
                  FIELD("created_at"),    FIELD("updated_at"),
                  FIELD("channel"),       FIELD("possible_duplicate_of"),
                  FIELD("merged_into"),   FIELD("case_id"),
                  FIELD("event"),         FIELD("at")};
#define SUMMARY_FIELDS 13
#define NLOG_FIELDS (sizeof log_fields / sizeof *log_fields)
#define HEAD_GUESS 640 /* bytes of an entry's own part, to size the buffer once */
enum {
    F_CATEGORY = 1,
    F_STATUS = 3,
    F_DISTANCE = 7,
    F_CREATED = 8,
    F_UPDATED = 9,
    F_CASE_ID = 13,
    F_EVENT = 14,
    F_AT = 15
};

/* A log entry's values of log_fields (data NULL: absent). */
struct log_values {
    struct store_item v[NLOG_FIELDS];
};

/* An entry taken: its own part in heads, its case id in ids (NUL-terminated), and its case's
 * place among the distinct ids (feed_entries_case_ids). */
struct taken {
    size_t head, head_len, case_id, case_index, id;
};

/* A case's part of its entries, in parts (set: once feed_entries_case_* made it). */
struct case_part {
    size_t start, len;
    int set;
};

struct feed_entries {
    size_t max, n, ncases;
    struct taken *taken;
    struct text_buf heads, ids, parts, entry_ids;
    const char **taken_ids;  /* feed_entries_ids' */
    const char **distinct;   /* feed_entries_case_ids' */
    struct case_part *cases; /* in the order of distinct */
};

static void log_values_of(const struct store_stream_entry *e, struct log_values *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 1 < e->nfields; i += 2) {
        const struct store_item *k = &e->fields[i];
        if (k->data == NULL) continue;
        for (size_t j = 0; j < NLOG_FIELDS; j++) {
            if (log_fields[j].len == k->len && log_fields[j].name[0] == k->data[0] &&
                memcmp(log_fields[j].name, k->data, k->len) == 0) {
                out->v[j] = e->fields[i + 1];
                break;
            }
        }
    }
}

static int value_is(const struct store_item *v, const char *s)
{
    return v->data && v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

static int present(const struct store_item *v)
{
    return v->data != NULL && v->len > 0;
}

/* Whether an entry with these values is for an agency of these categories: about a case of one
 * of them, and not a chat message (whose text the log never holds, but whose rhythm is the
 * reporter's). */
static int wanted(const struct log_values *lv, const cJSON *categories)
{
    const cJSON *c;
    if (!present(&lv->v[F_CASE_ID]) || value_is(&lv->v[F_EVENT], "chat_message")) return 0;
    cJSON_ArrayForEach (c, categories)
        if (cJSON_IsString(c) && value_is(&lv->v[F_CATEGORY], c->valuestring)) return 1;
    return 0;
}

/* Appends v as a JSON string, or null when it is absent or empty. */
static void add_value(struct text_buf *b, const struct store_item *v)
{
    if (present(v))
        text_buf_add_json(b, v->data, v->len);
    else
        text_buf_add(b, "null");
}

/* Appends the RFC 3339 time of v's milliseconds ("<ms>", or a stream id "<ms>-<seq>"), or null
 * when v holds none. */
static void add_time(struct text_buf *b, const struct store_item *v)
{
    char digits[24], text[TEXT_TIME_SIZE];
    size_t n = v->data ? v->len : 0;
    const char *dash = n ? memchr(v->data, '-', n) : NULL;
    if (dash) n = (size_t)(dash - v->data);
    if (n == 0 || n >= sizeof digits) {
        text_buf_add(b, "null");
        return;
    }
    memcpy(digits, v->data, n);
    digits[n] = '\0';
    if (strspn(digits, "0123456789") != n) {
        text_buf_add(b, "null");
        return;
    }
    text_time_rfc3339((int64_t)strtoll(digits, NULL, 10), text);
    text_buf_add_json(b, text, strlen(text));
}

/* Appends the number v holds (as cJSON writes numbers), or null when it holds no finite number
 * in JSON's own notation. */
static void add_number(struct text_buf *b, const struct store_item *v)
{
    char text[64], *end = NULL;
    double d;
    if (!present(v) || v->len >= sizeof text) {
        text_buf_add(b, "null");
        return;
    }
    memcpy(text, v->data, v->len);
    text[v->len] = '\0';
    if (strspn(text, "-0123456789.eE+") < v->len) { /* no "inf", "0x1p3", spaces */
        text_buf_add(b, "null");
        return;
    }
    d = strtod(text, &end);
    if (*end != '\0' || d != d || d > 1e308 || d < -1e308) {
        text_buf_add(b, "null");
        return;
    }
    snprintf(text, sizeof text, "%1.15g", d);
    if (strtod(text, NULL) != d) snprintf(text, sizeof text, "%1.17g", d);
    text_buf_add(b, text);
}

/* The entry's own part (README "For partner agencies"): {"id", "case_id", "event" (the status
 * for a status change), "at", "case": summary, without the closing brace, which follows its
 * case's part. */
static void add_head(struct text_buf *b, const struct store_stream_entry *e,
                     const struct log_values *lv)
{
    const struct store_item id = {e->id, e->id_len};
    text_buf_add(b, "{\"id\":");
    add_value(b, &id);
    text_buf_add(b, ",\"case_id\":");
    add_value(b, &lv->v[F_CASE_ID]);
    text_buf_add(b, ",\"event\":");
    add_value(b, present(&lv->v[F_EVENT]) ? &lv->v[F_EVENT] : &lv->v[F_STATUS]);
    text_buf_add(b, ",\"at\":");
    add_time(b, present(&lv->v[F_AT]) ? &lv->v[F_AT] : &id);
    text_buf_add(b, ",\"case\":{\"case_id\":");
    add_value(b, &lv->v[F_CASE_ID]);
    for (size_t i = 0; i < SUMMARY_FIELDS; i++) {
        text_buf_add_len(b, ",\"", 2);
        text_buf_add_len(b, log_fields[i].name, log_fields[i].len);
        text_buf_add(b, "\":");
        if (i == F_CREATED || i == F_UPDATED)
            add_time(b, &lv->v[i]);
        else if (i == F_DISTANCE)
            add_number(b, &lv->v[i]);
        else
            add_value(b, &lv->v[i]);
    }
    text_buf_add(b, "}");
}

/* ------------------------------------------------------------------------------------------ */

struct feed_entries *feed_entries_new(size_t max)
{
    struct feed_entries *fe = calloc(1, sizeof *fe);
    if (fe == NULL) return NULL;
    fe->max = max;
    fe->taken = calloc(max ? max : 1, sizeof *fe->taken);
    fe->distinct = calloc(max ? max : 1, sizeof *fe->distinct);
    fe->cases = calloc(max ? max : 1, sizeof *fe->cases);
    fe->taken_ids = calloc(max ? max : 1, sizeof *fe->taken_ids);
    if (fe->taken == NULL || fe->distinct == NULL || fe->cases == NULL || fe->taken_ids == NULL) {
        feed_entries_free(fe);
        return NULL;
    }
    return fe;
}

/* Empties b, keeping its memory unless an append failed. */
static void buf_empty(struct text_buf *b)
{
    if (b->failed) {
        free(text_buf_take(b));
        return;
    }
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

void feed_entries_clear(struct feed_entries *fe)
{
    fe->n = fe->ncases = 0;
    buf_empty(&fe->heads);
    buf_empty(&fe->ids);
    buf_empty(&fe->parts);
    buf_empty(&fe->entry_ids);
}

void feed_entries_free(struct feed_entries *fe)
{
    if (fe == NULL) return;
    free(text_buf_take(&fe->heads));
    free(text_buf_take(&fe->ids));
    free(text_buf_take(&fe->parts));
    free(text_buf_take(&fe->entry_ids));
    free(fe->taken_ids);
    free(fe->taken);
    free(fe->distinct);
    free(fe->cases);
    free(fe);
}

int feed_entries_add(struct feed_entries *fe, const struct store_stream_entry *e,
                     const cJSON *categories)
{
    struct log_values lv;
    struct taken *t;

    log_values_of(e, &lv);
    if (!wanted(&lv, categories) || fe->n >= fe->max) return 0;
    if (fe->heads.s == NULL) text_buf_reserve(&fe->heads, fe->max * HEAD_GUESS);
    t = &fe->taken[fe->n];
    t->head = fe->heads.len;
    add_head(&fe->heads, e, &lv);
    t->head_len = fe->heads.len - t->head;
    t->case_id = fe->ids.len;
    text_buf_add_len(&fe->ids, lv.v[F_CASE_ID].data, lv.v[F_CASE_ID].len);
    text_buf_add_len(&fe->ids, "", 1); /* its NUL */
    t->id = fe->entry_ids.len;
    text_buf_add_len(&fe->entry_ids, e->id, e->id_len);
    text_buf_add_len(&fe->entry_ids, "", 1);
    if (fe->heads.failed || fe->ids.failed || fe->entry_ids.failed) return -1;
    fe->n++;
    return 1;
}

size_t feed_entries_count(const struct feed_entries *fe)
{
    return fe->n;
}

int feed_entries_ids(struct feed_entries *fe, const char ***ids, size_t *n)
{
    for (size_t i = 0; i < fe->n; i++) fe->taken_ids[i] = fe->entry_ids.s + fe->taken[i].id;
    *ids = fe->taken_ids;
    *n = fe->n;
    return 0;
}

struct by_id {
    const char *id;
    size_t i;
};

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct by_id *)a)->id, ((const struct by_id *)b)->id);
}

int feed_entries_case_ids(struct feed_entries *fe, const char ***ids, size_t *n)
{
    struct by_id *sorted = malloc((fe->n ? fe->n : 1) * sizeof *sorted);
    size_t nd = 0;

    if (sorted == NULL) return -1;
    for (size_t i = 0; i < fe->n; i++) {
        sorted[i].id = fe->ids.s + fe->taken[i].case_id;
        sorted[i].i = i;
    }
    qsort(sorted, fe->n, sizeof *sorted, by_id_cmp);
    for (size_t i = 0; i < fe->n; i++) {
        if (i == 0 || strcmp(sorted[i].id, sorted[i - 1].id) != 0)
            fe->distinct[nd++] = sorted[i].id;
        fe->taken[sorted[i].i].case_index = nd - 1;
    }
    free(sorted);
    for (size_t i = 0; i < nd; i++) fe->cases[i].set = 0;
    fe->ncases = nd;
    *ids = fe->distinct;
    *n = nd;
    return 0;
}

const char *const feed_case_fields[FEED_CASE_FIELDS] = {"share_with_agencies", "erased_at", "lat",
                                                        "lon"};
enum { C_SHARE, C_ERASED, C_LAT, C_LON };

/* Appends the coordinate v rounded to 0.01 degree (as ess.lua's round_coordinate does). 0, or -1
 * when v holds no coordinate. */
static int add_coordinate(struct text_buf *b, const struct store_item *v)
{
    char text[64], *end = NULL;
    double d;
    if (!present(v) || v->len >= sizeof text) return -1;
    memcpy(text, v->data, v->len);
    text[v->len] = '\0';
    d = strtod(text, &end);
    if (*end != '\0' || end == text || !(d >= -180 && d <= 180)) return -1;
    snprintf(text, sizeof text, "%.2f", floor(d * 100 + 0.5) / 100);
    text_buf_add(b, text);
    return 0;
}

/* Starts case i's part in parts. */
static void part_begin(struct feed_entries *fe, size_t i)
{
    fe->cases[i].start = fe->parts.len;
}

static int part_end(struct feed_entries *fe, size_t i)
{
    fe->cases[i].len = fe->parts.len - fe->cases[i].start;
    fe->cases[i].set = 1;
    return fe->parts.failed ? -1 : 0;
}

int feed_entries_case_fields(struct feed_entries *fe, size_t i, const struct store_item *v,
                             int identifying)
{
    struct text_buf *b = &fe->parts;
    size_t mark;
    int placed;

    if (i >= fe->ncases) return -1;
    part_begin(fe, i);
    mark = b->len;
    text_buf_add(b, ",\"location\":{\"lat\":");
    placed = add_coordinate(b, &v[C_LAT]) == 0;
    text_buf_add(b, ",\"lon\":");
    placed = placed && add_coordinate(b, &v[C_LON]) == 0;
    if (placed) {
        text_buf_add(b, "}");
    } else {
        b->len = mark; /* no place: null */
        text_buf_add(b, ",\"location\":null");
    }
    if (part_end(fe, i) != 0) return -1;
    return identifying && value_is(&v[C_SHARE], "1") && !present(&v[C_ERASED]);
}

/* Appends ,"name": and the JSON of item name of src (null when absent). */
static void add_member(struct text_buf *b, const cJSON *src, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, name);
    char *json = v ? cJSON_PrintUnformatted(v) : NULL;
    text_buf_printf(b, ",\"%s\":", name);
    if (v != NULL && json == NULL) b->failed = 1;
    text_buf_add(b, json ? json : "null");
    free(json);
}

int feed_entries_case_record(struct feed_entries *fe, size_t i, const cJSON *info, int eido)
{
    struct text_buf *b = &fe->parts;
    const cJSON *src;
    cJSON *doc;
    char *json;

    if (i >= fe->ncases || !cJSON_IsObject(info)) return -1;
    part_begin(fe, i);
    add_member(b, info, "location");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "share"))) {
        add_member(b, info, "reporter");
        add_member(b, info, "description");
        add_member(b, info, "address");
    }
    if (eido && (src = cJSON_GetObjectItemCaseSensitive(info, "eido_case")) != NULL) {
        /* none: the case is gone, no EIDO to make */
        doc = eido_document(src);
        json = doc ? cJSON_PrintUnformatted(doc) : NULL;
        cJSON_Delete(doc);
        if (json == NULL) {
            log_error("feed: an entry's EIDO could not be made");
            return -1;
        }
        text_buf_add(b, ",\"eido\":");
        text_buf_add(b, json);
        free(json);
    }
    return part_end(fe, i);
}

char *feed_entries_answer(struct feed_entries *fe, size_t *len)
{
    struct text_buf out = {0};

    text_buf_reserve(&out, fe->heads.len + fe->parts.len + fe->n * 2 + 16);
    text_buf_add(&out, "{\"entries\":[");
    for (size_t i = 0; i < fe->n; i++) {
        const struct taken *t = &fe->taken[i];
        const struct case_part *c = &fe->cases[t->case_index];
        if (t->case_index >= fe->ncases || !c->set) { /* its case's part was never made */
            free(text_buf_take(&out));
            return NULL;
        }
        if (i > 0) text_buf_add(&out, ",");
        text_buf_add_len(&out, fe->heads.s + t->head, t->head_len);
        text_buf_add_len(&out, fe->parts.s + c->start, c->len);
        text_buf_add(&out, "}");
    }
    text_buf_add(&out, "]}");
    *len = out.len;
    return text_buf_take(&out); /* NULL when an append failed */
}
