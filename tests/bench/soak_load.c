/* The mixed load of scripts/soak: what a day at the service looks like, over keep-alive
 * connections to 127.0.0.1:PORT (libevent's evhttp client), with console event streams held open.
 *
 * Each request slot takes, in this order: a follow-up that is due (an assigned case's
 * acknowledgment by its team 1 s after the case was answered, then its resolution by the team 1 s
 * after the acknowledgment; a queued case closed by an operator 2 s after it was answered), else
 * one of the base kinds drawn by weight: POST /v1/incidents (25: varied categories, places, texts
 * and callers, unique call_ids), POST /webhooks/line (35: one greeting from one of LINE_USERS
 * users, signed with LINE_CHANNEL_SECRET, every event new; the bot answers with its first
 * question), GET /v1/track/{code} (25: the codes of the run's latest cases) and
 * POST /v1/teams/{id}/position (15: a heartbeat of a team, by its token). So every case is
 * acknowledged and resolved, or closed, and the teams' capacity does not run out. After the
 * schedule, the follow-ups still waiting are sent as they come due.
 *
 * --mode closed: each connection sends its next request as soon as the last is answered (the
 * mix's saturation). --mode paced: RATE requests a second, open loop: slot i is due at start +
 * i / RATE whatever happened before; a slot with no free connection waits for one and its latency
 * counts from when it was due (as wrk2 does), so a slow server cannot slow the load and hide it.
 *
 * STREAMS clients hold GET /v1/events open the whole run (as operators' consoles do), each event
 * counted; a stream that ends is counted and opened again with Last-Event-ID.
 *
 * OUT gets one JSON line every INTERVAL seconds (default 10): the requests answered in it, by
 * kind, with their latency (p50, p99, max, in ms), the answers not 2xx, the slots that waited for a
 * free connection ("waited": the server was slow) and the sends more than a millisecond late with
 * a connection free ("late", "late_max_ms": the generator itself was), the stream events and
 * drops; then one summary line ("rps": the answers within the schedule over its seconds).
 *
 * Environment: ESS_OPERATOR_TOKEN, LINE_CHANNEL_SECRET. TEAMS: "team_id token lat lon" lines
 * (bench_data.py teams --tokens); POINTS: "lat lon" lines (the incidents' places). The LINE users
 * are "U" PREFIX (8 hex digits; default random) and their number, so that two runs given the same
 * prefix have the same users.
 * Usage: soak_load --port P --mode closed|paced --seconds S [--rate R] [--connections C]
 *        [--streams K] --teams FILE --points FILE --out FILE [--interval S] [--line-users U]
 *        [--line-users-prefix PREFIX] */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bench_util.h"

#define REQUEST_TIMEOUT_S 10
#define GRACE_S 15 /* after the schedule: the last follow-ups (due within 4 s) and answers */
#define ACK_DELAY_NS 1000000000LL
#define RESOLVE_DELAY_NS 1000000000LL
#define CLOSE_DELAY_NS 2000000000LL
#define STREAM_RETRY_S 1
#define CODES_KEPT 20000 /* the latest codes the lookups draw from */
#define ID_MAX 64

enum kind { K_INCIDENT, K_LINE, K_TRACK, K_POSITION, K_ACK, K_RESOLVE, K_CLOSE, NKINDS };
static const char *const kind_names[NKINDS] = {"incident", "line",    "track", "position",
                                               "ack",      "resolve", "close"};
static const int base_weights[K_POSITION + 1] = {25, 35, 25, 15};

struct team {
    char id[ID_MAX + 1];
    char *token;
    double lat, lon;
};

/* A follow-up of a case: what, on which case, by which team (index in teams), not before when. */
struct followup {
    enum kind kind;
    char case_id[ID_MAX + 1];
    long team;
    long long not_before;
};

/* A FIFO of follow-ups of one kind: same delay, so in time order. */
struct fifo {
    struct followup *v;
    size_t head, len, cap;
};

struct conn {
    struct evhttp_connection *evcon;
};

struct call {
    enum kind kind;
    long long due, sent;
    struct conn *conn;
    struct followup f; /* ack, resolve, close: the case and team */
};

struct stream {
    struct bufferevent *bev;
    char *line;
    size_t len, cap;
    int status; /* of the answer, once its first line came */
    char last_id[ID_MAX + 1];
    struct event *retry;
};

/* One interval's figures. */
struct interval {
    double *lat[NKINDS]; /* ms */
    size_t n[NKINDS], cap[NKINDS];
    size_t bad[NKINDS];
    size_t late, waited, events, drops, sent;
    double late_max_ms; /* the generator's own lateness: a send late with a connection free */
};

