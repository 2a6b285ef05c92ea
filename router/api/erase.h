/* Erasure on request: a supervisor erases the personal data of a closed case at once, with a
 * reason, as the retention sweep does ESS_RETENTION_DAYS after it was closed (ess.lua's
 * erase_case: one list of the places personal data lives, one way of erasing it). */
#ifndef ESS_ROUTER_ERASE_H
#define ESS_ROUTER_ERASE_H

struct http_call;

/* The longest reason, in characters (Unicode code points). */
#define ERASE_REASON_MAX_CHARS 500

/* DELETE /v1/cases/{case_id}/personal-data {"reason": "…"} (supervisor; audited: erase): 200 with
 * the case as the supervisor reads it, its personal fields null and erased_at set; the same for a
 * case erased already (nothing more is done). 400 without a reason (1 to 500 characters of text),
 * 404 for an unknown case, 409 case_open for a case not closed. */
void erase_case_delete(struct http_call *call);

#endif
