/* e-Tracking, the public page (router/api/track_page.h): the form, the redirect and the status
 * page, in Thai or English, written for a frightened person: calm, short, one thing per page.
 * Everything that comes from a request or from the store is HTML-escaped. */
#include "track_page.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "text.h"
#include "track.h"
#include "track_code.h"
#include "words.h"

#define T(lang, th, en) WORDS_T(lang, th, en)
#define CODE_INPUT_MAX 40 /* characters of a typed code shown back in the form */

const char *const track_page_step_status[TRACK_PAGE_STEPS] = {
    "received", "assigned", "acknowledged", "en_route", "on_scene", "resolved", "closed"};

static const char *const step_th[TRACK_PAGE_STEPS] = {
    "รับแจ้งแล้ว",       "ส่งต่อให้ทีมช่วยเหลือ", "ทีมรับเรื่องแล้ว", "ทีมกำลังเดินทางไป",
    "ทีมถึงที่เกิดเหตุแล้ว", "ช่วยเหลือเรียบร้อย",  "ปิดเรื่องแล้ว"};
static const char *const step_en[TRACK_PAGE_STEPS] = {
    "Received", "Team assigned", "Team accepted", "On the way", "On scene", "Resolved", "Closed"};

/* ------------------------------------------------------------------------------------------ */
/* Language */

/* The q-value of one Accept-Language item's parameters (";q=0.8"); 1 when none. */
static double accept_q(const char *params, size_t n)
{
    const char *q = params;
    while ((q = memchr(q, 'q', (size_t)(params + n - q))) != NULL) {
        const char *v = q + 1;
        while (v < params + n && *v == ' ') v++;
        if (v < params + n && *v == '=') return strtod(v + 1, NULL);
        q++;
    }
    return 1.0;
}

enum chat_lang track_page_lang(const char *lang_param, const char *accept_language)
{
    const char *p = accept_language;
    double best_th = 0, best_en = 0; /* q = 0: not wanted */
    int pos = 0, pos_th = 0, pos_en = 0;

    if (lang_param && strcmp(lang_param, "en") == 0) return CHAT_LANG_EN;
    if (lang_param && strcmp(lang_param, "th") == 0) return CHAT_LANG_TH;
    while (p && *p) {
        size_t n = strcspn(p, ","), tag;
        const char *semi;
        double q;
        pos++;
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        semi = memchr(p, ';', n);
        tag = semi ? (size_t)(semi - p) : n;
        while (tag > 0 && p[tag - 1] == ' ') tag--;
        q = semi ? accept_q(semi, n - (size_t)(semi - p)) : 1.0;
        if (tag == 2 || (tag > 2 && p[2] == '-')) {
            if (strncasecmp(p, "th", 2) == 0 && q > best_th) {
                best_th = q;
                pos_th = pos;
            }
            if (strncasecmp(p, "en", 2) == 0 && q > best_en) {
                best_en = q;
                pos_en = pos;
            }
        }
        p += n;
        if (*p == ',') p++;
    }
    /* English when it ranks above Thai: a higher q, or the same q listed first */
    if (best_en <= 0) return CHAT_LANG_TH;
    return best_en > best_th || (best_en == best_th && pos_en < pos_th) ? CHAT_LANG_EN
                                                                        : CHAT_LANG_TH;
}

/* The request's query parameters code and lang (NULL when absent), from q (filled here, freed by
 * the caller with evhttp_clear_headers). */
static void page_query(struct http_call *call, struct evkeyvalq *q, const char **code,
                       const char **lang)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

    *code = *lang = NULL;
    if (http_query_split(query, q) != 0) return;
    *code = evhttp_find_header(q, "code");
    *lang = evhttp_find_header(q, "lang");
}

/* The call's language, and the ?lang= to carry on (links, the form): "" unless it was given. */
static enum chat_lang page_lang(struct http_call *call, const char **carry)
{
    struct evkeyvalq q;
    const char *code, *lang;
    enum chat_lang l;

