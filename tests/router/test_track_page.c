/* Unit tests of the pure parts of router/api/track_page.c: the page's language from ?lang= and
 * Accept-Language, and the steps read from a public timeline as ess.lua writes it (times, steps
 * undone when the case went back, broken or cut input); and of track.c's JSON answer written
 * from the view's parts. */
#include "tap.h"
#include "track.h"
#include "track_page.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void test_lang(void)
{
    CHECK(track_page_lang(NULL, NULL) == CHAT_LANG_TH, "Thai by default");
    CHECK(track_page_lang("en", NULL) == CHAT_LANG_EN, "?lang=en");
    CHECK(track_page_lang("th", "en") == CHAT_LANG_TH, "?lang=th wins over Accept-Language");
    CHECK(track_page_lang("en", "th") == CHAT_LANG_EN, "?lang=en wins over Accept-Language");
    CHECK(track_page_lang("fr", "en-US,en;q=0.9") == CHAT_LANG_EN,
          "an unknown ?lang= is not given: the header decides");
    CHECK(track_page_lang(NULL, "en-US,en;q=0.9,th;q=0.8") == CHAT_LANG_EN, "English first");
    CHECK(track_page_lang(NULL, "th-TH,th;q=0.9,en-US;q=0.8,en;q=0.7") == CHAT_LANG_TH,
          "Thai first");
    CHECK(track_page_lang(NULL, "th;q=0.3, en-GB;q=0.7") == CHAT_LANG_EN,
          "q-values, not the order, rank");
    CHECK(track_page_lang(NULL, "en;q=0, th") == CHAT_LANG_TH, "q=0 means not wanted");
    CHECK(track_page_lang(NULL, "fr-FR,fr;q=0.9") == CHAT_LANG_TH, "neither: Thai");
    CHECK(track_page_lang(NULL, "fr, EN;q=0.5") == CHAT_LANG_EN, "English among others");
    CHECK(track_page_lang(NULL, "eng, english") == CHAT_LANG_TH, "only en and en-* are English");
    CHECK(track_page_lang(NULL, "en, th") == CHAT_LANG_EN, "a tie goes to the first");
    CHECK(track_page_lang(NULL, "th, en") == CHAT_LANG_TH, "a tie goes to the first (Thai)");
    CHECK(track_page_lang(NULL, "") == CHAT_LANG_TH &&
              track_page_lang(NULL, ",,;q=,") == CHAT_LANG_TH,
          "an empty or broken header: Thai");
}

static void steps(const char *json, int64_t at[TRACK_PAGE_STEPS])
{
    track_page_steps(json, strlen(json), at);
}

static void test_steps(void)
{
    int64_t at[TRACK_PAGE_STEPS];
    const int64_t t0 = 1795230245000LL; /* 2026-11-21T03:04:05Z */

    CHECK(strcmp(track_page_step_status[0], "received") == 0 &&
              strcmp(track_page_step_status[6], "closed") == 0,
          "the steps run received..closed");
    steps("[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"status\":\"assigned\",\"at\":\"2026-11-21T03:04:06.000Z\"},"
          "{\"status\":\"acknowledged\",\"at\":\"2026-11-21T03:05:00.000Z\"}]",
          at);
    CHECK(at[0] == t0 && at[1] == t0 + 1000 && at[2] == t0 + 55000 && at[3] == 0 && at[6] == 0,
          "each step its time, the others 0");
    steps("[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"status\":\"assigned\",\"at\":\"2026-11-21T03:04:06.000Z\"},"
          "{\"status\":\"reassigned\",\"at\":\"2026-11-21T03:05:06.000Z\"},"
          "{\"status\":\"assigned\",\"at\":\"2026-11-21T03:05:07.000Z\"}]",
          at);
    CHECK(at[0] == t0 && at[1] == t0 + 62000 && at[2] == 0,
          "reassigned then assigned again: the latest assignment");
    steps("[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"status\":\"assigned\",\"at\":\"2026-11-21T03:04:06.000Z\"},"
          "{\"status\":\"acknowledged\",\"at\":\"2026-11-21T03:04:07.000Z\"},"
          "{\"status\":\"queued\",\"at\":\"2026-11-21T03:04:08.000Z\"}]",
          at);
    CHECK(at[0] == t0 && at[1] == 0 && at[2] == 0, "back in the queue: only received stays");
    steps("[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"status\":\"closed\",\"at\":\"2026-11-21T04:04:05.000Z\"}]",
          at);
    CHECK(at[0] == t0 && at[1] == 0 && at[5] == 0 && at[6] == t0 + 3600000,
          "closed straight from received: the steps between stay empty");
    steps("[{\"status\":\"received\",\"at\":\"nonsense\"},{\"status\":5},{},7,"
          "{\"status\":\"escalated\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"event\":\"note\",\"at\":\"2026-11-21T03:04:05.000Z\"}]",
          at);
    CHECK(at[0] == 0 && at[1] == 0, "entries that are not statuses with times are skipped");
    steps("{}", at);
    CHECK(at[0] == 0, "a timeline that is not an array: nothing");
    steps("[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"},"
          "{\"status\":\"assigned\",\"at\":\"2026-11-21T03:0",
          at);
    CHECK(at[0] == t0 && at[1] == 0, "a timeline cut short: what is whole counts");
    steps("[{\"status\":\"assigned\"},{\"at\":\"2026-11-21T03:04:05.000Z\"}]", at);
    CHECK(at[1] == 0, "a time is read within its own entry only");
    {
        const char *t = "[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"}]";
        track_page_steps(t, strlen(t) - 10, at);
        CHECK(at[0] == 0, "nothing is read past len");
    }
    track_page_steps(NULL, 0, at);
    CHECK(at[0] == 0 && at[6] == 0, "no timeline: nothing");

    /* the short form ess.lua writes since schema 7 */
    steps("received@1795230245000,assigned@1795230246000,acknowledged@1795230300000", at);
    CHECK(at[0] == t0 && at[1] == t0 + 1000 && at[2] == t0 + 55000 && at[3] == 0,
          "the short form: each step its time");
    steps("received@1795230245000,assigned@1795230246000,queued@1795230247000", at);
    CHECK(at[0] == t0 && at[1] == 0, "the short form: back in the queue, only received stays");
    steps("received@1795230245000,assigned@12x,@5,junk,en_route@,on_scene@99999999999999999999999",
          at);
    CHECK(at[0] == t0 && at[1] == 0 && at[3] == 0 && at[4] == 0,
          "the short form: entries without a status or a whole time are skipped");
    {
        const char *t = "received@1795230245000,assigned@1795230246000";
        track_page_steps(t, strlen(t) - 13, at); /* "...,assigned@" */
        CHECK(at[0] == t0 && at[1] == 0, "the short form: nothing is read past len");
    }
}

