/* Unit test of what a LINE reporter's phone may show (DESIGN.md "Safeguarding": no push ever names
 * the category or repeats the description or the address; the phone may be read by the person
 * who is feared). Every push template is rendered for every category in both languages: the
 * progress notices (each status, the queued notice included), a chat's closing line, the reply
 * that gives the tracking code as it falls back to a push, the abandoned report's push, and the
 * answers a reply may turn into pushes (talk to a person, the consent question and its closing
 * line, quiet updates, status answers). None may show a category's code, label (official, chat or
 * short form, Thai or English) or any keyword of the rule table, matched as the classifier
 * matches (Thai anywhere, English as whole words with their endings), nor the description,
 * address or reporter passed in beside what it needs. */
#include "citizen_messages.h"
#include "incident.h"
#include "outbox.h"
#include "rules.h"
#include "tap.h"
#include "text.h"
#include "words.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE "HM-7K3-Q9X-TD8"
#define USER "U0123456789abcdef0123456789abcdef"
#define DESCRIPTION "canary-description-7f3a ลูกสาวถูกแฟนขังไว้ในห้อง"
#define ADDRESS "canary-address-91bc ซอยรามบุตรี"
#define REPORTER "canary-reporter-c0de"
#define GAP_BYTES 18 /* rules_internal.h's RULES_GAP_BYTES: what "..." spans */

static struct rules_table *rules;

/* Every word a push must not show, with the category it names. */
static struct {
    char **word;
    int *category;
    size_t n, cap;
} forbidden;

static void forbid(const char *word, int category)
{
    if (word == NULL || word[0] == '\0') return;
    if (forbidden.n == forbidden.cap) {
        forbidden.cap = forbidden.cap ? forbidden.cap * 2 : 1024;
        forbidden.word = realloc(forbidden.word, forbidden.cap * sizeof *forbidden.word);
        forbidden.category =
            realloc(forbidden.category, forbidden.cap * sizeof *forbidden.category);
        if (forbidden.word == NULL || forbidden.category == NULL) abort();
    }
    forbidden.word[forbidden.n] = text_dup(word);
    forbidden.category[forbidden.n++] = category;
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 0;
    return 1;
}

static int is_alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
}

/* s lower-cased (ASCII), every run of blanks one space: a new string. */
static char *lower_spaced(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t o = 0;

    if (out == NULL) abort();
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (o > 0 && out[o - 1] != ' ') out[o++] = ' ';
        } else {
            out[o++] = (char)tolower((unsigned char)*s);
        }
    }
    out[o] = '\0';
    return out;
}

/* s without blanks (Thai is matched as the classifier folds it: blanks removed). */
static char *unspaced(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t o = 0;

    if (out == NULL) abort();
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) out[o++] = *s;
    out[o] = '\0';
    return out;
}

/* 1 when the English word or phrase w (lower case; a trailing '*' a prefix) stands in text (lower
 * case, blanks single) as whole words, allowing the classifier's endings. */
static int english_in(const char *text, const char *w)
{
    static const char *const endings[] = {"", "s", "es", "d", "ed", "ing", "er", "ers", NULL};
    size_t n = strlen(w);
    int prefix = n > 0 && w[n - 1] == '*';

    if (prefix) n--;
    for (const char *at = text; *at; at++) {
        if (strncmp(at, w, n) != 0 || (at > text && is_alnum(at[-1]))) continue;
        if (prefix) return 1;
        for (size_t e = 0; endings[e]; e++) {
            size_t k = strlen(endings[e]);
            if (strncmp(at + n, endings[e], k) == 0 && !is_alnum(at[n + k])) return 1;
        }
    }
    return 0;
}

/* 1 when the Thai word w ("head...tail": tail within GAP_BYTES after head) is in text (both
 * without blanks). */
static int thai_in(const char *text, const char *w)
{
    const char *gap = strstr(w, "...");
    size_t hn;

    if (gap == NULL) return strstr(text, w) != NULL;
    hn = (size_t)(gap - w);
    for (const char *at = text; *at; at++) {
        const char *tail = gap + 3;
        if (strncmp(at, w, hn) != 0) continue;
        for (size_t d = 0; d <= GAP_BYTES && at[hn + d]; d++)
            if (strncmp(at + hn + d, tail, strlen(tail)) == 0) return 1;
    }
    return 0;
}

