/* The 1300 hotline channel (webhooks/hotline.h): validates the operator's POST /v1/incidents body
 * and turns it into the normalised incident. Every refusal names a stable code and the field at
 * fault, and never quotes the rejected value, which may be personal data. */
#include "hotline.h"

#include "incident.h"
#include "json.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting allowed in a body, counting the top-level object as level one. */
#define HOTLINE_MAX_DEPTH 8

/* Fills err (when not NULL) and returns -1, so that callers can `return hotline_fail(...)`. */
static int hotline_fail(struct hotline_error *err, const char *code, const char *field,
                        const char *message)
{
    if (err != NULL) {
        snprintf(err->code, sizeof(err->code), "%s", code);
        snprintf(err->field, sizeof(err->field), "%s", field);
        snprintf(err->message, sizeof(err->message), "%s", message);
    }
    return -1;
}

/* Parses body into the object *root (json_parse_object: a body nested deeper than
 * HOTLINE_MAX_DEPTH or holding the escape \u0000, which would silently cut a C string short, is
 * refused before cJSON sees it). 0, or -1 with err filled. */
static int hotline_parse(const char *body, size_t len, cJSON **root, struct hotline_error *err)
{
    switch (json_parse_object(body, len, HOTLINE_MAX_DEPTH, 0, root)) {
    case JSON_PARSE_OK:
        return 0;
    case JSON_PARSE_EMPTY:
        return hotline_fail(err, "invalid_json", "", "The body is empty.");
    case JSON_PARSE_NOT_UTF8:
        return hotline_fail(err, "invalid_utf8", "", "The body is not valid UTF-8.");
    case JSON_PARSE_TOO_DEEP:
        return hotline_fail(err, "too_deep", "", "The body is nested more than 8 levels deep.");
    case JSON_PARSE_NUL:
        return hotline_fail(err, "invalid_json", "", "Strings must not contain the NUL character.");
    case JSON_PARSE_NOT_OBJECT:
        return hotline_fail(err, "not_an_object", "", "The body must be a JSON object.");
    case JSON_PARSE_NO_MEMORY:
        return hotline_fail(err, "out_of_memory", "", "The server ran out of memory.");
    default:
        return hotline_fail(err, "invalid_json", "", "The body is not valid JSON.");
    }
}

/* 1 for the characters trimmed from both ends of a string: ASCII white space and the Unicode
 * spaces a copy and paste brings along (U+00A0, U+2000..U+200B, U+202F, U+205F, U+3000,
 * U+FEFF). Stores the byte length of the character in *n. s[0..len) is valid UTF-8. */
static int hotline_is_space(const unsigned char *s, size_t len, size_t *n)
{
    uint32_t cp = 0;

    *n = text_utf8_decode((const char *)s, len, &cp);
    if (*n == 0) return 0;
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xA0 ||
           (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
           cp == 0xFEFF;
}

/* Finds the member `name` of obj (case-sensitively). Returns 0 with *item set, or NULL when
 * the member is absent or JSON null; -1 (err filled, naming `path`) when the member appears
 * more than once, since two readers of such a body may disagree about its value. *item
 * points into obj and lives as long as obj. */
static int hotline_member(const cJSON *obj, const char *name, const char *path, const cJSON **item,
                          struct hotline_error *err)
{
    if (json_member(obj, name, item) != 0)
        return hotline_fail(err, "invalid_field", path, "The field appears more than once.");
    return 0;
}

/* What a string field accepts beyond valid UTF-8. */
enum hotline_charset {
    HOTLINE_TEXT,      /* anything but ASCII control characters */
    HOTLINE_MULTILINE, /* anything but ASCII control characters other than tab and newlines */
    HOTLINE_CALL_ID    /* [A-Za-z0-9_.:-] */
};

static int hotline_charset_ok(const char *s, size_t len, enum hotline_charset set)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int digit = c >= '0' && c <= '9';

        switch (set) {
        case HOTLINE_TEXT:
            if (c < 0x20 || c == 0x7F) return 0;
            break;
        case HOTLINE_MULTILINE:
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return 0;
            break;
        case HOTLINE_CALL_ID:
            if (!(digit || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                  c == '.' || c == ':' || c == '-'))
                return 0;
            break;
        }
    }
    return 1;
}

