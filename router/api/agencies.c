/* Partner agencies' accounts (agencies.h): PUT /v1/agencies/{id}, GET /v1/agencies. */
#include "agencies.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "log.h"
#include "random.h"
#include "text.h"

#define MAX_NAME 200
#define CATEGORIES_MAX (INCIDENT_CATEGORY_COUNT * 24)

struct agency_put {
    char token[64];
    char id[AUTH_TEAM_ID_MAX + 1];
};

static void agency_put_free(void *p)
{
    if (p == NULL) return;
    OPENSSL_cleanse(p, sizeof(struct agency_put));
    free(p);
}

static void on_agency_put(struct http_call *call, cJSON *reply)
{
    struct agency_put *j = call->data;
    const char *refusal = http_refusal(reply);
    int created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "created"));
    int token_set = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "token_set"));
    cJSON *doc = cJSON_DetachItemFromObjectCaseSensitive(reply, "agency");

    if (refusal && strcmp(refusal, "missing_field") == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "A new agency needs %s: name, categories and identifying.",
                 json_string(reply, "field", "a field"));
        http_reply_error(call, 400, "missing_field", msg);
    } else if (refusal) {
        http_reply_refusal(call, refusal);
    } else if (!cJSON_IsObject(doc) ||
               (token_set && !cJSON_AddStringToObject(doc, "token", j->token))) {
        log_error("agency %s: stored, but the answer could not be made", j->id);
        http_reply_error(call, 500, "internal",
                         "The agency was stored but the answer ran out of memory; put it again "
                         "with rotate_token to get a token.");
    } else {
        log_info("agency %s %s%s", j->id, created ? "created" : "updated",
                 token_set && !created ? ", token rotated" : "");
        http_reply_json(call, created ? 201 : 200, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    cJSON_Delete(reply);
}

/* Reads categories (an array of category codes, each once) into csv. NULL, or a 400's
 * sentence. */
static const char *categories_read(const cJSON *cats, char *csv, size_t cap)
{
    const cJSON *c;
    int seen[INCIDENT_CATEGORY_COUNT] = {0};
    size_t used = 0;

    if (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) == 0)
        return "categories must be a non-empty array of category codes.";
    cJSON_ArrayForEach (c, cats) {
        int cat = cJSON_IsString(c)
                      ? incident_category_parse(c->valuestring, strlen(c->valuestring))
                      : INCIDENT_CATEGORY_NONE;
        int n;
        if (cat == INCIDENT_CATEGORY_NONE)
            return "categories must hold category codes (threat, detention, abuse_risk, "
                   "mental_crisis, gathering, other).";
        if (seen[cat]++) return "categories must name each category once.";
        n = snprintf(csv + used, cap - used, "%s%s", used ? "," : "", c->valuestring);
        if (n < 0 || (size_t)n >= cap - used) return "categories is too long.";
        used += (size_t)n;
    }
    return NULL;
}

void agencies_put(struct http_call *call)
{
    const char *id = call->params[0], *problem = NULL, *argv[9];
    char categories[CATEGORIES_MAX] = "", secret[48], token_hash[AUTH_HASH_HEX + 1];
    char identifying[2] = "", disabled[2] = "";
    const cJSON *name, *cats, *ident, *dis, *rotate, *from;
    struct agency_put *j;
    cJSON *body;

    if (!auth_team_id_valid(id, strlen(id))) {
        http_reply_error(call, 400, "invalid_field", "Agency ids match [a-z0-9][a-z0-9_-]{0,63}.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    name = cJSON_GetObjectItemCaseSensitive(body, "name");
    cats = cJSON_GetObjectItemCaseSensitive(body, "categories");
    ident = cJSON_GetObjectItemCaseSensitive(body, "identifying");
    dis = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    rotate = cJSON_GetObjectItemCaseSensitive(body, "rotate_token");
    from = cJSON_GetObjectItemCaseSensitive(body, "from");
    if (name && !cJSON_IsNull(name)) {
        size_t n = cJSON_IsString(name) ? strlen(name->valuestring) : 0;
        if (n == 0 || n > MAX_NAME || !text_is_plain(name->valuestring, n))
            problem = "name must be a string of 1 to 200 bytes.";
    }
    if (!problem && cats && !cJSON_IsNull(cats))
        problem = categories_read(cats, categories, sizeof categories);
    if (!problem && ident && !cJSON_IsNull(ident)) {
        if (!cJSON_IsBool(ident)) problem = "identifying must be true or false.";
        identifying[0] = cJSON_IsTrue(ident) ? '1' : '0';
    }
    if (!problem && dis && !cJSON_IsNull(dis)) {
        if (!cJSON_IsBool(dis)) problem = "disabled must be true or false.";
        disabled[0] = cJSON_IsTrue(dis) ? '1' : '0';
    }
    if (!problem && rotate && !cJSON_IsNull(rotate) && !cJSON_IsBool(rotate))
        problem = "rotate_token must be true or false.";
    if (!problem && from && !cJSON_IsNull(from) &&
        !(cJSON_IsString(from) &&
          (strcmp(from->valuestring, "0") == 0 || strcmp(from->valuestring, "$") == 0)))
        problem = "from must be \"0\" (the oldest entry kept) or \"$\" (from now on).";
    if (problem) {
        http_reply_error(call, 400, "invalid_field", problem);
        goto done;
    }
    if ((j = calloc(1, sizeof *j)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    call->data = j;
    call->data_free = agency_put_free;
    snprintf(j->id, sizeof j->id, "%s", id);
    /* A token is drawn for every put; the store keeps its hash only on creation or rotation. */
    if (random_token(secret, sizeof secret, 32) != 0) {
        log_error("agency %s: no random bytes for a token", id);
        http_reply_error(call, 500, "internal", "Could not draw random bytes for a token.");
        goto done;
    }
    snprintf(j->token, sizeof j->token, "%s%s", AUTH_AGENCY_TOKEN_PREFIX, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    auth_token_hash(j->token, strlen(j->token), token_hash);
    argv[0] = id;
    argv[1] = cJSON_IsString(name) ? name->valuestring : "";
    argv[2] = categories;
    argv[3] = identifying;
    argv[4] = token_hash;
    argv[5] = cJSON_IsTrue(rotate) ? "1" : "0";
    argv[6] = disabled;
    argv[7] = cJSON_IsString(from) ? from->valuestring : "$";
    http_fcall(call, "ess_agency_put", 0, 8, argv, NULL, on_agency_put);
done:
    cJSON_Delete(body);
}

static void on_agency_list(struct http_call *call, cJSON *reply)
{
    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    http_reply_json(call, 200, reply); /* ess_agency_list answers only what may be shown */
}

void agencies_list(struct http_call *call)
{
    http_fcall(call, "ess_agency_list", 1, 0, NULL, NULL, on_agency_list);
}
