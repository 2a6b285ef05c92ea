/* Tests of rules/rules.c: the shipped rules/rules.json loads; every kind of broken table is
 * refused with the file, line and field in the message; rules_decide() applies the category
 * defaults, then the when/then rules in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "tap.h"

/* A small valid table; the line numbers below are those of this text. */
static const char base[] =
    "{\n"                                                              /* 1 */
    "  \"categories\": {\n"                                            /* 2 */
    "    \"threat\": {\n"                                              /* 3 */
    "      \"labels\": {\"th\": \"ถูกข่มขู่\", \"en\": \"Threatened\"},\n" /* 4 */
    "      \"priority\": \"P2\",\n"                                    /* 5 */
    "      \"skills\": [\"social_worker\", \"police\"],\n"             /* 6 */
    "      \"radii_km\": [5, 15, 50],\n"                               /* 7 */
    "      \"ack_timeout_s\": 120,\n"                                  /* 8 */
    "      \"max_attempts\": 3,\n"                                     /* 9 */
    "      \"keywords\": {\"th\": [\"ขู่\"], \"en\": [\"threat*\"]}\n"   /* 10 */
    "    },\n"                                                         /* 11 */
    "    \"detention\": {\"labels\": {\"th\": \"ถูกกักขัง\", \"en\": \"Detained\"}, "
    "\"priority\": \"P1\", \"skills\": [\"police\"], \"radii_km\": [5], "
    "\"ack_timeout_s\": 60, \"max_attempts\": 3, "
    "\"keywords\": {\"th\": [\"ขัง\"], \"en\": [\"locked in\"]}},\n" /* 12 */
    "    \"abuse_risk\": {\"labels\": {\"th\": \"ล\", \"en\": \"A\"}, \"priority\": \"P1\", "
    "\"skills\": [\"police\"], \"radii_km\": [5], \"ack_timeout_s\": 60, "
    "\"max_attempts\": 3, \"keywords\": {\"th\": [\"ลวนลาม\"], \"en\": [\"rape\"]}},\n" /* 13 */
    "    \"mental_crisis\": {\"labels\": {\"th\": \"ค\", \"en\": \"M\"}, \"priority\": \"P1\", "
    "\"skills\": [\"mental_health\"], \"radii_km\": [5, 10], \"ack_timeout_s\": 60, "
    "\"max_attempts\": 2, \"keywords\": {\"th\": [\"คลั่ง\"], \"en\": [\"lost it\"]}},\n" /* 14 */
    "    \"gathering\": {\"labels\": {\"th\": \"ม\", \"en\": \"G\"}, \"priority\": \"P3\", "
    "\"skills\": [\"police\"], \"radii_km\": [5], \"ack_timeout_s\": 300, "
    "\"max_attempts\": 3, \"keywords\": {\"th\": [\"มั่วสุม\"], \"en\": [\"drugs\"]}},\n" /* 15 */
    "    \"other\": {\"labels\": {\"th\": \"อื่น\", \"en\": \"Other\"}, \"priority\": \"P4\", "
    "\"dispatch\": false, \"skills\": [], \"radii_km\": [], \"ack_timeout_s\": 600, "
    "\"max_attempts\": 1, \"keywords\": {\"th\": [], \"en\": [\"debt\"]}}\n"             /* 16 */
    "  },\n"                                                                             /* 17 */
    "  \"ignore_words\": {\"th\": [\"ลูกค้า\"]},\n"                                        /* 18 */
    "  \"rules\": [\n"                                                                   /* 19 */
    "    {\"when\": {\"words_any\": [\"ลูก\", \"child\"]},\n"                             /* 20 */
    "     \"then\": {\"raise_priority\": 1, \"prefer_skill\": \"child_protection\"}},\n" /* 21 */
    "    {\"name\": \"LINE threats\", \"when\": {\"category\": \"threat\", "
    "\"channel\": \"line\"}, \"then\": {\"add_skills\": [\"line_team\"], "
    "\"ack_timeout_s\": 90}},\n" /* 22 */
    "    {\"when\": {\"category\": [\"gathering\", \"other\"], \"words_none\": [\"quiet\"]},\n"
    "     \"then\": {\"priority\": \"P2\", \"radii_km\": [1, 2], \"max_attempts\": 5}},\n"
    "    {\"when\": {\"category\": \"gathering\", \"words_any\": [\"party\"]},\n" /* 25 */
    "     \"then\": {\"priority\": \"P4\"}}\n"                                    /* 26 */
    "  ]\n"                                                                       /* 27 */
    "}\n";                                                                        /* 28 */

