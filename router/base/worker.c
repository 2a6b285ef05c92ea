/* Worker threads: a mutex-guarded queue of jobs, a condition variable that wakes the threads,
 * and a non-blocking pipe whose read end is a libevent event, so completions run on the loop. */
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
    worker_fn work;
    worker_done_fn done;
    void *arg;
    struct job *next;
};

/* A FIFO of jobs. */
struct job_list {
    struct job *head, *tail;
};

struct worker {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct job_list todo;     /* waiting for a thread */
    struct job_list finished; /* run, waiting for the loop */
    size_t pending;           /* submitted and not yet delivered (mu) */
    size_t max_pending;
    int stopping; /* mu */
    pthread_t threads[WORKER_MAX_THREADS];
    int nthreads;
    int pipe_fds[2]; /* [0] read by the loop, [1] written by the threads */
    struct event *ready;
};

static void job_list_push(struct job_list *l, struct job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct job *job_list_pop(struct job_list *l)
{
    struct job *j = l->head;
    if (j) {
        l->head = j->next;
        if (l->head == NULL) l->tail = NULL;
    }
    return j;
}

/* Takes the whole list, leaving it empty. */
static struct job *job_list_take(struct job_list *l)
{
    struct job *all = l->head;
    l->head = l->tail = NULL;
    return all;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        struct job *j;
        int first;
        while (!w->stopping && w->todo.head == NULL) pthread_cond_wait(&w->wake, &w->mu);
        if (w->stopping) break;
        j = job_list_pop(&w->todo);
        pthread_mutex_unlock(&w->mu);
        j->work(j->arg);
        pthread_mutex_lock(&w->mu);
        first = w->finished.head == NULL;
        job_list_push(&w->finished, j);
        if (first) { /* one byte per batch: the loop takes every finished job when it wakes */
            char b = 1;
            ssize_t n;
            do n = write(w->pipe_fds[1], &b, 1);
            while (n < 0 && errno == EINTR);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Delivers a list of jobs: done(arg, ran) for each, then frees them. On the loop's thread. */
static void worker_deliver(struct worker *w, struct job *j, int ran)
{
    while (j) {
        struct job *next = j->next;
        pthread_mutex_lock(&w->mu);
        w->pending--;
        pthread_mutex_unlock(&w->mu);
        j->done(j->arg, ran);
        free(j);
        j = next;
    }
}

static void worker_on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    char buf[64];
    struct job *done;
    (void)what;

    while (read(fd, buf, sizeof buf) > 0) continue; /* drain: the pipe is non-blocking */
    pthread_mutex_lock(&w->mu);
    done = job_list_take(&w->finished);
    pthread_mutex_unlock(&w->mu);
    worker_deliver(w, done, 1);
}

static int worker_pipe(int fds[2])
{
    int i;
    if (pipe(fds) != 0) return -1;
    for (i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
}

struct worker *worker_start(struct event_base *base, int nthreads, size_t max_pending)
{
    struct worker *w;

    if (nthreads < 1 || nthreads > WORKER_MAX_THREADS || max_pending == 0) return NULL;
    if ((w = calloc(1, sizeof *w)) == NULL) return NULL;
    w->max_pending = max_pending;
    w->pipe_fds[0] = w->pipe_fds[1] = -1;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->wake, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    if (worker_pipe(w->pipe_fds) != 0 ||
        (w->ready = event_new(base, w->pipe_fds[0], EV_READ | EV_PERSIST, worker_on_ready, w)) ==
            NULL ||
        event_add(w->ready, NULL) != 0)
        goto fail;
    for (; w->nthreads < nthreads; w->nthreads++)
        if (pthread_create(&w->threads[w->nthreads], NULL, worker_thread, w) != 0) goto fail;
    return w;
fail:
    worker_stop(w);
    return NULL;
}

int worker_submit(struct worker *w, worker_fn work, worker_done_fn done, void *arg)
{
    struct job *j;
    int rc = -1;

    if (w == NULL || (j = malloc(sizeof *j)) == NULL) return -1;
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->pending < w->max_pending) {
        w->pending++;
        job_list_push(&w->todo, j);
        pthread_cond_signal(&w->wake);
        j = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    free(j);
    return rc;
}

void worker_stop(struct worker *w)
{
    struct job *finished, *unstarted;
    int i;

    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    for (i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
    /* Only this thread is left: no lock is needed, but worker_deliver takes it all the same. */
    finished = job_list_take(&w->finished);
    unstarted = job_list_take(&w->todo);
    worker_deliver(w, finished, 1);
    worker_deliver(w, unstarted, 0);
    if (w->ready) event_free(w->ready);
    if (w->pipe_fds[0] >= 0) close(w->pipe_fds[0]);
    if (w->pipe_fds[1] >= 0) close(w->pipe_fds[1]);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
