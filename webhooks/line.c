/* The LINE Messaging API's formats (webhooks/line.h): X-Line-Signature (HMAC-SHA256, base64),
 * the webhook body reduced to the events the router acts on, and reply and push bodies. Pure:
 * no I/O, no logging. An odd event costs only itself: it is kept as LINE_EVENT_OTHER. */
#include "line.h"

#include "json.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting allowed in a webhook body, counting the top-level object as level one. LINE's own
 * bodies go six levels deep (memberJoined's joined.members[]). */
#define LINE_MAX_DEPTH 16

/* Length of base64(HMAC-SHA256): 32 bytes in 44 characters, one '=' of padding. */
#define LINE_SIGNATURE_LEN (LINE_SIGNATURE_SIZE - 1)

/* A location message's address: LINE caps it far lower; this only bounds what a peer can grow. */
#define LINE_ADDRESS_MAX LINE_TEXT_MAX

/* Writes base64(HMAC-SHA256(key, body)) into out; 0, or -1 (out "") when OpenSSL fails. */
static int line_hmac_base64(const char *key, size_t keylen, const char *body, size_t len,
                            char out[LINE_SIGNATURE_SIZE])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    static const unsigned char empty[1] = {0};

    out[0] = '\0';
    /* OpenSSL wants real pointers even for zero lengths. */
    if (HMAC(EVP_sha256(), keylen > 0 ? (const void *)key : empty, (int)keylen,
             len > 0 ? (const unsigned char *)body : empty, len, mac, &maclen) == NULL ||
        maclen != 32)
        return -1;
    if (EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen) != LINE_SIGNATURE_LEN) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* See line.h. */
void line_signature(const char *key, size_t keylen, const char *body, size_t len,
                    char out[LINE_SIGNATURE_SIZE])
{
    if (keylen > INT_MAX || (key == NULL && keylen > 0) || (body == NULL && len > 0)) {
        out[0] = '\0';
        return;
    }
    line_hmac_base64(key, keylen, body, len, out);
}

/* 1 for the blanks tolerated around a header value. */
static int line_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* See line.h. The comparison of equal-length values takes the same time wherever they differ;
 * only the header's length (public: always 44 for a real signature) shortens the work. */
int line_signature_valid(const char *secret, const char *body, size_t len, const char *header)
{
    char expected[LINE_SIGNATURE_SIZE];
    size_t start = 0;
    size_t end;
    size_t secretlen;

    if (secret == NULL || header == NULL || (body == NULL && len > 0)) return 0;
    secretlen = strlen(secret);
    if (secretlen == 0 || secretlen > INT_MAX) return 0;
    end = strlen(header);
    while (start < end && line_is_blank(header[start])) start++;
    while (end > start && line_is_blank(header[end - 1])) end--;
    if (end - start != LINE_SIGNATURE_LEN) return 0;
    if (line_hmac_base64(secret, secretlen, body, len, expected) != 0) return 0;
    return CRYPTO_memcmp(expected, header + start, LINE_SIGNATURE_LEN) == 0;
}

/* Copies a sentence into err (when there is room) and returns -1. */
static int line_fail(char *err, size_t errlen, const char *message)
{
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", message);
    return -1;
}

/* Parses body into the object *root (json_parse_object: a body nested deeper than
 * LINE_MAX_DEPTH is refused before cJSON sees it, and the escape \u0000, which a C string cannot
 * hold, is read as U+FFFD so that a string is never silently cut short and the other events of
 * the request survive). 0, or -1 with err filled. */
static int line_parse(const char *body, size_t len, cJSON **root, char *err, size_t errlen)
{
    switch (json_parse_object(body, len, LINE_MAX_DEPTH, JSON_PARSE_REWRITE_NUL, root)) {
    case JSON_PARSE_OK:
        return 0;
    case JSON_PARSE_EMPTY:
        return line_fail(err, errlen, "The body is empty.");
    case JSON_PARSE_NOT_UTF8:
        return line_fail(err, errlen, "The body is not valid UTF-8.");
    case JSON_PARSE_TOO_DEEP:
        return line_fail(err, errlen, "The body is nested more than 16 levels deep.");
    case JSON_PARSE_NOT_OBJECT:
        return line_fail(err, errlen, "The body is not a JSON object.");
    case JSON_PARSE_NO_MEMORY:
        return line_fail(err, errlen, "The server ran out of memory.");
    default:
        return line_fail(err, errlen, "The body is not valid JSON.");
    }
}

