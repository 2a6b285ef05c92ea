/* libFuzzer target for webhooks/hotline.c: any bytes an operator's client (or an attacker holding
 * an operator token) can POST to /v1/incidents. Checks the parser's promises, not just crashes:
 * a success gives valid, bounded strings; a refusal gives a code and a cleared incident. */
#include "hotline.h"
#include "incident.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) unless s is absent or a valid string of at most max bytes. */
static void check_string(const char *s, size_t max)
{
    if (s == NULL) return;
    if (strlen(s) == 0 || strlen(s) > max || !text_utf8_valid(s, strlen(s))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct incident inc;
    struct hotline_error err;
    int rc = hotline_parse_incident((const char *)data, size, &inc, &err);

    if (rc != hotline_parse_incident((const char *)data, size, NULL, NULL))
        abort(); /* validation alone must agree */
    if (rc == 0) {
        /* The location is optional (the operators place a case without one). */
        if (inc.has_location &&
            (!(inc.lat >= -90.0 && inc.lat <= 90.0) || !(inc.lon >= -180.0 && inc.lon <= 180.0)))
            abort();
        if (inc.category == INCIDENT_CATEGORY_NONE && inc.description == NULL) abort();
        if (inc.category != INCIDENT_CATEGORY_NONE && incident_category_code(inc.category) == NULL)
            abort();
        check_string(inc.call_id, INCIDENT_MAX_CALL_ID);
        check_string(inc.description, INCIDENT_MAX_DESCRIPTION);
        check_string(inc.address, INCIDENT_MAX_ADDRESS);
        check_string(inc.reporter_name, INCIDENT_MAX_NAME);
        check_string(inc.reporter_phone, INCIDENT_MAX_PHONE);
        check_string(inc.operator_id, INCIDENT_MAX_OPERATOR_ID);
        if (inc.reporter_line_user != NULL) abort();
    } else {
        if (rc != -1 || err.code[0] == '\0' || err.message[0] == '\0' ||
            memchr(err.code, '\0', sizeof(err.code)) == NULL ||
            memchr(err.field, '\0', sizeof(err.field)) == NULL ||
            memchr(err.message, '\0', sizeof(err.message)) == NULL)
            abort();
        if (inc.call_id != NULL || inc.description != NULL || inc.address != NULL ||
            inc.reporter_name != NULL || inc.reporter_phone != NULL || inc.operator_id != NULL ||
            inc.category != INCIDENT_CATEGORY_NONE)
            abort();
    }
    incident_clear(&inc);
    return 0;
}