    page_query(call, &q, &code, &lang);
    l = track_page_lang(
        lang, evhttp_find_header(evhttp_request_get_input_headers(call->req), "Accept-Language"));
    *carry = "";
    if (lang && strcmp(lang, "en") == 0) *carry = "en";
    if (lang && strcmp(lang, "th") == 0) *carry = "th";
    evhttp_clear_headers(&q);
    return l;
}

/* ------------------------------------------------------------------------------------------ */
/* The page around the content. Built with adds (no printf: a page is rendered at the rate of
 * the JSON lookups, and formatting was most of its cost). */

/* Appends each string up to the NULL. */
__attribute__((sentinel)) static void adds(struct text_buf *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        text_buf_add(b, s);
    va_end(ap);
}

static void page_head(struct text_buf *b, enum chat_lang lang, const char *path_for_switch)
{
    const char *other = T(lang, "en", "th");

    text_buf_reserve(b, 6144); /* a page is 2-5 KB: one allocation */
    adds(b, "<!doctype html>\n<html lang=\"", T(lang, "th", "en"),
         "\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
         T(lang, "ติดตามสถานะ", "Check a status"),
         "</title>\n<link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\">\n"
         "<link rel=\"stylesheet\" href=\"/assets/track.css\">\n</head>\n<body>\n"
         "<header class=\"bar\">\n<a class=\"leave\" href=\"" TRACK_PAGE_LEAVE_URL
         "\" rel=\"noreferrer\">",
         T(lang, "ออกจากหน้านี้ทันที", "Leave this page now"), "</a>\n<a class=\"lang\" href=\"", NULL);
    /* the other language, same page */
    text_buf_add_html(b, path_for_switch);
    adds(b, "?lang=", other, "\" lang=\"", other, "\" hreflang=\"", other, "\">",
         T(lang, "English", "ภาษาไทย"), "</a>\n</header>\n<main>\n", NULL);
}

static void page_form(struct text_buf *b, enum chat_lang lang, const char *carry, const char *value)
{
    char shown[CODE_INPUT_MAX * 4 + 1];
    size_t n = value ? strlen(value) : 0;

    /* what the person typed, shown back cut and never half a character */
    if (n > CODE_INPUT_MAX) n = text_utf8_complete(value, CODE_INPUT_MAX);
    if (n) memcpy(shown, value, n);
    shown[n] = '\0';
    if (!text_utf8_valid(shown, n)) shown[0] = '\0';
    text_buf_add(b, "<form action=\"/track\" method=\"get\">\n");
    adds(b, "<label for=\"code\">", T(lang, "รหัสติดตาม", "Tracking code"),
         "</label>\n<span class=\"hint\" id=\"code-hint\">",
         T(lang, "รหัสที่ได้รับตอนแจ้งเหตุ เช่น", "The code you were given, like"),
         " HM-7K3-Q9X-TD8</span>\n"
         "<input type=\"text\" id=\"code\" name=\"code\" aria-describedby=\"code-hint\" "
         "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" "
         "maxlength=\"40\" value=\"",
         NULL);
    text_buf_add_html(b, shown);
    text_buf_add(b, "\">\n");
    if (carry[0]) adds(b, "<input type=\"hidden\" name=\"lang\" value=\"", carry, "\">\n", NULL);
    adds(b, "<button type=\"submit\">", T(lang, "ดูสถานะ", "Check status"), "</button>\n</form>\n",
         NULL);
}

static void page_foot(struct text_buf *b, enum chat_lang lang)
{
    adds(b, "<div class=\"help\">\n<p>",
         T(lang, "ถ้าตอนนี้ไม่ปลอดภัย โทรได้ทันที ฟรีตลอด 24 ชั่วโมง",
           "If you are not safe right now, call at once, free, day and night:"),
         "</p>\n<p><a href=\"tel:191\">191</a> ", T(lang, "ตำรวจ", "police"),
         " · <a href=\"tel:1300\">1300</a> ", T(lang, "ศูนย์ช่วยเหลือสังคม", "social help"),
         " · <a href=\"tel:1323\">1323</a> ", T(lang, "สายด่วนสุขภาพจิต", "mental health"),
         "</p>\n<p class=\"privacy\">",
         T(lang,
           "หน้านี้ไม่แสดงข้อมูลส่วนตัวใด ๆ ไม่มีชื่อ เบอร์โทร ที่อยู่ "
           "หรือรายละเอียดที่แจ้งไว้",
           "No personal data is ever shown here: no names, phone numbers, addresses or "
           "what was reported."),
         "</p>\n</div>\n</main>\n</body>\n</html>\n", NULL);
}

