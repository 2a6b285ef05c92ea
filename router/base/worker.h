/* A small pool of worker threads for CPU-heavy work that must not run on the event loop (the
 * slow password hashes): jobs wait in a bounded queue, run on a thread, and their completion is
 * handed back to the libevent loop through a pipe, where each job's done callback runs. */
#ifndef ESS_ROUTER_WORKER_H
#define ESS_ROUTER_WORKER_H

#include <stddef.h>

struct event_base;
struct worker;

#define WORKER_MAX_THREADS 8

/* Runs on a worker thread: may touch only what arg gives it (never the loop, the store or an
 * HTTP request). */
typedef void (*worker_fn)(void *arg);

/* Runs on the loop once the job is over: ran is 1 when work ran to its end, 0 when the pool
 * stopped before it started (arg is then as it was given). */
typedef void (*worker_done_fn)(void *arg, int ran);

/* Starts nthreads threads (1..WORKER_MAX_THREADS) whose completions are delivered on base's
 * loop; at most max_pending jobs wait or run at once. NULL when threads, a pipe or memory are
 * missing. */
struct worker *worker_start(struct event_base *base, int nthreads, size_t max_pending);

/* Queues work(arg), then done(arg, ran) on the loop. 0, or -1 when the queue is full, the pool is
 * stopping or memory ran out (then neither runs). Call from the loop's thread only. arg must stay
 * valid until done runs. */
int worker_submit(struct worker *w, worker_fn work, worker_done_fn done, void *arg);

/* Stops the pool: waits for the jobs running now, then calls, on the calling thread, done(arg, 1)
 * for the finished jobs not yet delivered and done(arg, 0) for those that never started; frees
 * the pool. Call from the loop's thread, with the loop still allocated. Accepts NULL. */
void worker_stop(struct worker *w);

#endif