/* The first forbidden word visible in text, or NULL. */
static const char *forbidden_in(const char *text)
{
    char *low = lower_spaced(text);
    char *bare = unspaced(text);
    const char *found = NULL;

    for (size_t i = 0; i < forbidden.n && found == NULL; i++) {
        const char *w = forbidden.word[i];
        if (is_ascii(w)) {
            char *lw = lower_spaced(w);
            if (english_in(low, lw)) found = w;
            free(lw);
        } else {
            char *bw = unspaced(w);
            if (thai_in(bare, bw)) found = w;
            free(bw);
        }
    }
    free(low);
    free(bare);
    return found;
}

/* What the phone shows of a message array or a push: every text, label, displayText and altText,
 * one a line. Appended to b. */
static void visible(const cJSON *item, struct text_buf *b)
{
    const cJSON *child;

    if (item == NULL) return;
    if (cJSON_IsString(item) && item->string != NULL &&
        (strcmp(item->string, "text") == 0 || strcmp(item->string, "label") == 0 ||
         strcmp(item->string, "displayText") == 0 || strcmp(item->string, "altText") == 0)) {
        text_buf_add(b, item->valuestring);
        text_buf_add(b, "\n");
    }
    cJSON_ArrayForEach (child, item) {
        visible(child, b);
    }
}

/* Checks one rendering (a message array or a push; taken and freed): renders, shows nothing
 * forbidden, nor the canaries anywhere in it. 0 when it fails (said on a comment line). */
static int clean(cJSON *rendered, const char *what, int lang, int category)
{
    struct text_buf b = {0};
    char *shown, *all;
    const char *bad;
    int ok = 1;

    if (rendered == NULL) {
        printf("# %s (lang %d, category %d): not rendered\n", what, lang, category);
        return 0;
    }
    visible(rendered, &b);
    shown = text_buf_take(&b);
    all = cJSON_PrintUnformatted(rendered);
    if (shown == NULL || all == NULL) abort();
    for (char *nl = shown; (nl = strchr(nl, '\n')) != NULL;) *nl = '|'; /* one TAP comment line */
    if (shown[0] == '\0') {
        printf("# %s: shows nothing\n", what);
        ok = 0;
    }
    if ((bad = forbidden_in(shown)) != NULL) {
        printf("# %s (lang %d, category %s) shows \"%s\": %s\n", what, lang,
               incident_category_code(category), bad, shown);
        ok = 0;
    }
    if (strstr(all, "canary") != NULL || strstr(all, "ขังไว้ในห้อง") != NULL ||
        strstr(all, "รามบุตรี") != NULL) {
        printf("# %s repeats the description, address or reporter: %s\n", what, all);
        ok = 0;
    }
    free(shown);
    free(all);
    cJSON_Delete(rendered);
    return ok;
}

/* A payload as ess.lua queues it, with the case's category and personal data beside it (as a
 * careless change might add them): {to, lang, tracking_code, status, team_name, team_name_en,
 * category, description, address, reporter_name, messages (when given)}. */
static cJSON *payload(int lang, const char *status, int category, cJSON *messages)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "case_id", "01JD0000000000000000000000");
    cJSON_AddStringToObject(p, "reply_token", "r1");
    cJSON_AddStringToObject(p, "to", USER);
    cJSON_AddStringToObject(p, "lang", lang == CHAT_LANG_EN ? "en" : "th");
    cJSON_AddStringToObject(p, "tracking_code", CODE);
    if (status) cJSON_AddStringToObject(p, "status", status);
    cJSON_AddStringToObject(p, "team_name", "ทีมเขต 7");
    cJSON_AddStringToObject(p, "team_name_en", "Team 7");
    cJSON_AddStringToObject(p, "category", incident_category_code(category));
    cJSON_AddStringToObject(p, "description", DESCRIPTION);
    cJSON_AddStringToObject(p, "address", ADDRESS);
    cJSON_AddStringToObject(p, "reporter_name", REPORTER);
    if (messages) cJSON_AddItemToObject(p, "messages", messages);
    return p;
}

/* A push built from p by build (p freed). */
static cJSON *pushed(enum outbox_build (*build)(const cJSON *, cJSON **), cJSON *p)
{
    cJSON *out = NULL;

    if (build(p, &out) != OUTBOX_BUILD_OK) out = NULL;
    cJSON_Delete(p);
    return out;
}

