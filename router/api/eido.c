/* The EIDO of a case (eido.h): NENA-STA-021's components filled from the store's source, and
 * GET /v1/cases/{id}/eido. */
#include "eido.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "text.h"

#define EIDO_ID_MAX 200

/* The Incident Type registry's (APCO's common incident types) nearest to each category. */
static const struct {
    const char *category, *common;
} incident_types[] = {
    {"threat", "THREATS"},    {"detention", "HOSTAGE"}, {"abuse_risk", "SEXOFFNS"},
    {"mental_crisis", "EDP"}, {"gathering", "VICE"},    {"other", "CITASST"},
};

/* The Primary Unit Status registry's word for the team while the case has each status; NULL:
 * no team works on the case in that status (a team id it keeps is a past one). */
static const struct {
    const char *status, *unit;
} unit_statuses[] = {
    {"assigned", "Dispatched"}, {"acknowledged", "Dispatched"}, {"en_route", "Enroute"},
    {"on_scene", "OnScene"},    {"resolved", "Available"},      {"closed", "Available"},
};

static const char *incident_type_common(const char *category)
{
    size_t i;
    for (i = 0; i < sizeof incident_types / sizeof incident_types[0]; i++)
        if (strcmp(incident_types[i].category, category) == 0) return incident_types[i].common;
    return "CITASST";
}

static const char *unit_status(const char *status)
{
    size_t i;
    for (i = 0; i < sizeof unit_statuses / sizeof unit_statuses[0]; i++)
        if (strcmp(unit_statuses[i].status, status) == 0) return unit_statuses[i].unit;
    return NULL;
}

/* One document being built: every adder clears ok when memory runs out, so that a document with
 * a part missing is never answered (eido_document then returns NULL). */
struct build {
    cJSON *doc;
    const cJSON *src;
    const char *case_id;
    char updated[TEXT_TIME_SIZE]; /* the case's last change: most components' time */
    int ok;
};

/* Adds item (taken; NULL: out of memory) to obj as name, or to the array obj when name is NULL.
 * Returns item, or NULL. */
static cJSON *put(struct build *b, cJSON *obj, const char *name, cJSON *item)
{
    int added = item != NULL && obj != NULL &&
                (name ? cJSON_AddItemToObject(obj, name, item) : cJSON_AddItemToArray(obj, item));
    if (!added) {
        cJSON_Delete(item); /* not attached */
        b->ok = 0;
        return NULL;
    }
    return item;
}

static void put_str(struct build *b, cJSON *obj, const char *name, const char *s)
{
    put(b, obj, name, cJSON_CreateString(s));
}

static cJSON *ref_to(const char *id)
{
    cJSON *r = cJSON_CreateObject();
    if (r && cJSON_AddStringToObject(r, "$ref", id) == NULL) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

static void put_ref(struct build *b, cJSON *obj, const char *name, const char *id)
{
    put(b, obj, name, ref_to(id));
}

/* Adds name: [strings...] (NULL-terminated) to obj; returns the array. */
static cJSON *put_strings(struct build *b, cJSON *obj, const char *name, const char *const *s)
{
    cJSON *a = put(b, obj, name, cJSON_CreateArray());
    for (; a && *s; s++) put_str(b, a, NULL, *s);
    return a;
}

static void put_ref_array(struct build *b, cJSON *obj, const char *name, const char *id)
{
    put_ref(b, put(b, obj, name, cJSON_CreateArray()), NULL, id);
}

/* The RFC 3339 form of the time (ms, a number or a numeric string) of obj's member key, or
 * fallback when that is missing. */
static void time_of(const cJSON *obj, const char *key, const char *fallback,
                    char out[TEXT_TIME_SIZE])
{
    int present = 0;
    double ms = obj ? json_number(obj, key, &present) : 0;
    if (present)
        text_time_rfc3339((int64_t)ms, out);
    else
        snprintf(out, TEXT_TIME_SIZE, "%s", fallback);
}

/* A new component with its prologue ($id, lastUpdateTimeStamp: time, updatedByAgencyReference),
 * appended to the array `list` of the document (made on first use). */
static cJSON *component(struct build *b, const char *list, const char *id, const char *time)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(b->doc, list);
    cJSON *c;
    if (arr == NULL) arr = put(b, b->doc, list, cJSON_CreateArray());
    c = put(b, arr, NULL, cJSON_CreateObject());
    put_str(b, c, "$id", id);
    put_str(b, c, "lastUpdateTimeStamp", time);
    put_ref(b, c, "updatedByAgencyReference", EIDO_AGENCY_ID);
    return c;
}

/* The place as a PIDF-LO (RFC 4119, a GML point in WGS 84) for locationByValue; the caller
 * frees it. NULL when memory runs out. */