/* Reads the optional string member `name` of obj, trimmed of surrounding white space, into a
 * new heap string *out the caller frees. *out stays NULL when the member is absent, null or
 * blank. Refuses (-1, err filled) a member that is not a string, longer than max bytes once
 * trimmed, or outside `set`. */
static int hotline_string(const cJSON *obj, const char *name, const char *path, size_t max,
                          enum hotline_charset set, char **out, struct hotline_error *err)
{
    const cJSON *item;
    const unsigned char *s;
    size_t len;
    size_t n = 0;
    char *copy;

    *out = NULL;
    if (hotline_member(obj, name, path, &item, err) != 0) return -1;
    if (item == NULL) return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return hotline_fail(err, "invalid_field", path, "The field must be a string.");
    s = (const unsigned char *)item->valuestring;
    len = strlen(item->valuestring);
    /* The body was valid UTF-8, but \u escapes (a lone surrogate) may not decode to it. */
    if (!text_utf8_valid(item->valuestring, len))
        return hotline_fail(err, "invalid_field", path, "The field is not valid Unicode text.");
    while (len > 0 && hotline_is_space(s, len, &n)) {
        s += n;
        len -= n;
    }
    while (len > 0) {
        size_t last = len - text_utf8_last_start((const char *)s, len);

        if (!hotline_is_space(s + len - last, last, &n) || n != last) break;
        len -= last;
    }
    if (len == 0) return 0;
    if (len > max)
        return hotline_fail(err, "field_too_long", path, "The field is longer than allowed.");
    if (!hotline_charset_ok((const char *)s, len, set))
        return hotline_fail(err, "invalid_field", path,
                            "The field contains characters that are not allowed.");
    copy = text_dup_len((const char *)s, len);
    if (copy == NULL)
        return hotline_fail(err, "out_of_memory", path, "The server ran out of memory.");
    *out = copy;
    return 0;
}

/* Reads the required number member `name` of obj into *out; it must be finite and within
 * [min, max]. */
static int hotline_number(const cJSON *obj, const char *name, const char *path, double min,
                          double max, double *out, struct hotline_error *err)
{
    switch (json_number_in(obj, name, min, max, out)) {
    case JSON_NUMBER_OK:
        return 0;
    case JSON_NUMBER_ABSENT:
        return hotline_fail(err, "missing_field", path, "The field is required.");
    case JSON_NUMBER_DUPLICATE:
        return hotline_fail(err, "invalid_field", path, "The field appears more than once.");
    case JSON_NUMBER_NOT_NUMBER:
        return hotline_fail(err, "invalid_field", path, "The field must be a number.");
    default:
        return hotline_fail(err, "invalid_field", path, "The field is out of range.");
    }
}

/* Reads the optional object member `name` of obj into *item (NULL when absent or null). */
static int hotline_object(const cJSON *obj, const char *name, const cJSON **item,
                          struct hotline_error *err)
{
    if (hotline_member(obj, name, name, item, err) != 0) return -1;
    if (*item != NULL && !cJSON_IsObject(*item))
        return hotline_fail(err, "invalid_field", name, "The field must be an object.");
    return 0;
}

