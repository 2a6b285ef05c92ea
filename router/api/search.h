/* Finding cases for an operator (GET /v1/cases?q=…): by tracking code (read leniently, as
 * e-Tracking reads it), by case id, or by the reporter's phone number. Phones are found through
 * an index in Redis keyed with a secret hash of their digits (HMAC-SHA256 under a key derived
 * from ESS_TOKEN_SECRET, which Redis never sees), so no phone is ever in clear in a key. */
#ifndef ESS_ROUTER_SEARCH_H
#define ESS_ROUTER_SEARCH_H

#include <stddef.h>

#include "auth.h"
#include "track_code.h"

struct http_call;
struct router;

/* The label the phone index's key is derived under (auth_keyed_new): its own use. */
#define SEARCH_PHONE_KEY_LABEL "ess-router phone index key"
/* A phone number's digits, to be indexed or searched: at least 4 ("1300"), at most 32. */
#define SEARCH_PHONE_MIN_DIGITS 4
#define SEARCH_PHONE_MAX_DIGITS 32
/* The longest q read, in bytes. */
#define SEARCH_QUERY_MAX 64

/* What a search text may name; each member "" when it does not. */
struct search_query {
    char code[TRACK_CODE_SIZE];                     /* a tracking code, canonical */
    char case_id[27];                               /* a case id (upper case) */
    char phone_digits[SEARCH_PHONE_MAX_DIGITS + 1]; /* the digits of a phone number */
};

/* Reads a search text q[0..len) (UTF-8) into out: a tracking code as track_code_parse reads it
 * (case, hyphens, spaces, I/L/O forgiven), a case id in either case, and the digits of a phone
 * number written with nothing but digits (ASCII or Thai), blanks, "+", "-", ".", "(" and ")".
 * A text may name more than one (nine digits may also be a tracking code). 0 when it names at
 * least one, -1 when it names none or is empty or longer than SEARCH_QUERY_MAX. Pure. */
int search_query_parse(const char *q, size_t len, struct search_query *out);

/* The key a phone number (as written, phone[0..len)) has in the index: the hex HMAC of its
 * digits (text_phone_digits) under router->phone_key, into hex. 0, or -1 (hex "") when it has
 * fewer than SEARCH_PHONE_MIN_DIGITS or more than SEARCH_PHONE_MAX_DIGITS digits: such a phone
 * is not indexed. */
int search_phone_hash(const struct router *router, const char *phone, size_t len,
                      char hex[AUTH_HASH_HEX + 1]);

/* Answers GET /v1/cases?q=… (q already read from the query string, status and category
 * validated, "" for any): the cases q names, newest first, at most limit, in the list's shape
 * with next_cursor null; 400 invalid_query when q names nothing a case can be found by. */
void search_cases(struct http_call *call, const char *q, const char *status, const char *category,
                  long limit);

#endif