/* Ends the call with the page built in b (out of memory: the 500 of http.c). */
static void page_send(struct http_call *call, int status, struct text_buf *b)
{
    size_t len = b->len;
    char *html = text_buf_take(b);
    if (html == NULL) {
        call->reply_error = NULL;
        http_reply_json(call, 500, NULL);
        return;
    }
    http_reply_owned(call, status, "text/html; charset=utf-8", html, len);
}

/* A page with a message (an error, or the form's invitation) and the form again. */
static void page_message(struct http_call *call, int status, const char *title, const char *message,
                         const char *value, const char *switch_path)
{
    struct text_buf b = {0};
    const char *carry;
    enum chat_lang lang = page_lang(call, &carry);

    page_head(&b, lang, switch_path);
    if (status >= 400) text_buf_add(&b, "<div class=\"error\" role=\"alert\">\n");
    adds(&b, "<h1>", title, "</h1>\n<p>", message, "</p>\n", NULL);
    if (status >= 400) text_buf_add(&b, "</div>\n");
    page_form(&b, lang, carry, value);
    page_foot(&b, lang);
    page_send(call, status, &b);
}

/* The words of an error page: title and message in the language. */
static void error_words(int status, const char *code, enum chat_lang lang, const char **title,
                        const char **message)
{
    if (status == 404) {
        *title = T(lang, "ไม่พบเรื่องที่ใช้รหัสนี้", "No report has this code");
        *message = T(lang, "ลองตรวจสอบรหัสอีกครั้งนะคะ เรื่องที่ปิดไปนานแล้วจะไม่แสดงที่นี่",
                     "Please check the code. Reports closed some time ago are no longer shown.");
    } else if (status == 429) {
        *title = T(lang, "กรุณารอสักครู่", "Please wait a moment");
        *message = T(lang, "มีการค้นหาจากเครื่องนี้หลายครั้งแล้ว รอประมาณหนึ่งนาที แล้วลองใหม่นะคะ",
                     "There have been many lookups from this connection. Wait about a minute, "
                     "then try again.");
    } else if (status == 400 && code && strcmp(code, "bad_check") == 0) {
        *title = T(lang, "รหัสนี้อาจพิมพ์ผิด", "This code may have a typing mistake");
        *message = T(lang, "ลองตรวจสอบทีละตัวอักษร แล้วพิมพ์ใหม่อีกครั้งนะคะ",
                     "Please check it one character at a time and type it again.");
    } else if (status == 400 && code && strcmp(code, "malformed") == 0) {
        *title = T(lang, "รหัสนี้ดูไม่ถูกต้อง", "This code does not look right");
        *message = T(lang, "รหัสติดตามมีหน้าตาแบบนี้ HM-7K3-Q9X-TD8 ลองพิมพ์ใหม่อีกครั้งนะคะ",
                     "A tracking code looks like HM-7K3-Q9X-TD8. Please type it again.");
    } else {
        *title = T(lang, "ระบบขัดข้องชั่วคราว", "Something went wrong on our side");
        *message = T(lang, "เรื่องที่คุณแจ้งไว้ยังอยู่ครบ ลองใหม่อีกครั้งในอีกสักครู่นะคะ",
                     "Your report is safe with us. Please try again in a moment.");
    }
}

/* call->reply_error of the status page: its 429, 503 and 500 (from the rate limit and the store)
 * as pages, with the code the person typed in the form again. */
static void page_error(struct http_call *call, int status, const char *code, const char *message)
{
    const char *title, *words, *carry;
    char path[HTTP_MAX_PARAM_LEN + 16];

    (void)message; /* the API's English sentence; the page has its own words */
    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    error_words(status, code, page_lang(call, &carry), &title, &words);
    snprintf(path, sizeof path, "/track/%s", call->params[1][0] ? call->params[1] : "");
    page_message(call, status, title, words, call->params[0], path);
}