static cJSON *prompt(int lang, enum chat_prompt which, int consent, int ask)
{
    struct chat_outcome o;

    memset(&o, 0, sizeof o);
    o.action = CHAT_ACTION_REPLY;
    o.prompt = which;
    o.lang = (enum chat_lang)lang;
    o.consent = consent;
    o.ask_consent = ask;
    o.category = INCIDENT_CATEGORY_NONE;
    snprintf(o.tracking_code, sizeof o.tracking_code, "%s", CODE);
    return citizen_messages(rules, &o);
}

static void load_forbidden(const char *root)
{
    static const char *const langs[] = {"th", "en"};
    char path[4096];
    FILE *f;
    char *text;
    long len;
    cJSON *doc;
    const cJSON *cat;

    for (int c = INCIDENT_THREAT; c < INCIDENT_CATEGORY_COUNT; c++) {
        forbid(incident_category_code(c), c);
        for (int l = 0; l < 2; l++) {
            forbid(rules_category_label(rules, c, langs[l]), c);
            forbid(rules_category_chat_label(rules, c, langs[l]), c);
            forbid(words_category_short(c, (enum chat_lang)l), c);
        }
    }
    snprintf(path, sizeof path, "%s/rules/rules.json", root);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (text = malloc((size_t)len + 1)) == NULL ||
        fread(text, 1, (size_t)len, f) != (size_t)len)
        abort();
    fclose(f);
    text[len] = '\0';
    doc = cJSON_Parse(text);
    free(text);
    cJSON_ArrayForEach (cat, cJSON_GetObjectItemCaseSensitive(doc, "categories")) {
        int c = incident_category_parse(cat->string, strlen(cat->string));
        const cJSON *list, *w;

        cJSON_ArrayForEach (list, cJSON_GetObjectItemCaseSensitive(cat, "keywords")) {
            cJSON_ArrayForEach (w, list) {
                forbid(w->valuestring, c);
            }
        }
    }
    cJSON_Delete(doc);
}

/* The checker can fail: it finds what it looks for. */
static void test_checker(void)
{
    CHECK(forbidden_in("เรื่องของคุณ: ถูกกักขัง") != NULL, "checker: a Thai label in a sentence");
    CHECK(forbidden_in("Your report: Detained.") != NULL, "checker: an English label, any case");
    CHECK(forbidden_in("he was threatening me") != NULL ||
              forbidden_in("someone threatened") != NULL,
          "checker: an English keyword with its ending");
    CHECK(forbidden_in("มีคนถูก ขัง อยู่") != NULL, "checker: a Thai keyword across blanks");
    CHECK(forbidden_in("call the police") == NULL, "checker: \"ice\" inside \"police\" is no word");
    CHECK(forbidden_in("passed to another team") == NULL,
          "checker: \"other\" inside \"another\" is no word");
    CHECK(forbidden_in("ask for other help") != NULL, "checker: the code \"other\" as a word");
    CHECK(forbidden.n > 500, "checker: the rule table's keywords are all in");
    {
        cJSON *m = cJSON_CreateArray();
        cJSON *t = cJSON_CreateObject();

        cJSON_AddStringToObject(t, "type", "text");
        cJSON_AddStringToObject(t, "text", "Your report: " ADDRESS);
        cJSON_AddItemToArray(m, t);
        printf("# a planted address, to be caught:\n");
        CHECK(!clean(m, "planted", CHAT_LANG_EN, INCIDENT_OTHER),
              "checker: an address passed in and shown is caught");
    }
}

