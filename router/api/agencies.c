/* Partner agencies' accounts (agencies.h): PUT /v1/agencies/{id}, GET /v1/agencies. */
#include "agencies.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "http.h"
#include "incident.h"

#define CATEGORIES_MAX (INCIDENT_CATEGORY_COUNT * 24)

static const struct account_kind agency_kind = {
    .word = "agency",
    .title = "Agency",
    .needs = "name, categories and identifying",
    .token_prefix = AUTH_AGENCY_TOKEN_PREFIX,
    .disabled_note = ", disabled: its token refused",
};

static void agency_put_free(void *p)
{
    if (p == NULL) return;
    OPENSSL_cleanse(p, sizeof(struct account_put));
    free(p);
}

static void on_agency_put(struct http_call *call, cJSON *reply)
{
    account_put_answer(call, call->data, reply);
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
    const char *problem, *argv[8];
    char categories[CATEGORIES_MAX] = "", identifying[2] = "";
    const cJSON *cats, *ident, *from;
    struct account_put *a;
    cJSON *body;

    if (account_id_check(call, &agency_kind) != 0) return;
    if ((body = http_body_object(call)) == NULL) return;
    if ((a = calloc(1, sizeof *a)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    call->data = a;
    call->data_free = agency_put_free;
    cats = cJSON_GetObjectItemCaseSensitive(body, "categories");
    ident = cJSON_GetObjectItemCaseSensitive(body, "identifying");
    from = cJSON_GetObjectItemCaseSensitive(body, "from");
    problem = account_put_read(a, &agency_kind, call, body);
    if (!problem && cats && !cJSON_IsNull(cats))
        problem = categories_read(cats, categories, sizeof categories);
    if (!problem && ident && !cJSON_IsNull(ident)) {
        if (!cJSON_IsBool(ident)) problem = "identifying must be true or false.";
        identifying[0] = cJSON_IsTrue(ident) ? '1' : '0';
    }
    if (!problem && from && !cJSON_IsNull(from) &&
        !(cJSON_IsString(from) &&
          (strcmp(from->valuestring, "0") == 0 || strcmp(from->valuestring, "$") == 0)))
        problem = "from must be \"0\" (the oldest entry kept) or \"$\" (from now on).";
    if (problem) {
        http_reply_error(call, 400, "invalid_field", problem);
        goto done;
    }
    if (account_token_draw(call, a) != 0) goto done;
    argv[0] = a->id;
    argv[1] = a->name ? a->name : "";
    argv[2] = categories;
    argv[3] = identifying;
    argv[4] = a->token_hash;
    argv[5] = a->rotate ? "1" : "0";
    argv[6] = a->disabled;
    argv[7] = cJSON_IsString(from) ? from->valuestring : "$";
    http_fcall(call, "ess_agency_put", 0, 8, argv, NULL, on_agency_put);
done:
    cJSON_Delete(body);
}

/* ess_agency_list answers only what may be shown */
void agencies_list(struct http_call *call)
{
    http_fcall(call, "ess_agency_list", 1, 0, NULL, NULL, http_reply_store_answer);
}
