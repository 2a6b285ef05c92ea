/* The rule table: loads and validates rules/rules.json (every error names the file, the line and
 * the field), and decides category, priority, skills, radii and acknowledgment timeout for an
 * incident. The matching of words lives in classify.c; the file format is in rules/README.md. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules_internal.h"
#include "text.h"
#include "thai_words.h"
#include "triage_model.h"

#define MAX_FILE_BYTES (8u << 20) /* a rule table is a few tens of kilobytes */
#define MAX_PATH_DEPTH 8

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* One step of the path from the root to the field being checked: a key or an array index. */
struct path_step {
    const char *key; /* NULL for an index */
    int index;       /* the array index; for a key given twice, which occurrence (0: first) */
};

/* The state of one load: the raw text (for line numbers), where errors go, and the path. */
struct loader {
    const char *raw;
    size_t rawlen;
    const char *name;
    char *err;
    size_t errlen;
    size_t depth;
    struct path_step path[MAX_PATH_DEPTH];
    struct rules_table *t;
};

static void push_key(struct loader *ld, const char *key)
{
    if (ld->depth < MAX_PATH_DEPTH) ld->path[ld->depth] = (struct path_step){key, 0};
    ld->depth++;
}

static void push_index(struct loader *ld, int index)
{
    if (ld->depth < MAX_PATH_DEPTH) ld->path[ld->depth] = (struct path_step){NULL, index};
    ld->depth++;
}

static void pop(struct loader *ld)
{
    ld->depth--;
}

/* ---- Line numbers: cJSON keeps no positions, so the raw text is walked along the path. ---- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* s[i] is '"': the offset just past the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\') i++;
    }
    return i < n ? i + 1 : n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    int depth = 0;

    if (i >= n) return n;
    if (s[i] == '"') return skip_string(s, n, i);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
               s[i] != '\n' && s[i] != '\r')
            i++;
        return i;
    }
    while (i < n) {
        if (s[i] == '"') {
            i = skip_string(s, n, i);
            continue;
        }
        if (s[i] == '{' || s[i] == '[')
            depth++;
        else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return n;
}

/* The offset where the value at the loader's path starts in the (valid JSON) raw text, or, when
 * the path leads nowhere (a missing field), where the deepest value found on the way starts. */
static size_t locate(const struct loader *ld)
{
    const char *s = ld->raw;
    size_t n = ld->rawlen;
    size_t i = skip_ws(s, n, 0);
    size_t found = i;
    size_t depth = ld->depth < MAX_PATH_DEPTH ? ld->depth : MAX_PATH_DEPTH;

    for (size_t d = 0; d < depth; d++) {
        const struct path_step *step = &ld->path[d];
        int hit = 0;
        int seen = 0;

        if (i >= n || s[i] != (step->key ? '{' : '[')) break;
        i++;
        for (int idx = 0;; idx++) {
            i = skip_ws(s, n, i);
            if (i >= n || s[i] == '}' || s[i] == ']') break;
            if (step->key) {
                size_t k = i;
                size_t klen = strlen(step->key);

                i = skip_string(s, n, i);
                hit = i - k == klen + 2 && memcmp(s + k + 1, step->key, klen) == 0 &&
                      seen++ == step->index;
                i = skip_ws(s, n, i);
                if (i < n && s[i] == ':') i++;
                i = skip_ws(s, n, i);
            } else {
                hit = idx == step->index;
            }
            if (hit) break;
            i = skip_ws(s, n, skip_value(s, n, i));
            if (i < n && s[i] == ',') i++;
        }
        if (!hit) break;
        found = i;
    }
    return found;
}

static int line_of(const char *s, size_t offset)
{
    int line = 1;

    for (size_t i = 0; i < offset; i++) line += s[i] == '\n';
    return line;
}

/* Writes "name:line: path: message" to the loader's error buffer. Returns -1. */
PRINTF_LIKE(2, 3) static int fail(struct loader *ld, const char *fmt, ...)
{
    char path[256];
    char msg[256];
    size_t o = 0;
    va_list ap;

    path[0] = '\0';
    for (size_t d = 0; d < ld->depth && d < MAX_PATH_DEPTH && o < sizeof(path); d++) {
        const struct path_step *step = &ld->path[d];
        int w;

        if (step->key)
            w = snprintf(path + o, sizeof(path) - o, "%s%s", d ? "." : "", step->key);
        else
            w = snprintf(path + o, sizeof(path) - o, "[%d]", step->index);
        if (w < 0) break;
        o += (size_t)w;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%d: %s: %s", ld->name, line_of(ld->raw, locate(ld)),
             path[0] ? path : "(top level)", msg);
    return -1;
}

