/* Reading the audit log (supervisors): who read or changed which case, from where, and every
 * log-in, as ess.lua's audited() records them. The entries are written by the store functions
 * themselves; nothing here writes, changes or deletes one. */
#ifndef ESS_ROUTER_AUDIT_H
#define ESS_ROUTER_AUDIT_H

struct http_call;

/* GET /v1/cases/{case_id}/access-log?cursor=…&limit=…: the entries of one case, newest first:
 * {"case_id", "entries": [...], "next_cursor": id or null}; 404 for an unknown case. */
void audit_case_log(struct http_call *call);

/* GET /v1/audit?actor=…&case_id=…&action=…&from=…&to=…&cursor=…&limit=…: the entries matching
 * every filter given, newest first: {"entries": [...], "next_cursor": id or null}. A page may
 * hold fewer than limit entries and still have a next_cursor (each request looks at 1000 entries
 * at most). A bad filter is a 400 invalid_query. */
void audit_list(struct http_call *call);

#endif
