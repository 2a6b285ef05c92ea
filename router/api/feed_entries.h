/* The entries of one answer of a partner agency's feed (README "For partner agencies"), made from
 * case-log entries as Redis gives them (XREADGROUP, XAUTOCLAIM) and written as JSON text as they
 * come: each entry's own part at once, its case's part (place, identifying data when shared,
 * EIDO) once ess_feed_cases has said what the case gives. Pure; feed.c does the reading. */
#ifndef ESS_ROUTER_FEED_ENTRIES_H
#define ESS_ROUTER_FEED_ENTRIES_H

#include <stddef.h>

struct cJSON;
struct store_stream_entry;
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

/* The distinct case ids of the entries taken, in *ids (n of them; valid until the entries are
 * cleared), for ess_feed_cases, whose answer gives their records in this order. 0, or -1 when
 * memory runs out. */
int feed_entries_case_ids(struct feed_entries *fe, const char ***ids, size_t *n);

/* The answer {"entries": [...]}: each entry completed by its case's record (cases: ess_feed_cases'
 * array, in feed_entries_case_ids' order): "location", and with "share" "reporter", "description",
 * "address"; with eido, the EIDO of its "eido_case". A heap string of *len bytes, or NULL when
 * memory runs out or cases does not hold a record per case. */
char *feed_entries_answer(struct feed_entries *fe, const struct cJSON *cases, int eido,
                          size_t *len);

#endif
