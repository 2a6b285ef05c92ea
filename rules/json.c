/* Untrusted JSON in, typed members out (rules/json.h). */
#include "json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* JSON_PARSE_OK when no object in item's tree names a member twice, JSON_PARSE_DUPLICATE when one
 * does, JSON_PARSE_NO_MEMORY. Sorting the names keeps a body of many members O(n log n); the
 * recursion is bounded by the depth the raw scan has already checked. */
static enum json_parse_result unique_members(const cJSON *item)
{
    enum json_parse_result rc = JSON_PARSE_OK;
    const char **names = NULL;
    size_t n = 0, i;
    const cJSON *m;

    if (!cJSON_IsObject(item) && !cJSON_IsArray(item)) return JSON_PARSE_OK;
    for (m = item->child; m != NULL; m = m->next) n++;
    if (cJSON_IsObject(item) && n > 1) {
        if ((names = malloc(n * sizeof *names)) == NULL) return JSON_PARSE_NO_MEMORY;
        for (i = 0, m = item->child; m != NULL; m = m->next)
            names[i++] = m->string ? m->string : "";
        qsort(names, n, sizeof *names, name_cmp);
        for (i = 1; i < n && rc == JSON_PARSE_OK; i++)
            if (strcmp(names[i - 1], names[i]) == 0) rc = JSON_PARSE_DUPLICATE;
        free(names);
    }
    for (m = item->child; m != NULL && rc == JSON_PARSE_OK; m = m->next) rc = unique_members(m);
    return rc;
}

enum json_parse_result json_parse_object(const char *body, size_t len, int max_depth, int flags,
                                         cJSON **out)
{
    enum json_parse_result rc;
    const char *end = NULL;
    char *copy = NULL;
    cJSON *root = NULL;

    *out = NULL;
    if (body == NULL || len == 0) return JSON_PARSE_EMPTY;
    if (!text_utf8_valid(body, len)) return JSON_PARSE_NOT_UTF8;
    /* A terminated, writable copy: the scan may rewrite escapes, and no path inside cJSON can
     * read past the body. */
    copy = text_dup_len(body, len);
    if (copy == NULL) return JSON_PARSE_NO_MEMORY;
    switch (text_json_scan(copy, len, max_depth, (flags & JSON_PARSE_REWRITE_NUL) ? copy : NULL)) {
    case TEXT_JSON_OK:
        break;
    case TEXT_JSON_TOO_DEEP:
        rc = JSON_PARSE_TOO_DEEP;
        goto done;
    case TEXT_JSON_NUL:
        rc = JSON_PARSE_NUL;
        goto done;
    default:
        rc = JSON_PARSE_INVALID;
        goto done;
    }
    root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
    if (root == NULL) {
        rc = JSON_PARSE_INVALID;
        goto done;
    }
    /* Only white space may follow the value. */
    while (end != NULL && end < copy + len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end == NULL || end != copy + len) {
        rc = JSON_PARSE_INVALID;
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = JSON_PARSE_NOT_OBJECT;
        goto done;
    }
    if ((flags & JSON_PARSE_UNIQUE) && (rc = unique_members(root)) != JSON_PARSE_OK) goto done;
    *out = root;
    root = NULL;
    rc = JSON_PARSE_OK;
done:
    cJSON_Delete(root);
    free(copy);
    return rc;
}

int json_member(const cJSON *obj, const char *name, const cJSON **item)
{
    const cJSON *found = NULL;

    *item = NULL;
    for (const cJSON *m = obj != NULL ? obj->child : NULL; m != NULL; m = m->next) {
        if (m->string == NULL || strcmp(m->string, name) != 0) continue;
        if (found != NULL) return -1;
        found = m;
    }
    if (found != NULL && !cJSON_IsNull(found)) *item = found;
    return 0;
}

int json_text(const cJSON *obj, const char *name, size_t max, const char **s, size_t *n)
{
    const cJSON *item;

    *s = NULL;
    *n = 0;
    if (json_member(obj, name, &item) != 0) return -1;
    if (item == NULL) return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL) return -1;
    *n = strlen(item->valuestring);
    if (*n > max || !text_utf8_valid(item->valuestring, *n)) {
        *n = 0;
        return -1;
    }
    *s = item->valuestring;
    return 0;
}

const char *json_string(const cJSON *obj, const char *name, const char *absent)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : absent;
}

double json_number(const cJSON *obj, const char *name, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char *end = NULL;
    double d;

    if (present != NULL) *present = 0;
    if (cJSON_IsNumber(v)) {
        if (present != NULL) *present = 1;
        return v->valuedouble;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL || v->valuestring[0] == '\0') return 0;
    d = strtod(v->valuestring, &end);
    if (end == v->valuestring || *end != '\0') return 0;
    if (present != NULL) *present = 1;
    return d;
}

enum json_number_result json_number_in(const cJSON *obj, const char *name, double min, double max,
                                       double *out)
{
    const cJSON *item;

    if (json_member(obj, name, &item) != 0) return JSON_NUMBER_DUPLICATE;
    if (item == NULL) return JSON_NUMBER_ABSENT;
    if (!cJSON_IsNumber(item)) return JSON_NUMBER_NOT_NUMBER;
    if (!isfinite(item->valuedouble) || item->valuedouble < min || item->valuedouble > max)
        return JSON_NUMBER_OUT_OF_RANGE;
    *out = item->valuedouble;
    return JSON_NUMBER_OK;
}