/* ---- Typed field readers. Each pushes the field's name, so errors point at it. ---- */

/* Refuses keys not in allowed (NULL-terminated) and keys given twice. */
static int check_keys(struct loader *ld, const cJSON *obj, const char *const *allowed)
{
    const cJSON *child;

    cJSON_ArrayForEach (child, obj) {
        int known = 0;

        for (size_t i = 0; allowed[i] != NULL; i++) known |= strcmp(allowed[i], child->string) == 0;
        push_key(ld, child->string);
        if (!known) return fail(ld, "unknown field");
        for (const cJSON *prev = obj->child; prev != child; prev = prev->next) {
            if (strcmp(prev->string, child->string) == 0) {
                if (ld->depth <= MAX_PATH_DEPTH)
                    ld->path[ld->depth - 1].index = 1; /* point at the second occurrence */
                return fail(ld, "field given twice");
            }
        }
        pop(ld);
    }
    return 0;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* The member key of obj; NULL after an error (missing and required, or not of the wanted type
 * per the cJSON_Is* predicate is_type, described as what). Absent and optional: NULL, *err 0. */
static const cJSON *member(struct loader *ld, const cJSON *obj, const char *key, int required,
                           cJSON_bool (*is_type)(const cJSON *), const char *what, int *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *err = 0;
    push_key(ld, key);
    if (v == NULL) {
        if (required)
            *err = fail(ld, "missing (expected %s)", what);
        else
            pop(ld);
        return NULL;
    }
    if (!is_type(v)) {
        *err = fail(ld, "expected %s, found %s", what, type_name(v));
        return NULL;
    }
    pop(ld);
    return v;
}

/* A whole number in [min, max] from v (already known to be a number). */
static int int_value(struct loader *ld, const cJSON *v, int min, int max, int *out)
{
    double d = v->valuedouble;

    if (!isfinite(d) || d != floor(d) || d < min || d > max)
        return fail(ld, "expected a whole number from %d to %d", min, max);
    *out = (int)d;
    return 0;
}

static int read_int(struct loader *ld, const cJSON *obj, const char *key, int required, int min,
                    int max, int *out)
{
    int err;
    const cJSON *v = member(ld, obj, key, required, cJSON_IsNumber, "a whole number", &err);

    if (v == NULL) return err;
    push_key(ld, key);
    if (int_value(ld, v, min, max, out) != 0) return -1;
    pop(ld);
    return 0;
}

/* "P1".."P4" into 1..4; v is the field (already pushed). */
static int priority_value(struct loader *ld, const cJSON *v, int *out)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    int p = s ? rules_priority_parse(s, strlen(s)) : 0;

    if (p == 0)
        return fail(ld, "expected \"P%d\"..\"P%d\"", RULES_PRIORITY_HIGHEST, RULES_PRIORITY_LOWEST);
    *out = p;
    return 0;
}

static int read_priority(struct loader *ld, const cJSON *obj, const char *key, int required,
                         int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    push_key(ld, key);
    if (v == NULL) {
        if (required)
            return fail(ld, "missing (expected \"P%d\"..\"P%d\")", RULES_PRIORITY_HIGHEST,
                        RULES_PRIORITY_LOWEST);
        pop(ld);
        return 0;
    }
    if (priority_value(ld, v, out) != 0) return -1;
    pop(ld);
    return 0;
}

int rules_skill_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len >= RULES_MAX_SKILL_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    }
    return 1;
}

/* A skill name (rules_skill_valid) from v, the field (pushed). */
static int skill_value(struct loader *ld, const cJSON *v, char out[RULES_MAX_SKILL_LEN])
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    size_t len = s ? strlen(s) : 0;

    if (s == NULL || len == 0 || len >= RULES_MAX_SKILL_LEN)
        return fail(ld, "expected a skill name of 1 to %d characters", RULES_MAX_SKILL_LEN - 1);
    if (!rules_skill_valid(s, len)) return fail(ld, "a skill name is made of a-z, 0-9 and _");
    memcpy(out, s, len + 1);
    return 0;
}

