/* One incident, one case (DESIGN.md, "The shared record"): an operator merges a case into another
 * that reports the same incident. The store closes it into the survivor in one step
 * (ess_case_merge), on both timelines; its tracking code then shows the survivor's status. */
#ifndef ESS_ROUTER_MERGE_H
#define ESS_ROUTER_MERGE_H

struct http_call;

/* POST /v1/cases/{case_id}/merge {"into": "<case_id>"} (operator; audited: update): 200 with the
 * merged case's view ("status": "closed", "merged_into"); a repeat of a merge done already answers
 * the same. 400 invalid_field / missing_field (into is not a case id), merge_into_itself; 404
 * not_found (the case), target_not_found; 409 already_merged (into another case), case_closed,
 * target_merged, target_closed. */
void merge_post(struct http_call *call);

#endif