static char *pidf_point(const char *case_id, double lat, double lon, int exact)
{
    struct text_buf t = {0};
    text_buf_add(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                     "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
                     "xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" "
                     "xmlns:gml=\"http://www.opengis.net/gml\" entity=\"pres:");
    text_buf_add_html(&t, case_id);
    text_buf_add(&t, "@ess\"><tuple id=\"incident\"><status><gp:geopriv><gp:location-info>"
                     "<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>");
    text_buf_printf(&t, exact ? "%.7f %.7f" : "%.2f %.2f", lat, lon);
    text_buf_add(&t, "</gml:pos></gml:Point></gp:location-info><gp:usage-rules/>"
                     "</gp:geopriv></status></tuple></presence>");
    return text_buf_take(&t);
}

/* A phone number as typed, as a tel: URI (RFC 3966): "+<digits>" when written with a "+", else
 * the digits in Thailand's numbering (phone-context=+66). 0, or -1 when it has no digits. */
static int tel_uri(const char *phone, char *out, size_t outsize)
{
    char digits[64];
    const char *p = phone;
    while (*p == ' ') p++;
    if (text_phone_digits(phone, strlen(phone), digits, sizeof digits) <= 0) return -1;
    if (*p == '+')
        snprintf(out, outsize, "tel:+%s", digits);
    else
        snprintf(out, outsize, "tel:%s;phone-context=+66", digits);
    return 0;
}

/* A note (notesComponent; notesActionComments is HTML5: text is escaped), its id in refs. */
static void add_note(struct build *b, cJSON *refs, const char *id, const char *time,
                     const char *text)
{
    struct text_buf t = {0};
    char *html;
    cJSON *n = component(b, "notesComponent", id, time);
    text_buf_add_html(&t, text);
    html = text_buf_take(&t);
    if (html == NULL) b->ok = 0;
    put_str(b, n, "notesActionComments", html ? html : "");
    free(html);
    put_ref(b, refs, NULL, id);
}

/* notesComponent: the status changes (their times), then, when the source carries them, the
 * report's description and the notes people wrote; their ids in refs. */
static void add_notes(struct build *b, cJSON *refs)
{
    const cJSON *e;
    const char *description = json_string(b->src, "description", NULL);
    char id[EIDO_ID_MAX], t[TEXT_TIME_SIZE], text[96];
    int n = 0;

    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(b->src, "statuses")) {
        snprintf(id, sizeof id, "urn:ess:note:%s:status:%d", b->case_id, ++n);
        snprintf(text, sizeof text, "Status: %s", json_string(e, "status", "?"));
        time_of(e, "at", b->updated, t);
        add_note(b, refs, id, t, text);
    }
    if (description) {
        snprintf(id, sizeof id, "urn:ess:note:%s:report", b->case_id);
        time_of(b->src, "created_at", b->updated, t);
        add_note(b, refs, id, t, description);
    }
    n = 0;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(b->src, "notes")) {
        snprintf(id, sizeof id, "urn:ess:note:%s:%d", b->case_id, ++n);
        time_of(e, "at", b->updated, t);
        add_note(b, refs, id, t, json_string(e, "text", ""));
    }
}

/* The team working on the case (or that did, once resolved): agentComponent (the team),
 * emergencyResourceComponent (its state on this case) and dispatchComponent (its assignment). */
static void add_team(struct build *b)
{
    static const char *const responder[] = {"Responder", NULL}, *const other[] = {"Other", NULL};
    const char *team = json_string(b->src, "team_id", NULL);
    const char *status = json_string(b->src, "status", "");
    const char *unit = unit_status(status);
    const char *skills = json_string(b->src, "skills", "");
    const char *status_list[] = {status, NULL};
    const cJSON *last = NULL, *e;
    char agent[EIDO_ID_MAX], resource[EIDO_ID_MAX], id[EIDO_ID_MAX], t[TEXT_TIME_SIZE];
    cJSON *c, *attrs;

    if (team == NULL || unit == NULL) return;
    snprintf(agent, sizeof agent, "urn:ess:team:%s", team);
    snprintf(resource, sizeof resource, "urn:ess:resource:%s:%s", b->case_id, team);
    c = component(b, "agentComponent", agent, b->updated);
    put_strings(b, c, "agentRoleRegistryText", responder);
    put_ref(b, c, "agencyReference", EIDO_AGENCY_ID);

    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(b->src, "statuses")) last = e;
    time_of(last, "at", b->updated, t);
    c = component(b, "emergencyResourceComponent", resource, t);
    put_str(b, c, "emergencyResourceTypeCommonRegistryText", "Other");
    put_str(b, c, "emergencyResourceTypeInternalText", "team");
    put_str(b, c, "emergencyResourceName", json_string(b->src, "team_name", team));
    put_strings(b, c, "resourceAttributeRegistryText", other);
    attrs = put(b, c, "resourceAttributeInternalText", cJSON_CreateArray());
    if (*skills == '\0') put_str(b, attrs, NULL, "team");
    while (*skills) { /* the skills the case asked of its team, csv */
        size_t n = strcspn(skills, ",");
        char skill[64];
        snprintf(skill, sizeof skill, "%.*s", (int)(n < sizeof skill ? n : sizeof skill - 1),
                 skills);
        if (n > 0) put_str(b, attrs, NULL, skill);
        skills += n + (skills[n] == ',');
    }
    put_str(b, c, "primaryUnitStatusRegistryText", unit);
    put(b, c, "secondaryUnitStatusRegistryText", cJSON_CreateArray());
    put_strings(b, c, "unitStatusInternal", status_list);
    put_ref_array(b, c, "agentReference", agent);

    snprintf(id, sizeof id, "urn:ess:dispatch:%s:%s", b->case_id, team);
    time_of(b->src, "assigned_at", b->updated, t);
    c = component(b, "dispatchComponent", id, t);
    put_ref(b, c, "agencyReference", EIDO_AGENCY_ID);
    put_ref_array(b, c, "emergencyResourceReference", resource);
}