static int read_skills(struct loader *ld, const cJSON *obj, const char *key, int required,
                       size_t min, char skills[RULES_MAX_SKILLS][RULES_MAX_SKILL_LEN], size_t *n)
{
    int err;
    const cJSON *arr = member(ld, obj, key, required, cJSON_IsArray, "an array of skills", &err);
    const cJSON *v;
    int i = 0;

    if (arr == NULL) return err;
    push_key(ld, key);
    if ((size_t)cJSON_GetArraySize(arr) < min || cJSON_GetArraySize(arr) > RULES_MAX_SKILLS)
        return fail(ld, "expected %zu to %d skills", min, RULES_MAX_SKILLS);
    *n = 0;
    cJSON_ArrayForEach (v, arr) {
        push_index(ld, i++);
        if (skill_value(ld, v, skills[*n]) != 0) return -1;
        for (size_t k = 0; k < *n; k++) {
            if (strcmp(skills[k], skills[*n]) == 0)
                return fail(ld, "skill \"%s\" listed twice", skills[k]);
        }
        (*n)++;
        pop(ld);
    }
    pop(ld);
    return 0;
}

static int read_radii(struct loader *ld, const cJSON *obj, const char *key, int required,
                      size_t min, double radii[RULES_MAX_RADII], size_t *n)
{
    int err;
    const cJSON *arr =
        member(ld, obj, key, required, cJSON_IsArray, "an array of kilometres", &err);
    const cJSON *v;
    int i = 0;

    if (arr == NULL) return err;
    push_key(ld, key);
    if ((size_t)cJSON_GetArraySize(arr) < min || cJSON_GetArraySize(arr) > RULES_MAX_RADII)
        return fail(ld, "expected %zu to %d radii", min, RULES_MAX_RADII);
    *n = 0;
    cJSON_ArrayForEach (v, arr) {
        push_index(ld, i++);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 ||
            v->valuedouble > RULES_MAX_RADIUS_KM)
            return fail(ld, "expected a radius in km, above 0 and at most %.0f",
                        RULES_MAX_RADIUS_KM);
        if (*n > 0 && v->valuedouble <= radii[*n - 1])
            return fail(ld, "radii must be in ascending order");
        radii[(*n)++] = v->valuedouble;
        pop(ld);
    }
    pop(ld);
    return 0;
}

/* A string of 1..maxlen bytes of valid UTF-8, copied to the heap into *out (owned by the
 * caller's table). */
static int read_label(struct loader *ld, const cJSON *obj, const char *key, char **out)
{
    int err;
    const cJSON *v = member(ld, obj, key, 1, cJSON_IsString, "a string", &err);
    size_t len;

    if (v == NULL) return err;
    push_key(ld, key);
    len = strlen(v->valuestring);
    if (len == 0 || len > RULES_MAX_LABEL_LEN || !text_utf8_valid(v->valuestring, len))
        return fail(ld, "expected 1 to %d bytes of UTF-8", RULES_MAX_LABEL_LEN);
    *out = text_dup_len(v->valuestring, len);
    if (*out == NULL) return fail(ld, "out of memory");
    pop(ld);
    return 0;
}

/* An array of words added to the matcher as patterns of kind/owner. A keyword listed twice (in
 * any category) is refused. */
static int read_word_array(struct loader *ld, const cJSON *arr, int kind, int owner)
{
    const cJSON *v;
    int i = 0;
    char why[128];

    if (cJSON_GetArraySize(arr) > RULES_MAX_WORDS)
        return fail(ld, "at most %d words", RULES_MAX_WORDS);
    cJSON_ArrayForEach (v, arr) {
        size_t len;
        long dup;

        push_index(ld, i++);
        if (!cJSON_IsString(v)) return fail(ld, "expected a string, found %s", type_name(v));
        len = strlen(v->valuestring);
        if (len > RULES_MAX_WORD_LEN || !text_utf8_valid(v->valuestring, len))
            return fail(ld, "expected at most %d bytes of UTF-8", RULES_MAX_WORD_LEN);
        if (rules_matcher_add(&ld->t->matcher, v->valuestring, len, kind, owner, why,
                              sizeof(why)) != 0)
            return fail(ld, "\"%s\" %s", v->valuestring, why);
        dup = rules_matcher_find_duplicate(&ld->t->matcher);
        if (dup >= 0)
            return fail(ld, "\"%s\" is already a keyword of %s", v->valuestring,
                        incident_category_code(ld->t->matcher.pats[dup].owner));
        pop(ld);
    }
    return 0;
}

