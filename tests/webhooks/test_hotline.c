/* Unit tests of webhooks/hotline.c: DESIGN.md's incident body, a table of malformed bodies each
 * refused with the right code and field, unknown and null fields, trimming, and every length
 * limit at exactly its maximum and one byte past it. */
#include "hotline.h"
#include "incident.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define LOC "\"location\":{\"lat\":13.7563,\"lon\":100.5018}"

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static int parse(const char *body, struct incident *inc, struct hotline_error *err)
{
    return hotline_parse_incident(body, strlen(body), inc, err);
}

/* 1 when inc is in the cleared state hotline_parse_incident leaves on failure. */
static int is_cleared(const struct incident *inc)
{
    return inc->category == INCIDENT_CATEGORY_NONE && inc->call_id == NULL &&
           inc->description == NULL && inc->address == NULL && inc->reporter_name == NULL &&
           inc->reporter_phone == NULL && inc->reporter_line_user == NULL &&
           inc->operator_id == NULL && !inc->has_location;
}

/* n copies of unit, on the heap, NUL-terminated; the caller frees. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);

    if (s == NULL) abort();
    for (size_t i = 0; i < n; i++) memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* A heap body built with a format taking one string argument; the caller frees. */
static char *body_with(const char *fmt, const char *arg)
{
    size_t size = strlen(fmt) + strlen(arg) + 1;
    char *s = malloc(size);

    if (s == NULL) abort();
    snprintf(s, size, fmt, arg);
    return s;
}

static void test_design_example(void)
{
    const char *body =
        "{\"call_id\": \"1300-20261121-000123\",\n"
        " \"category\": \"detention\",\n"
        " \"description\": \"ลูกสาวถูกแฟนขังไว้ในห้อง\",\n"
        " \"location\": {\"lat\": 13.7563, \"lon\": 100.5018,\n"
        "               \"address\": \"เขตพระนคร กรุงเทพฯ\"},\n"
        " \"reporter\": {\"name\": \"สมศรี ใจดี\", \"phone\": \"+66 (0)81-234-5678\"},\n"
        " \"operator_id\": \"op-17\"}";
    struct incident inc;
    struct hotline_error err;
    int rc = parse(body, &inc, &err);

    CHECK(rc == 0, "DESIGN.md's incident body parses");
    CHECK(inc.channel == INCIDENT_CHANNEL_HOTLINE, "channel is hotline");
    CHECK(str_eq(inc.call_id, "1300-20261121-000123"), "call_id");
    CHECK(inc.category == INCIDENT_DETENTION, "category detention");
    CHECK(str_eq(inc.description, "ลูกสาวถูกแฟนขังไว้ในห้อง"), "description (Thai)");
    CHECK(inc.has_location && inc.lat == 13.7563 && inc.lon == 100.5018, "location lat/lon");
    CHECK(str_eq(inc.address, "เขตพระนคร กรุงเทพฯ"), "location.address (Thai, inner space kept)");
    CHECK(str_eq(inc.reporter_name, "สมศรี ใจดี"), "reporter.name");
    CHECK(str_eq(inc.reporter_phone, "+66 (0)81-234-5678"), "reporter.phone");
    CHECK(inc.reporter_line_user == NULL, "no LINE user on a hotline incident");
    CHECK(str_eq(inc.operator_id, "op-17"), "operator_id");
    incident_clear(&inc);
    CHECK(is_cleared(&inc), "incident_clear leaves the struct cleared");
    incident_clear(NULL);

    /* DESIGN.md's example verbatim, "…" placeholders included: operators type what the caller
     * gives ("ไม่ให้เบอร์", an extension), so a phone is free text without control characters. */
    rc = parse("{\"category\":\"detention\"," LOC ",\"reporter\":{\"name\":\"…\",\"phone\":\"…\"}}",
               &inc, &err);
    CHECK(rc == 0 && str_eq(inc.reporter_phone, "…"), "DESIGN's placeholder phone is accepted");
    incident_clear(&inc);
}