static struct event_base *base;
static int port, paced, nconns, nstreams, interval_s, line_users;
static long seconds;
static double rate;
static char host[32], op_auth[600];
static const char *line_secret;
static struct team *teams;
static size_t nteams;
static double (*points)[2];
static size_t npoints;
static char (*codes)[24];
static size_t ncodes, codes_next;
static struct fifo fifos[NKINDS];
static struct conn *conns;
static struct conn **idle;
static size_t nidle;
static struct stream *streams;
static long long start_ns, end_ns,
    *overdue; /* paced: due times of slots waiting for a connection */
static size_t overdue_head, overdue_len, overdue_cap;
static size_t next_slot;
static double period_ns;
static int stopping;
static size_t inflight;
static struct event *slot_timer, *interval_timer, *end_timer, *grace_timer, *drain_timer;
static struct interval cur;
static size_t total_n[NKINDS], total_bad[NKINDS], total_late, total_waited, total_events,
    total_drops;
static size_t total_sent, cases_made, line_seq, incident_seq;
static size_t answered_in_schedule; /* answers until the schedule's end: the rate's count */
static unsigned long long rng_state = 88172645463325252ULL;
static FILE *out;
static char nonce[16];
static char users_prefix[16]; /* LINE user ids: U, this, then the user's number */
static int bad_reports;

static unsigned long long rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rnd_unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void die(const char *what)
{
    fprintf(stderr, "soak_load: %s\n", what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) die("out of memory");
    return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Follow-ups */

static void fifo_push(struct fifo *q, const struct followup *f)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        struct followup *v = xrealloc(NULL, cap * sizeof *v);
        for (size_t i = 0; i < q->len; i++) v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->len) % q->cap] = *f;
    q->len++;
}

/* The earliest follow-up due now, taken off its FIFO; 0 when none is. */
static int followup_due(long long now, struct followup *out_f)
{
    struct fifo *best = NULL;
    for (int k = K_ACK; k <= K_CLOSE; k++) {
        struct fifo *q = &fifos[k];
        if (q->len == 0 || q->v[q->head].not_before > now) continue;
        if (best == NULL || q->v[q->head].not_before < best->v[best->head].not_before) best = q;
    }
    if (best == NULL) return 0;
    *out_f = best->v[best->head];
    best->head = (best->head + 1) % best->cap;
    best->len--;
    return 1;
}

/* Whether a follow-up is due now; the number still waiting, due or not. */
static int followup_ready(long long now)
{
    for (int k = K_ACK; k <= K_CLOSE; k++)
        if (fifos[k].len > 0 && fifos[k].v[fifos[k].head].not_before <= now) return 1;
    return 0;
}

static size_t followups_waiting(void)
{
    return fifos[K_ACK].len + fifos[K_RESOLVE].len + fifos[K_CLOSE].len;
}

static void followup_add(enum kind kind, const char *case_id, long team, long long delay)
{
    struct followup f = {.kind = kind, .team = team, .not_before = now_ns() + delay};
    snprintf(f.case_id, sizeof f.case_id, "%s", case_id);
    fifo_push(&fifos[kind], &f);
}

