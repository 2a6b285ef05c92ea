/* Consent to share a reporter's identifying data with the agencies that help (DESIGN.md,
 * "Safeguarding"): recorded by an operator, on the case's timeline, audited. The LINE reporter's
 * own answer is recorded by the webhook (linebot.c, through ess_line_commit). */
#ifndef ESS_ROUTER_CONSENT_H
#define ESS_ROUTER_CONSENT_H

struct http_call;

/* POST /v1/cases/{case_id}/consent {"share_with_agencies": true | false, "basis": "consent" |
 * "vital_interest" | "legal_obligation", "note": "…" (optional, at most 1000 bytes)}: recorded
 * by the operator (audited: consent); 200 with the case's view, whose "consent" shows it. 400 for
 * a missing or bad field, 404 for an unknown case. */
void consent_post(struct http_call *call);

#endif
