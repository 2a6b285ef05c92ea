/* Codes of the normalised incident record (rules/incident.h): the category and channel names
 * used on the wire and in Redis, and the release of an incident's strings. */
#include "incident.h"

#include <stdlib.h>
#include <string.h>

static const char *const incident_category_codes[INCIDENT_CATEGORY_COUNT] = {
    [INCIDENT_THREAT] = "threat",         [INCIDENT_DETENTION] = "detention",
    [INCIDENT_ABUSE_RISK] = "abuse_risk", [INCIDENT_MENTAL_CRISIS] = "mental_crisis",
    [INCIDENT_GATHERING] = "gathering",   [INCIDENT_OTHER] = "other",
};

const char *incident_category_code(int category)
{
    if (category < 0 || category >= INCIDENT_CATEGORY_COUNT) return NULL;
    return incident_category_codes[category];
}

int incident_category_parse(const char *s, size_t len)
{
    if (s == NULL) return INCIDENT_CATEGORY_NONE;
    for (int c = 0; c < INCIDENT_CATEGORY_COUNT; c++) {
        const char *code = incident_category_codes[c];

        if (strlen(code) == len && memcmp(code, s, len) == 0) return c;
    }
    return INCIDENT_CATEGORY_NONE;
}

const char *incident_channel_code(enum incident_channel channel)
{
    switch (channel) {
    case INCIDENT_CHANNEL_HOTLINE:
        return "hotline";
    case INCIDENT_CHANNEL_LINE:
        return "line";
    }
    return NULL;
}

void incident_clear(struct incident *incident)
{
    if (incident == NULL) return;
    free(incident->call_id);
    free(incident->description);
    free(incident->address);
    free(incident->reporter_name);
    free(incident->reporter_phone);
    free(incident->reporter_line_user);
    free(incident->operator_id);
    memset(incident, 0, sizeof(*incident));
    incident->channel = INCIDENT_CHANNEL_HOTLINE;
    incident->category = INCIDENT_CATEGORY_NONE;
}
