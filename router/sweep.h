/* The queue sweeper: every few seconds, retries the queued cases in the operators' queue order.
 * Capacity that appears is normally handed out at once by the store functions (a team becomes
 * available, moves, or resolves a case); the sweep is the safety net behind them. */
#ifndef ESS_ROUTER_SWEEP_H
#define ESS_ROUTER_SWEEP_H

struct router;
struct sweep;

/* Starts sweeping every interval_ms on router's loop. NULL on allocation failure. */
struct sweep *sweep_start(struct router *router, int interval_ms);

/* Stops and frees; a sweep in flight finishes harmlessly. Accepts NULL. */
void sweep_stop(struct sweep *sweep);

#endif
