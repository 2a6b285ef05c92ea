/* LINE message objects within the Messaging API's limits (webhooks/line_messages.h). */
#include "line_messages.h"

#include "text.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void line_messages_clip(char *dst, size_t cap, const char *src, size_t max_units)
{
    size_t n;

    if (src == NULL) src = "";
    n = text_utf16_prefix(src, max_units);
    if (n > cap - 1) n = text_utf8_complete(src, cap - 1); /* cut by bytes */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

cJSON *line_messages_text(const char *text)
{
    cJSON *msg = cJSON_CreateObject();
    size_t n = text_utf16_prefix(text, LINE_MSG_TEXT_MAX);
    char *cut;

    if (msg == NULL) return NULL;
    cut = text_dup_len(text, n);
    if (cut == NULL) {
        cJSON_Delete(msg);
        return NULL;
    }
    if (cJSON_AddStringToObject(msg, "type", "text") == NULL ||
        cJSON_AddStringToObject(msg, "text", cut) == NULL) {
        cJSON_Delete(msg);
        msg = NULL;
    }
    free(cut);
    return msg;
}

int line_messages_quick(cJSON *msg, cJSON *action)
{
    cJSON *qr, *items, *item;

    if (msg == NULL || action == NULL) goto fail;
    qr = cJSON_GetObjectItemCaseSensitive(msg, "quickReply");
    if (qr == NULL) {
        qr = cJSON_AddObjectToObject(msg, "quickReply");
        if (qr == NULL || cJSON_AddArrayToObject(qr, "items") == NULL) goto fail;
    }
    items = cJSON_GetObjectItemCaseSensitive(qr, "items");
    if (cJSON_GetArraySize(items) >= LINE_MSG_QUICK_MAX) goto fail;
    item = cJSON_CreateObject();
    if (item == NULL) goto fail;
    if (!cJSON_AddItemToArray(items, item)) {
        cJSON_Delete(item);
        goto fail;
    }
    if (cJSON_AddStringToObject(item, "type", "action") == NULL) goto fail;
    if (!cJSON_AddItemToObject(item, "action", action)) goto fail;
    return 0;
fail:
    cJSON_Delete(action);
    return -1;
}

cJSON *line_messages_postback(const char *label, const char *data, const char *display)
{
    char l[LINE_MSG_LABEL_MAX * 4 + 1];
    char d[LINE_MSG_DISPLAY_MAX * 4 + 1];
    cJSON *a;

    if (strlen(data) > LINE_POSTBACK_MAX) return NULL;
    line_messages_clip(l, sizeof(l), label, LINE_MSG_LABEL_MAX);
    line_messages_clip(d, sizeof(d), display, LINE_MSG_DISPLAY_MAX);
    a = cJSON_CreateObject();
    if (a == NULL) return NULL;
    if (cJSON_AddStringToObject(a, "type", "postback") == NULL ||
        cJSON_AddStringToObject(a, "label", l) == NULL ||
        cJSON_AddStringToObject(a, "data", data) == NULL ||
        (d[0] != '\0' && cJSON_AddStringToObject(a, "displayText", d) == NULL)) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *line_messages_message_action(const char *label, const char *text)
{
    char l[LINE_MSG_LABEL_MAX * 4 + 1];
    char t[LINE_MSG_MESSAGE_MAX * 4 + 1];
    cJSON *a = cJSON_CreateObject();

    line_messages_clip(l, sizeof(l), label, LINE_MSG_LABEL_MAX);
    line_messages_clip(t, sizeof(t), text, LINE_MSG_MESSAGE_MAX);
    if (a == NULL) return NULL;
    if (cJSON_AddStringToObject(a, "type", "message") == NULL ||
        cJSON_AddStringToObject(a, "label", l) == NULL ||
        cJSON_AddStringToObject(a, "text", t) == NULL) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *line_messages_location_action(const char *label)
{
    cJSON *a = cJSON_CreateObject();

    if (a == NULL) return NULL;
    if (cJSON_AddStringToObject(a, "type", "location") == NULL ||
        cJSON_AddStringToObject(a, "label", label) == NULL) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *line_messages_buttons(const char *alt_text, const char *text, cJSON *action)
{
    char alt[LINE_MSG_ALT_MAX * 4 + 1];
    char body[LINE_MSG_TEMPLATE_MAX * 4 + 1];
    cJSON *m = action != NULL ? cJSON_CreateObject() : NULL;
    cJSON *t, *actions;

    if (m == NULL) goto fail;
    line_messages_clip(alt, sizeof(alt), alt_text, LINE_MSG_ALT_MAX);
    line_messages_clip(body, sizeof(body), text, LINE_MSG_TEMPLATE_MAX);
    if (cJSON_AddStringToObject(m, "type", "template") == NULL ||
        cJSON_AddStringToObject(m, "altText", alt) == NULL ||
        (t = cJSON_AddObjectToObject(m, "template")) == NULL ||
        cJSON_AddStringToObject(t, "type", "buttons") == NULL ||
        cJSON_AddStringToObject(t, "text", body) == NULL ||
        (actions = cJSON_AddArrayToObject(t, "actions")) == NULL ||
        !cJSON_AddItemToArray(actions, action))
        goto fail;
    return m;
fail:
    cJSON_Delete(action);
    cJSON_Delete(m);
    return NULL;
}

cJSON *line_messages_array(cJSON **m, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    int ok = arr != NULL;

    for (size_t i = 0; i < n; i++)
        if (m[i] == NULL) ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (ok && cJSON_AddItemToArray(arr, m[i])) {
            m[i] = NULL;
            continue;
        }
        ok = 0;
        cJSON_Delete(m[i]);
        m[i] = NULL;
    }
    if (!ok) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}
