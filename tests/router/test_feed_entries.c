/* Unit tests of router/api/feed_entries.c: which log entries an agency's feed takes, and the JSON
 * it writes of them, read back with cJSON: every field as README "For partner agencies" gives
 * it, values with quotes, backslashes and control characters intact, numbers and times converted,
 * each entry completed by its own case's record. */
#include "feed_entries.h"
#include "store.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 40

/* A log entry made of NULL-terminated name, value pairs. */
struct entry {
    struct store_stream_entry e;
    struct store_item f[MAX_FIELDS];
};

static const struct store_stream_entry *entry_of(struct entry *x, const char *id,
                                                 const char *const *pairs)
{
    size_t n = 0;
    for (; pairs[n] && n < MAX_FIELDS; n++) {
        x->f[n].data = pairs[n];
        x->f[n].len = strlen(pairs[n]);
    }
    x->e.id = id;
    x->e.id_len = strlen(id);
    x->e.fields = x->f;
    x->e.nfields = n;
    return &x->e;
}

static const char *str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_null(const cJSON *obj, const char *name)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, name));
}

int main(void)
{
    static const char *const assigned[] = {"case_id",
                                           "c-2",
                                           "category",
                                           "threat",
                                           "status",
                                           "assigned",
                                           "tracking_code",
                                           "HM-7K3-Q9X-TD8",
                                           "priority",
                                           "P1",
                                           "team_id",
                                           "bkk-03",
                                           "team_name",
                                           "ทีม \"เหนือ\" \\ 1\n\t\x01",
                                           "distance_km",
                                           "2.30",
                                           "created_at",
                                           "1763694185000",
                                           "updated_at",
                                           "1763694186000",
                                           "at",
                                           "1763694186123",
                                           "channel",
                                           "hotline",
                                           NULL};
    static const char *const received[] = {"case_id",     "c-1",      "category",   "threat",
                                           "status",      "received", "created_at", "1763694185000",
                                           "distance_km", "inf",      NULL};
    static const char *const noted[] = {"case_id",    "c-2",        "category", "threat", "event",
                                        "note_added", "updated_at", "x",        NULL};
    static const char *const chat[] = {"case_id", "c-2",          "category", "threat",
                                       "event",   "chat_message", NULL};
    static const char *const other[] = {"case_id", "c-3",      "category", "gathering",
                                        "status",  "received", NULL};
    static const char *const no_case[] = {"category", "threat", "event", "sweep", NULL};
    struct entry x;
    struct feed_entries *fe = feed_entries_new(3);
    cJSON *cats = cJSON_Parse("[\"threat\", \"other\"]");
    cJSON *cases = cJSON_Parse(
        "[{\"share\": false, \"location\": {\"lat\": 13.75, \"lon\": 100.5}},"
        " {\"share\": true, \"location\": null, \"reporter\": {\"name\": \"ก\", \"phone\": null},"
        " \"description\": \"d \\\"q\\\"\", \"address\": null}]");
    const char **ids = NULL;
    size_t n = 0, len = 0;
    char *text;
    cJSON *doc, *entries, *e;

    if (fe == NULL || cats == NULL || cases == NULL) return 1;
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694186124-0", assigned), cats) == 1,
          "a status change of its category is taken");
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694186125-0", chat), cats) == 0,
          "a chat message is not");
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694186126-0", other), cats) == 0,
          "another category is not");
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694186127-0", no_case), cats) == 0,
          "an entry about no case is not");
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694185000-3", received), cats) == 1 &&
              feed_entries_add(fe, entry_of(&x, "1763694186200-0", noted), cats) == 1,
          "two more taken");
    CHECK(feed_entries_add(fe, entry_of(&x, "1763694186300-0", received), cats) == 0 &&
              feed_entries_count(fe) == 3,
          "no room past the most it was made for");
    CHECK(feed_entries_case_ids(fe, &ids, &n) == 0 && n == 2 && strcmp(ids[0], "c-1") == 0 &&
              strcmp(ids[1], "c-2") == 0,
          "the distinct case ids, sorted");

    {
        /* c-1 from its fields (not shared: the place rounded), c-2 from a record (shared) */
        static const char *const fields[FEED_CASE_FIELDS] = {"1", "", "13.7563", "100.5018"};
        struct store_item v[FEED_CASE_FIELDS];
        for (size_t i = 0; i < FEED_CASE_FIELDS; i++) {
            v[i].data = fields[i];
            v[i].len = strlen(fields[i]);
        }
        CHECK(feed_entries_case_fields(fe, 0, v, 0) == 0,
              "consent, but the agency is not identifying: not to be shared");
        CHECK(feed_entries_case_record(fe, 1, cJSON_GetArrayItem(cases, 1), 0) == 0,
              "a case's part from ess_feed_cases' record");
    }
    text = feed_entries_answer(fe, &len);
    doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL && strlen(text) == len, "the answer is JSON of the length it says");
    entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
    CHECK(cJSON_GetArraySize(entries) == 3, "three entries, in the order taken");

    e = cJSON_GetArrayItem(entries, 0);
    CHECK(str(e, "id") && strcmp(str(e, "id"), "1763694186124-0") == 0 &&
              strcmp(str(e, "case_id"), "c-2") == 0 && strcmp(str(e, "event"), "assigned") == 0,
          "id, case_id, and the status as the event");
    CHECK(str(e, "at") && strcmp(str(e, "at"), "2025-11-21T03:03:06.123Z") == 0,
          "at: the entry's time in RFC 3339");
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "case");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "distance_km");
        CHECK(str(c, "team_name") && strcmp(str(c, "team_name"), assigned[13]) == 0,
              "a value with quotes, a backslash and control characters reads back as it was");
        CHECK(cJSON_IsNumber(d) && d->valuedouble == 2.3, "distance_km is a number");
        CHECK(str(c, "created_at") && strcmp(str(c, "created_at"), "2025-11-21T03:03:05.000Z") == 0,
              "the summary's times in RFC 3339");
        CHECK(is_null(c, "possible_duplicate_of") && is_null(c, "merged_into") &&
                  strcmp(str(c, "case_id"), "c-2") == 0 && strcmp(str(c, "priority"), "P1") == 0,
              "the summary: absent fields null");
    }
    CHECK(is_null(e, "location") && str(cJSON_GetObjectItemCaseSensitive(e, "reporter"), "name") &&
              strcmp(str(e, "description"), "d \"q\"") == 0 && is_null(e, "address"),
          "its case's record: shared, so the reporter, description and address");

    e = cJSON_GetArrayItem(entries, 1);
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "case");
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(e, "location");
        CHECK(strcmp(str(e, "case_id"), "c-1") == 0 &&
                  strcmp(str(e, "at"), "2025-11-21T03:03:05.000Z") == 0,
              "no at field: the time of its id");
        CHECK(is_null(c, "distance_km") && is_null(c, "updated_at") && is_null(c, "team_id"),
              "inf is no number, absent times and fields null");
        CHECK(cJSON_GetObjectItemCaseSensitive(loc, "lat") &&
                  cJSON_GetObjectItemCaseSensitive(loc, "lat")->valuedouble == 13.76 &&
                  cJSON_GetObjectItemCaseSensitive(loc, "lon")->valuedouble == 100.5 &&
                  !cJSON_HasObjectItem(e, "reporter") && !cJSON_HasObjectItem(e, "description"),
              "not shared: the place only, rounded to 0.01 degree");
    }
    e = cJSON_GetArrayItem(entries, 2);
    CHECK(strcmp(str(e, "event"), "note_added") == 0 &&
              is_null(cJSON_GetObjectItemCaseSensitive(e, "case"), "updated_at") &&
              strcmp(str(e, "at"), "2025-11-21T03:03:06.200Z") == 0,
          "an annotation's event; a time that is not one is null");
    cJSON_Delete(doc);
    free(text);

    {
        /* the sharing rule, and places that are none; the shared part only from a record */
        static const char *const shared[FEED_CASE_FIELDS] = {"1", "", "13.7563", "100.5018"};
        static const char *const erased[FEED_CASE_FIELDS] = {"1", "1763694185000", "x", "100.5"};
        struct store_item v[FEED_CASE_FIELDS], w[FEED_CASE_FIELDS];
        cJSON *one;
        for (size_t i = 0; i < FEED_CASE_FIELDS; i++) {
            v[i] = (struct store_item){shared[i], strlen(shared[i])};
            w[i] = (struct store_item){erased[i], strlen(erased[i])};
        }
        w[3].data = NULL; /* no lon at all */
        CHECK(feed_entries_case_fields(fe, 0, v, 1) == 1 &&
                  feed_entries_case_fields(fe, 1, w, 1) == 0,
              "may be shared with consent and an identifying agency; never once erased");
        CHECK(feed_entries_case_fields(fe, 2, v, 1) == -1, "a case out of range is refused");
        text = feed_entries_answer(fe, &len);
        one = text ? cJSON_Parse(text) : NULL;
        entries = cJSON_GetObjectItemCaseSensitive(one, "entries");
        e = cJSON_GetArrayItem(entries, 1); /* c-1: may be shared, but its fields alone */
        CHECK(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "location"), "lat")
                        ->valuedouble == 13.76 &&
                !cJSON_HasObjectItem(e, "reporter") && !cJSON_HasObjectItem(e, "description"),
            "from its fields a case's part never carries identifying data");
        e = cJSON_GetArrayItem(entries, 0); /* c-2: erased */
        CHECK(is_null(e, "location") && !cJSON_HasObjectItem(e, "reporter"),
              "erased: no place that is not one, nothing identifying");
        cJSON_Delete(one);
        free(text);
        CHECK(feed_entries_case_record(fe, 0, cJSON_GetArrayItem(cases, 1), 0) == 0,
              "a shared record replaces the part");
        text = feed_entries_answer(fe, &len);
        one = text ? cJSON_Parse(text) : NULL;
        e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(one, "entries"), 1);
        CHECK(e && str(cJSON_GetObjectItemCaseSensitive(e, "reporter"), "name") &&
                  strcmp(str(e, "description"), "d \"q\"") == 0,
              "then the entries carry the record's identifying data");
        cJSON_Delete(one);
        free(text);
        {
            const char **eids = NULL;
            size_t ne = 0;
            CHECK(feed_entries_ids(fe, &eids, &ne) == 0 && ne == 3 &&
                      strcmp(eids[0], "1763694186124-0") == 0 &&
                      strcmp(eids[2], "1763694186200-0") == 0,
                  "the ids of the entries taken, in order");
        }
    }
    feed_entries_clear(fe);
    feed_entries_add(fe, entry_of(&x, "1763694186124-0", assigned), cats);
    feed_entries_add(fe, entry_of(&x, "1763694185000-3", received), cats);
    CHECK(feed_entries_case_ids(fe, &ids, &n) == 0 && n == 2 &&
              feed_entries_case_record(fe, 0, cJSON_GetArrayItem(cases, 0), 0) == 0 &&
              feed_entries_answer(fe, &len) == NULL,
          "no answer while a case's part is not made");
    feed_entries_clear(fe);
    text = feed_entries_answer(fe, &len);
    CHECK(text && strcmp(text, "{\"entries\":[]}") == 0, "cleared: no entries");
    free(text);

    feed_entries_free(fe);
    cJSON_Delete(cats);
    cJSON_Delete(cases);
    return tap_done();
}