/* ------------------------------------------------------------------------------------------ */
/* The timeline */

static int step_rank(const char *status)
{
    for (int i = 0; i < TRACK_PAGE_STEPS; i++)
        if (status && strcmp(status, track_page_step_status[i]) == 0) return i;
    return -1;
}

/* One status of the timeline into track_page_steps' at_ms (arg). */
static void take_step(const char *status, int64_t ms, void *arg)
{
    int64_t *at_ms = arg;
    int r = step_rank(status);
    if (ms > 0 && r < 0 && (strcmp(status, "queued") == 0 || strcmp(status, "reassigned") == 0))
        r = 0; /* no team holds the case now: the steps after received are undone */
    else if (ms > 0 && r >= 0)
        at_ms[r] = ms;
    else
        return; /* not a status with a time: skipped */
    for (int k = r + 1; k < TRACK_PAGE_STEPS; k++) at_ms[k] = 0;
}

void track_page_steps(const char *timeline, size_t len, int64_t at_ms[TRACK_PAGE_STEPS])
{
    memset(at_ms, 0, TRACK_PAGE_STEPS * sizeof at_ms[0]);
    track_timeline_each(timeline, len, take_step, at_ms);
}

/* "Now" in words: the status as the person should read it. */
static const char *now_words(const char *status, enum chat_lang lang)
{
    int r = step_rank(status);
    if (status && (strcmp(status, "queued") == 0 || strcmp(status, "reassigned") == 0))
        return T(lang, "เจ้าหน้าที่กำลังหาทีมช่วยเหลือให้ค่ะ", "An operator is finding a team to help.");
    if (r < 0) return T(lang, "กำลังดำเนินการ", "In progress");
    return lang == CHAT_LANG_EN ? step_en[r] : step_th[r];
}

static void page_fact(struct text_buf *b, const char *term, const char *value)
{
    adds(b, "<div><dt>", term, "</dt><dd>", NULL);
    text_buf_add_html(b, value);
    text_buf_add(b, "</dd></div>\n");
}

static void page_status(struct http_call *call, const struct track_view *v)
{
    struct text_buf b = {0};
    const char *carry, *label;
    enum chat_lang lang = page_lang(call, &carry);
    const char *team = lang == CHAT_LANG_EN && v->team_name_en[0] ? v->team_name_en : v->team_name;
    const char *code = call->params[1];
    char path[HTTP_MAX_PARAM_LEN + 16];
    int64_t at[TRACK_PAGE_STEPS];
    int now = step_rank(v->status);

    label = lang == CHAT_LANG_EN ? v->label_en : v->label_th;
    if (label[0] == '\0') label = v->category;
    track_page_steps(v->timeline, v->timeline_len, at);
    snprintf(path, sizeof path, "/track/%s", code);
    page_head(&b, lang, path);
    adds(&b, "<h1>", T(lang, "สถานะเรื่องที่แจ้ง", "Status of the report"),
         "</h1>\n<dl class=\"facts\">\n", NULL);
    page_fact(&b, T(lang, "รหัสติดตาม", "Tracking code"), code);
    page_fact(&b, T(lang, "ประเภท", "Kind"), label);
    page_fact(&b, T(lang, "ตอนนี้", "Now"), now_words(v->status, lang));
    page_fact(&b, T(lang, "ทีมที่ดูแล", "Team"),
              team[0] ? team : T(lang, "ยังไม่มี กำลังหาให้อยู่ค่ะ", "None yet: being found"));
    adds(&b, "</dl>\n<h2>", T(lang, "ความคืบหน้า (เวลาประเทศไทย)", "Progress (Thailand time)"),
         "</h2>\n<ol class=\"steps\">\n", NULL);
    for (int i = 0; i < TRACK_PAGE_STEPS; i++) {
        char when[WORDS_WHEN_SIZE];
        const char *name = lang == CHAT_LANG_EN ? step_en[i] : step_th[i];
        if (at[i] == 0) { /* not reached: grey, and said so to screen readers */
            adds(&b, "<li class=\"todo\"><span class=\"step\">", name,
                 "</span><span class=\"hidden\"> ", T(lang, "(ยังไม่ถึง)", "(not yet)"),
                 "</span></li>\n", NULL);
            continue;
        }
        words_when_plain(at[i], lang, when); /* the heading names the time zone */
        adds(&b, i == now ? "<li class=\"done now\" aria-current=\"step\">" : "<li class=\"done\">",
             "<span class=\"step\">", name, "</span><span class=\"when\">", when, "</span></li>\n",
             NULL);
    }
    adds(&b, "</ol>\n<p class=\"notice\">",
         T(lang, "เปิดหน้านี้ใหม่ได้ทุกเมื่อ เพื่อดูความคืบหน้าล่าสุดค่ะ",
           "Open this page again at any time to see the latest."),
         "</p>\n", NULL);
    adds(&b, "<p><a href=\"/track", carry[0] ? "?lang=" : "", carry, "\">",
         T(lang, "ดูเรื่องอื่นด้วยรหัสอื่น", "Check another code"), "</a></p>\n", NULL);
    page_foot(&b, lang);
    page_send(call, 200, &b);
}