static void test_minimal_and_nulls(void)
{
    struct incident inc;
    struct hotline_error err;
    int rc;

    rc = parse("{\"category\":\"mental_crisis\"," LOC "}", &inc, &err);
    CHECK(rc == 0 && inc.category == INCIDENT_MENTAL_CRISIS && inc.description == NULL &&
              inc.call_id == NULL && inc.reporter_name == NULL && inc.address == NULL,
          "category and location alone are enough");
    incident_clear(&inc);

    rc = parse("{\"description\":\"ถูกขังอยู่ในห้อง ช่วยด้วย\"," LOC "}", &inc, &err);
    CHECK(rc == 0 && inc.category == INCIDENT_CATEGORY_NONE &&
              str_eq(inc.description, "ถูกขังอยู่ในห้อง ช่วยด้วย"),
          "description without category: category left to the classifier");
    incident_clear(&inc);

    rc = parse("{\"call_id\":null,\"category\":null,\"description\":\"help\",\"reporter\":null,"
               "\"operator_id\":null,\"location\":{\"lat\":0,\"lon\":0,\"address\":null}}",
               &inc, &err);
    CHECK(rc == 0 && inc.call_id == NULL && inc.category == INCIDENT_CATEGORY_NONE &&
              inc.reporter_name == NULL && inc.operator_id == NULL && inc.address == NULL &&
              inc.has_location,
          "null counts as absent everywhere");
    incident_clear(&inc);

    rc = parse("{\"category\":\"other\"," LOC ",\"reporter\":{\"name\":null,\"phone\":null}}", &inc,
               &err);
    CHECK(rc == 0 && inc.category == INCIDENT_OTHER && inc.reporter_name == NULL &&
              inc.reporter_phone == NULL,
          "reporter with null members; category other");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\"}", &inc, &err);
    CHECK(rc == 0 && inc.category == INCIDENT_THREAT && !inc.has_location && inc.address == NULL,
          "no location: accepted without coordinates");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\",\"location\":null}", &inc, &err);
    CHECK(rc == 0 && !inc.has_location, "a null location: accepted without coordinates");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\",\"location\":{}}", &inc, &err);
    CHECK(rc == 0 && !inc.has_location && inc.address == NULL,
          "an empty location: accepted without coordinates");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\",\"location\":{\"address\":\" ซอยงามวงศ์วาน 23 \"}}", &inc,
               &err);
    CHECK(rc == 0 && !inc.has_location && str_eq(inc.address, "ซอยงามวงศ์วาน 23"),
          "a location with only an address: the address kept, no coordinates");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\",\"location\":{\"lat\":null,\"lon\":null,"
               "\"address\":\"x\"}}",
               &inc, &err);
    CHECK(rc == 0 && !inc.has_location && str_eq(inc.address, "x"),
          "null coordinates count as absent");
    incident_clear(&inc);

    rc = parse("{\"category\":\"gathering\",\"description\":\"   \"," LOC "}", &inc, &err);
    CHECK(rc == 0 && inc.description == NULL, "a blank description with a category is absent");
    incident_clear(&inc);

    rc = hotline_parse_incident("{\"category\":\"threat\"," LOC "}",
                                strlen("{\"category\":\"threat\"," LOC "}"), NULL, NULL);
    CHECK(rc == 0, "out and err may be NULL (validation only)");
    rc = hotline_parse_incident("[]", 2, NULL, NULL);
    CHECK(rc == -1, "validation only still refuses");
}

static void test_unknown_fields(void)
{
    struct incident inc;
    struct hotline_error err;
    int rc = parse("{\"category\":\"threat\",\"priority\":\"P0\","
                   "\"extra\":{\"a\":[1,{\"b\":null}]},"
                   "\"location\":{\"lat\":1,\"lon\":2,\"alt\":30,\"accuracy\":\"x\"},"
                   "\"reporter\":{\"line_user\":\"U123\",\"age\":4},\"Category\":\"bogus\"}",
                   &inc, &err);

    CHECK(rc == 0 && inc.category == INCIDENT_THREAT && inc.reporter_line_user == NULL,
          "unknown fields at every level are ignored; names are case-sensitive");
    incident_clear(&inc);
}