/* base with the first occurrence of from replaced by to; the caller frees it. */
static char *variant(const char *from, const char *to)
{
    const char *at = strstr(base, from);
    size_t head, len;
    char *out;

    if (at == NULL) {
        printf("# test bug: \"%s\" is not in the base table\n", from);
        return NULL;
    }
    head = (size_t)(at - base);
    len = strlen(base) - strlen(from) + strlen(to);
    out = malloc(len + 1);
    if (out == NULL) return NULL;
    memcpy(out, base, head);
    memcpy(out + head, to, strlen(to));
    memcpy(out + head + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
    return out;
}

/* base without the line that starts with start; the caller frees it. */
static char *without_line(const char *start)
{
    const char *at = strstr(base, start);
    const char *eol = at ? strchr(at, '\n') : NULL;
    size_t head;
    char *out;

    if (eol == NULL) return NULL;
    head = (size_t)(at - base);
    out = malloc(strlen(base) + 1);
    if (out == NULL) return NULL;
    memcpy(out, base, head);
    memcpy(out + head, eol + 1, strlen(eol + 1) + 1);
    return out;
}

/* Loads text and checks it is refused with a message containing want. */
static void check_refused(const char *text, const char *want, const char *what)
{
    char err[512] = "";
    struct rules_table *t =
        text ? rules_load_buffer(text, strlen(text), "t.json", err, sizeof(err)) : NULL;
    int ok = text != NULL && t == NULL && strstr(err, want) != NULL;

    if (!ok) printf("# wanted \"%s\", got \"%s\"\n", want, err);
    CHECK(ok, what);
    rules_free(t);
}

static void check_variant_refused(const char *from, const char *to, const char *want,
                                  const char *what)
{
    char *text = variant(from, to);

    check_refused(text, want, what);
    free(text);
}

static void test_broken_tables(void)
{
    char err[512];
    char *big;

    check_refused("{\n  \"categories\": {\n    \"threat\": [1,,2]\n", "t.json:3: invalid JSON",
                  "bad JSON names its line");
    check_refused("{\"categories\": {}} x", "t.json:1: invalid JSON",
                  "text after the JSON value is refused");
    check_refused("[]", "t.json:1: (top level): expected an object", "the top must be an object");
    check_variant_refused("      \"priority\": \"P2\",\n", "",
                          "t.json:3: categories.threat.priority: missing",
                          "a missing field names its object's line and the field");
    check_variant_refused("\"P2\"", "\"P5\"",
                          "t.json:5: categories.threat.priority: expected \"P1\"..\"P4\"",
                          "priority P5 is refused at its line");
    check_variant_refused("\"P2\"", "2", "t.json:5: categories.threat.priority: expected",
                          "a priority must be a string");
    check_variant_refused(
        "\"ack_timeout_s\": 120", "\"ack_timeout_s\": \"120\"",
        "t.json:8: categories.threat.ack_timeout_s: expected a whole number, found a string",
        "a wrong type names the field and the type found");
    check_variant_refused("\"ack_timeout_s\": 120", "\"ack_timeout_s\": 1.5",
                          "t.json:8: categories.threat.ack_timeout_s: expected a whole number",
                          "a fraction is not a whole number");
    check_variant_refused("\"max_attempts\": 3,\n", "\"max_attempts\": 0,\n",
                          "t.json:9: categories.threat.max_attempts", "max_attempts 0 is refused");
    check_variant_refused(
        "[5, 15, 50]", "[5, 50, 15]",
        "t.json:7: categories.threat.radii_km[2]: radii must be in ascending order",
        "radii not ascending are refused at the offending element");
    check_variant_refused("[5, 15, 50]", "[0, 15]", "t.json:7: categories.threat.radii_km[0]",
                          "a zero radius is refused");
    check_variant_refused("[5, 15, 50]", "[]",
                          "t.json:7: categories.threat.radii_km: expected 1 to",
                          "a dispatched category needs a radius");
    check_variant_refused("[\"social_worker\", \"police\"]",
                          "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\"]",
                          "t.json:6: categories.threat.skills: expected 1 to 8 skills",
                          "too many skills are refused");
    check_variant_refused("[\"social_worker\", \"police\"]", "[\"Social Worker\"]",
                          "t.json:6: categories.threat.skills[0]: a skill name is made of",
                          "a skill name with capitals and spaces is refused");
    check_variant_refused("[\"social_worker\", \"police\"]", "[\"police\", \"police\"]",
                          "t.json:6: categories.threat.skills[1]: skill \"police\" listed twice",
                          "a skill listed twice is refused");
    check_variant_refused("\"threat\": {", "\"thret\": {",
                          "t.json:3: categories.thret: unknown category",
                          "an unknown category is refused");
    check_variant_refused("    \"gathering\": {", "    \"gatherings\": {",
                          "t.json:15: categories.gatherings: unknown category",
                          "a misspelt category is refused at its line");
    check_variant_refused(
        "      \"max_attempts\": 3,\n", "      \"max_attempts\": 3,\n      \"prority\": 1,\n",
        "t.json:10: categories.threat.prority: unknown field", "an unknown field is refused");
    check_variant_refused("      \"priority\": \"P2\",\n",
                          "      \"priority\": \"P2\",\n      \"priority\": \"P3\",\n",
                          "t.json:6: categories.threat.priority: field given twice",
                          "a field given twice is refused");
    check_variant_refused("\"dispatch\": false", "\"dispatch\": true",
                          "t.json:16: categories.other.dispatch: \"other\" is never dispatched",
                          "other cannot be dispatched");
    check_variant_refused(
        "{\"th\": [\"ขัง\"]", "{\"th\": [\"ขู่\"]",
        "t.json:12: categories.detention.keywords.th[0]: \"ขู่\" is already a keyword of threat",
        "a keyword in two categories is refused");
    check_variant_refused("[\"ขัง\"]", "[\"ขัง*\"]", "t.json:12: categories.detention.keywords.th[0]",
                          "a '*' on a Thai word is refused");
    check_variant_refused("[\"ขัง\"]", "[\"...\"]", "t.json:12: categories.detention.keywords.th[0]",
                          "a word without letters is refused");
    check_variant_refused("\"en\": [\"locked in\"]", "\"en\": \"locked in\"",
                          "t.json:12: categories.detention.keywords.en: expected an array",
                          "keywords must be lists");
    check_variant_refused("\"keywords\": {\"th\": [\"ขัง\"], \"en\": [\"locked in\"]}",
                          "\"keywords\": {\"th\": [\"ขัง\"]}",
                          "t.json:12: categories.detention.keywords.en: missing",
                          "both keyword languages are required");
    check_variant_refused("\"labels\": {\"th\": \"ถูกกักขัง\", \"en\": \"Detained\"}",
                          "\"labels\": {\"th\": \"\", \"en\": \"Detained\"}",
                          "t.json:12: categories.detention.labels.th", "an empty label is refused");
    check_variant_refused("    \"other\": {", "    \"x\": 1, \"other\": {",
                          "t.json:16: categories.x: unknown category",
                          "an unknown category on a shared line");
    big = without_line("    \"gathering\": {");
    check_refused(big, "t.json:2: categories.gathering: missing category",
                  "a missing category is refused at the categories line");
    free(big);
    check_variant_refused("\"words_any\": [\"ลูก\", \"child\"]", "\"word_any\": [\"ลูก\"]",
                          "t.json:20: rules[0].when.word_any: unknown field",
                          "an unknown when key is refused");
    check_variant_refused("\"raise_priority\": 1,", "\"raise\": 1,",
                          "t.json:21: rules[0].then.raise: unknown field",
                          "an unknown then key is refused");
    check_variant_refused(
        "\"raise_priority\": 1,", "\"raise_priority\": 4,",
        "t.json:21: rules[0].then.raise_priority: expected a whole number from 1 to 3",
        "raise_priority out of range is refused");
    check_variant_refused("\"channel\": \"line\"", "\"channel\": \"sms\"",
                          "t.json:22: rules[1].when.channel: expected \"hotline\" or \"line\"",
                          "an unknown channel is refused");
    check_variant_refused("\"category\": [\"gathering\", \"other\"]",
                          "\"category\": [\"gathering\", \"others\"]",
                          "t.json:23: rules[2].when.category[1]: expected a category code",
                          "an unknown category in a rule is refused");
    check_variant_refused("\"then\": {\"priority\": \"P4\"}", "\"then\": {}",
                          "t.json:26: rules[3].then: changes nothing", "an empty then is refused");
    check_variant_refused("\"words_none\": [\"quiet\"]", "\"words_none\": []",
                          "t.json:23: rules[2].when.words_none: expected at least one word",
                          "an empty word list is refused");
    check_variant_refused("\"radii_km\": [1, 2]", "\"radii_km\": [2, 1]",
                          "t.json:24: rules[2].then.radii_km[1]: radii must be in ascending order",
                          "radii in a rule are checked too");
    check_variant_refused(
        "{\"add_skills\": [\"line_team\"]",
        "{\"add_skills\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\"]",
        "t.json:22: rules[1].then.add_skills: category threat could need 9 skills",
        "rules that could add too many skills are refused");
    check_variant_refused("  \"ignore_words\": {\"th\": [\"ลูกค้า\"]},\n",
                          "  \"ignore_words\": {\"th\": [\"ลูกค้า\"], \"fr\": []},\n",
                          "t.json:18: ignore_words.fr: unknown field",
                          "an unknown language is refused");
    check_variant_refused("{\n", "{\n  \"version\": 2,\n", "t.json:2: version",
                          "an unknown version is refused");

    err[0] = '\0';
    CHECK(rules_load_file("/nonexistent/rules.json", err, sizeof(err)) == NULL &&
              strstr(err, "/nonexistent/rules.json: cannot open") != NULL,
          "a missing file is refused with its name");
    CHECK(rules_load_buffer(NULL, 0, "x", err, sizeof(err)) == NULL, "no data is refused");
    {
        static const char with_nul[] = "{\"categories\": {}}\n\0junk";
        struct rules_table *t;

        err[0] = '\0';
        t = rules_load_buffer(with_nul, sizeof(with_nul) - 1, "t.json", err, sizeof(err));
        CHECK(t == NULL && strstr(err, "t.json:2: NUL byte") != NULL, "a NUL byte is refused");
        t = rules_load_buffer(base, strlen(base), "x", NULL, 0);
        CHECK(t != NULL, "a valid table loads without an error buffer");
        rules_free(t);
        CHECK(rules_load_buffer("[", 1, "x", NULL, 0) == NULL,
              "a broken table without an error buffer is still refused");
    }
}

static struct rules_table *load_base(void)
{
    char err[512];
    struct rules_table *t = rules_load_buffer(base, strlen(base), "t.json", err, sizeof(err));

    if (t == NULL) printf("# %s\n", err);
    return t;
}

/* Decides for an incident of the given category, channel and description. */
static struct rules_decision decide(const struct rules_table *t, int category,
                                    enum incident_channel channel, const char *description)
{
    struct incident inc;
    struct rules_decision d;

    memset(&inc, 0, sizeof(inc));
    inc.category = category;
    inc.channel = channel;
    inc.description = (char *)description; /* not freed: no incident_clear() here */
    if (rules_decide(t, &inc, &d) != 0) memset(&d, 0, sizeof(d));
    return d;
}

static void test_decide_small_table(void)
{
    struct rules_table *t = load_base();
    struct rules_decision d;
    struct incident inc;

    CHECK(t != NULL, "the small test table loads");
    if (t == NULL) return;

    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_HOTLINE, NULL);
    CHECK(d.category == INCIDENT_THREAT && d.classified == 0 && d.priority == 2 && d.nskills == 2 &&
              strcmp(d.skills[0], "social_worker") == 0 && strcmp(d.skills[1], "police") == 0 &&
              d.nradii == 3 && d.radii_km[2] == 50 && d.ack_timeout_s == 120 &&
              d.max_attempts == 3 && d.dispatch == 1 && d.prefer_skill[0] == '\0',
          "a given category gets its defaults");

    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_LINE, "มันขู่");
    CHECK(d.nskills == 3 && strcmp(d.skills[2], "line_team") == 0 && d.ack_timeout_s == 90 &&
              d.priority == 2,
          "a channel rule adds its skill and timeout");

    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_HOTLINE, "มันขู่ลูกสาวฉัน");
    CHECK(d.priority == 1 && strcmp(d.prefer_skill, "child_protection") == 0,
          "a child raises priority one step and prefers child_protection");

    d = decide(t, INCIDENT_DETENTION, INCIDENT_CHANNEL_HOTLINE, "my child is locked in");
    CHECK(d.priority == 1 && strcmp(d.prefer_skill, "child_protection") == 0,
          "raising P1 stays at P1");

    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_HOTLINE, "ลูกค้าขู่ว่าจะมาอีก");
    CHECK(d.priority == 2 && d.prefer_skill[0] == '\0', "an ignore word (ลูกค้า) is not a child");

    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_HOTLINE, "ขู่ทุกคนในบ้าน ไม่มีลูก");
    CHECK(d.priority == 2, "a negated rule word (ไม่มีลูก) does not fire");

    d = decide(t, INCIDENT_GATHERING, INCIDENT_CHANNEL_HOTLINE, "มั่วสุมทุกคืน");
    CHECK(d.priority == 2 && d.nradii == 2 && d.radii_km[0] == 1 && d.max_attempts == 5,
          "words_none holds when the word is absent: priority set, radii replaced");

    d = decide(t, INCIDENT_GATHERING, INCIDENT_CHANNEL_HOTLINE, "มั่วสุมแต่ quiet");
    CHECK(d.priority == 3 && d.nradii == 1 && d.max_attempts == 3,
          "words_none fails when the word is present");

    d = decide(t, INCIDENT_GATHERING, INCIDENT_CHANNEL_HOTLINE, "drugs party with a child");
    CHECK(d.priority == 4, "rules apply in order: a later priority overrides earlier changes");

    d = decide(t, INCIDENT_CATEGORY_NONE, INCIDENT_CHANNEL_HOTLINE, "ถูกขังอยู่ในห้อง");
    CHECK(d.category == INCIDENT_DETENTION && d.classified == 1 && d.priority == 1 &&
              d.ack_timeout_s == 60,
          "without a category the description is classified");

    d = decide(t, INCIDENT_CATEGORY_NONE, INCIDENT_CHANNEL_HOTLINE, "help with my debt");
    CHECK(d.category == INCIDENT_OTHER && d.classified == 1 && d.dispatch == 0 && d.nskills == 0 &&
              d.priority == 2,
          "other is not dispatched (and category lists include it)");

    d = decide(t, 42, INCIDENT_CHANNEL_HOTLINE, NULL);
    CHECK(d.category == INCIDENT_OTHER && d.classified == 1,
          "an out-of-range category is classified, never trusted");

    memset(&inc, 0, sizeof(inc));
    CHECK(rules_decide(NULL, &inc, &d) == -1 && rules_decide(t, NULL, &d) == -1 &&
              rules_decide(t, &inc, NULL) == -1,
          "NULL arguments are refused");

    CHECK(strcmp(rules_category_label(t, INCIDENT_THREAT, "th"), "ถูกข่มขู่") == 0 &&
              strcmp(rules_category_label(t, INCIDENT_DETENTION, "en"), "Detained") == 0 &&
              strcmp(rules_category_label(t, INCIDENT_DETENTION, "fr"), "") == 0 &&
              strcmp(rules_category_label(t, 99, "en"), "") == 0 &&
              strcmp(rules_category_label(NULL, 0, "en"), "") == 0,
          "labels by language; empty when unknown");
    rules_free(t);
}