/* Reads the optional identifier member `name` of obj (a user, group or room id, a webhook
 * event id, a reply token) into out[max + 1]; "" when absent. Identifiers are printable ASCII
 * without spaces (they end up in Redis keys and LINE API calls); -1 for anything else. */
static int line_id(const cJSON *obj, const char *name, char *out, size_t max)
{
    const char *s;
    size_t n;

    out[0] = '\0';
    if (json_text(obj, name, max, &s, &n) != 0) return -1;
    if (s == NULL) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Reads the optional string member `name` of obj into a new heap string *out the caller frees
 * (NULL when absent, null or empty). -1 as json_text(), or when memory runs out. */
static int line_dup(const cJSON *obj, const char *name, size_t max, char **out)
{
    const char *s;
    size_t n;

    *out = NULL;
    if (json_text(obj, name, max, &s, &n) != 0) return -1;
    if (s == NULL || n == 0) return 0;
    *out = text_dup_len(s, n);
    return *out != NULL ? 0 : -1;
}

/* Reads the optional object member `name` of obj into *item (NULL when absent or null). */
static int line_object(const cJSON *obj, const char *name, const cJSON **item)
{
    if (json_member(obj, name, item) != 0) return -1;
    return (*item != NULL && !cJSON_IsObject(*item)) ? -1 : 0;
}

/* Fills ev from source, an event's "source" object (NULL when absent). A source of a known type
 * must carry its id: userId for a user, groupId for a group, roomId for a room. */
static int line_source(const cJSON *source, struct line_event *ev)
{
    const char *type;
    size_t n;

    ev->source = LINE_SOURCE_OTHER;
    if (source == NULL) return 0;
    if (json_text(source, "type", LINE_ID_MAX, &type, &n) != 0 ||
        line_id(source, "userId", ev->user_id, LINE_ID_MAX) != 0)
        return -1;
    if (type == NULL) return 0;
    if (strcmp(type, "user") == 0) {
        ev->source = LINE_SOURCE_USER;
        return ev->user_id[0] != '\0' ? 0 : -1;
    }
    if (strcmp(type, "group") == 0) {
        ev->source = LINE_SOURCE_GROUP;
        if (line_id(source, "groupId", ev->group_id, LINE_ID_MAX) != 0) return -1;
    } else if (strcmp(type, "room") == 0) {
        ev->source = LINE_SOURCE_ROOM;
        if (line_id(source, "roomId", ev->group_id, LINE_ID_MAX) != 0) return -1;
    } else {
        return 0;
    }
    return ev->group_id[0] != '\0' ? 0 : -1;
}

/* Fills ev from message, a message event's "message" object (required). Text, location and media
 * (image, video, audio, file) and sticker messages are read, with the message's id; every other
 * message type is LINE_MESSAGE_OTHER. */
static int line_message(const cJSON *message, struct line_event *ev)
{
    const char *type;
    size_t n;

    if (message == NULL || json_text(message, "type", LINE_ID_MAX, &type, &n) != 0 || type == NULL)
        return -1;
    if (strcmp(type, "text") == 0) {
        ev->message = LINE_MESSAGE_TEXT;
        if (line_dup(message, "text", LINE_TEXT_MAX, &ev->text) != 0 || ev->text == NULL) return -1;
    } else if (strcmp(type, "location") == 0) {
        ev->message = LINE_MESSAGE_LOCATION;
        if (json_number_in(message, "latitude", -90.0, 90.0, &ev->lat) != JSON_NUMBER_OK ||
            json_number_in(message, "longitude", -180.0, 180.0, &ev->lon) != JSON_NUMBER_OK ||
            line_dup(message, "address", LINE_ADDRESS_MAX, &ev->address) != 0)
            return -1;
        ev->has_location = 1;
    } else if (strcmp(type, "image") == 0) {
        ev->message = LINE_MESSAGE_IMAGE;
    } else if (strcmp(type, "video") == 0) {
        ev->message = LINE_MESSAGE_VIDEO;
    } else if (strcmp(type, "audio") == 0) {
        ev->message = LINE_MESSAGE_AUDIO;
    } else if (strcmp(type, "file") == 0) {
        ev->message = LINE_MESSAGE_FILE;
    } else if (strcmp(type, "sticker") == 0) {
        ev->message = LINE_MESSAGE_STICKER;
    } else {
        ev->message = LINE_MESSAGE_OTHER;
    }
    return line_id(message, "id", ev->message_id, LINE_ID_MAX);
}

/* Fills ev from one element of "events". -1 when a known field has the wrong type or size;
 * ev's strings are owned by ev in every case. */
static int line_event_fields(const cJSON *obj, struct line_event *ev)
{
    const cJSON *item;
    const char *s;
    size_t n;

    if (!cJSON_IsObject(obj)) return -1;
    if (json_member(obj, "timestamp", &item) != 0 || item == NULL || !cJSON_IsNumber(item) ||
        !(item->valuedouble >= 0.0 && item->valuedouble <= 9007199254740992.0) ||
        (double)(int64_t)item->valuedouble != item->valuedouble)
        return -1;
    ev->timestamp = (int64_t)item->valuedouble;
    if (json_text(obj, "type", LINE_ID_MAX, &s, &n) != 0 || s == NULL) return -1;
    if (strcmp(s, "message") == 0)
        ev->type = LINE_EVENT_MESSAGE;
    else if (strcmp(s, "postback") == 0)
        ev->type = LINE_EVENT_POSTBACK;
    else if (strcmp(s, "follow") == 0)
        ev->type = LINE_EVENT_FOLLOW;
    else if (strcmp(s, "unfollow") == 0)
        ev->type = LINE_EVENT_UNFOLLOW;
    else
        ev->type = LINE_EVENT_OTHER;
    if (json_text(obj, "mode", LINE_ID_MAX, &s, &n) != 0) return -1;
    ev->standby = s != NULL && strcmp(s, "standby") == 0;
    if (line_id(obj, "webhookEventId", ev->webhook_event_id, LINE_ID_MAX) != 0 ||
        line_id(obj, "replyToken", ev->reply_token, LINE_TOKEN_MAX) != 0)
        return -1;
    if (line_object(obj, "deliveryContext", &item) != 0) return -1;
    if (item != NULL) {
        const cJSON *flag;

        if (json_member(item, "isRedelivery", &flag) != 0 || (flag != NULL && !cJSON_IsBool(flag)))
            return -1;
        ev->redelivery = cJSON_IsTrue(flag);
    }
    if (line_object(obj, "source", &item) != 0 || line_source(item, ev) != 0) return -1;
    if (ev->type == LINE_EVENT_MESSAGE) {
        if (line_object(obj, "message", &item) != 0 || line_message(item, ev) != 0) return -1;
    } else if (ev->type == LINE_EVENT_POSTBACK) {
        if (line_object(obj, "postback", &item) != 0 || item == NULL ||
            line_dup(item, "data", LINE_POSTBACK_MAX, &ev->postback_data) != 0 ||
            ev->postback_data == NULL)
            return -1;
    }
    return 0;
}

/* Releases ev's strings and leaves it zeroed (LINE_EVENT_OTHER, nothing set). */
static void line_event_clear(struct line_event *ev)
{
    free(ev->text);
    free(ev->address);
    free(ev->postback_data);
    memset(ev, 0, sizeof(*ev));
}

/* Reads one element of "events" into ev (zeroed by the caller). An element that is not a
 * well-formed event is kept as a bare LINE_EVENT_OTHER, holding only its timestamp when that
 * was readable, so that it still sorts where LINE put it. */
static void line_event_parse(const cJSON *obj, struct line_event *ev)
{
    if (line_event_fields(obj, ev) != 0) {
        int64_t timestamp = ev->timestamp;

        line_event_clear(ev);
        ev->timestamp = timestamp;
    }
}

/* Sorts events by timestamp, keeping equal timestamps in body order (an insertion sort: stable,
 * and n is at most LINE_MAX_EVENTS). */
static void line_sort(struct line_event *events, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct line_event key = events[i];
        size_t j = i;

        while (j > 0 && events[j - 1].timestamp > key.timestamp) {
            events[j] = events[j - 1];
            j--;
        }
        events[j] = key;
    }
}