/* {"th": [...], "en": [...]}: both lists required when required is set. */
static int read_word_lists(struct loader *ld, const cJSON *obj, const char *key, int required,
                           int kind, int owner)
{
    static const char *const langs[] = {"th", "en", NULL};
    int err;
    const cJSON *lists = member(ld, obj, key, required, cJSON_IsObject, "an object", &err);

    if (lists == NULL) return err;
    push_key(ld, key);
    if (check_keys(ld, lists, langs) != 0) return -1;
    for (size_t l = 0; langs[l] != NULL; l++) {
        const cJSON *arr =
            member(ld, lists, langs[l], required, cJSON_IsArray, "an array of words", &err);

        if (arr == NULL) {
            if (err) return -1;
            continue;
        }
        push_key(ld, langs[l]);
        if (read_word_array(ld, arr, kind, owner) != 0) return -1;
        pop(ld);
    }
    pop(ld);
    return 0;
}

/* ---- Sections ---- */

static int load_category(struct loader *ld, const cJSON *obj, int c)
{
    static const char *const keys[] = {
        "labels",        "chat_label",   "priority", "skills",   "radii_km",
        "ack_timeout_s", "max_attempts", "dispatch", "keywords", NULL};
    static const char *const langs[] = {"th", "en", NULL};
    struct rules_category *cat = &ld->t->cat[c];
    const cJSON *v;
    int err;

    if (!cJSON_IsObject(obj)) return fail(ld, "expected an object, found %s", type_name(obj));
    if (check_keys(ld, obj, keys) != 0) return -1;
    cat->dispatch = c != INCIDENT_OTHER;
    v = member(ld, obj, "dispatch", 0, cJSON_IsBool, "true or false", &err);
    if (err) return -1;
    if (v != NULL) {
        cat->dispatch = cJSON_IsTrue(v);
        push_key(ld, "dispatch");
        if (c == INCIDENT_OTHER && cat->dispatch)
            return fail(ld, "\"other\" is never dispatched: it waits in the triage queue");
        pop(ld);
    }
    v = member(ld, obj, "labels", 1, cJSON_IsObject, "an object with \"th\" and \"en\"", &err);
    if (v == NULL) return -1;
    push_key(ld, "labels");
    if (check_keys(ld, v, langs) != 0 || read_label(ld, v, "th", &cat->label_th) != 0 ||
        read_label(ld, v, "en", &cat->label_en) != 0)
        return -1;
    pop(ld);
    /* The words the LINE chat shows the reporter, when they differ from the operators' label. */
    v = member(ld, obj, "chat_label", 0, cJSON_IsObject, "an object with \"th\" and \"en\"", &err);
    if (err) return -1;
    if (v != NULL) {
        push_key(ld, "chat_label");
        if (check_keys(ld, v, langs) != 0 || read_label(ld, v, "th", &cat->chat_label_th) != 0 ||
            read_label(ld, v, "en", &cat->chat_label_en) != 0)
            return -1;
        pop(ld);
    }
    if (read_priority(ld, obj, "priority", 1, &cat->priority) != 0 ||
        read_skills(ld, obj, "skills", 1, cat->dispatch ? 1 : 0, cat->skills, &cat->nskills) != 0 ||
        read_radii(ld, obj, "radii_km", 1, cat->dispatch ? 1 : 0, cat->radii_km, &cat->nradii) !=
            0 ||
        read_int(ld, obj, "ack_timeout_s", 1, 1, RULES_MAX_ACK_TIMEOUT_S, &cat->ack_timeout_s) !=
            0 ||
        read_int(ld, obj, "max_attempts", 1, 1, RULES_MAX_ATTEMPTS, &cat->max_attempts) != 0 ||
        read_word_lists(ld, obj, "keywords", 1, RULES_PAT_KEYWORD, c) != 0)
        return -1;
    return 0;
}

