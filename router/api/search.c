/* Finding cases for an operator: reading the search text, the keyed hash of phone numbers, and
 * the store function that looks the cases up (ess_case_find). */
#include "search.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "router.h"
#include "text.h"

/* 1 when q[0..len) is written like a phone number: digits (ASCII or Thai), blanks and
 * + - . ( ) only. */
static int looks_like_phone(const char *q, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t cp = 0;
        size_t step = text_utf8_decode(q + i, len - i, &cp);

        if (step == 0) return 0;
        if (!((cp >= '0' && cp <= '9') || (cp >= 0x0E50 && cp <= 0x0E59) || cp == ' ' ||
              cp == '+' || cp == '-' || cp == '.' || cp == '(' || cp == ')'))
            return 0;
        i += step;
    }
    return 1;
}

int search_query_parse(const char *q, size_t len, struct search_query *out)
{
    char digits[SEARCH_PHONE_MAX_DIGITS + 1];
    int n;

    memset(out, 0, sizeof *out);
    if (q == NULL || len == 0 || len > SEARCH_QUERY_MAX) return -1;
    if (track_code_parse(q, len, out->code) != TRACK_CODE_OK) out->code[0] = '\0';
    if (len == sizeof out->case_id - 1) {
        for (size_t i = 0; i < len; i++)
            out->case_id[i] = q[i] >= 'a' && q[i] <= 'z' ? (char)(q[i] - 'a' + 'A') : q[i];
        if (!cases_id_valid(out->case_id)) memset(out->case_id, 0, sizeof out->case_id);
    }
    if (looks_like_phone(q, len)) {
        n = text_phone_digits(q, len, digits, sizeof digits);
        if (n >= SEARCH_PHONE_MIN_DIGITS) memcpy(out->phone_digits, digits, (size_t)n + 1);
    }
    return out->code[0] || out->case_id[0] || out->phone_digits[0] ? 0 : -1;
}

int search_phone_hash(const struct router *router, const char *phone, size_t len,
                      char hex[AUTH_HASH_HEX + 1])
{
    char digits[SEARCH_PHONE_MAX_DIGITS + 1];
    int n = text_phone_digits(phone, len, digits, sizeof digits);

    hex[0] = '\0';
    if (n < SEARCH_PHONE_MIN_DIGITS) return -1;
    return auth_keyed_hex(router->phone_key, digits, (size_t)n, hex);
}

void search_cases(struct http_call *call, const char *q, const char *status, const char *category,
                  long limit)
{
    struct search_query query;
    char phone[AUTH_HASH_HEX + 1] = "";
    char limit_s[16];
    const char *argv[6];

    if (search_query_parse(q, strlen(q), &query) != 0) {
        http_reply_error(call, 400, "invalid_query",
                         "q must be a tracking code, a case id or a phone number (at most 64 "
                         "characters; a phone number of 4 to 32 digits).");
        return;
    }
    if (query.phone_digits[0] && search_phone_hash(call->router, query.phone_digits,
                                                   strlen(query.phone_digits), phone) != 0) {
        http_reply_error(call, 500, "internal", "The phone number could not be hashed.");
        return;
    }
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    argv[0] = query.code;
    argv[1] = query.case_id;
    argv[2] = phone;
    argv[3] = status;
    argv[4] = category;
    argv[5] = limit_s;
    http_fcall_audited(call, "ess_case_find", 6, argv, cases_reply_list);
}