static long team_find(const char *id)
{
    size_t lo = 0, hi = nteams;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(teams[mid].id, id);
        if (c == 0) return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Requests */

static const char *const categories[] = {"threat",        "detention", "abuse_risk",
                                         "mental_crisis", "gathering", ""};
static const int category_weights[] = {22, 14, 18, 24, 12, 10};
static const char *const descriptions[][3] = {
    {"มีคนโทรมาข่มขู่ว่าจะทำร้ายถ้าไม่จ่ายเงิน", "อดีตสามีขู่จะฆ่าถ้าแจ้งตำรวจ",
     "A neighbour threatens to hurt her with a knife"},
    {"ผู้หญิงถูกสามีขังไว้ในห้องเช่า ไม่ให้ออกไปไหน", "แรงงานถูกนายจ้างกักตัวไว้ ยึดบัตรประชาชน",
     "My sister is locked in a room by her boyfriend"},
    {"มีผู้ชายตามถ้ำมองและพยายามล่วงละเมิด", "หัวหน้างานลวนลามและขู่ไม่ให้บอกใคร",
     "A man keeps harassing her and tried to touch her"},
    {"ผู้ชายคลุ้มคลั่ง ถือมีด อาละวาดอยู่หน้าบ้าน", "ญาติเมายาบ้าอาละวาดทำลายข้าวของ",
     "A man is out of control, shouting and breaking things"},
    {"วัยรุ่นมั่วสุมเสพยาในบ้านร้างทุกคืน", "มีบ่อนการพนันและมั่วสุมในซอย",
     "Teenagers gather to take drugs in an empty house"},
    {"ถูกแฟนขังไว้ในห้อง ช่วยด้วย", "มีคนคลุ้มคลั่งถือมีดไล่ทำร้ายคนในซอย", "He threatened to kill me if I leave"},
};
/* What citizens write first in LINE: greetings, which the bot answers with its first question
 * (what is happening?), so that no report is left waiting for its location (it would become a
 * case of its own after ESS_LINE_ABANDON_S, with nobody to close it). */
static const char *const line_texts[] = {
    "สวัสดีค่ะ", "สวัสดีครับ", "ขอความช่วยเหลือหน่อยครับ", "มีเรื่องจะแจ้งค่ะ", "Hello", "Hi", "I need help"};

static enum kind base_kind(void)
{
    int r = (int)(rnd() % 100);
    for (int k = 0; k <= K_POSITION; k++) {
        r -= base_weights[k];
        if (r < 0) return (enum kind)k;
    }
    return K_TRACK;
}

static void on_answer(struct evhttp_request *req, void *arg);

static int add_json(struct evhttp_request *req, const char *auth, const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    return evhttp_add_header(h, "Host", host) != 0 ||
           (auth && evhttp_add_header(h, "Authorization", auth) != 0) ||
           (body && evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8") != 0) ||
           (body && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0);
}

/* Builds the call's request; its method and path in *method and path. */
static struct evhttp_request *build(struct call *c, enum evhttp_cmd_type *method, char *path,
                                    size_t pathlen)
{
    struct evhttp_request *req = evhttp_request_new(on_answer, c);
    char body[2048], auth[600];
    int n, bad = req == NULL;

    *method = EVHTTP_REQ_POST;
    switch (bad ? NKINDS : c->kind) {
    case K_INCIDENT: {
        int r = (int)(rnd() % 100), cat = 0;
        const double *p = points[rnd() % npoints];
        char cat_field[48] = "";
        while (cat < 5 && (r -= category_weights[cat]) >= 0) cat++;
        if (categories[cat][0])
            snprintf(cat_field, sizeof cat_field, "\"category\":\"%s\",", categories[cat]);
        n = snprintf(body, sizeof body,
                     "{\"call_id\":\"soak-%s-%zu\",%s\"description\":\"%s\",\"location\":"
                     "{\"lat\":%.5f,\"lon\":%.5f,\"address\":\"soak\"},\"reporter\":{\"name\":"
                     "\"Soak Caller\",\"phone\":\"08%08llu\"},\"operator_id\":\"op-soak\"}",
                     nonce, ++incident_seq, cat_field, descriptions[cat][rnd() % 3], p[0], p[1],
                     rnd() % 50000);
        snprintf(path, pathlen, "/v1/incidents");
        bad = add_json(req, op_auth, body, (size_t)n);
        break;
    }
    case K_LINE: {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        char sig[64];
        struct timespec ts;
        size_t i = ++line_seq;
        clock_gettime(CLOCK_REALTIME, &ts);
        n = snprintf(body, sizeof body,
                     "{\"destination\":\"U8e742f61d673b39c7fff3cecb7536ef0\",\"events\":[{\"type\":"
                     "\"message\",\"message\":{\"type\":\"text\",\"id\":\"%zu\",\"quoteToken\":"
                     "\"q%s%zx\",\"text\":\"%s\"},\"webhookEventId\":\"01%sS%013zX\","
                     "\"deliveryContext\":{\"isRedelivery\":false},\"timestamp\":%lld,\"source\":"
                     "{\"type\":\"user\",\"userId\":\"U%s%024llx\"},\"replyToken\":\"%s%022zx\","
                     "\"mode\":\"active\"}]}",
                     (size_t)100000000000000000ULL + i, nonce, i,
                     line_texts[rnd() % (sizeof line_texts / sizeof *line_texts)], nonce, i,
                     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, users_prefix,
                     (unsigned long long)(i % (size_t)line_users), nonce, i);
        if (HMAC(EVP_sha256(), line_secret, (int)strlen(line_secret), (unsigned char *)body,
                 (size_t)n, mac, &maclen) == NULL ||
            EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen) <= 0) {
            bad = 1;
            break;
        }
        snprintf(path, pathlen, "/webhooks/line");
        bad = add_json(req, NULL, body, (size_t)n) ||
              evhttp_add_header(evhttp_request_get_output_headers(req), "X-Line-Signature", sig);
        break;
    }
    case K_TRACK:
        *method = EVHTTP_REQ_GET;
        snprintf(path, pathlen, "/v1/track/%s", codes[rnd() % ncodes]);
        bad = add_json(req, NULL, NULL, 0);
        break;
    case K_POSITION: {
        const struct team *t = &teams[rnd() % nteams];
        n = snprintf(body, sizeof body, "{\"lat\":%.5f,\"lon\":%.5f,\"available\":true}",
                     t->lat + (rnd_unit() - 0.5) * 0.002, t->lon + (rnd_unit() - 0.5) * 0.002);
        snprintf(path, pathlen, "/v1/teams/%s/position", t->id);
        snprintf(auth, sizeof auth, "Bearer %s", t->token);
        bad = add_json(req, auth, body, (size_t)n);
        break;
    }
    case K_ACK:
        snprintf(path, pathlen, "/v1/cases/%s/ack", c->f.case_id);
        snprintf(auth, sizeof auth, "Bearer %s", teams[c->f.team].token);
        bad = add_json(req, auth, NULL, 0);
        break;
    case K_RESOLVE:
        n = snprintf(body, sizeof body, "{\"status\":\"resolved\",\"note\":\"soak\"}");
        snprintf(path, pathlen, "/v1/cases/%s/status", c->f.case_id);
        snprintf(auth, sizeof auth, "Bearer %s", teams[c->f.team].token);
        bad = add_json(req, auth, body, (size_t)n);
        break;
    case K_CLOSE:
        n = snprintf(body, sizeof body, "{\"status\":\"closed\",\"note\":\"soak\"}");
        snprintf(path, pathlen, "/v1/cases/%s/status", c->f.case_id);
        bad = add_json(req, op_auth, body, (size_t)n);
        break;
    default:
        break;
    }
    if (bad) {
        if (req != NULL) evhttp_request_free(req);
        return NULL;
    }
    return req;
}

/* Sends one request on conn: a due follow-up, else a base kind (a lookup when no code is known
 * yet). due: when its slot was due (its latency counts from there). */
static void send_on(struct conn *conn, long long due, int conn_was_free)
{
    struct call *c = calloc(1, sizeof *c);
    struct evhttp_request *req;
    enum evhttp_cmd_type method;
    char path[256];
    long long now = now_ns();

    if (c == NULL) die("out of memory");
    c->conn = conn;
    c->due = due;
    c->sent = now;
    if (followup_due(now, &c->f)) {
        c->kind = c->f.kind;
    } else {
        c->kind = base_kind();
        if (c->kind == K_TRACK && ncodes == 0) c->kind = K_INCIDENT;
    }
    req = build(c, &method, path, sizeof path);
    if (req == NULL) die("cannot build a request");
    if (paced && now - due > 1000000) {
        if (conn_was_free) {
            cur.late++;
            if ((double)(now - due) / 1e6 > cur.late_max_ms)
                cur.late_max_ms = (double)(now - due) / 1e6;
        } else {
            cur.waited++;
        }
    }
    cur.sent++;
    inflight++;
    if (evhttp_make_request(conn->evcon, req, method, path) != 0) die("cannot send a request");
}

static void record(enum kind kind, double ms, int ok)
{
    if (cur.n[kind] == cur.cap[kind]) {
        cur.cap[kind] = cur.cap[kind] ? cur.cap[kind] * 2 : 4096;
        cur.lat[kind] = xrealloc(cur.lat[kind], cur.cap[kind] * sizeof(double));
    }
    cur.lat[kind][cur.n[kind]++] = ms;
    if (!ok) cur.bad[kind]++;
}

/* What an incident's answer says: its case goes on to its acknowledgment (assigned) or to an
 * operator's close (queued); its code joins the lookups'. */
static void incident_answered(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    cJSON *doc = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "case_id");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "tracking_code");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(doc, "status");
    const cJSON *team = cJSON_GetObjectItemCaseSensitive(doc, "team");
    const cJSON *team_id = cJSON_GetObjectItemCaseSensitive(team, "id");

    if (cJSON_IsString(id) && cJSON_IsString(code) && cJSON_IsString(status) &&
        strlen(id->valuestring) <= ID_MAX && strlen(code->valuestring) < sizeof *codes) {
        long t = cJSON_IsString(team_id) ? team_find(team_id->valuestring) : -1;
        if (strcmp(status->valuestring, "assigned") == 0 && t >= 0)
            followup_add(K_ACK, id->valuestring, t, ACK_DELAY_NS);
        else
            followup_add(K_CLOSE, id->valuestring, -1, CLOSE_DELAY_NS);
        snprintf(codes[codes_next], sizeof *codes, "%s", code->valuestring);
        codes_next = (codes_next + 1) % CODES_KEPT;
        if (ncodes < CODES_KEPT) ncodes++;
        cases_made++;
    }
    cJSON_Delete(doc);
}