/* The reporter, when the source carries them: personComponent (nc:PersonType's
 * name[].personFullName[].value) and callbackComponent (the phone as a tel: URI), as NENA's
 * sample links them. 1 with the person's id in person, or 0 when there is nobody to show. */
static int add_person(struct build *b, char person[EIDO_ID_MAX])
{
    static const char *const caller[] = {"Caller", NULL};
    const char *name = json_string(b->src, "reporter_name", NULL);
    const char *phone = json_string(b->src, "reporter_phone", NULL);
    char callback[EIDO_ID_MAX], tel[96];
    int has_tel = phone && tel_uri(phone, tel, sizeof tel) == 0;
    cJSON *p;

    if (name == NULL && !has_tel) return 0;
    snprintf(person, EIDO_ID_MAX, "urn:ess:person:%s:reporter", b->case_id);
    snprintf(callback, sizeof callback, "urn:ess:callback:%s:reporter", b->case_id);
    p = component(b, "personComponent", person, b->updated);
    put_strings(b, p, "personIncidentRoleRegistryText", caller);
    if (name) {
        cJSON *nc = put(b, p, "ncPersonComponent", cJSON_CreateObject());
        cJSON *pn = put(b, put(b, nc, "name", cJSON_CreateArray()), NULL, cJSON_CreateObject());
        cJSON *full =
            put(b, put(b, pn, "personFullName", cJSON_CreateArray()), NULL, cJSON_CreateObject());
        put_str(b, full, "value", name);
    }
    if (has_tel) {
        const char *uris[] = {tel, NULL};
        cJSON *cb = component(b, "callbackComponent", callback, b->updated);
        put_strings(b, cb, "callBackInformationUri", uris);
        put_ref(b, p, "callBackReference", callback);
    }
    return 1;
}

/* locationComponent: the place (exact, or rounded as the source gives it), with the address
 * when the source carries it. 1 with its id in id, or 0 when the case has no place. */
static int add_location(struct build *b, char id[EIDO_ID_MAX])
{
    int has_lat = 0, has_lon = 0;
    int exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b->src, "exact"));
    double lat = json_number(b->src, "lat", &has_lat), lon = json_number(b->src, "lon", &has_lon);
    const char *address = json_string(b->src, "address", NULL);
    char *pidf;
    cJSON *c;

    if (!has_lat || !has_lon) return 0;
    snprintf(id, EIDO_ID_MAX, "urn:ess:location:%s:incident", b->case_id);
    c = component(b, "locationComponent", id, b->updated);
    put_str(b, c, "locationTypeDescriptionRegistryText", "Incident");
    if ((pidf = pidf_point(b->case_id, lat, lon, exact)) == NULL) b->ok = 0;
    put_str(b, c, "locationByValue", pidf ? pidf : "");
    free(pidf);
    if (address)
        put_str(b, c, "locationDescriptionText", address);
    else if (!exact)
        put_str(b, c, "locationDescriptionText",
                "Approximate: rounded to 0.01 degree (about 1 km).");
    return 1;
}

/* The report's intake: when it was received (callStartTimestamp), by which channel. */
static void add_call(struct build *b, const char *location, const char *person)
{
    char id[EIDO_ID_MAX], created[TEXT_TIME_SIZE];
    cJSON *c;
    time_of(b->src, "created_at", b->updated, created);
    snprintf(id, sizeof id, "urn:ess:call:%s", b->case_id);
    c = component(b, "callComponent", id, created);
    put_str(b, c, "callStateRegistryText", "callAnswered");
    put_str(b, c, "standardPrimaryCallType", "emergency");
    put_str(b, c, "localCallType", json_string(b->src, "channel", "hotline"));
    put_str(b, c, "direction", "incoming");
    put_str(b, c, "callStartTimestamp", created);
    if (location) put_ref_array(b, c, "locationReference", location);
    if (person) put_ref_array(b, c, "personReference", person);
}