static int load_categories(struct loader *ld, const cJSON *root)
{
    int err;
    const cJSON *cats = member(ld, root, "categories", 1, cJSON_IsObject, "an object", &err);
    const cJSON *child;
    int seen[INCIDENT_CATEGORY_COUNT] = {0};

    if (cats == NULL) return -1;
    push_key(ld, "categories");
    cJSON_ArrayForEach (child, cats) {
        int c = incident_category_parse(child->string, strlen(child->string));

        push_key(ld, child->string);
        if (c == INCIDENT_CATEGORY_NONE)
            return fail(ld, "unknown category (expected threat, detention, abuse_risk, "
                            "mental_crisis, gathering or other)");
        if (seen[c]) {
            if (ld->depth <= MAX_PATH_DEPTH)
                ld->path[ld->depth - 1].index = 1; /* point at the second occurrence */
            return fail(ld, "category given twice");
        }
        seen[c] = 1;
        if (load_category(ld, child, c) != 0) return -1;
        pop(ld);
    }
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        if (!seen[c]) {
            push_key(ld, incident_category_code(c));
            return fail(ld, "missing category");
        }
    }
    pop(ld);
    return 0;
}

static int load_when(struct loader *ld, const cJSON *when, struct rules_rule *r, int index)
{
    static const char *const keys[] = {"category", "channel", "words_any", "words_none", NULL};
    static const char *const lists[] = {"words_any", "words_none"};
    const cJSON *v;

    if (check_keys(ld, when, keys) != 0) return -1;
    r->channel = -1;
    v = cJSON_GetObjectItemCaseSensitive(when, "category");
    if (v != NULL) {
        push_key(ld, "category");
        if (cJSON_IsString(v)) {
            int c = incident_category_parse(v->valuestring, strlen(v->valuestring));

            if (c == INCIDENT_CATEGORY_NONE)
                return fail(ld, "unknown category \"%s\"", v->valuestring);
            r->category_mask = 1u << c;
        } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
            const cJSON *e;
            int i = 0;

            cJSON_ArrayForEach (e, v) {
                int c = cJSON_IsString(e)
                            ? incident_category_parse(e->valuestring, strlen(e->valuestring))
                            : INCIDENT_CATEGORY_NONE;

                push_index(ld, i++);
                if (c == INCIDENT_CATEGORY_NONE) return fail(ld, "expected a category code");
                r->category_mask |= 1u << c;
                pop(ld);
            }
        } else {
            return fail(ld, "expected a category code or a non-empty array of them");
        }
        pop(ld);
    }
    v = cJSON_GetObjectItemCaseSensitive(when, "channel");
    if (v != NULL) {
        push_key(ld, "channel");
        if (cJSON_IsString(v) && strcmp(v->valuestring, "hotline") == 0)
            r->channel = INCIDENT_CHANNEL_HOTLINE;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "line") == 0)
            r->channel = INCIDENT_CHANNEL_LINE;
        else
            return fail(ld, "expected \"hotline\" or \"line\"");
        pop(ld);
    }
    for (size_t l = 0; l < 2; l++) {
        int err;

        v = member(ld, when, lists[l], 0, cJSON_IsArray, "an array of words", &err);
        if (err) return -1;
        if (v == NULL) continue;
        push_key(ld, lists[l]);
        if (cJSON_GetArraySize(v) == 0) return fail(ld, "expected at least one word");
        if (read_word_array(ld, v, l == 0 ? RULES_PAT_WORD_ANY : RULES_PAT_WORD_NONE, index) != 0)
            return -1;
        pop(ld);
        if (l == 0)
            r->has_words_any = 1;
        else
            r->has_words_none = 1;
    }
    return 0;
}

static int load_then(struct loader *ld, const cJSON *then, struct rules_rule *r)
{
    static const char *const keys[] = {"priority", "raise_priority", "add_skills",   "prefer_skill",
                                       "radii_km", "ack_timeout_s",  "max_attempts", NULL};
    const cJSON *v;

    if (check_keys(ld, then, keys) != 0) return -1;
    if (then->child == NULL)
        return fail(ld, "changes nothing (expected at least one of priority, raise_priority, "
                        "add_skills, prefer_skill, radii_km, ack_timeout_s, max_attempts)");
    if (read_priority(ld, then, "priority", 0, &r->set_priority) != 0 ||
        read_int(ld, then, "raise_priority", 0, 1, RULES_PRIORITY_LOWEST - 1, &r->raise_steps) !=
            0 ||
        read_skills(ld, then, "add_skills", 0, 1, r->add_skills, &r->nadd_skills) != 0 ||
        read_radii(ld, then, "radii_km", 0, 1, r->radii_km, &r->nradii) != 0 ||
        read_int(ld, then, "ack_timeout_s", 0, 1, RULES_MAX_ACK_TIMEOUT_S, &r->ack_timeout_s) !=
            0 ||
        read_int(ld, then, "max_attempts", 0, 1, RULES_MAX_ATTEMPTS, &r->max_attempts) != 0)
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(then, "prefer_skill");
    if (v != NULL) {
        push_key(ld, "prefer_skill");
        if (skill_value(ld, v, r->prefer_skill) != 0) return -1;
        pop(ld);
    }
    return 0;
}