static void on_answer(struct evhttp_request *req, void *arg)
{
    struct call *c = arg;
    struct conn *conn = c->conn;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    int ok = status == 200 || (c->kind == K_INCIDENT && status == 201);
    long long done = now_ns();

    inflight--;
    record(c->kind, (double)(done - (paced ? c->due : c->sent)) / 1e6, ok);
    if (!ok && bad_reports < 20) {
        bad_reports++;
        fprintf(stderr, "soak_load: %s answered %d\n", kind_names[c->kind], status);
    }
    if (ok && c->kind == K_INCIDENT) incident_answered(req);
    if (ok && c->kind == K_ACK) followup_add(K_RESOLVE, c->f.case_id, c->f.team, RESOLVE_DELAY_NS);
    free(c);
    if (stopping) { /* only the follow-ups of the cases made, until none is left */
        if (followup_ready(now_ns()))
            send_on(conn, now_ns(), 1);
        else
            idle[nidle++] = conn;
        if (inflight == 0 && followups_waiting() == 0) event_base_loopexit(base, NULL);
        return;
    }
    if (!paced) {
        send_on(conn, now_ns(), 1);
    } else if (overdue_len > 0) {
        long long due = overdue[overdue_head];
        overdue_head = (overdue_head + 1) % overdue_cap;
        overdue_len--;
        send_on(conn, due, 0);
    } else {
        idle[nidle++] = conn;
    }
}

