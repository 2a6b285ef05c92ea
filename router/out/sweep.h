/* Periodic upkeep on the router's loop, safe with several router processes on one Redis:
 * - every 500 ms, acknowledgment deadlines that have passed are handled (ess_deadlines_expire:
 *   the silent team is replaced by the next nearest suitable one, or the case is escalated);
 * - every 5 s, queued cases are retried in the operators' queue order (ess_queue_sweep), a
 *   safety net behind the store functions that hand out capacity the moment it appears;
 * - every 2 s, closed cases past ESS_RETENTION_DAYS lose their personal data, and those past
 *   ESS_TRACK_RETENTION_DAYS their public view (ess_retention_sweep, 50 of each at most);
 * - every 15 s, each agency feed's lag and pending entries, for /metrics (ess_feed_gauges);
 * - and the LINE reports left before their location, chats nobody took, the audit's trim. */
#ifndef ESS_ROUTER_SWEEP_H
#define ESS_ROUTER_SWEEP_H

struct router;
struct sweep;

/* Starts both timers. NULL on allocation failure. */
struct sweep *sweep_start(struct router *router);

/* Stops and frees; a call in flight finishes harmlessly. Accepts NULL. */
void sweep_stop(struct sweep *sweep);

#endif