/* Fills inc from the parsed object root. inc's strings are owned by inc, also on failure. */
static int hotline_fields(const cJSON *root, struct incident *inc, struct hotline_error *err)
{
    const cJSON *item;
    const cJSON *location;
    const cJSON *reporter;
    char *category = NULL;
    int rc = -1;

    if (hotline_string(root, "call_id", "call_id", INCIDENT_MAX_CALL_ID, HOTLINE_CALL_ID,
                       &inc->call_id, err) != 0)
        goto done;
    /* A present but blank call_id is refused rather than read as "no idempotency key". */
    if (inc->call_id == NULL) {
        if (hotline_member(root, "call_id", "call_id", &item, err) != 0) goto done;
        if (item != NULL) {
            hotline_fail(err, "invalid_field", "call_id", "The field must not be blank.");
            goto done;
        }
    }
    if (hotline_string(root, "category", "category", 32, HOTLINE_TEXT, &category, err) != 0) {
        if (strcmp(err->code, "field_too_long") == 0)
            hotline_fail(err, "invalid_field", "category", "The category is not known.");
        goto done;
    }
    if (category == NULL) {
        if (hotline_member(root, "category", "category", &item, err) != 0) goto done;
        if (item != NULL) {
            hotline_fail(err, "invalid_field", "category", "The category is not known.");
            goto done;
        }
        inc->category = INCIDENT_CATEGORY_NONE;
    } else {
        inc->category = incident_category_parse(category, strlen(category));
        if (inc->category == INCIDENT_CATEGORY_NONE) {
            hotline_fail(err, "invalid_field", "category", "The category is not known.");
            goto done;
        }
    }
    if (hotline_string(root, "description", "description", INCIDENT_MAX_DESCRIPTION,
                       HOTLINE_MULTILINE, &inc->description, err) != 0)
        goto done;
    if (inc->description == NULL && inc->category == INCIDENT_CATEGORY_NONE) {
        hotline_fail(err, "missing_field", "description",
                     "A description is required when no category is given.");
        goto done;
    }
    /* A caller who cannot say where they are is still a case (queued no_location until an
     * operator places it); coordinates, once one of the two is given, must both be valid. */
    if (hotline_object(root, "location", &location, err) != 0) goto done;
    if (location != NULL) {
        const cJSON *lat, *lon;

        if (hotline_member(location, "lat", "location.lat", &lat, err) != 0 ||
            hotline_member(location, "lon", "location.lon", &lon, err) != 0)
            goto done;
        if (lat != NULL || lon != NULL) {
            if (hotline_number(location, "lat", "location.lat", -90.0, 90.0, &inc->lat, err) != 0 ||
                hotline_number(location, "lon", "location.lon", -180.0, 180.0, &inc->lon, err) != 0)
                goto done;
            inc->has_location = 1;
        }
        if (hotline_string(location, "address", "location.address", INCIDENT_MAX_ADDRESS,
                           HOTLINE_MULTILINE, &inc->address, err) != 0)
            goto done;
    }
    if (hotline_object(root, "reporter", &reporter, err) != 0) goto done;
    if (reporter != NULL && (hotline_string(reporter, "name", "reporter.name", INCIDENT_MAX_NAME,
                                            HOTLINE_TEXT, &inc->reporter_name, err) != 0 ||
                             hotline_string(reporter, "phone", "reporter.phone", INCIDENT_MAX_PHONE,
                                            HOTLINE_TEXT, &inc->reporter_phone, err) != 0))
        goto done;
    if (hotline_string(root, "operator_id", "operator_id", INCIDENT_MAX_OPERATOR_ID, HOTLINE_TEXT,
                       &inc->operator_id, err) != 0)
        goto done;
    rc = 0;
done:
    free(category);
    return rc;
}

/* See hotline.h. out need not be initialised: its previous contents are overwritten, never
 * freed. On success out's strings are owned by out (release with incident_clear); on failure
 * out is left cleared (category INCIDENT_CATEGORY_NONE, every string NULL). err may be NULL;
 * out may be NULL to validate only. */
int hotline_parse_incident(const char *body, size_t len, struct incident *out,
                           struct hotline_error *err)
{
    struct hotline_error scratch;
    struct incident inc;
    cJSON *root = NULL;
    int rc = -1;

    if (err == NULL) err = &scratch;
    memset(err, 0, sizeof(*err));
    memset(&inc, 0, sizeof(inc));
    inc.channel = INCIDENT_CHANNEL_HOTLINE;
    inc.category = INCIDENT_CATEGORY_NONE;
    if (body == NULL && len > 0) {
        hotline_fail(err, "invalid_json", "", "The body is not valid JSON.");
        goto done;
    }
    if (len > 0 && memchr(body, '\0', len) != NULL) {
        hotline_fail(err, "invalid_json", "", "The body is not valid JSON.");
        goto done;
    }
    if (hotline_parse(body, len, &root, err) != 0) goto done;
    if (hotline_fields(root, &inc, err) != 0) goto done;
    if (out != NULL) {
        *out = inc;
        memset(&inc, 0, sizeof(inc)); /* ownership moved to out */
    }
    rc = 0;
done:
    incident_clear(&inc);
    if (rc != 0 && out != NULL) *out = inc;
    cJSON_Delete(root);
    return rc;
}