static void on_lookup(struct http_call *call, const struct track_view *v)
{
    if (!v->found) {
        http_reply_error(call, 404, "not_found", "No case has this tracking code.");
        return;
    }
    page_status(call, v);
}

/* ------------------------------------------------------------------------------------------ */
/* The routes */

void track_page_get(struct http_call *call)
{
    const char *in = call->params[0];
    const char *title, *words, *carry;
    char path[HTTP_MAX_PARAM_LEN + 16];
    enum track_code_result r;

    call->reply_error = page_error;
    /* params[1] is free on this route: it keeps the canonical code */
    r = track_code_parse(in, strlen(in), call->params[1]);
    if (r != TRACK_CODE_OK) {
        call->params[1][0] = '\0';
        error_words(400, r == TRACK_CODE_BAD_CHECK ? "bad_check" : "malformed",
                    page_lang(call, &carry), &title, &words);
        call->reply_error = NULL;
        snprintf(path, sizeof path, "/track");
        page_message(call, 400, title, words, in, path);
        return;
    }
    track_lookup_limited(call, call->params[1], on_lookup);
}

void track_page_form(struct http_call *call)
{
    struct evkeyvalq q;
    const char *code, *lang, *title, *words;
    char canon[TRACK_CODE_SIZE], location[64], *typed = NULL;
    enum track_code_result r;
    enum chat_lang l;

    page_query(call, &q, &code, &lang);
    if (code == NULL) {
        const char *carry;
        evhttp_clear_headers(&q);
        l = page_lang(call, &carry);
        page_message(call, 200, T(l, "ติดตามเรื่องที่แจ้ง", "Check your report"),
                     T(l, "ใส่รหัสติดตามที่ได้รับตอนแจ้งเหตุ แล้วกด “ดูสถานะ” ค่ะ",
                       "Type the tracking code you were given when you reported, then press "
                       "“Check status”."),
                     NULL, "/track");
        return;
    }
    r = track_code_parse(code, strlen(code), canon);
    if (r == TRACK_CODE_OK) {
        const char *carry =
            lang && (strcmp(lang, "en") == 0 || strcmp(lang, "th") == 0) ? lang : NULL;
        snprintf(location, sizeof location, "/track/%s%s%s", canon, carry ? "?lang=" : "",
                 carry ? carry : "");
        evhttp_clear_headers(&q);
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "Location", location);
        http_reply_text(call, 303, "text/plain; charset=utf-8", "", 0);
        return;
    }
    typed = text_dup(code); /* q is freed before the page is built */
    evhttp_clear_headers(&q);
    {
        const char *carry;
        l = page_lang(call, &carry);
    }
    error_words(400, r == TRACK_CODE_BAD_CHECK ? "bad_check" : "malformed", l, &title, &words);
    page_message(call, 400, title, words, typed, "/track");
    free(typed);
}
