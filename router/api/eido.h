/* The shared record as a NENA EIDO (NENA-STA-021, the JSON schema in shared/eido/): the document
 * of a case built from what ess.lua's ess_case_eido lets its reader see (eido_source there), and
 * GET /v1/cases/{id}/eido. Personal data is in the document only when the source carries it (the
 * store decides: an operator, or an identifying agency with the case's consent, never once the
 * case is erased); this module adds none. */
#ifndef ESS_ROUTER_EIDO_H
#define ESS_ROUTER_EIDO_H

struct cJSON;
struct http_call;

/* The identifier of the agency that issues every EIDO (this deployment, the 1300 centre), the
 * $ref of each component's updatedByAgencyReference. */
#define EIDO_AGENCY_ID "urn:ess:agency:1300"
#define EIDO_ISSUER "ess-router" /* issuingElementIdentification */

/* The EIDO of a case from its source ({"case_id", "category", "priority", "status", "created_at",
 * "updated_at" (ms), ..., "identifying": bool}, as ess_case_eido answers it in "case"; only
 * read). A new object the caller owns, or NULL when the source lacks case_id, category, status
 * or updated_at, or memory runs out. */
struct cJSON *eido_document(const struct cJSON *source);

/* GET /v1/cases/{case_id}/eido (operator, or an agency of the case's category; audited: export):
 * 200 with the document; 404 not_found for an unknown case, 403 forbidden for an agency whose
 * categories do not include the case's. */
void eido_get(struct http_call *call);

#endif