/* See line.h. */
int line_webhook_parse(const char *body, size_t len, struct line_webhook *out, char *err,
                       size_t errlen)
{
    struct line_webhook hook = {NULL, 0};
    cJSON *root = NULL;
    const cJSON *events;
    const cJSON *item;
    size_t n = 0;
    int rc = -1;

    if (out != NULL) {
        out->events = NULL;
        out->nevents = 0;
    }
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (line_parse(body, len, &root, err, errlen) != 0) goto done;
    if (json_member(root, "events", &events) != 0) {
        line_fail(err, errlen, "The body has more than one \"events\" member.");
        goto done;
    }
    if (!cJSON_IsArray(events)) {
        line_fail(err, errlen, "The body has no \"events\" array.");
        goto done;
    }
    cJSON_ArrayForEach (item, events) {
        if (++n > LINE_MAX_EVENTS) {
            line_fail(err, errlen, "The body holds more than 100 events.");
            goto done;
        }
    }
    if (n > 0) {
        hook.events = calloc(n, sizeof(*hook.events));
        if (hook.events == NULL) {
            line_fail(err, errlen, "The server ran out of memory.");
            goto done;
        }
    }
    cJSON_ArrayForEach (item, events) {
        line_event_parse(item, &hook.events[hook.nevents]);
        hook.nevents++;
    }
    line_sort(hook.events, hook.nevents);
    if (out != NULL) {
        *out = hook;
        hook.events = NULL; /* ownership moved to out */
        hook.nevents = 0;
    }
    rc = 0;
done:
    line_webhook_free(&hook);
    cJSON_Delete(root);
    return rc;
}