static void test_pushes(void)
{
    static const char *const progress[] = {"queued",   "assigned", "acknowledged",
                                           "en_route", "on_scene", "resolved"};
    static const char *const statuses[] = {"received",   "queued",       "assigned",
                                           "reassigned", "acknowledged", "en_route",
                                           "on_scene",   "resolved",     "closed"};
    static const enum chat_prompt prompts[] = {
        CHAT_PROMPT_NOTE_ADDED,       CHAT_PROMPT_DETAILS_SKIPPED, CHAT_PROMPT_LOCATION_ADDED,
        CHAT_PROMPT_CONSENT_RECORDED, CHAT_PROMPT_QUIET_ON,        CHAT_PROMPT_QUIET_OFF,
        CHAT_PROMPT_QUIET_NO_CASE,    CHAT_PROMPT_NO_CASE,         CHAT_PROMPT_CANCELLED};

    for (int lang = CHAT_LANG_TH; lang <= CHAT_LANG_EN; lang++) {
        int ok_progress = 1, ok_closed = 1, ok_created = 1, ok_other = 1, ok_said = 1,
            ok_status = 1;
        char what[128];

        for (int c = INCIDENT_THREAT; c < INCIDENT_CATEGORY_COUNT; c++) {
            for (size_t s = 0; s < sizeof progress / sizeof progress[0]; s++) {
                snprintf(what, sizeof what, "progress push %s", progress[s]);
                ok_progress &=
                    clean(pushed(outbox_progress_push, payload(lang, progress[s], c, NULL)), what,
                          lang, c);
            }
            ok_closed &= clean(pushed(outbox_chat_closed_push, payload(lang, NULL, c, NULL)),
                               "chat closed push", lang, c);
            ok_created &=
                clean(pushed(outbox_as_push,
                             payload(lang, NULL, c,
                                     citizen_messages_created_ask(rules, (enum chat_lang)lang, CODE,
                                                                  lang ? "Team 7" : "ทีมเขต 7",
                                                                  "https://help.example.go.th"))),
                      "the created reply as a push", lang, c);
            ok_created &= clean(
                pushed(outbox_as_push, payload(lang, NULL, c,
                                               citizen_messages_talk_created((enum chat_lang)lang,
                                                                             CODE, "ทีมเขต 7", ""))),
                "the created reply with talk as a push", lang, c);
            ok_other &= clean(citizen_messages_abandoned((enum chat_lang)lang, CODE,
                                                         "https://help.example.go.th"),
                              "abandoned report push", lang, c);
            ok_other &= clean(citizen_messages_talk_waiting((enum chat_lang)lang, CODE),
                              "talk waiting", lang, c);
            for (size_t p = 0; p < sizeof prompts / sizeof prompts[0]; p++)
                for (int v = 0; v < 2; v++) {
                    snprintf(what, sizeof what, "reply %d (consent %d, asked %d)", prompts[p], v,
                             v);
                    ok_said &= clean(pushed(outbox_as_push,
                                            payload(lang, NULL, c, prompt(lang, prompts[p], v, v))),
                                     what, lang, c);
                }
            for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
                snprintf(what, sizeof what, "status answer %s", statuses[s]);
                ok_status &=
                    clean(citizen_messages_status((enum chat_lang)lang, 1, CODE, c, statuses[s],
                                                  1795230245000, lang ? "Team 7" : "ทีมเขต 7"),
                          what, lang, c);
            }
        }
        snprintf(what, sizeof what, "%s: progress pushes (every status, queued included)",
                 lang ? "EN" : "TH");
        CHECK(ok_progress, what);
        snprintf(what, sizeof what, "%s: the chat's closing line", lang ? "EN" : "TH");
        CHECK(ok_closed, what);
        snprintf(what, sizeof what, "%s: the reply with the tracking code, as a push",
                 lang ? "EN" : "TH");
        CHECK(ok_created, what);
        snprintf(what, sizeof what, "%s: the abandoned report's push, talk waiting",
                 lang ? "EN" : "TH");
        CHECK(ok_other, what);
        snprintf(what, sizeof what, "%s: consent question and answers, quiet updates, as pushes",
                 lang ? "EN" : "TH");
        CHECK(ok_said, what);
        snprintf(what, sizeof what, "%s: status answers", lang ? "EN" : "TH");
        CHECK(ok_status, what);
    }
}

int main(void)
{
    const char *root = getenv("ESS_SOURCE_ROOT");
    char path[4096];
    char err[512] = "";

    if (root == NULL) root = ".";
    snprintf(path, sizeof path, "%s/rules/rules.json", root);
    rules = rules_load_file(path, err, sizeof err);
    if (rules == NULL) printf("# %s\n", err);
    CHECK(rules != NULL, "the shipped rule table loads");
    if (rules != NULL) {
        load_forbidden(root);
        test_checker();
        test_pushes();
    }
    for (size_t i = 0; i < forbidden.n; i++) free(forbidden.word[i]);
    free(forbidden.word);
    free(forbidden.category);
    rules_free(rules);
    return tap_done();
}