/* The chat's own wording of a category: optional, falling back to the official label. */
static void test_chat_label(void)
{
    char err[512] = "";
    char *text = variant("\"labels\": {\"th\": \"ค\", \"en\": \"M\"}",
                         "\"labels\": {\"th\": \"ค\", \"en\": \"M\"}, "
                         "\"chat_label\": {\"th\": \"ใจ\", \"en\": \"Crisis\"}");
    struct rules_table *t =
        text ? rules_load_buffer(text, strlen(text), "t.json", err, sizeof err) : NULL;

    CHECK(t != NULL, "a table with a chat_label loads");
    CHECK(t != NULL &&
              strcmp(rules_category_chat_label(t, INCIDENT_MENTAL_CRISIS, "th"), "ใจ") == 0 &&
              strcmp(rules_category_chat_label(t, INCIDENT_MENTAL_CRISIS, "en"), "Crisis") == 0 &&
              strcmp(rules_category_label(t, INCIDENT_MENTAL_CRISIS, "th"), "ค") == 0,
          "chat_label: the chat's words, the official label unchanged");
    CHECK(t != NULL &&
              strcmp(rules_category_chat_label(t, INCIDENT_DETENTION, "en"), "Detained") == 0 &&
              strcmp(rules_category_chat_label(t, INCIDENT_DETENTION, "fr"), "") == 0 &&
              strcmp(rules_category_chat_label(NULL, INCIDENT_DETENTION, "th"), "") == 0,
          "chat_label: the official label when none is given; empty when unknown");
    rules_free(t);
    free(text);
    check_variant_refused(
        "\"labels\": {\"th\": \"ค\", \"en\": \"M\"}",
        "\"labels\": {\"th\": \"ค\", \"en\": \"M\"}, \"chat_label\": {\"th\": \"ใจ\"}",
        "t.json:14: categories.mental_crisis.chat_label.en: missing",
        "chat_label needs both languages");
}

