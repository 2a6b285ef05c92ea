/* The 1300 hotline channel: turns the operator's JSON form (POST /v1/incidents) into the
 * normalised incident, validating every field. Knows nothing of HTTP or Redis. */
#ifndef ESS_WEBHOOKS_HOTLINE_H
#define ESS_WEBHOOKS_HOTLINE_H

#include <stddef.h>

struct incident;

/* Why a form was refused: a stable snake_case code, the JSON field it concerns and a sentence. */
struct hotline_error {
    char code[48];     /* e.g. "invalid_json", "missing_field", "invalid_field", "field_too_long" */
    char field[48];    /* e.g. "location.lat"; "" when the body as a whole is at fault */
    char message[160]; /* a human sentence, never quoting the rejected value */
};

/* Parses body[0..len) into out (channel hotline). The body must be a JSON object no deeper than
 * 8 levels, of valid UTF-8; "location" is optional, and so are its coordinates, but when "lat"
 * or "lon" is given both are required, "lat" in [-90, 90] and "lon" in [-180, 180] (then
 * out->has_location is set; a location with only "address", or none, leaves it 0); "category"
 * when present is one of the six codes; "description" is required when "category" is absent;
 * strings are within the INCIDENT_MAX_* limits; unknown fields are ignored. Returns 0, or -1
 * with err filled and out cleared. out's strings are owned by out. */
int hotline_parse_incident(const char *body, size_t len, struct incident *out,
                           struct hotline_error *err);

#endif
