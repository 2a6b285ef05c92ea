/* The operator's triage: correcting a case's category and priority (POST /v1/cases/{id}/triage),
 * and the classifier's suggestion while a call is being logged (POST /v1/classify). Both run the
 * rule engine; the server has already checked the caller's role (operator). */
#ifndef ESS_ROUTER_TRIAGE_H
#define ESS_ROUTER_TRIAGE_H

struct cJSON;
struct http_call;
struct rules_table;

void triage_post(struct http_call *call);     /* call->params[0] is the case id */
void triage_classify(struct http_call *call); /* {"description"} */

/* The answer of POST /v1/classify for description[0..len): {"category", "confidence" (0..1, two
 * decimals: the classifier's, rules_guess), "priority", "needs_triage" (true: not confident, the
 * category is only a guess an operator confirms, the priority P1), "category_label": {"th",
 * "en"}}, as the rule engine decides for a hotline report without a category, so exactly what
 * POST /v1/incidents would file. A new object the caller owns; NULL when memory runs out. */
struct cJSON *triage_classification(const struct rules_table *rules, const char *description);

#endif