static void test_shipped_table(void)
{
    const char *root = getenv("ESS_SOURCE_ROOT");
    char path[4096];
    char err[512] = "";
    struct rules_table *t;
    struct rules_decision d;
    static const char *const th[] = {"ถูกข่มขู่", "ถูกกักขัง", "เสี่ยงถูกล่วงละเมิด", "ผู้คลุ้มคลั่ง", "มั่วสุม"};
    static const int prio[] = {2, 1, 1, 1, 3};
    static const int ack[] = {120, 60, 60, 60, 300};
    int labels_ok = 1, defaults_ok = 1;

    snprintf(path, sizeof(path), "%s/rules/rules.json", root ? root : ".");
    t = rules_load_file(path, err, sizeof(err));
    if (t == NULL) printf("# %s\n", err);
    CHECK(t != NULL, "the shipped rules/rules.json loads");
    if (t == NULL) return;
    for (int c = 0; c < INCIDENT_OTHER; c++) {
        labels_ok &= strcmp(rules_category_label(t, c, "th"), th[c]) == 0;
        d = decide(t, c, INCIDENT_CHANNEL_HOTLINE, "");
        defaults_ok &= d.priority == prio[c] && d.ack_timeout_s == ack[c] && d.nradii == 3 &&
                       d.radii_km[0] == 5 && d.radii_km[1] == 15 && d.radii_km[2] == 50 &&
                       d.nskills == 2 && d.dispatch == 1 && d.max_attempts == 3;
    }
    CHECK(labels_ok, "the shipped Thai labels are DESIGN.md's");
    CHECK(defaults_ok, "the shipped defaults are DESIGN.md's table");
    d = decide(t, INCIDENT_MENTAL_CRISIS, INCIDENT_CHANNEL_HOTLINE, "");
    CHECK(strcmp(d.skills[0], "mental_health") == 0 && strcmp(d.skills[1], "police") == 0,
          "mental_crisis needs mental_health and police");
    d = decide(t, INCIDENT_OTHER, INCIDENT_CHANNEL_LINE, "");
    CHECK(d.priority == 4 && d.dispatch == 0, "other: P4, not dispatched");

    d = decide(t, INCIDENT_CATEGORY_NONE, INCIDENT_CHANNEL_HOTLINE, "ลูกสาวถูกแฟนขังไว้ในห้อง");
    CHECK(d.category == INCIDENT_DETENTION && d.priority == 1 &&
              strcmp(d.prefer_skill, "child_protection") == 0,
          "DESIGN's example: a daughter locked in is detention, P1, child protection preferred");
    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_LINE, "นักเรียนโดนรุ่นพี่ขู่ทุกวัน");
    CHECK(d.priority == 1 && strcmp(d.prefer_skill, "child_protection") == 0,
          "a threatened student: P2 raised to P1, child protection preferred");
    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_LINE, "my ex threatened me with a knife");
    CHECK(d.priority == 1 && d.prefer_skill[0] == '\0', "a weapon raises a threat to P1");
    d = decide(t, INCIDENT_GATHERING, INCIDENT_CHANNEL_LINE,
               "วัยรุ่นมั่วสุมกันทุกคืน มีเด็กนักเรียนด้วย บางคนพกปืน");
    CHECK(d.priority == 1, "gathering with a child and a gun: P3 raised twice to P1");
    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_LINE, "เขาขู่ แต่ไม่มีอาวุธ");
    CHECK(d.priority == 2, "a negated weapon (ไม่มีอาวุธ) does not raise");
    d = decide(t, INCIDENT_THREAT, INCIDENT_CHANNEL_LINE, "ลูกค้าที่ร้านขู่จะมาอีก");
    CHECK(d.priority == 2 && d.prefer_skill[0] == '\0', "ลูกค้า (customer) is not a child");
    d = decide(t, INCIDENT_MENTAL_CRISIS, INCIDENT_CHANNEL_LINE, "พี่ชายบอกว่าจะฆ่าตัวตาย");
    CHECK(d.ack_timeout_s == 45, "a suicide risk shortens the acknowledgment wait");
    d = decide(t, INCIDENT_OTHER, INCIDENT_CHANNEL_LINE, "ขอทุนการศึกษาให้ลูก");
    CHECK(d.priority == 3 && d.dispatch == 0, "a child raises 'other' in the triage queue only");
    rules_free(t);
}

