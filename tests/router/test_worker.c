/* Tests of router/base/worker.c: jobs run on other threads and are delivered on the loop, the
 * queue's bound, and the stop that delivers finished jobs and gives back unstarted ones. Run it
 * under ThreadSanitizer too (meson setup build-tsan -Db_sanitize=thread). */
#include <event2/event.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "worker.h"

#define NJOBS 40

struct job {
    pthread_t ran_on; /* written by the worker thread, read on the loop after delivery */
    int value, result;
    int delivered, ran;
    sem_t *gate;    /* when set, the work waits on it */
    sem_t *started; /* when set, the work posts it first */
};

static struct event_base *base;
static pthread_t loop_thread;
static int delivered, delivered_off_loop;

static void work(void *arg)
{
    struct job *j = arg;
    if (j->started) sem_post(j->started);
    if (j->gate) sem_wait(j->gate);
    j->ran_on = pthread_self();
    j->result = j->value * j->value;
}

static void done(void *arg, int ran)
{
    struct job *j = arg;
    j->delivered++;
    j->ran = ran;
    if (!pthread_equal(pthread_self(), loop_thread)) delivered_off_loop++;
    if (++delivered == NJOBS) event_base_loopexit(base, NULL);
}

static void test_run(void)
{
    static struct job jobs[NJOBS];
    struct worker *w = worker_start(base, 2, NJOBS);
    struct timeval limit = {20, 0};
    int i, all_ok = 1, off_loop = 1;

    CHECK(w != NULL, "two threads start");
    for (i = 0; i < NJOBS; i++) {
        jobs[i].value = i;
        if (worker_submit(w, work, done, &jobs[i]) != 0) all_ok = 0;
    }
    CHECK(all_ok, "40 jobs queued (the bound is 40)");
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CHECK(delivered == NJOBS, "every job delivered on the loop");
    for (i = 0; i < NJOBS; i++) {
        if (jobs[i].delivered != 1 || !jobs[i].ran || jobs[i].result != i * i) all_ok = 0;
        if (pthread_equal(jobs[i].ran_on, loop_thread)) off_loop = 0;
    }
    CHECK(all_ok, "each once, having run, with its result");
    CHECK(off_loop, "the work ran on worker threads, not the loop's");
    CHECK(delivered_off_loop == 0, "done ran on the loop's thread");
    worker_stop(w);
}

/* Opens the gate once worker_stop has had ample time to begin waiting (an ordering aid, not a
 * timed assertion: a stop that began later would still have to wait for a). */
static void *open_gate_later(void *arg)
{
    usleep(500 * 1000);
    sem_post(arg);
    return NULL;
}

static void test_bound_and_stop(void)
{
    struct job a = {0}, b = {0}, c = {0};
    sem_t gate, started;
    pthread_t opener;
    struct worker *w = worker_start(base, 1, 2);

    sem_init(&gate, 0, 0);
    sem_init(&started, 0, 0);
    a.gate = &gate;
    a.started = &started;
    delivered = 0;
    CHECK(w != NULL, "one thread, at most two jobs");
    CHECK(worker_submit(w, work, done, &a) == 0 && worker_submit(w, work, done, &b) == 0,
          "two jobs are taken");
    CHECK(worker_submit(w, work, done, &c) == -1, "a third is refused while two wait or run");
    pthread_create(&opener, NULL, open_gate_later, &gate);
    sem_wait(&started); /* a has started and waits on its gate */
    worker_stop(w);     /* waits for a; b never starts */
    pthread_join(opener, NULL);
    CHECK(a.delivered == 1 && a.ran == 1 && a.result == 0, "the running job finished: ran");
    CHECK(b.delivered == 1 && b.ran == 0, "the waiting job is given back: not ran");
    CHECK(c.delivered == 0, "the refused job is never delivered");
    sem_destroy(&gate);
    sem_destroy(&started);
}

int main(void)
{
    base = event_base_new();
    loop_thread = pthread_self();
    test_run();
    test_bound_and_stop();
    CHECK(worker_start(base, 0, 4) == NULL &&
              worker_start(base, WORKER_MAX_THREADS + 1, 4) == NULL &&
              worker_start(base, 1, 0) == NULL,
          "no threads, too many, or no room: refused");
    worker_stop(NULL);
    event_base_free(base);
    libevent_global_shutdown();
    return tap_done();
}