/* incidentComponent: the category, status and priority, and what the incident refers to. */
static void add_incident(struct build *b, const char *location, const char *person)
{
    const char *category = json_string(b->src, "category", "");
    const char *priority = json_string(b->src, "priority", NULL);
    const char *status_list[] = {json_string(b->src, "status", ""), NULL};
    char id[EIDO_ID_MAX];
    cJSON *c = put(b, b->doc, "incidentComponent", cJSON_CreateObject()), *refs;

    snprintf(id, sizeof id, "urn:ess:incident:%s", b->case_id);
    put_str(b, c, "$id", id);
    put_str(b, c, "lastUpdateTimeStamp", b->updated);
    put_ref(b, c, "updatedByAgencyReference", EIDO_AGENCY_ID);
    put_str(b, c, "incidentTypeCommonRegistryText", incident_type_common(category));
    put_str(b, c, "incidentTypeInternalText", category);
    put_strings(b, c, "incidentStatusInternalText", status_list);
    if (priority) {
        put_str(b, c, "incidentPriorityInternalText", priority);
        if (priority[0] == 'P' && priority[1] >= '1' && priority[1] <= '9' && priority[2] == '\0')
            put(b, c, "incidentCommonPriorityNumber", cJSON_CreateNumber(priority[1] - '0'));
    }
    put_str(b, c, "internalIncidentId", b->case_id);
    if (location) put_ref_array(b, c, "locationReference", location);
    if (person) put_ref_array(b, c, "personReference", person);
    refs = cJSON_CreateArray();
    if (refs == NULL) b->ok = 0;
    add_notes(b, refs);
    if (cJSON_GetArraySize(refs) > 0)
        put(b, c, "notesReference", refs);
    else
        cJSON_Delete(refs);
}

cJSON *eido_document(const cJSON *src)
{
    static const char *const roles[] = {"CallReceiving", "Dispatch", NULL};
    static const char *const types[] = {"psap", NULL};
    struct build b = {.src = src, .case_id = json_string(src, "case_id", NULL), .ok = 1};
    char id[EIDO_ID_MAX], location[EIDO_ID_MAX], person[EIDO_ID_MAX];
    int has_updated = 0, has_location, has_person;
    double updated_ms = json_number(src, "updated_at", &has_updated);
    cJSON *c;

    if (b.case_id == NULL || json_string(src, "category", NULL) == NULL ||
        json_string(src, "status", NULL) == NULL || !has_updated)
        return NULL;
    if ((b.doc = cJSON_CreateObject()) == NULL) return NULL;
    text_time_rfc3339((int64_t)updated_ms, b.updated);
    snprintf(id, sizeof id, "urn:ess:eido:%s:%.0f", b.case_id, updated_ms);
    put_str(&b, b.doc, "eidoVersion", "1.0");
    put_str(&b, b.doc, "$id", id);
    put_str(&b, b.doc, "lastUpdateTimeStamp", b.updated);
    put_ref(&b, b.doc, "updatedByAgencyReference", EIDO_AGENCY_ID);
    put_str(&b, b.doc, "issuingElementIdentification", EIDO_ISSUER);

    c = component(&b, "agencyComponent", EIDO_AGENCY_ID, b.updated);
    put_strings(&b, c, "agencyRoleDescriptionRegistryText", roles);
    put_strings(&b, c, "agencyType", types);
    put(&b, c, "incidentOwningAgencyIndicator", cJSON_CreateTrue());

    has_location = add_location(&b, location);
    has_person = add_person(&b, person);
    add_call(&b, has_location ? location : NULL, has_person ? person : NULL);
    add_team(&b);
    add_incident(&b, has_location ? location : NULL, has_person ? person : NULL);
    if (!b.ok) {
        cJSON_Delete(b.doc);
        return NULL;
    }
    return b.doc;
}

static void on_case_eido(struct http_call *call, cJSON *reply)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(reply, "case");
    cJSON *doc;

    if (http_reply_refused(call, reply)) return;
    doc = eido_document(src);
    if (doc == NULL)
        log_error("case %s: its EIDO could not be made", json_string(src, "case_id", "?"));
    cJSON_Delete(reply);
    http_reply_json(call, 200, doc); /* NULL answers 500 */
}

void eido_get(struct http_call *call)
{
    cases_fcall_by_id(call, "ess_case_eido", on_case_eido);
}