/* See line.h. Frees every event's strings and the array. */
void line_webhook_free(struct line_webhook *webhook)
{
    if (webhook == NULL) return;
    for (size_t i = 0; i < webhook->nevents; i++) line_event_clear(&webhook->events[i]);
    free(webhook->events);
    webhook->events = NULL;
    webhook->nevents = 0;
}

/* {"<key>": value, "messages": a copy of messages}, printed unformatted. NULL when value is
 * NULL, messages is not an array of 1..5 elements, or memory runs out. */
static char *line_message_body(const char *key, const char *value, const cJSON *messages)
{
    cJSON *root = NULL;
    cJSON *copy = NULL;
    char *printed = NULL;
    int count;

    if (value == NULL || !cJSON_IsArray(messages)) goto done;
    count = cJSON_GetArraySize(messages);
    if (count < 1 || count > 5) goto done;
    root = cJSON_CreateObject();
    if (root == NULL || cJSON_AddStringToObject(root, key, value) == NULL) goto done;
    copy = cJSON_Duplicate(messages, 1);
    if (copy == NULL || !cJSON_AddItemToObject(root, "messages", copy)) goto done;
    copy = NULL; /* owned by root now */
    printed = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(copy);
    cJSON_Delete(root);
    return printed;
}

/* See line.h. */
char *line_reply_body(const char *reply_token, const struct cJSON *messages)
{
    return line_message_body("replyToken", reply_token, messages);
}

/* See line.h. */
char *line_push_body(const char *to, const struct cJSON *messages)
{
    return line_message_body("to", to, messages);
}

int line_push_target_valid(const char *to)
{
    size_t n = to != NULL ? strlen(to) : 0;

    if (n < 2 || n > LINE_PUSH_TARGET_MAX || (to[0] != 'C' && to[0] != 'U' && to[0] != 'R'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((to[i] >= '0' && to[i] <= '9') || (to[i] >= 'a' && to[i] <= 'f'))) return 0;
    return 1;
}