/* Every category must be able to hold the skills its rules may add (so that deciding never
 * has to drop one): the category's own skills and every add_skills that can apply to it. */
static int check_skill_room(struct loader *ld)
{
    const struct rules_table *t = ld->t;

    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        char have[RULES_MAX_SKILLS + 1][RULES_MAX_SKILL_LEN];
        size_t n = t->cat[c].nskills;

        memcpy(have, t->cat[c].skills, n * sizeof(have[0]));
        for (size_t r = 0; r < t->nrules; r++) {
            const struct rules_rule *rule = &t->rules[r];

            if (rule->category_mask != 0 && !(rule->category_mask & (1u << c))) continue;
            for (size_t k = 0; k < rule->nadd_skills; k++) {
                size_t j = 0;

                while (j < n && strcmp(have[j], rule->add_skills[k]) != 0) j++;
                if (j < n) continue;
                memcpy(have[n++], rule->add_skills[k], RULES_MAX_SKILL_LEN);
                if (n > RULES_MAX_SKILLS) {
                    push_key(ld, "rules");
                    push_index(ld, (int)r);
                    push_key(ld, "then");
                    push_key(ld, "add_skills");
                    return fail(ld, "category %s could need %zu skills, at most %d",
                                incident_category_code(c), n, RULES_MAX_SKILLS);
                }
            }
        }
    }
    return 0;
}

static int load_rules(struct loader *ld, const cJSON *root)
{
    static const char *const keys[] = {"name", "when", "then", NULL};
    int err;
    const cJSON *arr = member(ld, root, "rules", 0, cJSON_IsArray, "an array", &err);
    const cJSON *item;
    int i = 0;

    if (arr == NULL) return err;
    push_key(ld, "rules");
    if (cJSON_GetArraySize(arr) > RULES_MAX_RULES)
        return fail(ld, "at most %d rules", RULES_MAX_RULES);
    cJSON_ArrayForEach (item, arr) {
        struct rules_rule *r = &ld->t->rules[ld->t->nrules];
        const cJSON *v;

        push_index(ld, i);
        if (!cJSON_IsObject(item))
            return fail(ld, "expected an object with \"when\" and \"then\", found %s",
                        type_name(item));
        if (check_keys(ld, item, keys) != 0) return -1;
        v = member(ld, item, "name", 0, cJSON_IsString, "a string", &err);
        if (err) return -1;
        v = member(ld, item, "when", 1, cJSON_IsObject, "an object", &err);
        if (v == NULL) return -1;
        push_key(ld, "when");
        if (load_when(ld, v, r, i) != 0) return -1;
        pop(ld);
        v = member(ld, item, "then", 1, cJSON_IsObject, "an object", &err);
        if (v == NULL) return -1;
        push_key(ld, "then");
        if (load_then(ld, v, r) != 0) return -1;
        pop(ld);
        ld->t->nrules++;
        i++;
        pop(ld);
    }
    pop(ld);
    return check_skill_room(ld);
}

static int load_root(struct loader *ld, const cJSON *root)
{
    static const char *const keys[] = {"version", "categories", "ignore_words", "rules", NULL};
    int version = 1;

    if (!cJSON_IsObject(root)) return fail(ld, "expected an object, found %s", type_name(root));
    if (check_keys(ld, root, keys) != 0 || read_int(ld, root, "version", 0, 1, 1, &version) != 0 ||
        load_categories(ld, root) != 0 ||
        read_word_lists(ld, root, "ignore_words", 0, RULES_PAT_IGNORE, 0) != 0 ||
        load_rules(ld, root) != 0)
        return -1;
    return 0;
}

