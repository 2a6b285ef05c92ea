/* Reading a Redis primary's INFO replication: which of its replicas are in sync, so that a write
 * can be confirmed by every replica Sentinel might promote (store_wait_replicated). Pure code,
 * no I/O. */
#ifndef ESS_ROUTER_REPLICAS_H
#define ESS_ROUTER_REPLICAS_H

#include <stddef.h>

/* A replica acknowledges the primary's stream every second, and at once when asked (WAIT), so
 * one whose last acknowledgment is older than this (INFO's lag, in whole seconds) is taken for
 * stalled. */
#define REPLICAS_MAX_LAG_S 2

/* The number of replicas in info[0..len) (the text of INFO replication, lines ending in CRLF or
 * LF) that are online (fully synchronised, receiving the stream) with a lag of at most
 * max_lag_s seconds: the "slaveN:ip=…,port=…,state=online,offset=…,lag=L" lines. A line that
 * does not read so is not counted; 0 for a replica, or for text that is not INFO's. */
int replicas_in_sync(const char *info, size_t len, int max_lag_s);

#endif
