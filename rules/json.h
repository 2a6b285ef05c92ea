/* Reading JSON with cJSON, the one way for every layer: untrusted bodies are parsed only after a
 * UTF-8 check and a raw depth scan, from a NUL-terminated copy, with nothing but white space
 * after the value; members are read with typed getters. Pure, no I/O. */
#ifndef ESS_RULES_JSON_H
#define ESS_RULES_JSON_H

#include <stddef.h>

struct cJSON;

enum json_parse_result {
    JSON_PARSE_OK = 0,
    JSON_PARSE_EMPTY,      /* no bytes at all */
    JSON_PARSE_NOT_UTF8,   /* not valid UTF-8, or a raw NUL byte */
    JSON_PARSE_TOO_DEEP,   /* arrays and objects nest deeper than max_depth */
    JSON_PARSE_NUL,        /* a \u0000 escape (only without JSON_PARSE_REWRITE_NUL) */
    JSON_PARSE_INVALID,    /* not JSON, or something other than white space after the value */
    JSON_PARSE_NOT_OBJECT, /* JSON, but not an object */
    JSON_PARSE_DUPLICATE,  /* a member name twice in one object (only with JSON_PARSE_UNIQUE) */
    JSON_PARSE_NO_MEMORY
};

/* Flags of json_parse_object. */
#define JSON_PARSE_REWRITE_NUL 1 /* read each \u0000 escape as U+FFFD instead of refusing it */
/* Refuse an object, at any depth, that names one member twice: two readers of such a body may
 * disagree about its value. */
#define JSON_PARSE_UNIQUE 2

/* Parses body[0..len) (any bytes; body need not be NUL-terminated) into a JSON object. With
 * JSON_PARSE_OK, *out is the object, owned by the caller (cJSON_Delete); otherwise *out is
 * NULL. The checks run in the order of the result codes, so a caller can answer each one. */
enum json_parse_result json_parse_object(const char *body, size_t len, int max_depth, int flags,
                                         struct cJSON **out);

/* The member `name` of obj (case-sensitively) in *item, or NULL when it is absent or JSON null.
 * Returns 0, or -1 when the member appears more than once, since two readers of such a body may
 * disagree about its value (*item is then NULL). *item lives as long as obj. */
int json_member(const struct cJSON *obj, const char *name, const struct cJSON **item);

/* Reads the optional string member `name` of obj (json_member): 0 with *s (pointing into obj,
 * living as long as it) and *n, its length, or *s NULL and *n 0 when the member is absent or
 * null; -1 when it appears twice, is not a string, is longer than max bytes or is not valid
 * UTF-8 (a \u escape of a lone surrogate). */
int json_text(const struct cJSON *obj, const char *name, size_t max, const char **s, size_t *n);

/* The string member `name` of obj (first match), or `absent` when it is missing or not a
 * string. The string lives as long as obj. */
const char *json_string(const struct cJSON *obj, const char *name, const char *absent);

/* The member `name` of obj as a number: a JSON number, or a string that is wholly a number (the
 * store keeps numbers as text). 0 when it is missing, empty or not a number; *present (when not
 * NULL) says whether it was a number. */
double json_number(const struct cJSON *obj, const char *name, int *present);

/* What json_number_in found. */
enum json_number_result {
    JSON_NUMBER_OK = 0,
    JSON_NUMBER_ABSENT,      /* missing or JSON null */
    JSON_NUMBER_DUPLICATE,   /* the member appears twice (json_member) */
    JSON_NUMBER_NOT_NUMBER,  /* present, but not a JSON number */
    JSON_NUMBER_OUT_OF_RANGE /* a number, but not finite or outside [min, max] */
};

/* Reads the number member `name` of obj within [min, max] into *out (left alone unless
 * JSON_NUMBER_OK). Strings are not numbers here: this reads what a client sent. */
enum json_number_result json_number_in(const struct cJSON *obj, const char *name, double min,
                                       double max, double *out);

#endif