static void overdue_push(long long due)
{
    if (overdue_len == overdue_cap) {
        size_t cap = overdue_cap ? overdue_cap * 2 : 4096;
        long long *v = xrealloc(NULL, cap * sizeof *v);
        for (size_t i = 0; i < overdue_len; i++) v[i] = overdue[(overdue_head + i) % overdue_cap];
        free(overdue);
        overdue = v;
        overdue_cap = cap;
        overdue_head = 0;
    }
    overdue[(overdue_head + overdue_len) % overdue_cap] = due;
    overdue_len++;
}

/* Paced: sends every slot now due (or keeps it for the next free connection), then sleeps until
 * the next one is. */
static void on_slot(evutil_socket_t fd, short what, void *arg)
{
    long long now = now_ns(), next;
    struct timeval tv = {0, 0};
    (void)fd;
    (void)what;
    (void)arg;
    if (stopping) return;
    for (;;) {
        long long due = start_ns + (long long)((double)next_slot * period_ns + 0.5);
        if (due > now || due >= end_ns) break;
        next_slot++;
        if (nidle > 0)
            send_on(idle[--nidle], due, 1);
        else
            overdue_push(due);
    }
    next = start_ns + (long long)((double)next_slot * period_ns + 0.5) - now_ns();
    if (next > 0) {
        tv.tv_sec = (time_t)(next / 1000000000LL);
        tv.tv_usec = (suseconds_t)((next % 1000000000LL) / 1000);
    }
    evtimer_add(slot_timer, &tv);
}

/* ------------------------------------------------------------------------------------------ */
/* Event streams */

static void stream_open(struct stream *s);

static void stream_line(struct stream *s, const char *line, size_t len)
{
    if (s->status == 0) {
        if (len >= 12 && memcmp(line, "HTTP/1.", 7) == 0)
            s->status = (int)strtol(line + 9, NULL, 10);
        return;
    }
    if (len >= 7 && memcmp(line, "event: ", 7) == 0) {
        cur.events++;
    } else if (len >= 4 && memcmp(line, "id: ", 4) == 0 && len - 4 <= ID_MAX) {
        size_t n = len - 4;
        while (n > 0 && (line[4 + n - 1] == '\r')) n--;
        memcpy(s->last_id, line + 4, n);
        s->last_id[n] = '\0';
    }
}

static void stream_read(struct bufferevent *bev, void *arg)
{
    struct stream *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in), start = 0;

    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1) cap *= 2;
        s->line = xrealloc(s->line, cap);
        s->cap = cap;
    }
    evbuffer_remove(in, s->line + s->len, n);
    s->len += n;
    for (size_t i = 0; i < s->len; i++) {
        if (s->line[i] != '\n') continue;
        stream_line(s, s->line + start, i - start);
        start = i + 1;
    }
    memmove(s->line, s->line + start, s->len - start);
    s->len -= start;
}

static void stream_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_open(arg);
}