static void test_trimming(void)
{
    struct incident inc;
    struct hotline_error err;
    int rc = parse("{\"call_id\":\"  c-1 \",\"category\":\" abuse_risk\\n\","
                   "\"description\":\"\\t  ช่วยด้วย \\u00a0\\u3000\","
                   "\"location\":{\"lat\":-90,\"lon\":180,\"address\":\"\\ufeff ที่อยู่ \"},"
                   "\"reporter\":{\"name\":\"\\u200b สมชาย\\u200b\",\"phone\":\" 1300 \"},"
                   "\"operator_id\":\" op-1 \"}",
                   &inc, &err);

    CHECK(rc == 0, "a body with padded strings parses");
    CHECK(str_eq(inc.call_id, "c-1"), "call_id trimmed");
    CHECK(inc.category == INCIDENT_ABUSE_RISK, "category trimmed");
    CHECK(str_eq(inc.description, "ช่วยด้วย"), "description trimmed of ASCII, U+00A0, U+3000");
    CHECK(str_eq(inc.address, "ที่อยู่"), "address trimmed of U+FEFF and spaces");
    CHECK(str_eq(inc.reporter_name, "สมชาย"), "name trimmed of U+200B");
    CHECK(str_eq(inc.reporter_phone, "1300"), "phone trimmed");
    CHECK(str_eq(inc.operator_id, "op-1"), "operator_id trimmed");
    CHECK(inc.lat == -90.0 && inc.lon == 180.0, "lat -90 and lon 180 are in range");
    incident_clear(&inc);

    rc = parse("{\"category\":\"threat\",\"location\":{\"lat\":90,\"lon\":-180}}", &inc, &err);
    CHECK(rc == 0 && inc.lat == 90.0 && inc.lon == -180.0, "lat 90 and lon -180 are in range");
    incident_clear(&inc);
}

struct bad_case {
    const char *body;
    const char *code;
    const char *field;
    const char *what;
};