/* Whether member name of obj is the string want (not a crash when it is missing). */
static int member_is(const cJSON *obj, const char *name, const char *want)
{
    const char *got = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
    return got != NULL && strcmp(got, want) == 0;
}

static void test_view_json(void)
{
    const char *timeline = "[{\"status\":\"received\",\"at\":\"2026-11-21T03:04:05.000Z\"}]";
    struct track_view v = {
        1,       "HM-7K3-Q9X-TD8", "threat", "assigned",       "ทีม \"ก\"\\1",  "Team \"A\"",
        "ถูกข่มขู่", "Threat\n",       timeline, strlen(timeline), 1795230245123LL};
    size_t len = 0;
    char *json = track_view_json(&v, &len);
    cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL;
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(doc, "category_label");
    const cJSON *team = cJSON_GetObjectItemCaseSensitive(doc, "team");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "timeline");

    CHECK(doc != NULL && len == strlen(json), "valid JSON of its length");
    CHECK(member_is(doc, "tracking_code", "HM-7K3-Q9X-TD8") &&
              member_is(doc, "category", "threat") && member_is(doc, "status", "assigned"),
          "code, category and status");
    CHECK(member_is(doc, "updated_at", "2026-11-21T03:04:05.123Z"),
          "updated_at in RFC 3339 with milliseconds");
    CHECK(member_is(label, "th", "ถูกข่มขู่") && member_is(label, "en", "Threat\n"),
          "both labels, a control character escaped");
    CHECK(member_is(team, "name", "ทีม \"ก\"\\1") && cJSON_GetArraySize(team) == 1,
          "the team's Thai name only, quotes and backslashes escaped");
    CHECK(cJSON_GetArraySize(steps) == 1 && cJSON_GetArraySize(doc) == 7,
          "the timeline as stored; seven members");
    free(json);
    cJSON_Delete(doc);

    v.timeline = "received@1795230245000,assigned@1795230246500";
    v.timeline_len = strlen(v.timeline);
    json = track_view_json(&v, &len);
    doc = json ? cJSON_Parse(json) : NULL;
    steps = cJSON_GetObjectItemCaseSensitive(doc, "timeline");
    CHECK(cJSON_GetArraySize(steps) == 2 &&
              member_is(cJSON_GetArrayItem(steps, 0), "status", "received") &&
              member_is(cJSON_GetArrayItem(steps, 0), "at", "2026-11-21T03:04:05.000Z") &&
              member_is(cJSON_GetArrayItem(steps, 1), "status", "assigned") &&
              member_is(cJSON_GetArrayItem(steps, 1), "at", "2026-11-21T03:04:06.500Z") &&
              cJSON_GetArraySize(cJSON_GetArrayItem(steps, 1)) == 2,
          "the short form is written as the JSON of {status, at}");
    free(json);
    cJSON_Delete(doc);

    v.team_name = "";
    v.timeline = "";
    v.timeline_len = 0;
    json = track_view_json(&v, &len);
    doc = json ? cJSON_Parse(json) : NULL;
    CHECK(doc != NULL && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "team")) &&
              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "timeline")) == 0,
          "no team: null; no timeline: []");
    free(json);
    cJSON_Delete(doc);
}

int main(void)
{
    test_lang();
    test_steps();
    test_view_json();
    return tap_done();
}
