/* The one normalised incident record that every channel (hotline form, LINE conversation) produces
 * and the rule engine consumes. Pure data and its small helpers: no I/O. */
#ifndef ESS_RULES_INCIDENT_H
#define ESS_RULES_INCIDENT_H

#include <stddef.h>

enum incident_category {
    INCIDENT_CATEGORY_NONE = -1, /* not given: the rule engine classifies the description */
    INCIDENT_THREAT = 0,
    INCIDENT_DETENTION,
    INCIDENT_ABUSE_RISK,
    INCIDENT_MENTAL_CRISIS,
    INCIDENT_GATHERING,
    INCIDENT_OTHER,
    INCIDENT_CATEGORY_COUNT
};

enum incident_channel { INCIDENT_CHANNEL_HOTLINE = 0, INCIDENT_CHANNEL_LINE };

/* Limits on what a peer may send, in bytes of UTF-8. */
#define INCIDENT_MAX_CALL_ID 64
#define INCIDENT_MAX_DESCRIPTION 4000
#define INCIDENT_MAX_ADDRESS 500
#define INCIDENT_MAX_NAME 200
#define INCIDENT_MAX_PHONE 32
#define INCIDENT_MAX_OPERATOR_ID 64
#define INCIDENT_MAX_LINE_USER 64

/* Every string is owned by the struct (heap, NUL-terminated, valid UTF-8) and freed by
 * incident_clear(); NULL means absent. */
struct incident {
    enum incident_channel channel;
    int category; /* enum incident_category, or INCIDENT_CATEGORY_NONE */
    char *call_id;
    char *description;
    int has_location;
    double lat, lon; /* WGS84 degrees, valid when has_location */
    char *address;
    char *reporter_name;
    char *reporter_phone;
    char *reporter_line_user; /* LINE user id: channel LINE only */
    char *operator_id;
};

/* "threat", "detention", ... "other"; NULL for a value out of range. Static strings. */
const char *incident_category_code(int category);

/* The category whose code is exactly s[0..len); INCIDENT_CATEGORY_NONE when none. */
int incident_category_parse(const char *s, size_t len);

/* "hotline" or "line". Static strings. */
const char *incident_channel_code(enum incident_channel channel);

/* Frees every string and zeroes the struct (category becomes INCIDENT_CATEGORY_NONE).
 * Accepts NULL. */
void incident_clear(struct incident *incident);

#endif