static const struct bad_case bad_cases[] = {
    {"", "invalid_json", "", "empty body"},
    {"   ", "invalid_json", "", "white space only"},
    {"{", "invalid_json", "", "unterminated object"},
    {"{\"category\":\"threat\",}", "invalid_json", "", "trailing comma"},
    {"{\"category\":\"threat\"," LOC "} x", "invalid_json", "", "garbage after the object"},
    {"{\"category\":\"threat\"," LOC "}{}", "invalid_json", "", "two objects"},
    {"{'category':'threat'}", "invalid_json", "", "single quotes"},
    {"}{", "invalid_json", "", "closing bracket first"},
    {"{\"description\":\"a\\u0000SECRET\"," LOC "}", "invalid_json", "", "escaped NUL"},
    {"{\"description\":\"\\ud800SECRET\"," LOC "}", "invalid_json", "", "lone surrogate escape"},
    {"[1,2]", "not_an_object", "", "an array"},
    {"\"SECRET\"", "not_an_object", "", "a string"},
    {"42", "not_an_object", "", "a number"},
    {"null", "not_an_object", "", "null"},
    {"{\"a\":[[[[[[[[1]]]]]]]]," LOC ",\"category\":\"threat\"}", "too_deep", "",
     "nine levels of nesting"},
    {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "too_deep", "", "deep unterminated arrays"},
    {"{\"description\":\"SECRET\xff\"," LOC "}", "invalid_utf8", "", "byte FF in a string"},
    {"{\"description\":\"\xc0\xafSECRET\"," LOC "}", "invalid_utf8", "", "overlong in a string"},
    {"{\"descr\xed\xa0\x80iption\":\"x\"," LOC "}", "invalid_utf8", "", "surrogate in a key"},
    {"{\"category\":\"threat\",\"location\":\"SECRET\"}", "invalid_field", "location",
     "location a string"},
    {"{\"category\":\"threat\",\"location\":[13.7,100.5]}", "invalid_field", "location",
     "location an array"},
    {"{\"category\":\"threat\",\"location\":{\"lon\":100}}", "missing_field", "location.lat",
     "no lat"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13.7,\"address\":\"SECRET\"}}",
     "missing_field", "location.lon", "lat without lon, with an address"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13,\"lon\":null}}", "missing_field",
     "location.lon", "null lon"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":\"13.7\",\"lon\":100}}", "invalid_field",
     "location.lat", "lat a string"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":90.0001,\"lon\":100}}", "invalid_field",
     "location.lat", "lat above 90"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":-90.5,\"lon\":100}}", "invalid_field",
     "location.lat", "lat below -90"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":1e999,\"lon\":100}}", "invalid_field",
     "location.lat", "lat infinite"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13,\"lon\":180.01}}", "invalid_field",
     "location.lon", "lon above 180"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13,\"lon\":-1e999}}", "invalid_field",
     "location.lon", "lon minus infinity"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13,\"lon\":true}}", "invalid_field",
     "location.lon", "lon a boolean"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":13,\"lon\":100,\"address\":7}}",
     "invalid_field", "location.address", "address a number"},
    {"{" LOC "}", "missing_field", "description", "neither category nor description"},
    {"{\"description\":\" \\n\\t \"," LOC "}", "missing_field", "description",
     "blank description without category"},
    {"{\"description\":null," LOC "}", "missing_field", "description",
     "null description without category"},
    {"{\"description\":[\"SECRET\"]," LOC "}", "invalid_field", "description",
     "description an array"},
    {"{\"description\":\"a\\u0001b\"," LOC "}", "invalid_field", "description",
     "control character in the description"},
    {"{\"category\":\"SECRET\"," LOC "}", "invalid_field", "category", "unknown category"},
    {"{\"category\":\"Detention\"," LOC "}", "invalid_field", "category",
     "category codes are case-sensitive"},
    {"{\"category\":\"\"," LOC "}", "invalid_field", "category", "empty category"},
    {"{\"category\":2," LOC "}", "invalid_field", "category", "category a number"},
    {"{\"category\":\"threatthreatthreatthreatthreatthreat\"," LOC "}", "invalid_field", "category",
     "long unknown category"},
    {"{\"category\":\"threat\",\"category\":\"other\"," LOC "}", "invalid_field", "category",
     "category twice"},
    {"{\"category\":\"threat\",\"location\":{\"lat\":1,\"lat\":2,\"lon\":3}}", "invalid_field",
     "location.lat", "lat twice"},
    {"{\"call_id\":\"SECRET/1\",\"category\":\"threat\"," LOC "}", "invalid_field", "call_id",
     "call_id with a slash"},
    {"{\"call_id\":\"SECRET 1\",\"category\":\"threat\"," LOC "}", "invalid_field", "call_id",
     "call_id with an inner space"},
    {"{\"call_id\":\"เลขที่1\",\"category\":\"threat\"," LOC "}", "invalid_field", "call_id",
     "call_id with Thai letters"},
    {"{\"call_id\":\"\",\"category\":\"threat\"," LOC "}", "invalid_field", "call_id",
     "empty call_id"},
    {"{\"call_id\":123,\"category\":\"threat\"," LOC "}", "invalid_field", "call_id",
     "call_id a number"},
    {"{\"category\":\"threat\"," LOC ",\"reporter\":\"SECRET\"}", "invalid_field", "reporter",
     "reporter a string"},
    {"{\"category\":\"threat\"," LOC ",\"reporter\":{\"phone\":\"081\\u0007\"}}", "invalid_field",
     "reporter.phone", "phone with a control character"},
    {"{\"category\":\"threat\"," LOC ",\"reporter\":{\"phone\":812345678}}", "invalid_field",
     "reporter.phone", "phone a number"},
    {"{\"category\":\"threat\"," LOC ",\"reporter\":{\"name\":{}}}", "invalid_field",
     "reporter.name", "name an object"},
    {"{\"category\":\"threat\"," LOC ",\"reporter\":{\"name\":\"a\\nSECRET\"}}", "invalid_field",
     "reporter.name", "newline inside a name"},
    {"{\"category\":\"threat\"," LOC ",\"operator_id\":true}", "invalid_field", "operator_id",
     "operator_id a boolean"},
};

