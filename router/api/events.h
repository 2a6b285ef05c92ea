/* GET /v1/events: the operators' live updates, as server-sent events. One case-log reader per
 * process (a Redis connection of its own, blocking in XREAD on the case log) fans every entry out
 * to every open stream as `event: case`, the case's summary as it stood, with the entry's id as
 * the event's id; a client that comes back with Last-Event-ID first gets what it missed. */
#ifndef ESS_ROUTER_EVENTS_H
#define ESS_ROUTER_EVENTS_H

struct router;
struct http_call;
struct events;

/* Starts the reader (connecting to router->cfg's Redis) and the heartbeat. router is borrowed
 * and must outlive the result. NULL when memory runs out. */
struct events *events_start(struct router *router);

/* The handler of GET /v1/events (operators). */
void events_get(struct http_call *call);

/* Ends every stream cleanly and refuses new ones (503): the graceful stop. Accepts NULL. */
void events_drain(struct events *ev);

/* Stops the reader for good: call before the main store stops (the reader's own pending read is
 * answered now). Streams stay open until their connections close. Accepts NULL. */
void events_stop(struct events *ev);

/* Frees what is left; call after the HTTP server is freed (its connections are closed, so no
 * stream is left). Accepts NULL. */
void events_free(struct events *ev);

#endif
