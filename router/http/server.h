/* The HTTP server: binds the listening socket, sets the request limits, routes each request
 * (method, path, role, body size and type) to its handler, and serves /healthz and /metrics.
 * A graceful stop closes the listener and waits for the calls in flight. */
#ifndef ESS_ROUTER_SERVER_H
#define ESS_ROUTER_SERVER_H

#include <stddef.h>

struct router;
struct server;

/* Binds router->cfg's listen address. NULL with a message in err when it cannot. The server
 * borrows router, which must outlive it. */
struct server *server_new(struct router *router, char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
int server_port(const struct server *server);

/* Stops accepting connections, then calls done(arg) once no call is in flight or after the
 * configured drain timeout, whichever comes first. */
void server_drain(struct server *server, void (*done)(void *arg), void *arg);

/* Closes every connection and frees. Accepts NULL. */
void server_free(struct server *server);

#endif
