/* The puts of accounts, operators' and agencies' (accounts.h). */
#include "accounts.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "random.h"
#include "text.h"

int account_id_check(struct http_call *call, const struct account_kind *kind)
{
    const char *id = call->params[0];
    char msg[96];
    if (auth_team_id_valid(id, strlen(id))) return 0;
    snprintf(msg, sizeof msg, "%s ids match [a-z0-9][a-z0-9_-]{0,63}.", kind->title);
    http_reply_error(call, 400, "invalid_field", msg);
    return -1;
}

const char *account_put_read(struct account_put *a, const struct account_kind *kind,
                             const struct http_call *call, const cJSON *body)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    const cJSON *rotate = cJSON_GetObjectItemCaseSensitive(body, "rotate_token");

    a->kind = kind;
    snprintf(a->id, sizeof a->id, "%.*s", (int)sizeof a->id - 1, call->params[0]); /* checked */
    if (name && !cJSON_IsNull(name)) {
        size_t n = cJSON_IsString(name) ? strlen(name->valuestring) : 0;
        if (n == 0 || n > ACCOUNT_NAME_MAX || !text_utf8_valid(name->valuestring, n) ||
            !text_is_plain(name->valuestring, n))
            return "name must be a string of 1 to 200 bytes.";
        a->name = name->valuestring;
    }
    if (disabled && !cJSON_IsNull(disabled)) {
        if (!cJSON_IsBool(disabled)) return "disabled must be true or false.";
        snprintf(a->disabled, sizeof a->disabled, "%s", cJSON_IsTrue(disabled) ? "1" : "0");
    }
    if (rotate && !cJSON_IsNull(rotate)) {
        if (!cJSON_IsBool(rotate)) return "rotate_token must be true or false.";
        a->rotate = cJSON_IsTrue(rotate);
    }
    return NULL;
}

int account_token_draw(struct http_call *call, struct account_put *a)
{
    char secret[48];
    if (random_token(secret, sizeof secret, 32) != 0) {
        log_error("%s %s: no random bytes for a token", a->kind->word, a->id);
        http_reply_error(call, 500, "internal", "Could not draw random bytes for a token.");
        return -1;
    }
    snprintf(a->token, sizeof a->token, "%s%s", a->kind->token_prefix, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    auth_token_hash(a->token, strlen(a->token), a->token_hash);
    return 0;
}

void account_put_answer(struct http_call *call, const struct account_put *a, cJSON *reply)
{
    const struct account_kind *kind = a->kind;
    const char *refusal = http_refusal(reply);
    int created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "created"));
    int token_set = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "token_set"));
    cJSON *doc = cJSON_DetachItemFromObjectCaseSensitive(reply, kind->word);
    char msg[192];

    if (refusal && strcmp(refusal, "missing_field") == 0) {
        snprintf(msg, sizeof msg, "A new %s needs %s: %s.", kind->word,
                 json_string(reply, "field", "a field"), kind->needs);
        http_reply_error(call, 400, "missing_field", msg);
    } else if (refusal) {
        http_reply_refusal(call, refusal);
    } else if (!cJSON_IsObject(doc) ||
               (token_set && !cJSON_AddStringToObject(doc, "token", a->token))) {
        log_error("%s %s: stored, but the answer could not be made%s", kind->word, a->id,
                  token_set ? "; rotate its token" : "");
        snprintf(msg, sizeof msg,
                 "The %s was stored but the answer ran out of memory; put it again with "
                 "rotate_token to get a token.",
                 kind->word);
        http_reply_error(call, 500, "internal", msg);
    } else {
        log_info("%s %s %s%s%s", kind->word, a->id, created ? "created" : "updated",
                 token_set && !created ? ", token rotated" : "",
                 strcmp(a->disabled, "1") == 0 ? kind->disabled_note : "");
        http_reply_json(call, created ? 201 : 200, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    cJSON_Delete(reply);
}