struct rules_table *rules_load_buffer(const char *json, size_t len, const char *name, char *err,
                                      size_t errlen)
{
    char scratch[8];
    struct loader ld;
    struct rules_table *t = NULL;
    char *copy = NULL;
    cJSON *root = NULL;
    const char *end = NULL;
    const char *nul;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (name == NULL) name = "(rules)";
    if (json == NULL || len > MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: %s", name, json ? "file too large" : "no data");
        goto fail;
    }
    nul = memchr(json, '\0', len);
    if (nul != NULL) {
        snprintf(err, errlen, "%s:%d: NUL byte in the file", name,
                 line_of(json, (size_t)(nul - json)));
        goto fail;
    }
    copy = text_dup_len(json, len);
    t = calloc(1, sizeof(*t));
    if (copy == NULL || t == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    /* With the terminating NUL counted, cJSON also refuses anything after the value. */
    root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    if (root == NULL) {
        size_t off = end != NULL && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
        size_t col = 1;

        for (size_t i = off; i > 0 && copy[i - 1] != '\n'; i--) col++;
        snprintf(err, errlen, "%s:%d: invalid JSON near column %zu", name, line_of(copy, off), col);
        goto fail;
    }
    memset(&ld, 0, sizeof(ld));
    ld.raw = copy;
    ld.rawlen = len;
    ld.name = name;
    ld.err = err;
    ld.errlen = errlen;
    ld.t = t;
    if (load_root(&ld, root) != 0) goto fail;
    if (rules_matcher_finish(&t->matcher) != 0) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    cJSON_Delete(root);
    free(copy);
    return t;
fail:
    cJSON_Delete(root);
    free(copy);
    rules_free(t);
    return NULL;
}

struct rules_table *rules_load_file(const char *path, char *err, size_t errlen)
{
    char scratch[8];
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct rules_table *t = NULL;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (path == NULL) {
        snprintf(err, errlen, "(rules): no file name");
        goto out;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        if (len == cap) {
            size_t grown_cap = cap ? cap * 2 : 65536;
            char *grown;

            if (cap > MAX_FILE_BYTES) {
                snprintf(err, errlen, "%s: file too large (at most %u bytes)", path,
                         MAX_FILE_BYTES);
                goto out;
            }
            grown = realloc(buf, grown_cap);
            if (grown == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            buf = grown;
            cap = grown_cap;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (ferror(f)) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (feof(f)) break;
    }
    t = rules_load_buffer(buf, len, path, err, errlen);
out:
    if (f != NULL) fclose(f);
    free(buf);
    return t;
}

void rules_free(struct rules_table *table)
{
    if (table == NULL) return;
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        free(table->cat[c].label_th);
        free(table->cat[c].label_en);
        free(table->cat[c].chat_label_th);
        free(table->cat[c].chat_label_en);
    }
    rules_matcher_free(&table->matcher);
    triage_model_free(table->model);
    thai_words_free(table->words);
    free(table);
}

static int rule_applies(const struct rules_rule *r, int category, const struct incident *incident,
                        const struct rules_scan *scan, size_t index)
{
    uint64_t bit = (uint64_t)1 << (index % 64);

    if (r->category_mask != 0 && !(r->category_mask & (1u << category))) return 0;
    if (r->channel >= 0 && r->channel != (int)incident->channel) return 0;
    if (r->has_words_any && !(scan->words_any_hit[index / 64] & bit)) return 0;
    if (r->has_words_none && (scan->words_none_hit[index / 64] & bit)) return 0;
    return 1;
}

static void rule_apply(const struct rules_rule *r, struct rules_decision *out)
{
    if (r->set_priority) out->priority = r->set_priority;
    out->priority -= r->raise_steps;
    if (out->priority < RULES_PRIORITY_HIGHEST) out->priority = RULES_PRIORITY_HIGHEST;
    for (size_t k = 0; k < r->nadd_skills; k++) {
        size_t j = 0;

        while (j < out->nskills && strcmp(out->skills[j], r->add_skills[k]) != 0) j++;
        if (j == out->nskills && out->nskills < RULES_MAX_SKILLS)
            memcpy(out->skills[out->nskills++], r->add_skills[k], RULES_MAX_SKILL_LEN);
    }
    if (r->prefer_skill[0] != '\0') memcpy(out->prefer_skill, r->prefer_skill, RULES_MAX_SKILL_LEN);
    if (r->nradii > 0) {
        out->nradii = r->nradii;
        memcpy(out->radii_km, r->radii_km, r->nradii * sizeof(r->radii_km[0]));
    }
    if (r->ack_timeout_s) out->ack_timeout_s = r->ack_timeout_s;
    if (r->max_attempts) out->max_attempts = r->max_attempts;
}

int rules_decide(const struct rules_table *table, const struct incident *incident,
                 struct rules_decision *out)
{
    struct rules_scan scan;
    const struct rules_category *cat;
    const char *text;
    int category;

    if (out != NULL) memset(out, 0, sizeof(*out));
    if (table == NULL || incident == NULL || out == NULL) return -1;
    text = incident->description;
    if (rules_scan_text(table, text, text ? strlen(text) : 0, &scan) != 0) return -1;
    category = incident->category;
    out->confidence = 1.0;
    if (category < 0 || category >= INCIDENT_CATEGORY_COUNT) {
        struct rules_guess guess;

        if (rules_guess_scanned(table, text, text ? strlen(text) : 0, &scan, &guess) != 0)
            return -1;
        category = guess.category;
        out->classified = 1;
        out->confidence = guess.confidence;
        out->needs_triage = !guess.confident;
    }
    cat = &table->cat[category];
    out->category = category;
    out->priority = cat->priority;
    out->nskills = cat->nskills;
    memcpy(out->skills, cat->skills, sizeof(out->skills));
    out->nradii = cat->nradii;
    memcpy(out->radii_km, cat->radii_km, sizeof(out->radii_km));
    out->ack_timeout_s = cat->ack_timeout_s;
    out->max_attempts = cat->max_attempts;
    out->dispatch = cat->dispatch;
    for (size_t r = 0; r < table->nrules; r++) {
        if (rule_applies(&table->rules[r], category, incident, &scan, r))
            rule_apply(&table->rules[r], out);
    }
    if (out->needs_triage) { /* an operator reads it first, before anything else */
        out->priority = RULES_PRIORITY_HIGHEST;
        out->dispatch = 0;
    }
    return 0;
}

const char *rules_category_label(const struct rules_table *table, int category, const char *lang)
{
    if (table == NULL || lang == NULL || category < 0 || category >= INCIDENT_CATEGORY_COUNT)
        return "";
    if (strcmp(lang, "th") == 0) return table->cat[category].label_th;
    if (strcmp(lang, "en") == 0) return table->cat[category].label_en;
    return "";
}

const char *rules_category_chat_label(const struct rules_table *table, int category,
                                      const char *lang)
{
    const char *label;

    if (table == NULL || lang == NULL || category < 0 || category >= INCIDENT_CATEGORY_COUNT)
        return "";
    if (strcmp(lang, "th") == 0)
        label = table->cat[category].chat_label_th;
    else if (strcmp(lang, "en") == 0)
        label = table->cat[category].chat_label_en;
    else
        return "";
    return label != NULL ? label : rules_category_label(table, category, lang);
}

const char *rules_priority_code(int priority)
{
    static const char *const codes[] = {"P1", "P2", "P3", "P4"};

    if (priority < RULES_PRIORITY_HIGHEST || priority > RULES_PRIORITY_LOWEST) return "P?";
    return codes[priority - RULES_PRIORITY_HIGHEST];
}

int rules_priority_parse(const char *s, size_t len)
{
    if (s == NULL || len != 2 || s[0] != 'P' || s[1] < '0' + RULES_PRIORITY_HIGHEST ||
        s[1] > '0' + RULES_PRIORITY_LOWEST)
        return 0;
    return s[1] - '0';
}

/* Appends item to the comma-separated list out[0..*used) when it fits in outlen with the NUL. */
static void csv_add(char *out, size_t outlen, size_t *used, const char *item)
{
    int n = snprintf(out + *used, outlen - *used, "%s%s", *used ? "," : "", item);

    if (n < 0 || (size_t)n >= outlen - *used)
        out[*used] = '\0'; /* did not fit: the list stays as it was */
    else
        *used += (size_t)n;
}

void rules_skills_csv(const struct rules_decision *d, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < d->nskills; i++) csv_add(out, outlen, &used, d->skills[i]);
}

void rules_radii_csv(const struct rules_decision *d, char *out, size_t outlen)
{
    size_t used = 0;
    char km[32];

    out[0] = '\0';
    for (size_t i = 0; i < d->nradii; i++) {
        snprintf(km, sizeof km, "%g", d->radii_km[i]);
        csv_add(out, outlen, &used, km);
    }
}