static void stream_event(struct bufferevent *bev, short what, void *arg)
{
    struct stream *s = arg;
    struct timeval tv = {STREAM_RETRY_S, 0};
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) return;
    bufferevent_free(s->bev);
    s->bev = NULL;
    if (stopping) return;
    cur.drops++;
    evtimer_add(s->retry, &tv);
}

static void stream_open(struct stream *s)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    char request[1024];
    int n;

    sin.sin_addr.s_addr = htonl(0x7f000001);
    s->len = 0;
    s->status = 0;
    s->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (s->bev == NULL) die("out of memory");
    bufferevent_setcb(s->bev, stream_read, NULL, stream_event, s);
    n = snprintf(request, sizeof request,
                 "GET /v1/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
                 "Authorization: %s\r\n%s%s%s\r\n",
                 host, op_auth, s->last_id[0] ? "Last-Event-ID: " : "", s->last_id,
                 s->last_id[0] ? "\r\n" : "");
    if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        bufferevent_write(s->bev, request, (size_t)n) != 0 ||
        bufferevent_enable(s->bev, EV_READ) != 0) {
        stream_event(s->bev, BEV_EVENT_ERROR, s);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Figures */

static double quantile(double *v, size_t n, double q)
{
    size_t rank;
    if (n == 0) return -1;
    rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    return v[(rank > n ? n : rank) - 1];
}

static void write_interval(int last)
{
    struct timespec wall;
    double *all;
    size_t total = 0, k_off = 0;
    long long now = now_ns();

    clock_gettime(CLOCK_REALTIME, &wall);
    for (int k = 0; k < NKINDS; k++) total += cur.n[k];
    all = xrealloc(NULL, (total ? total : 1) * sizeof *all);
    fprintf(out,
            "{\"t\":%.1f,\"epoch\":%.3f,\"answered\":%zu,\"sent\":%zu,\"late\":%zu,"
            "\"late_max_ms\":%.1f,\"waited\":%zu,",
            (double)(now - start_ns) / 1e9, (double)wall.tv_sec + (double)wall.tv_nsec / 1e9, total,
            cur.sent, cur.late, cur.late_max_ms, cur.waited);
    fprintf(out, "\"events\":%zu,\"stream_drops\":%zu,\"followups_waiting\":%zu,\"by_kind\":{",
            cur.events, cur.drops, followups_waiting());
    for (int k = 0; k < NKINDS; k++) {
        double *v = cur.lat[k];
        size_t n = cur.n[k];
        if (n) qsort(v, n, sizeof *v, cmp_double);
        memcpy(all + k_off, v, n * sizeof *v);
        k_off += n;
        fprintf(out,
                "%s\"%s\":{\"n\":%zu,\"bad\":%zu,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}",
                k ? "," : "", kind_names[k], n, cur.bad[k], quantile(v, n, 0.5),
                quantile(v, n, 0.99), n ? v[n - 1] : -1.0);
        total_n[k] += n;
        total_bad[k] += cur.bad[k];
        cur.n[k] = 0;
        cur.bad[k] = 0;
    }
    qsort(all, total, sizeof *all, cmp_double);
    fprintf(out, "},\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f%s}\n",
            quantile(all, total, 0.5), quantile(all, total, 0.99), total ? all[total - 1] : -1.0,
            last ? ",\"last\":true" : "");
    fflush(out);
    free(all);
    total_late += cur.late;
    total_waited += cur.waited;
    total_events += cur.events;
    total_drops += cur.drops;
    total_sent += cur.sent;
    cur.late = cur.waited = cur.events = cur.drops = cur.sent = 0;
    cur.late_max_ms = 0;
}

static void on_interval(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    write_interval(0);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fprintf(stderr,
            "soak_load: %zu requests unanswered, %zu follow-ups unsent %d s after the end\n",
            inflight, followups_waiting(), GRACE_S);
    event_base_loopexit(base, NULL);
}

/* After the schedule: the follow-ups still waiting are sent as they come due, on the free
 * connections, so that every case made is acknowledged and resolved, or closed. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    while (nidle > 0 && followup_ready(now_ns())) send_on(idle[--nidle], now_ns(), 1);
    if (inflight == 0 && followups_waiting() == 0) event_base_loopexit(base, NULL);
}

/* The schedule is over: no new request but the follow-ups of the cases made; the answers in
 * flight are waited for (GRACE_S at most). */
static void on_end(evutil_socket_t fd, short what, void *arg)
{
    struct timeval grace = {GRACE_S, 0}, tick = {0, 50000};
    (void)fd;
    (void)what;
    (void)arg;
    stopping = 1;
    for (int k = 0; k < NKINDS; k++) answered_in_schedule += total_n[k] + cur.n[k];
    evtimer_add(grace_timer, &grace);
    event_add(drain_timer, &tick);
    on_drain(-1, 0, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Set-up */

static int by_team_id(const void *a, const void *b)
{
    return strcmp(((const struct team *)a)->id, ((const struct team *)b)->id);
}

static void load_teams(const char *file)
{
    FILE *f = fopen(file, "r");
    char id[ID_MAX + 1], token[512];
    double lat, lon;
    size_t cap = 0;
    if (f == NULL) die("cannot read the teams file");
    while (fscanf(f, "%64s %511s %lf %lf", id, token, &lat, &lon) == 4) {
        if (nteams == cap) {
            cap = cap ? cap * 2 : 1024;
            teams = xrealloc(teams, cap * sizeof *teams);
        }
        snprintf(teams[nteams].id, sizeof teams[nteams].id, "%s", id);
        teams[nteams].token = strdup(token);
        if (teams[nteams].token == NULL) die("out of memory");
        teams[nteams].lat = lat;
        teams[nteams].lon = lon;
        nteams++;
    }
    fclose(f);
    if (nteams == 0) die("no teams in the teams file");
    qsort(teams, nteams, sizeof *teams, by_team_id);
}

static void load_points(const char *file)
{
    FILE *f = fopen(file, "r");
    double lat, lon;
    size_t cap = 0;
    if (f == NULL) die("cannot read the points file");
    while (fscanf(f, "%lf %lf", &lat, &lon) == 2) {
        if (npoints == cap) {
            cap = cap ? cap * 2 : 4096;
            points = xrealloc(points, cap * sizeof *points);
        }
        points[npoints][0] = lat;
        points[npoints][1] = lon;
        npoints++;
    }
    fclose(f);
    if (npoints == 0) die("no places in the points file");
}

static void usage(void)
{
    fprintf(stderr, "usage: soak_load --port P --mode closed|paced --seconds S [--rate R] "
                    "[--connections C] [--streams K] --teams FILE --points FILE --out FILE "
                    "[--interval S] [--line-users U] [--line-users-prefix PREFIX]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", 1, NULL, 'p'},
                                         {"mode", 1, NULL, 'm'},
                                         {"seconds", 1, NULL, 's'},
                                         {"rate", 1, NULL, 'r'},
                                         {"connections", 1, NULL, 'c'},
                                         {"streams", 1, NULL, 'k'},
                                         {"teams", 1, NULL, 't'},
                                         {"points", 1, NULL, 'l'},
                                         {"out", 1, NULL, 'o'},
                                         {"line-users-prefix", 1, NULL, 'U'},
                                         {"interval", 1, NULL, 'i'},
                                         {"line-users", 1, NULL, 'u'},
                                         {NULL, 0, NULL, 0}};
    const char *mode = NULL, *teams_file = NULL, *points_file = NULL, *out_file = NULL;
    const char *op_token = getenv("ESS_OPERATOR_TOKEN");
    struct event_config *cfg;
    struct timeval tv;
    long v;
    int o;

    port = -1;
    nconns = 32;
    interval_s = 10;
    line_users = 10000;
    line_secret = getenv("LINE_CHANNEL_SECRET");
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = (int)parse_long(optarg, 1, 65535);
            break;
        case 'm':
            mode = optarg;
            break;
        case 's':
            seconds = parse_long(optarg, 1, 86400);
            break;
        case 'r':
            rate = (double)parse_long(optarg, 1, 1000000);
            break;
        case 'c':
            nconns = (int)parse_long(optarg, 1, 10000);
            break;
        case 'k':
            nstreams = (int)parse_long(optarg, 0, 10000);
            break;
        case 't':
            teams_file = optarg;
            break;
        case 'l':
            points_file = optarg;
            break;
        case 'o':
            out_file = optarg;
            break;
        case 'i':
            interval_s = (int)parse_long(optarg, 1, 3600);
            break;
        case 'U':
            snprintf(users_prefix, sizeof users_prefix, "%.8s", optarg);
            break;
        case 'u':
            line_users = (int)parse_long(optarg, 1, 10000000);
            break;
        default:
            usage();
        }
    }
    if (port < 0 || seconds <= 0 || nconns <= 0 || nstreams < 0 || interval_s <= 0 ||
        line_users <= 0 || mode == NULL || teams_file == NULL || points_file == NULL ||
        out_file == NULL || (strcmp(mode, "closed") != 0 && strcmp(mode, "paced") != 0))
        usage();
    paced = strcmp(mode, "paced") == 0;
    if (paced && rate <= 0) usage();
    if (op_token == NULL || line_secret == NULL || !*op_token || !*line_secret)
        die("ESS_OPERATOR_TOKEN and LINE_CHANNEL_SECRET must be set");
    snprintf(op_auth, sizeof op_auth, "Bearer %s", op_token);
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    rng_state ^= (unsigned long long)now_ns() * 2654435761ULL;
    snprintf(nonce, sizeof nonce, "%08llX", rnd() & 0xffffffffULL);
    if (users_prefix[0] == '\0')
        snprintf(users_prefix, sizeof users_prefix, "%08llx", rnd() & 0xffffffffULL);
    load_teams(teams_file);
    load_points(points_file);
    codes = xrealloc(NULL, CODES_KEPT * sizeof *codes);
    out = fopen(out_file, "w");
    if (out == NULL) die("cannot write the output file");

    signal(SIGPIPE, SIG_IGN);
    cfg = event_config_new();
    if (cfg == NULL) die("out of memory");
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER); /* sub-millisecond pacing */
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base == NULL) die("no event loop");
    conns = calloc((size_t)nconns, sizeof *conns);
    idle = calloc((size_t)nconns, sizeof *idle);
    streams = calloc((size_t)(nstreams ? nstreams : 1), sizeof *streams);
    if (conns == NULL || idle == NULL || streams == NULL) die("out of memory");
    for (int i = 0; i < nconns; i++) {
        conns[i].evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1", (ev_uint16_t)port);
        if (conns[i].evcon == NULL) die("out of memory");
        evhttp_connection_set_timeout(conns[i].evcon, REQUEST_TIMEOUT_S);
        evhttp_connection_set_retries(conns[i].evcon, 0);
        idle[nidle++] = &conns[nconns - 1 - i];
    }
    for (int i = 0; i < nstreams; i++) {
        streams[i].retry = evtimer_new(base, stream_retry, &streams[i]);
        if (streams[i].retry == NULL) die("out of memory");
        stream_open(&streams[i]);
    }
    slot_timer = evtimer_new(base, on_slot, NULL);
    interval_timer = event_new(base, -1, EV_PERSIST, on_interval, NULL);
    end_timer = evtimer_new(base, on_end, NULL);
    grace_timer = evtimer_new(base, on_grace, NULL);
    drain_timer = event_new(base, -1, EV_PERSIST, on_drain, NULL);
    if (!slot_timer || !interval_timer || !end_timer || !grace_timer || !drain_timer)
        die("out of memory");
    start_ns = now_ns() + 20000000LL; /* 20 ms from now: the streams are connecting */
    end_ns = start_ns + (long long)seconds * 1000000000LL;
    tv.tv_sec = interval_s;
    tv.tv_usec = 20000;
    evtimer_add(interval_timer, &tv);
    tv.tv_sec = seconds;
    evtimer_add(end_timer, &tv);
    if (paced) {
        period_ns = 1e9 / rate;
        tv.tv_sec = 0;
        tv.tv_usec = 20000;
        evtimer_add(slot_timer, &tv);
    } else {
        while (nidle > 0) send_on(idle[--nidle], now_ns(), 1);
    }
    if (event_base_dispatch(base) == -1) die("event loop failed");
    write_interval(1);

    v = 0;
    for (int k = 0; k < NKINDS; k++) v += (long)total_n[k];
    fprintf(
        out,
        "{\"summary\":true,\"mode\":\"%s\",\"seconds\":%ld,\"rate\":%.1f,"
        "\"answered\":%ld,\"sent\":%zu,\"rps\":%.1f,\"late\":%zu,\"waited\":%zu,\"unanswered\":%zu,"
        "\"cases\":%zu,\"events\":%zu,\"stream_drops\":%zu,\"followups_left\":%zu,"
        "\"slots_unsent\":%zu,\"by_kind\":{",
        mode, seconds, rate, v, total_sent, (double)answered_in_schedule / (double)seconds,
        total_late, total_waited, inflight, cases_made, total_events, total_drops,
        followups_waiting(), overdue_len);
    for (int k = 0; k < NKINDS; k++)
        fprintf(out, "%s\"%s\":{\"n\":%zu,\"bad\":%zu}", k ? "," : "", kind_names[k], total_n[k],
                total_bad[k]);
    fprintf(out, "}}\n");
    if (fclose(out) != 0) die("cannot write the output file");
    fprintf(stderr,
            "soak_load: %s, %ld requests answered in %ld s (%.0f/s), %zu cases, %zu "
            "stream events\n",
            mode, v, seconds, (double)v / (double)seconds, cases_made, total_events);
    return 0;
}