static void test_priority_codes(void)
{
    CHECK(strcmp(rules_priority_code(1), "P1") == 0 && strcmp(rules_priority_code(4), "P4") == 0 &&
              strcmp(rules_priority_code(0), "P?") == 0 &&
              strcmp(rules_priority_code(5), "P?") == 0,
          "priority codes P1..P4, P? otherwise");
}

static void test_skill_names(void)
{
    char longest[RULES_MAX_SKILL_LEN + 1];

    memset(longest, 'a', sizeof longest);
    CHECK(rules_skill_valid("social_worker", 13), "a skill name of a-z and _");
    CHECK(rules_skill_valid("k9_unit2", 8), "digits are allowed");
    CHECK(rules_skill_valid(longest, RULES_MAX_SKILL_LEN - 1), "the longest skill name");
    CHECK(!rules_skill_valid(longest, RULES_MAX_SKILL_LEN), "one byte more is refused");
    CHECK(!rules_skill_valid("", 0) && !rules_skill_valid(NULL, 0), "an empty name is refused");
    CHECK(!rules_skill_valid("Police", 6), "capitals are refused");
    CHECK(!rules_skill_valid("first aid", 9), "spaces are refused");
    CHECK(!rules_skill_valid("a-b", 3), "dashes are refused");
    CHECK(!rules_skill_valid("ab", 3), "a NUL inside the length is refused");
}

int main(void)
{
    test_skill_names();
    test_broken_tables();
    test_decide_small_table();
    test_chat_label();
    test_shipped_table();
    test_priority_codes();
    rules_free(NULL);
    return tap_done();
}
