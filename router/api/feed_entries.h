/* The entries of one answer of a partner agency's feed (README "For partner agencies"), made from
 * case-log entries as Redis gives them (XREADGROUP, XAUTOCLAIM) and written as JSON text as they
 * come: each entry's own part at once, its case's part (place, identifying data when shared,
 * EIDO) once its case has been read (its fields, or ess_feed_cases' record with format=eido).
 * Pure; feed.c does the reading. */
#ifndef ESS_ROUTER_FEED_ENTRIES_H
#define ESS_ROUTER_FEED_ENTRIES_H

#include <stddef.h>

#include "store.h"

struct cJSON;
struct feed_entries;

/* Room for at most max entries. NULL when memory runs out. */
struct feed_entries *feed_entries_new(size_t max);

/* Forgets every entry (the next read starts empty). */
void feed_entries_clear(struct feed_entries *fe);

void feed_entries_free(struct feed_entries *fe); /* accepts NULL */

/* Takes log entry e when it is for an agency of these categories (a JSON array of category
 * codes): about a case of one of them, and not a chat message. 1 when taken, 0 when not for the
 * agency (or no room is left), -1 when memory runs out. */
int feed_entries_add(struct feed_entries *fe, const struct store_stream_entry *e,
                     const struct cJSON *categories);

size_t feed_entries_count(const struct feed_entries *fe);

/* The ids of the entries taken, in *ids (n of them; valid until the entries are cleared). 0, or
 * -1 when memory runs out. */
int feed_entries_ids(struct feed_entries *fe, const char ***ids, size_t *n);

/* The distinct case ids of the entries taken, in *ids (n of them; valid until the entries are
 * cleared): case i of feed_entries_case_fields and feed_entries_case_record. 0, or -1 when memory
 * runs out. */
int feed_entries_case_ids(struct feed_entries *fe, const char ***ids, size_t *n);

/* The fields of a case (HMGET P case:<id>, in this order) its part is made of. */
#define FEED_CASE_FIELDS 4
extern const char *const feed_case_fields[FEED_CASE_FIELDS];

/* Makes the part of the entries of case i (of feed_entries_case_ids) from the values of its
 * feed_case_fields (v[FEED_CASE_FIELDS], data NULL for those it lacks), without identifying
 * data: "location" rounded to 0.01 degree (null without a place). 1 when the case may be shared
 * with the agency (it is identifying, the case has share_with_agencies "1" and no erased_at: the
 * rule of ess.lua's eido_may_identify): its shared part then comes only from ess_feed_export,
 * which decides again, audits and reads the identifying data in one step
 * (feed_entries_case_record replaces this part). 0 when not, -1 when memory runs out or i is out
 * of range. */
int feed_entries_case_fields(struct feed_entries *fe, size_t i, const struct store_item *v,
                             int identifying);

/* The part of case i from a record of ess_feed_cases or ess_feed_export ({"share", "location",
 * and when shared "reporter", "description", "address"; "eido_case"}), adding with eido the case's
 * EIDO; it replaces a part made before. 0, or -1 (memory, or the EIDO could not be made). */
int feed_entries_case_record(struct feed_entries *fe, size_t i, const struct cJSON *info, int eido);

/* The answer {"entries": [...]}, each entry completed by its case's part. A heap string of *len
 * bytes, or NULL when memory runs out or a case's part was not made. */
char *feed_entries_answer(struct feed_entries *fe, size_t *len);

#endif
