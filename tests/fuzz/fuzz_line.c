/* libFuzzer target for webhooks/line.c: any bytes that reach POST /webhooks/line, as a body and
 * as an X-Line-Signature header. Checks the module's promises, not just crashes: a parsed
 * webhook is bounded, sorted and typed consistently; a refusal says why and leaves it empty. */
#include "line.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) unless id is a NUL-terminated printable-ASCII string of at most max. */
static void check_id(const char *id, size_t max)
{
    size_t n = strnlen(id, max + 1);

    if (n > max) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7F) abort();
}

/* Aborts unless s is absent or a non-empty valid UTF-8 string of at most max bytes. */
static void check_text(const char *s, size_t max)
{
    if (s == NULL) return;
    if (strlen(s) == 0 || strlen(s) > max || !text_utf8_valid(s, strlen(s))) abort();
}

static void check_event(const struct line_event *ev)
{
    check_id(ev->webhook_event_id, LINE_ID_MAX);
    check_id(ev->reply_token, LINE_TOKEN_MAX);
    check_id(ev->user_id, LINE_ID_MAX);
    check_id(ev->group_id, LINE_ID_MAX);
    check_text(ev->text, LINE_TEXT_MAX);
    check_text(ev->address, LINE_TEXT_MAX);
    check_text(ev->postback_data, LINE_POSTBACK_MAX);
    if (ev->timestamp < 0) abort();
    if ((ev->source == LINE_SOURCE_USER && ev->user_id[0] == '\0') ||
        ((ev->source == LINE_SOURCE_GROUP || ev->source == LINE_SOURCE_ROOM) &&
         ev->group_id[0] == '\0'))
        abort();
    if (ev->type != LINE_EVENT_MESSAGE &&
        (ev->message != LINE_MESSAGE_OTHER || ev->text != NULL || ev->has_location))
        abort();
    if ((ev->text != NULL) != (ev->type == LINE_EVENT_MESSAGE && ev->message == LINE_MESSAGE_TEXT))
        abort();
    if (ev->has_location != (ev->message == LINE_MESSAGE_LOCATION)) abort();
    if (ev->has_location &&
        !(ev->lat >= -90.0 && ev->lat <= 90.0 && ev->lon >= -180.0 && ev->lon <= 180.0))
        abort();
    if (ev->address != NULL && !ev->has_location) abort();
    if ((ev->postback_data != NULL) != (ev->type == LINE_EVENT_POSTBACK)) abort();
    if (ev->type == LINE_EVENT_OTHER && ev->message != LINE_MESSAGE_OTHER) abort();
}

/* A reply body built from a parsed reply token reads back as that token. */
static void check_reply(const char *token)
{
    cJSON *messages = cJSON_Parse("[{\"type\":\"text\",\"text\":\"ok\"}]");
    char *body;
    cJSON *back;
    const cJSON *item;

    if (messages == NULL) return; /* out of memory */
    body = line_reply_body(token, messages);
    if (body != NULL) {
        back = cJSON_Parse(body);
        item = cJSON_GetObjectItemCaseSensitive(back, "replyToken");
        if (back == NULL || !cJSON_IsString(item) || strcmp(item->valuestring, token) != 0) abort();
        cJSON_Delete(back);
        free(body);
    }
    cJSON_Delete(messages);
}

static void fuzz_parse(const char *body, size_t size)
{
    struct line_webhook hook;
    char err[128];
    int rc = line_webhook_parse(body, size, &hook, err, sizeof(err));

    if (rc != line_webhook_parse(body, size, NULL, NULL, 0))
        abort(); /* validation alone must agree */
    if (rc == 0) {
        if (hook.nevents > LINE_MAX_EVENTS || (hook.nevents == 0) != (hook.events == NULL)) abort();
        for (size_t i = 0; i < hook.nevents; i++) {
            check_event(&hook.events[i]);
            if (i > 0 && hook.events[i - 1].timestamp > hook.events[i].timestamp) abort();
        }
        if (hook.nevents > 0 && hook.events[0].reply_token[0] != '\0')
            check_reply(hook.events[0].reply_token);
    } else if (rc != -1 || err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL ||
               hook.events != NULL || hook.nevents != 0) {
        abort();
    }
    line_webhook_free(&hook);
}

/* The input as a header against a fixed secret and body, and as a secret and body whose own
 * signature must verify, and stop verifying when the body changes. */
static void fuzz_signature(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    char sig[LINE_SIGNATURE_SIZE];
    char secret[17];
    size_t klen = size < 16 ? size : 16;

    if (header == NULL) return;
    memcpy(header, data, size);
    header[size] = '\0';
    /* A fuzzer cannot forge HMAC-SHA256: any header it makes must fail. */
    if (line_signature_valid("SECRET", "{}", 2, header) != 0) abort();
    (void)line_signature_valid("SECRET", header, size, header);
    free(header);

    memcpy(secret, data, klen);
    secret[klen] = '\0';
    line_signature(secret, strlen(secret), (const char *)data, size, sig);
    if (strlen(sig) != LINE_SIGNATURE_SIZE - 1) abort();
    if (line_signature_valid(secret, (const char *)data, size, sig) != (secret[0] != '\0')) abort();
    if (size > 0) {
        char *changed = malloc(size);

        if (changed == NULL) return;
        memcpy(changed, data, size);
        changed[size - 1] ^= 0x01;
        if (line_signature_valid(secret, changed, size, sig) != 0) abort();
        free(changed);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse((const char *)data, size);
    fuzz_signature(data, size);
    return 0;
}