static void test_bad_bodies(void)
{
    size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
    int all_cleared = 1, no_quote = 1;

    for (size_t i = 0; i < n; i++) {
        const struct bad_case *b = &bad_cases[i];
        struct incident inc;
        struct hotline_error err;
        char what[200];
        int rc;

        memset(&inc, 0x5A, sizeof(inc)); /* garbage: the parser must not free it */
        memset(&err, 0, sizeof(err));
        rc = parse(b->body, &inc, &err);
        snprintf(what, sizeof(what), "refused with %s%s%s: %s", b->code, b->field[0] ? " on " : "",
                 b->field, b->what);
        if (!CHECK(rc == -1 && strcmp(err.code, b->code) == 0 && strcmp(err.field, b->field) == 0,
                   what))
            printf("#   got rc %d code \"%s\" field \"%s\"\n", rc, err.code, err.field);
        all_cleared &= is_cleared(&inc);
        no_quote &= strstr(err.message, "SECRET") == NULL && err.message[0] != '\0';
        incident_clear(&inc);
    }
    CHECK(n >= 25, "at least 25 malformed bodies were tried");
    CHECK(all_cleared, "a refused body leaves the incident cleared");
    CHECK(no_quote, "every refusal has a message, and no message quotes the rejected value");
}

static void test_raw_bytes(void)
{
    struct incident inc;
    struct hotline_error err;
    const char nul_body[] = "{\"category\":\"threat\"," LOC "}\0";
    const char *ok = "{\"category\":\"threat\"," LOC "}";
    int rc;

    rc = hotline_parse_incident(nul_body, sizeof(nul_body) - 1, &inc, &err);
    CHECK(rc == -1 && strcmp(err.code, "invalid_json") == 0, "a raw NUL byte is refused");
    rc = hotline_parse_incident(ok, strlen(ok) - 1, &inc, &err);
    CHECK(rc == -1 && strcmp(err.code, "invalid_json") == 0,
          "the length is honoured: the body cut before its last brace is refused");
    rc = hotline_parse_incident(NULL, 0, &inc, &err);
    CHECK(rc == -1 && strcmp(err.code, "invalid_json") == 0, "a NULL empty body is refused");
    rc = parse(" \r\n{\"category\":\"threat\"," LOC "} \n", &inc, &err);
    CHECK(rc == 0, "white space around the object is fine");
    incident_clear(&inc);
}

static void test_depth(void)
{
    struct incident inc;
    struct hotline_error err;
    int rc;

    rc = parse("{\"a\":[[[[[[[1]]]]]]]," LOC ",\"category\":\"threat\"}", &inc, &err);
    CHECK(rc == 0, "exactly eight levels of nesting are accepted");
    incident_clear(&inc);
    rc = parse("{\"description\":\"[[[[[{{{{{{\\\"[[[[[\"," LOC "}", &inc, &err);
    CHECK(rc == 0 && str_eq(inc.description, "[[[[[{{{{{{\"[[[[["),
          "brackets and escaped quotes inside strings do not count as nesting");
    incident_clear(&inc);
    rc = parse("{\"description\":\"\\\\u0000\"," LOC "}", &inc, &err);
    CHECK(rc == 0 && str_eq(inc.description, "\\u0000"),
          "an escaped backslash before u0000 is not a NUL escape");
    incident_clear(&inc);
}

