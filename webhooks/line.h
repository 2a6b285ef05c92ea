/* The LINE Messaging API's formats: webhook signatures (also used for the router's own
 * X-ESS-Signature on team dispatches), the webhook body as a list of events, and the request
 * bodies of replies and pushes. Pure: no I/O. Nothing outside webhooks/ knows LINE's format. */
#ifndef ESS_WEBHOOKS_LINE_H
#define ESS_WEBHOOKS_LINE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* Standard base64 of an HMAC-SHA256 is 44 characters; with the NUL, 45 bytes. */
#define LINE_SIGNATURE_SIZE 45

/* Writes base64(HMAC-SHA256(key, body)) and its NUL into out. key[0..keylen) and
 * body[0..len) are used as raw bytes (NUL bytes included); either may be NULL when its length
 * is 0. out is "" when the signature cannot be computed (a key over INT_MAX bytes, a NULL
 * pointer with a length, OpenSSL failing). */
void line_signature(const char *key, size_t keylen, const char *body, size_t len,
                    char out[LINE_SIGNATURE_SIZE]);

/* 1 when header (the X-Line-Signature value, NULL when absent) is the signature of the raw body
 * body[0..len), exactly as received, under secret (the channel secret as a NUL-terminated
 * string, used as its bytes, not hex-decoded); compared in constant time. Blanks (space, tab,
 * CR, LF) around the header value are ignored; anything but 44 characters between them is
 * invalid. 0 otherwise, and always 0 for a NULL or empty secret. */
int line_signature_valid(const char *secret, const char *body, size_t len, const char *header);

enum line_event_type {
    LINE_EVENT_OTHER = 0, /* any type the router does not act on (beacon, join, unsend, …) */
    LINE_EVENT_MESSAGE,
    LINE_EVENT_POSTBACK,
    LINE_EVENT_FOLLOW,
    LINE_EVENT_UNFOLLOW
};

enum line_message_type {
    LINE_MESSAGE_OTHER = 0, /* a type the router does not know */
    LINE_MESSAGE_TEXT,
    LINE_MESSAGE_LOCATION,
    LINE_MESSAGE_IMAGE, /* media: message_id names it, LINE keeps the content a while */
    LINE_MESSAGE_VIDEO,
    LINE_MESSAGE_AUDIO,
    LINE_MESSAGE_FILE,
    LINE_MESSAGE_STICKER /* after the media: IMAGE..FILE is a range (chat.c) */
};

enum line_source_type {
    LINE_SOURCE_OTHER = 0,
    LINE_SOURCE_USER,
    LINE_SOURCE_GROUP,
    LINE_SOURCE_ROOM
};

#define LINE_ID_MAX 64        /* user, group, room and webhook event ids */
#define LINE_TOKEN_MAX 256    /* reply tokens */
#define LINE_TEXT_MAX 20000   /* bytes: LINE allows 5000 characters, up to 4 bytes each */
#define LINE_POSTBACK_MAX 300 /* LINE's own limit on postback data */
#define LINE_MAX_EVENTS 100

/* One webhook event, reduced to what the router uses. Heap strings are owned by the event and
 * freed by line_webhook_free(); "" / NULL mean absent. */
struct line_event {
    enum line_event_type type;
    int standby;    /* mode "standby": another channel answers; never reply */
    int redelivery; /* deliveryContext.isRedelivery */
    int64_t timestamp;
    char webhook_event_id[LINE_ID_MAX + 1];
    char reply_token[LINE_TOKEN_MAX + 1];
    enum line_source_type source;
    char user_id[LINE_ID_MAX + 1];    /* source.userId */
    char group_id[LINE_ID_MAX + 1];   /* source.groupId or source.roomId */
    enum line_message_type message;   /* LINE_EVENT_MESSAGE only */
    char *text;                       /* text message, valid UTF-8 */
    char message_id[LINE_ID_MAX + 1]; /* message.id (printable ASCII), "" when absent */
    int has_location;
    double lat, lon;     /* location message */
    char *address;       /* location message; may be NULL */
    char *postback_data; /* postback event */
};

struct line_webhook {
    struct line_event *events; /* sorted by timestamp, ties kept in body order */
    size_t nevents;
};

/* Parses a webhook body body[0..len) (need not be NUL-terminated): a JSON object with an
 * "events" array (possibly empty: LINE's URL verification). Unknown fields are ignored and
 * unknown event types kept as LINE_EVENT_OTHER, never an error. An event that is not
 * well-formed (not an object; no "type" or integral "timestamp"; a known field of the wrong
 * type, over its size, or appearing twice; an id that is not printable ASCII; a user / group /
 * room source without its id; a message event without its message, a text without text, a
 * location outside [-90, 90] x [-180, 180]; a postback without data) is kept as a bare
 * LINE_EVENT_OTHER holding only its timestamp, if that was readable. The escape \u0000, which a C
 * string cannot hold, reads as U+FFFD.
 * Returns 0, or -1 with a sentence in err (truncated to errlen; err may be NULL) when the body is
 * not a LINE webhook (empty, not UTF-8, not JSON, nested more than 16 levels, not an object,
 * no "events" array or two of them, more than LINE_MAX_EVENTS events). out need not be
 * initialised and is left empty on failure; out may be NULL to validate only. On success out
 * owns the events and must be freed with line_webhook_free(). */
int line_webhook_parse(const char *body, size_t len, struct line_webhook *out, char *err,
                       size_t errlen);

void line_webhook_free(struct line_webhook *webhook); /* accepts NULL; leaves it empty */

/* The body of POST /v2/bot/message/reply: {"replyToken": token, "messages": messages},
 * unformatted. messages (a JSON array of 1..5 message objects) is only read and copied; it stays
 * the caller's. A new string the caller frees, or NULL when reply_token is NULL, messages is
 * not an array of 1..5 elements, or memory runs out. */
char *line_reply_body(const char *reply_token, const struct cJSON *messages);

/* The body of POST /v2/bot/message/push: {"to": to, "messages": messages}. As above. */
char *line_push_body(const char *to, const struct cJSON *messages);

#define LINE_PUSH_TARGET_MAX 64

/* 1 when to can be the "to" of a push: a group (C…), user (U…) or room (R…) id, the letter then
 * lowercase hex, at most LINE_PUSH_TARGET_MAX bytes in all; else 0 (NULL included). */
int line_push_target_valid(const char *to);

#endif