/* One string field at exactly max bytes and at max + 1. fmt takes the value once. */
static void check_limit(const char *fmt, const char *unit, size_t unit_count, const char *tail,
                        const char *field, size_t max, char *const *(*got)(struct incident *))
{
    char *value = repeat(unit, unit_count);
    size_t vlen = strlen(value) + strlen(tail);
    char *full = malloc(vlen + 1);
    char *body;
    struct incident inc;
    struct hotline_error err;
    char what[160];
    int rc;

    if (full == NULL) abort();
    snprintf(full, vlen + 1, "%s%s", value, tail);
    body = body_with(fmt, full);
    rc = parse(body, &inc, &err);
    snprintf(what, sizeof(what), "%s: exactly %zu bytes is accepted", field, max);
    CHECK(vlen == max && rc == 0 && str_eq(*got(&inc), full), what);
    incident_clear(&inc);
    free(body);

    full = realloc(full, vlen + 2);
    if (full == NULL) abort();
    full[vlen] = '7';
    full[vlen + 1] = '\0';
    body = body_with(fmt, full);
    rc = parse(body, &inc, &err);
    snprintf(what, sizeof(what), "%s: %zu bytes is field_too_long", field, max + 1);
    CHECK(rc == -1 && strcmp(err.code, "field_too_long") == 0 && strcmp(err.field, field) == 0,
          what);
    free(body);
    free(full);
    free(value);
}

static char *const *get_call_id(struct incident *i)
{
    return &i->call_id;
}
static char *const *get_description(struct incident *i)
{
    return &i->description;
}
static char *const *get_address(struct incident *i)
{
    return &i->address;
}
static char *const *get_name(struct incident *i)
{
    return &i->reporter_name;
}
static char *const *get_phone(struct incident *i)
{
    return &i->reporter_phone;
}
static char *const *get_operator(struct incident *i)
{
    return &i->operator_id;
}

static void test_limits(void)
{
    /* Thai characters are three bytes each: the limits count bytes, not characters. */
    check_limit("{\"call_id\":\"%s\",\"category\":\"threat\"," LOC "}", "a", 64, "", "call_id",
                INCIDENT_MAX_CALL_ID, get_call_id);
    check_limit("{\"description\":\"%s\"," LOC "}", "ช", 1333, "a", "description",
                INCIDENT_MAX_DESCRIPTION, get_description);
    check_limit("{\"category\":\"threat\",\"location\":{\"lat\":1,\"lon\":2,\"address\":\"%s\"}}",
                "ก", 166, "ab", "location.address", INCIDENT_MAX_ADDRESS, get_address);
    check_limit("{\"category\":\"threat\"," LOC ",\"reporter\":{\"name\":\"%s\"}}", "ม", 66, "ab",
                "reporter.name", INCIDENT_MAX_NAME, get_name);
    check_limit("{\"category\":\"threat\"," LOC ",\"reporter\":{\"phone\":\"%s\"}}", "0", 32, "",
                "reporter.phone", INCIDENT_MAX_PHONE, get_phone);
    check_limit("{\"category\":\"threat\"," LOC ",\"operator_id\":\"%s\"}", "o", 64, "",
                "operator_id", INCIDENT_MAX_OPERATOR_ID, get_operator);
}

static void test_codes(void)
{
    static const char *const codes[] = {"threat",        "detention", "abuse_risk",
                                        "mental_crisis", "gathering", "other"};
    int all = 1;

    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        const char *code = incident_category_code(c);

        all &= code != NULL && strcmp(code, codes[c]) == 0 &&
               incident_category_parse(code, strlen(code)) == c;
    }
    CHECK(all, "the six category codes round-trip");
    CHECK(incident_category_code(-1) == NULL && incident_category_code(6) == NULL,
          "out-of-range categories have no code");
    CHECK(incident_category_parse("threa", 5) == INCIDENT_CATEGORY_NONE &&
              incident_category_parse("threats", 7) == INCIDENT_CATEGORY_NONE &&
              incident_category_parse("threat", 6) == INCIDENT_THREAT,
          "category parsing is exact over the given length");
    CHECK(str_eq(incident_channel_code(INCIDENT_CHANNEL_HOTLINE), "hotline") &&
              str_eq(incident_channel_code(INCIDENT_CHANNEL_LINE), "line"),
          "channel codes");
}

int main(void)
{
    test_design_example();
    test_minimal_and_nulls();
    test_unknown_fields();
    test_trimming();
    test_bad_bodies();
    test_raw_bytes();
    test_depth();
    test_limits();
    test_codes();
    return tap_done();
}
