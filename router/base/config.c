/* The daemon's settings: one static table (variable, flag, default, kind, bounds, secret, help)
 * from which environment parsing, flag parsing, validation and --help are all derived, as in
 * Redis' config.c. Flags override the environment, which overrides the defaults. */
#include "config.h"

#include "log.h"
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef ESS_VERSION
#define ESS_VERSION "0.1.0"
#endif

#define CONFIG_REDIS_DEFAULT_PORT 6379
#define CONFIG_REDIS_MAX_DB 15
#define CONFIG_MAX_HOST 253
#define CONFIG_SHOWN_VALUE_MAX 80 /* how much of a bad value an error message repeats */
#define CONFIG_SECRET_FILE_MAX 4096

enum setting_kind {
    SETTING_LISTEN,        /* HOST:PORT or [IPv6]:PORT -> listen_host, listen_port */
    SETTING_REDIS_URL,     /* redis://[[user]:password@]host[:port][/db] -> redis_* */
    SETTING_KEY_PREFIX,    /* min..max characters of [A-Za-z0-9:_.-] */
    SETTING_PATH,          /* a non-empty file name */
    SETTING_TOKEN,         /* optional: "" turns the feature off; no inner blanks */
    SETTING_TOKEN_LIST,    /* comma-separated tokens -> operator_tokens */
    SETTING_HTTP_BASE,     /* http:// or https:// URL, trailing slashes removed */
    SETTING_HTTP_OPTIONAL, /* the same, or "" for none */
    SETTING_LOG_LEVEL,     /* debug, info, warn, error -> int */
    SETTING_INT,           /* decimal in min..max -> int */
    SETTING_SIZE,          /* decimal in min..max -> size_t */
    SETTING_BOOL,          /* 1/0, true/false, yes/no, on/off -> int */
    SETTING_PATH_OPTIONAL, /* a file name, or "" for none */
    SETTING_NETS,          /* comma-separated addresses and CIDRs -> struct net_list */
    SETTING_ORIGIN,        /* http(s)://host[:port] without a path, or "" for none */
    SETTING_TILE_URL,      /* http(s)://… holding {z} {x} {y}, or "" for none */
    SETTING_DAYS,          /* a decimal number of days ("90", "0.5", "0.00002") within
                              CONFIG_DAYS_MIN..CONFIG_DAYS_MAX -> long long milliseconds */
    SETTING_NODES,         /* comma-separated HOST:PORT, at most CONFIG_MAX_NODES -> sentinels */
    SETTING_NAME,          /* "" or min..max characters of [A-Za-z0-9_.-] */
};

/* The bounds of SETTING_DAYS: from 0.00001 day (0.864 s, so that tests can use seconds) to 100
 * years. */
#define CONFIG_DAYS_MIN_TEXT "0.00001"
#define CONFIG_DAYS_MAX 36500
#define CONFIG_DAYS_FRACTION_MAX 9 /* digits after the point */
#define CONFIG_MS_PER_DAY 86400000ULL

struct setting {
    const char *env;     /* environment variable */
    const char *flag;    /* long flag without its leading "--" */
    const char *metavar; /* what the value looks like, for --help */
    const char *def;     /* default as it would be written; "" = none */
    enum setting_kind kind;
    long min, max; /* bounds of SETTING_INT, SETTING_SIZE, lengths of SETTING_KEY_PREFIX; min:
                      the shortest SETTING_TOKEN(_LIST) value (each token) when set */
    int secret;    /* never repeated in messages or help */
    size_t offset; /* the field of struct config, for the kinds that fill a single field */
    const char *help;
};

#define FIELD(name) offsetof(struct config, name)

static const struct setting config_settings[] = {
    {.env = "ESS_LISTEN",
     .flag = "listen",
     .metavar = "HOST:PORT",
     .def = "127.0.0.1:8080",
     .kind = SETTING_LISTEN,
     .min = 0,
     .max = 65535,
     .help = "address and port of the HTTP server ([::1]:8080 for IPv6; port 0 picks a free one)"},
    {.env = "ESS_REDIS_URL",
     .flag = "redis-url",
     .metavar = "URL",
     .def = "redis://127.0.0.1:6379/0",
     .kind = SETTING_REDIS_URL,
     .min = 0,
     .max = CONFIG_REDIS_MAX_DB,
     .help = "the Redis server, redis://[[user]:password@]host[:port][/db]; with "
             "ESS_REDIS_SENTINELS its password and database only"},
    {.env = "ESS_REDIS_SENTINELS",
     .flag = "redis-sentinels",
     .metavar = "HOST:PORT,...",
     .def = "",
     .kind = SETTING_NODES,
     .help = "Redis Sentinels that name the primary (with ESS_REDIS_MASTER); unset: "
             "ESS_REDIS_URL's server"},
    {.env = "ESS_REDIS_MASTER",
     .flag = "redis-master",
     .metavar = "NAME",
     .def = "",
     .kind = SETTING_NAME,
     .min = 1,
     .max = 64,
     .offset = FIELD(redis_master),
     .help = "the name the Sentinels monitor the primary under"},
    {.env = "ESS_REDIS_WAIT_REPLICAS",
     .flag = "redis-wait-replicas",
     .metavar = "N",
     .def = "0",
     .kind = SETTING_INT,
     .min = 0,
     .max = 16,
     .offset = FIELD(redis_wait_replicas),
     .help = "the fewest replicas that must hold a new case or LINE event before it is answered "
             "2xx (WAIT; every replica in sync must hold it too)"},
    {.env = "ESS_REDIS_WAIT_TIMEOUT_MS",
     .flag = "redis-wait-timeout",
     .metavar = "MS",
     .def = "1000",
     .kind = SETTING_INT,
     .min = 10,
     .max = 60000,
     .offset = FIELD(redis_wait_timeout_ms),
     .help = "how long WAIT waits for the replicas before the request is answered 503"},
    {.env = "ESS_OUTBOX_TICK_MS",
     .flag = "outbox-tick",
     .metavar = "MS",
     .def = "1000",
     .kind = SETTING_INT,
     .min = 100,
     .max = 60000,
     .offset = FIELD(outbox_tick_ms),
     .help = "how often the outbox looks for due messages (LINE, dispatches, retries, those of a "
             "router that stopped) besides the wake-up each write that queues one gives it"},
    {.env = "ESS_KEY_PREFIX",
     .flag = "key-prefix",
     .metavar = "PREFIX",
     .def = "ess:",
     .kind = SETTING_KEY_PREFIX,
     .min = 1,
     .max = 64,
     .offset = FIELD(key_prefix),
     .help = "prefix of every Redis key (1-64 characters of A-Z a-z 0-9 : _ . -)"},
    {.env = "ESS_RULES",
     .flag = "rules",
     .metavar = "PATH",
     .def = "rules/rules.json",
     .kind = SETTING_PATH,
     .offset = FIELD(rules_path),
     .help = "the rule table (JSON)"},
    {.env = "ESS_TRIAGE_MODEL",
     .flag = "triage-model",
     .metavar = "PATH",
     .def = "auto",
     .kind = SETTING_PATH_OPTIONAL,
     .offset = FIELD(triage_model_path),
     .help = "the triage model's weights (scripts/train-triage); auto: triage-model.tsv beside "
             "the rule table when there is one; none: the keywords classify"},
    {.env = "ESS_ADMIN_TOKEN",
     .flag = "admin-token",
     .metavar = "TOKEN",
     .def = "",
     .kind = SETTING_TOKEN,
     .min = 32,
     .secret = 1,
     .offset = FIELD(admin_token),
     .help = "bearer token of the admin API, at least 32 characters; unset: admin API off"},
    {.env = "ESS_OPERATOR_TOKENS",
     .flag = "operator-tokens",
     .metavar = "ID=TOKEN,...",
     .def = "",
     .kind = SETTING_TOKEN_LIST,
     .min = 32,
     .secret = 1,
     .help = "comma-separated bearer tokens of call-centre software and scripts, each id=token "
             "(the id the timeline records, [a-z0-9][a-z0-9_-]{0,63}) or a bare token (id "
             "operator-N, N its position); tokens at least 32 characters"},
    {.env = "ESS_SESSION_IDLE_S",
     .flag = "session-idle",
     .metavar = "SECONDS",
     .def = "1800",
     .kind = SETTING_INT,
     .min = 1,
     .max = 43200,
     .offset = FIELD(session_idle_s),
     .help = "a console session ends after this long without a request (and after 12 hours in "
             "any case)"},
    {.env = "ESS_FEED_VISIBILITY_S",
     .flag = "feed-visibility-s",
     .metavar = "SECONDS",
     .def = "60",
     .kind = SETTING_INT,
     .min = 1,
     .max = 86400,
     .offset = FIELD(feed_visibility_s),
     .help = "an agency's feed entry read and not acknowledged within this long is delivered "
             "again"},
    {.env = "ESS_AUDIT_RETENTION_DAYS",
     .flag = "audit-retention-days",
     .metavar = "DAYS",
     .def = "730",
     .kind = SETTING_DAYS,
     .offset = FIELD(audit_retention_ms),
     .help = "entries of the audit log (who read or changed which case, log-ins) are kept this "
             "many days, a decimal number (0.5 is 12 hours)"},
    {.env = "ESS_RETENTION_DAYS",
     .flag = "retention-days",
     .metavar = "DAYS",
     .def = "90",
     .kind = SETTING_DAYS,
     .offset = FIELD(retention_ms),
     .help = "a closed case's personal data (reporter, description, address, LINE id, chat, note "
             "texts; coordinates rounded to 0.01 degree) is erased this many days after it was "
             "closed, a decimal number"},
    {.env = "ESS_TRACK_RETENTION_DAYS",
     .flag = "track-retention-days",
     .metavar = "DAYS",
     .def = "30",
     .kind = SETTING_DAYS,
     .offset = FIELD(track_retention_ms),
     .help = "a closed case's public e-Tracking view is deleted this many days after it was "
             "closed (its code then answers 404), a decimal number"},
    {.env = "ESS_PUBLIC_URL",
     .flag = "public-url",
     .metavar = "URL",
     .def = "",
     .kind = SETTING_ORIGIN,
     .offset = FIELD(public_url),
     .help = "where the public reaches this router, http(s)://host[:port] without a path (e.g. "
             "https://help.example.go.th): the LINE bot's tracking-code reply links to "
             "URL/track/{code}, and https:// marks the session cookie Secure; unset: none"},
    {.env = "ESS_MAP_TILES",
     .flag = "map-tiles",
     .metavar = "URL",
     .def = "",
     .kind = SETTING_TILE_URL,
     .offset = FIELD(map_tiles),
     .help = "map tile URL template of the console, http(s)://… with {z} {x} {y} (e.g. "
             "https://tile.openstreetmap.org/{z}/{x}/{y}.png); unset: no base map"},
    {.env = "ESS_METRICS_TOKEN",
     .flag = "metrics-token",
     .metavar = "TOKEN",
     .def = "",
     .kind = SETTING_TOKEN,
     .min = 32,
     .secret = 1,
     .offset = FIELD(metrics_token),
     .help = "bearer token /metrics requires, at least 32 characters; unset: /metrics is open"},
    {.env = "LINE_CHANNEL_SECRET",
     .flag = "line-channel-secret",
     .metavar = "SECRET",
     .def = "",
     .kind = SETTING_TOKEN,
     .secret = 1,
     .offset = FIELD(line_channel_secret),
     .help = "LINE channel secret, verifies X-Line-Signature; unset: LINE webhook off"},
    {.env = "LINE_CHANNEL_ACCESS_TOKEN",
     .flag = "line-channel-access-token",
     .metavar = "TOKEN",
     .def = "",
     .kind = SETTING_TOKEN,
     .secret = 1,
     .offset = FIELD(line_channel_access_token),
     .help = "LINE channel access token, authorises replies and pushes"},
    {.env = "LINE_API_BASE",
     .flag = "line-api-base",
     .metavar = "URL",
     .def = "https://api.line.me",
     .kind = SETTING_HTTP_BASE,
     .offset = FIELD(line_api_base),
     .help = "where LINE replies and pushes go (http:// or https://)"},
    {.env = "ESS_LINE_ABANDON_S",
     .flag = "line-abandon",
     .metavar = "SECONDS",
     .def = "120",
     .kind = SETTING_INT,
     .min = 1,
     .max = 86400,
     .offset = FIELD(line_abandon_s),
     .help = "a LINE report left after its category, before its location, becomes a case "
             "(queued, no_location) after this long"},
    {.env = "ESS_CHAT_WAIT_S",
     .flag = "chat-wait",
     .metavar = "SECONDS",
     .def = "120",
     .kind = SETTING_INT,
     .min = 1,
     .max = 86400,
     .offset = FIELD(chat_wait_s),
     .help = "a LINE reporter waiting this long with nobody taking the chat is escalated to "
             "supervisors"},
    {.env = "ESS_TOKEN_SECRET",
     .flag = "token-secret",
     .metavar = "SECRET",
     .def = "",
     .kind = SETTING_TOKEN,
     .min = 32,
     .secret = 1,
     .offset = FIELD(token_secret),
     .help = "key team tokens are derived from, at least 32 characters (required: this or "
             "ESS_TOKEN_SECRET_FILE)"},
    {.env = "ESS_TOKEN_SECRET_FILE",
     .flag = "token-secret-file",
     .metavar = "PATH",
     .def = "",
     .kind = SETTING_PATH_OPTIONAL,
     .offset = FIELD(token_secret_file),
     .help = "a file holding ESS_TOKEN_SECRET (readable by the router only)"},
    {.env = "ESS_WEBHOOK_ALLOW_NETS",
     .flag = "webhook-allow-nets",
     .metavar = "CIDR,...",
     .def = "",
     .kind = SETTING_NETS,
     .offset = FIELD(webhook_allow_nets),
     .help = "private networks team webhooks may reach (e.g. 10.20.0.0/16); unset: public "
             "addresses only"},
    {.env = "ESS_SUPERVISOR_WEBHOOK",
     .flag = "supervisor-webhook",
     .metavar = "URL",
     .def = "",
     .kind = SETTING_HTTP_OPTIONAL,
     .offset = FIELD(supervisor_webhook),
     .help = "where escalated cases are announced (POST of JSON); unset: nowhere"},
    {.env = "ESS_SUPERVISOR_LINE_TO",
     .flag = "supervisor-line-to",
     .metavar = "ID",
     .def = "",
     .kind = SETTING_TOKEN,
     .offset = FIELD(supervisor_line_to),
     .help = "LINE group told of escalated cases; unset: none"},
    {.env = "ESS_SUPERVISOR_SECRET",
     .flag = "supervisor-secret",
     .metavar = "SECRET",
     .def = "",
     .kind = SETTING_TOKEN,
     .secret = 1,
     .offset = FIELD(supervisor_secret),
     .help = "key of the supervisor webhook's X-ESS-Signature; unset: notices go unsigned"},
    {.env = "ESS_LOG_LEVEL",
     .flag = "log-level",
     .metavar = "LEVEL",
     .def = "info",
     .kind = SETTING_LOG_LEVEL,
     .offset = FIELD(log_level),
     .help = "least severe level logged: debug, info, warn or error"},
    {.env = "ESS_MAX_BODY_BYTES",
     .flag = "max-body-bytes",
     .metavar = "BYTES",
     .def = "65536",
     .kind = SETTING_SIZE,
     .min = 1024,
     .max = 1048576,
     .offset = FIELD(max_body_bytes),
     .help = "largest request body accepted"},
    {.env = "ESS_REQUEST_TIMEOUT_S",
     .flag = "request-timeout",
     .metavar = "SECONDS",
     .def = "10",
     .kind = SETTING_INT,
     .min = 1,
     .max = 300,
     .offset = FIELD(request_timeout_s),
     .help = "a request's deadline, from when its connection is ready for it to its last byte"},
    {.env = "ESS_MAX_CONNECTIONS",
     .flag = "max-connections",
     .metavar = "N",
     .def = "1000",
     .kind = SETTING_INT,
     .min = 1,
     .max = 100000,
     .offset = FIELD(max_connections),
     .help = "client connections open at once; more are closed as they come"},
    {.env = "ESS_MAX_CONNECTIONS_PER_CLIENT",
     .flag = "max-connections-per-client",
     .metavar = "N",
     .def = "32",
     .kind = SETTING_INT,
     .min = 0,
     .max = 100000,
     .offset = FIELD(max_conns_per_client),
     .help = "client connections open at once from one address (IPv6: one /64); 0 = no cap"},
    {.env = "ESS_TRACK_RATE_PER_MIN",
     .flag = "track-rate-per-min",
     .metavar = "N",
     .def = "30",
     .kind = SETTING_INT,
     .min = 1,
     .max = 1000000000,
     .offset = FIELD(track_rate_per_min),
     .help = "tracking-code lookups per client address and minute (all routers together)"},
    {.env = "ESS_TRUSTED_PROXIES",
     .flag = "trusted-proxies",
     .metavar = "CIDR,...",
     .def = "",
     .kind = SETTING_NETS,
     .offset = FIELD(trusted_proxies),
     .help = "proxies whose X-Forwarded-For names the client (its last address); unset: none"},
    {.env = "ESS_DRAIN_TIMEOUT_S",
     .flag = "drain-timeout",
     .metavar = "SECONDS",
     .def = "10",
     .kind = SETTING_INT,
     .min = 0,
     .max = 300,
     .offset = FIELD(drain_timeout_s),
     .help = "how long SIGTERM waits for requests in flight"},
    {.env = "ESS_REUSE_PORT",
     .flag = "reuse-port",
     .metavar = "BOOL",
     .def = "0",
     .kind = SETTING_BOOL,
     .offset = FIELD(reuse_port),
     .help = "SO_REUSEPORT, so several processes share the port (1/0, true/false, yes/no)"},
    {.env = "ESS_MAX_EVENT_STREAMS",
     .flag = "max-event-streams",
     .metavar = "N",
     .def = "1000",
     .kind = SETTING_INT,
     .min = 0,
     .max = 100000,
     .offset = FIELD(max_event_streams),
     .help = "live-update streams (GET /v1/events) open at once in this process; more get 503 "
             "(each is also a connection under ESS_MAX_CONNECTIONS)"},
    {.env = "ESS_EVENTS_HEARTBEAT_S",
     .flag = "events-heartbeat",
     .metavar = "SECONDS",
     .def = "15",
     .kind = SETTING_INT,
     .min = 1,
     .max = 300,
     .offset = FIELD(events_heartbeat_s),
     .help = "a comment line is sent on every live-update stream this often, so that proxies "
             "keep it open"},
    {.env = "ESS_EVENTS_BUFFER_BYTES",
     .flag = "events-buffer-bytes",
     .metavar = "BYTES",
     .def = "262144",
     .kind = SETTING_SIZE,
     .min = 4096,
     .max = 67108864,
     .offset = FIELD(events_buffer_bytes),
     .help = "output a live-update stream may have waiting for its client; a client further "
             "behind is dropped (it resumes with Last-Event-ID)"},
};

#define CONFIG_NSETTINGS (sizeof config_settings / sizeof config_settings[0])

/* Blanks that values may carry around them (env files written on Windows bring a \r). */
static int config_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int config_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int config_is_alnum(char c)
{
    return config_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Narrows s[0..*len) to its part without surrounding blanks; returns the new start. */
static const char *config_trim(const char *s, size_t *len)
{
    size_t n = *len;

    while (n > 0 && config_is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && config_is_blank(s[n - 1])) n--;
    *len = n;
    return s;
}

/* Parses s[0..n) as a plain decimal (an optional '-' then digits) within [min, max]. */
static int config_parse_long(const char *s, size_t n, long min, long max, long *out)
{
    long long v = 0;
    size_t i = 0;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 18) return -1; /* nothing, or too many digits for a long */
    for (; i < n; i++) {
        if (!config_is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (neg) v = -v;
    if (v < min || v > max) return -1;
    *out = (long)v;
    return 0;
}

static void config_set_reason(char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
}

/* Parses s[0..n) as a decimal number of days, digits with at most one point and at most
 * CONFIG_DAYS_FRACTION_MAX digits after it, from CONFIG_DAYS_MIN_TEXT to CONFIG_DAYS_MAX, into
 * milliseconds (rounded to the nearest). Exact: no floating point. 0, or -1. */
static int config_parse_days(const char *s, size_t n, long long *ms)
{
    unsigned long long whole = 0, frac = 0, scale = 1;
    size_t i = 0, int_digits = 0, frac_digits = 0;

    for (; i < n && config_is_digit(s[i]); i++, int_digits++) {
        if (int_digits >= 5) return -1; /* more than 99999 days */
        whole = whole * 10 + (unsigned long long)(s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && config_is_digit(s[i]); i++, frac_digits++) {
            if (frac_digits >= CONFIG_DAYS_FRACTION_MAX) return -1;
            frac = frac * 10 + (unsigned long long)(s[i] - '0');
            scale *= 10;
        }
        if (frac_digits == 0) return -1; /* "90." */
    }
    if (i != n || int_digits + frac_digits == 0) return -1;
    /* at least 0.00001: (whole + frac / scale) * 10^5 >= 1 */
    if ((whole * scale + frac) * 100000ULL < scale) return -1;
    if (whole > CONFIG_DAYS_MAX || (whole == CONFIG_DAYS_MAX && frac > 0)) return -1;
    *ms = (long long)(whole * CONFIG_MS_PER_DAY + (frac * CONFIG_MS_PER_DAY + scale / 2) / scale);
    return 0;
}

/* Replaces the string field *slot with s[0..n). 0, or -1 when memory runs out (slot untouched). */
static int config_set_string(char **slot, const char *s, size_t n)
{
    char *copy = text_dup_len(s, n);

    if (copy == NULL) return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* Parses a port s[0..n): 1 to 5 digits within [min_port, 65535]. */
static int config_parse_port(const char *s, size_t n, long min_port, int *port)
{
    long v;

    if (n == 0 || n > 5 || config_parse_long(s, n, min_port, 65535, &v) != 0 || s[0] == '-') {
        return -1;
    }
    *port = (int)v;
    return 0;
}

/* Parses "host:port", "[ipv6]:port", or, when default_port >= 0, the same without the port.
 * *host receives a heap string (without brackets) the caller owns; untouched on error. */
static int config_parse_host_port(const char *s, size_t n, int default_port, long min_port,
                                  char **host, int *port, char *why, size_t whylen)
{
    const char *h, *rest;
    size_t hlen, restlen;
    int p = default_port;
    char *copy = NULL;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (close == NULL) {
            config_set_reason(why, whylen, "'[' without its ']'");
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(close - h);
        rest = close + 1;
        restlen = n - (size_t)(rest - s);
        if (hlen == 0 || memchr(h, ':', hlen) == NULL) {
            config_set_reason(why, whylen, "expected an IPv6 address inside [ ]");
            return -1;
        }
        for (size_t i = 0; i < hlen; i++) {
            char c = h[i];
            if (!(config_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.')) {
                config_set_reason(why, whylen, "expected an IPv6 address inside [ ]");
                return -1;
            }
        }
    } else {
        const char *colon = memchr(s, ':', n);

        if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) != NULL) {
            config_set_reason(why, whylen, "an IPv6 address must be in brackets, e.g. [::1]:8080");
            return -1;
        }
        h = s;
        hlen = colon != NULL ? (size_t)(colon - s) : n;
        rest = h + hlen;
        restlen = n - hlen;
        if (hlen == 0) {
            config_set_reason(why, whylen, "the host is missing");
            return -1;
        }
        for (size_t i = 0; i < hlen; i++) {
            char c = h[i];
            if (!(config_is_alnum(c) || c == '.' || c == '-' || c == '_')) {
                config_set_reason(why, whylen, "the host may hold only A-Z a-z 0-9 . - _");
                return -1;
            }
        }
    }
    if (hlen > CONFIG_MAX_HOST) {
        config_set_reason(why, whylen, "the host name is too long");
        return -1;
    }
    if (restlen == 0) {
        if (default_port < 0) {
            config_set_reason(why, whylen, "the port is missing (expected HOST:PORT)");
            return -1;
        }
    } else if (rest[0] != ':' || config_parse_port(rest + 1, restlen - 1, min_port, &p) != 0) {
        snprintf(why, whylen, "the port must be a number from %ld to 65535", min_port);
        return -1;
    }
    copy = text_dup_len(h, hlen);
    if (copy == NULL) {
        config_set_reason(why, whylen, "out of memory");
        return -1;
    }
    free(*host);
    *host = copy;
    *port = p;
    return 0;
}

/* Parses redis://[[user]:password@]host[:port][/db] into the redis_* fields of cfg. The user
 * name, when given, is accepted and not kept. Fields are only replaced when all of it is valid. */
static int config_apply_redis_url(struct config *cfg, const char *v, size_t n, char *why,
                                  size_t whylen)
{
    static const char scheme[] = "redis://";
    const size_t slen = sizeof scheme - 1;
    const char *p, *end = v + n, *at = NULL, *hostpart, *slash;
    char *host = NULL, *password = NULL, *url = NULL;
    int port = CONFIG_REDIS_DEFAULT_PORT, db = 0, rc = -1;

    if (n < slen || strncasecmp(v, scheme, slen) != 0) {
        config_set_reason(why, whylen, "expected redis://[[user]:password@]host[:port][/db]");
        goto cleanup;
    }
    p = v + slen;
    for (const char *q = p; q < end; q++) {
        if (*q == '@') at = q;
        if ((unsigned char)*q <= 0x20 || *q == 0x7F) {
            config_set_reason(why, whylen, "blanks and control characters are not allowed");
            goto cleanup;
        }
    }
    hostpart = at != NULL ? at + 1 : p;
    if (memchr(hostpart, '?', (size_t)(end - hostpart)) != NULL ||
        memchr(hostpart, '#', (size_t)(end - hostpart)) != NULL) {
        config_set_reason(why, whylen, "query strings and fragments are not supported");
        goto cleanup;
    }
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));

        if (colon == NULL) {
            config_set_reason(why, whylen, "the user info must be :password or user:password");
            goto cleanup;
        }
        password = text_percent_decode(colon + 1, (size_t)(at - colon - 1));
        if (password == NULL) {
            config_set_reason(why, whylen, "bad %-escape in the password");
            goto cleanup;
        }
    } else {
        password = text_dup_len("", 0);
        if (password == NULL) {
            config_set_reason(why, whylen, "out of memory");
            goto cleanup;
        }
    }
    slash = memchr(hostpart, '/', (size_t)(end - hostpart));
    if (config_parse_host_port(hostpart, (size_t)((slash != NULL ? slash : end) - hostpart),
                               CONFIG_REDIS_DEFAULT_PORT, 1, &host, &port, why, whylen) != 0) {
        goto cleanup;
    }
    if (slash != NULL && slash + 1 < end) {
        long d;

        if (config_parse_long(slash + 1, (size_t)(end - slash - 1), 0, CONFIG_REDIS_MAX_DB, &d) !=
                0 ||
            slash[1] == '-') {
            snprintf(why, whylen, "the database must be a number from 0 to %d",
                     CONFIG_REDIS_MAX_DB);
            goto cleanup;
        }
        db = (int)d;
    }
    url = text_dup_len(v, n);
    if (url == NULL) {
        config_set_reason(why, whylen, "out of memory");
        goto cleanup;
    }
    free(cfg->redis_url);
    cfg->redis_url = url;
    url = NULL;
    free(cfg->redis_host);
    cfg->redis_host = host;
    host = NULL;
    free(cfg->redis_password);
    cfg->redis_password = password;
    password = NULL;
    cfg->redis_port = port;
    cfg->redis_db = db;
    rc = 0;
cleanup:
    free(url);
    free(host);
    free(password);
    return rc;
}

static void config_free_nodes(struct config_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) free(nodes[i].host);
}

/* Splits v[0..n) on commas into cfg->sentinels: each item HOST:PORT or [IPv6]:PORT, blanks
 * around items trimmed, empty items dropped, at most CONFIG_MAX_NODES. The old list is replaced
 * only when all of it is valid. */
static int config_apply_nodes(struct config *cfg, const char *v, size_t n, char *why, size_t whylen)
{
    struct config_node nodes[CONFIG_MAX_NODES] = {{0}};
    size_t count = 0, start = 0;

    while (start <= n) {
        const char *comma = memchr(v + start, ',', n - start);
        size_t end = comma != NULL ? (size_t)(comma - v) : n, len = end - start;
        const char *item = config_trim(v + start, &len);
        char reason[128];

        if (len > 0) {
            if (count == CONFIG_MAX_NODES) {
                snprintf(why, whylen, "at most %d Sentinels", CONFIG_MAX_NODES);
                config_free_nodes(nodes, count);
                return -1;
            }
            if (config_parse_host_port(item, len, -1, 1, &nodes[count].host, &nodes[count].port,
                                       reason, sizeof reason) != 0) {
                snprintf(why, whylen, "Sentinel %zu: %s", count + 1, reason);
                config_free_nodes(nodes, count);
                return -1;
            }
            count++;
        }
        start = end + 1;
    }
    config_free_nodes(cfg->sentinels, cfg->nsentinels);
    memcpy(cfg->sentinels, nodes, sizeof nodes);
    cfg->nsentinels = count;
    return 0;
}

/* 1 when s[0..n) has a blank or a control character anywhere. */
static int config_has_blank_or_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F) return 1;
    }
    return 0;
}

static void config_free_tokens(char **tokens, size_t n)
{
    if (tokens == NULL) return;
    for (size_t i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
}

void config_token_entry(const char *item, size_t n, size_t min, size_t *id_len, size_t *token_at)
{
    const char *eq = memchr(item, '=', n);
    size_t idn = eq != NULL ? (size_t)(eq - item) : 0;

    *id_len = 0;
    *token_at = 0;
    if (eq == NULL || !text_id_valid(item, idn)) return;
    if (n - idn - 1 < min || config_has_blank_or_control(eq + 1, n - idn - 1)) return;
    *id_len = idn;
    *token_at = idn + 1;
}

/* Splits v[0..n) on commas into cfg->operator_tokens and cfg->operator_ids: blanks around items
 * trimmed, empty items dropped; an entry is "id=token" or a bare token whose id is operator-N (N
 * its 1-based position among the entries). Two entries with one id are refused. The old lists
 * are replaced only when all of it is valid. Messages never repeat a token. */
static int config_apply_token_list(struct config *cfg, const char *v, size_t n, size_t min,
                                   char *why, size_t whylen)
{
    char **tokens = NULL, **ids = NULL;
    size_t count = 0, cap = 1, i = 0;
    int rc = -1;

    for (size_t k = 0; k < n; k++) cap += v[k] == ',';
    tokens = calloc(cap, sizeof *tokens);
    ids = calloc(cap, sizeof *ids);
    if (tokens == NULL || ids == NULL) {
        config_set_reason(why, whylen, "out of memory");
        goto cleanup;
    }
    while (i <= n) {
        const char *comma = memchr(v + i, ',', n - i);
        size_t itemlen = (comma != NULL ? (size_t)(comma - v) : n) - i;
        const char *item = config_trim(v + i, &itemlen);

        if (itemlen > 0) {
            size_t id_len, at;
            char bare_id[32];

            config_token_entry(item, itemlen, min, &id_len, &at);
            if (config_has_blank_or_control(item + at, itemlen - at)) {
                snprintf(why, whylen, "token %zu holds a blank or a control character", count + 1);
                goto cleanup;
            }
            if (itemlen - at < min) {
                snprintf(
                    why, whylen,
                    "token %zu must be at least %zu characters long (make one with: openssl rand "
                    "-hex 32)",
                    count + 1, min);
                goto cleanup;
            }
            snprintf(bare_id, sizeof bare_id, "operator-%zu", count + 1);
            tokens[count] = text_dup_len(item + at, itemlen - at);
            ids[count] = id_len ? text_dup_len(item, id_len) : text_dup(bare_id);
            count++;
            if (tokens[count - 1] == NULL || ids[count - 1] == NULL) {
                config_set_reason(why, whylen, "out of memory");
                goto cleanup;
            }
            for (size_t k = 0; k + 1 < count; k++) {
                if (strcmp(ids[k], ids[count - 1]) == 0) {
                    snprintf(why, whylen, "tokens %zu and %zu have the same operator id", k + 1,
                             count);
                    goto cleanup;
                }
            }
        }
        if (comma == NULL) break;
        i = (size_t)(comma - v) + 1;
    }
    config_free_tokens(cfg->operator_tokens, cfg->noperator_tokens);
    config_free_tokens(cfg->operator_ids, cfg->noperator_tokens);
    cfg->operator_tokens = tokens;
    cfg->operator_ids = ids;
    cfg->noperator_tokens = count;
    tokens = ids = NULL;
    rc = 0;
cleanup:
    config_free_tokens(tokens, count);
    config_free_tokens(ids, count);
    return rc;
}

/* Validates LINE_API_BASE-like values: http:// or https://, a host, no blanks, no query. */
static int config_apply_http_base(char **slot, const char *v, size_t n, char *why, size_t whylen)
{
    size_t skip;

    if (n >= 7 && strncasecmp(v, "http://", 7) == 0) {
        skip = 7;
    } else if (n >= 8 && strncasecmp(v, "https://", 8) == 0) {
        skip = 8;
    } else {
        config_set_reason(why, whylen, "must start with http:// or https://");
        return -1;
    }
    if (config_has_blank_or_control(v, n)) {
        config_set_reason(why, whylen, "blanks and control characters are not allowed");
        return -1;
    }
    if (memchr(v, '?', n) != NULL || memchr(v, '#', n) != NULL) {
        config_set_reason(why, whylen, "query strings and fragments are not allowed");
        return -1;
    }
    while (n > skip && v[n - 1] == '/') n--;
    if (n == skip || v[skip] == '/') {
        config_set_reason(why, whylen, "the host is missing");
        return -1;
    }
    if (config_set_string(slot, v, n) != 0) {
        config_set_reason(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

/* Validates ESS_PUBLIC_URL: http:// or https://, a host (name, IPv4 or [IPv6]) and an optional
 * port, no path (one trailing slash is dropped), no user info, query or fragment. */
static int config_apply_origin(char **slot, const char *v, size_t n, char *why, size_t whylen)
{
    size_t skip = n >= 8 && strncasecmp(v, "https://", 8) == 0  ? 8
                  : n >= 7 && strncasecmp(v, "http://", 7) == 0 ? 7
                                                                : 0;
    char *host = NULL;
    int port;

    if (skip == 0) {
        config_set_reason(why, whylen, "must start with http:// or https://");
        return -1;
    }
    if (n > skip && v[n - 1] == '/') n--;
    if (memchr(v + skip, '/', n - skip) != NULL || memchr(v, '?', n) || memchr(v, '#', n)) {
        config_set_reason(why, whylen, "must be http(s)://host[:port] without a path or query");
        return -1;
    }
    if (memchr(v, '@', n) != NULL) {
        config_set_reason(why, whylen, "must not hold user info (user@)");
        return -1;
    }
    if (config_parse_host_port(v + skip, n - skip, skip == 8 ? 443 : 80, 1, &host, &port, why,
                               whylen) != 0)
        return -1;
    free(host);
    if (config_set_string(slot, v, n) != 0) {
        config_set_reason(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

/* Validates ESS_MAP_TILES: an http(s) URL (as config_apply_http_base, a query allowed) holding
 * {z}, {x} and {y}, without quotes, angle brackets or backslashes (it goes into a page and a
 * Content-Security-Policy). */
static int config_apply_tile_url(char **slot, const char *v, size_t n, char *why, size_t whylen)
{
    char *copy;

    if (!((n >= 7 && strncasecmp(v, "http://", 7) == 0) ||
          (n >= 8 && strncasecmp(v, "https://", 8) == 0))) {
        config_set_reason(why, whylen, "must start with http:// or https://");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7F || strchr("\"'<>\\;", v[i]) != NULL) {
            config_set_reason(why, whylen,
                              "blanks, control characters, quotes, <, >, ; and \\ are not allowed");
            return -1;
        }
    copy = text_dup_len(v, n);
    if (copy == NULL) {
        config_set_reason(why, whylen, "out of memory");
        return -1;
    }
    if (!strstr(copy, "{z}") || !strstr(copy, "{x}") || !strstr(copy, "{y}")) {
        free(copy);
        config_set_reason(why, whylen, "must hold {z}, {x} and {y}");
        return -1;
    }
    {
        const char *host = copy + (copy[4] == 's' || copy[4] == 'S' ? 8 : 7);
        if (*host == '\0' || *host == '/' || *host == '{') {
            free(copy);
            config_set_reason(why, whylen, "the host is missing (tiles need a fixed host)");
            return -1;
        }
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static int config_parse_bool(const char *v, size_t n, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strlen(yes[i]) == n && strncasecmp(v, yes[i], n) == 0) {
            *out = 1;
            return 0;
        }
        if (strlen(no[i]) == n && strncasecmp(v, no[i], n) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Checks that v[0..n) is s->min to s->max characters of A-Z a-z 0-9 and punct. 0, or -1 with
 * the reason in why. */
static int config_check_name(const char *v, size_t n, const struct setting *s, const char *punct,
                             char *why, size_t whylen)
{
    if (n < (size_t)s->min || n > (size_t)s->max) {
        snprintf(why, whylen, "must be %ld to %ld characters long", s->min, s->max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!config_is_alnum(v[i]) && (v[i] == '\0' || strchr(punct, v[i]) == NULL)) {
            snprintf(why, whylen, "may hold only A-Z a-z 0-9 and %s", punct);
            return -1;
        }
    }
    return 0;
}

/* Parses raw for setting s and stores it in cfg. 0, or -1 with the reason (never the value) in
 * why; on error the fields of s keep their previous values. */
static int config_apply(struct config *cfg, const struct setting *s, const char *raw, char *why,
                        size_t whylen)
{
    size_t n = strlen(raw);
    const char *v = config_trim(raw, &n);
    char *base = (char *)cfg;
    long num;

    if (n == 0 && s->kind != SETTING_TOKEN && s->kind != SETTING_TOKEN_LIST &&
        s->kind != SETTING_HTTP_OPTIONAL && s->kind != SETTING_PATH_OPTIONAL &&
        s->kind != SETTING_NETS && s->kind != SETTING_ORIGIN && s->kind != SETTING_TILE_URL &&
        s->kind != SETTING_NODES && s->kind != SETTING_NAME) {
        config_set_reason(why, whylen, "must not be empty");
        return -1;
    }
    switch (s->kind) {
    case SETTING_LISTEN:
        return config_parse_host_port(v, n, -1, s->min, &cfg->listen_host, &cfg->listen_port, why,
                                      whylen);
    case SETTING_REDIS_URL:
        return config_apply_redis_url(cfg, v, n, why, whylen);
    case SETTING_KEY_PREFIX:
        if (config_check_name(v, n, s, ":_.-", why, whylen) != 0) return -1;
        break;
    case SETTING_PATH:
    case SETTING_PATH_OPTIONAL:
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F) {
                config_set_reason(why, whylen, "control characters are not allowed");
                return -1;
            }
        }
        break;
    case SETTING_TOKEN:
        if (config_has_blank_or_control(v, n)) {
            config_set_reason(why, whylen, "must not hold blanks or control characters");
            return -1;
        }
        if (n > 0 && n < (size_t)s->min) {
            snprintf(why, whylen,
                     "must be at least %ld characters long (make one with: openssl rand -hex 32)",
                     s->min);
            return -1;
        }
        break;
    case SETTING_TOKEN_LIST:
        return config_apply_token_list(cfg, v, n, (size_t)s->min, why, whylen);
    case SETTING_NODES:
        return config_apply_nodes(cfg, v, n, why, whylen);
    case SETTING_NAME:
        if (n > 0 && config_check_name(v, n, s, "_.-", why, whylen) != 0) return -1;
        break;
    case SETTING_NETS: {
        struct net_list list;
        if (net_list_parse(v, n, &list, why, whylen) != 0) return -1;
        *(struct net_list *)(base + s->offset) = list;
        return 0;
    }
    case SETTING_HTTP_BASE:
        return config_apply_http_base((char **)(base + s->offset), v, n, why, whylen);
    case SETTING_HTTP_OPTIONAL:
        if (n > 0) return config_apply_http_base((char **)(base + s->offset), v, n, why, whylen);
        break;
    case SETTING_ORIGIN:
        if (n > 0) return config_apply_origin((char **)(base + s->offset), v, n, why, whylen);
        break;
    case SETTING_TILE_URL:
        if (n > 0) return config_apply_tile_url((char **)(base + s->offset), v, n, why, whylen);
        break;
    case SETTING_LOG_LEVEL: {
        char name[8];
        int level;

        if (n >= sizeof name) {
            config_set_reason(why, whylen, "expected debug, info, warn or error");
            return -1;
        }
        memcpy(name, v, n);
        name[n] = '\0';
        level = log_level_parse(name);
        if (level < 0) {
            config_set_reason(why, whylen, "expected debug, info, warn or error");
            return -1;
        }
        *(int *)(base + s->offset) = level;
        return 0;
    }
    case SETTING_INT:
    case SETTING_SIZE:
        if (config_parse_long(v, n, s->min, s->max, &num) != 0) {
            snprintf(why, whylen, "expected a whole number from %ld to %ld", s->min, s->max);
            return -1;
        }
        if (s->kind == SETTING_INT) {
            *(int *)(base + s->offset) = (int)num;
        } else {
            *(size_t *)(base + s->offset) = (size_t)num;
        }
        return 0;
    case SETTING_BOOL:
        if (config_parse_bool(v, n, (int *)(base + s->offset)) != 0) {
            config_set_reason(why, whylen, "expected 1/0, true/false, yes/no or on/off");
            return -1;
        }
        return 0;
    case SETTING_DAYS:
        if (config_parse_days(v, n, (long long *)(base + s->offset)) != 0) {
            snprintf(why, whylen, "expected a number of days from %s to %d (e.g. 90 or 0.5)",
                     CONFIG_DAYS_MIN_TEXT, CONFIG_DAYS_MAX);
            return -1;
        }
        return 0;
    }
    /* The plain string kinds end here. */
    if (config_set_string((char **)(base + s->offset), v, n) != 0) {
        config_set_reason(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

/* Copies raw into out as it may appear in a message: at most CONFIG_SHOWN_VALUE_MAX bytes,
 * control characters as '?', and for URLs the user info replaced by "***". */
static void config_show_value(const struct setting *s, const char *raw, char *out, size_t outlen)
{
    size_t n = strlen(raw), o = 0, i = 0;
    const char *at = NULL, *sep = strstr(raw, "://");

    if (outlen == 0) return;
    if ((s->kind == SETTING_REDIS_URL || s->kind == SETTING_HTTP_BASE ||
         s->kind == SETTING_HTTP_OPTIONAL || s->kind == SETTING_ORIGIN ||
         s->kind == SETTING_TILE_URL) &&
        sep != NULL) {
        at = strrchr(sep + 3, '@');
    }
    while (i < n && o + 4 < outlen && o < CONFIG_SHOWN_VALUE_MAX) {
        if (at != NULL && raw + i == sep + 3) {
            memcpy(out + o, "***", 3);
            o += 3;
            i = (size_t)(at - raw);
            continue;
        }
        unsigned char c = (unsigned char)raw[i++];
        out[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (i < n) {
        /* Do not end in the middle of a UTF-8 sequence. */
        o = text_utf8_complete(out, o);
        if (o + 3 < outlen) {
            memcpy(out + o, "...", 3);
            o += 3;
        }
    }
    out[o] = '\0';
}

/* Applies raw to setting s, coming from source (a variable or "--flag"), and on error writes
 * "<source>: invalid value \"<value>\": <reason>" to err, the value omitted for secrets. */
static int config_apply_from(struct config *cfg, const struct setting *s, const char *source,
                             const char *raw, char *err, size_t errlen)
{
    char why[160];
    char shown[CONFIG_SHOWN_VALUE_MAX + 8];

    why[0] = '\0';
    if (config_apply(cfg, s, raw, why, sizeof why) == 0) return 0;
    if (s->secret) {
        snprintf(err, errlen, "%s: invalid value (secret, not shown): %s", source, why);
    } else {
        config_show_value(s, raw, shown, sizeof shown);
        snprintf(err, errlen, "%s: invalid value \"%s\": %s", source, shown, why);
    }
    return -1;
}

static const struct setting *config_find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
        const char *flag = config_settings[i].flag;
        if (strlen(flag) == len && strncmp(flag, name, len) == 0) return &config_settings[i];
    }
    return NULL;
}

enum config_arg { ARG_SETTING, ARG_HELP, ARG_VERSION, ARG_ERROR };

/* Reads the option at argv[*i] (advancing *i past its value). ARG_SETTING sets *s and *value
 * (pointing into argv); ARG_ERROR writes the message to err. */
static enum config_arg config_next_arg(int argc, char **argv, int *i, const struct setting **s,
                                       const char **value, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *name, *eq;
    size_t namelen;

    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return ARG_HELP;
    if (strcmp(arg, "--version") == 0) return ARG_VERSION;
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        /* Not printed: a stray word is often a value that lost its flag, possibly a secret. */
        snprintf(err, errlen, "unexpected argument %d (options start with --; see --help)", *i);
        return ARG_ERROR;
    }
    name = arg + 2;
    eq = strchr(name, '=');
    namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
    *s = config_find_flag(name, namelen);
    if (*s == NULL) {
        if ((namelen == 4 && strncmp(name, "help", 4) == 0) ||
            (namelen == 7 && strncmp(name, "version", 7) == 0)) {
            snprintf(err, errlen, "--%.*s takes no value", (int)namelen, name);
        } else {
            snprintf(err, errlen, "unknown option '--%.*s' (see --help)",
                     (int)(namelen > 60 ? 60 : namelen), name);
        }
        return ARG_ERROR;
    }
    if (eq != NULL) {
        *value = eq + 1;
    } else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
        *value = argv[++*i];
    } else {
        snprintf(err, errlen, "--%s: missing value (--%s %s or --%s=%s)", (*s)->flag, (*s)->flag,
                 (*s)->metavar, (*s)->flag, (*s)->metavar);
        return ARG_ERROR;
    }
    return ARG_SETTING;
}

/* Writes the usage text, derived from config_settings, to out. Secrets show as "(secret)". */
static void config_write_help(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [OPTION]...\n"
            "ESS Router: routes social-emergency cases (LINE and the 1300 hotline) to the\n"
            "nearest suitable team.\n\n"
            "Every setting is a flag or an environment variable. Flags override the environment,\n"
            "which overrides the defaults; a variable set to blanks counts as unset.\n\n",
            prog != NULL && prog[0] != '\0' ? prog : "ess-router");
    for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
        const struct setting *s = &config_settings[i];
        char flag[64];

        snprintf(flag, sizeof flag, "--%s %s", s->flag, s->metavar);
        fprintf(out, "  %-36s %s, default %s%s\n      %s", flag, s->env,
                s->def[0] != '\0' ? s->def : "none", s->secret ? " (secret)" : "", s->help);
        if (s->kind == SETTING_INT || s->kind == SETTING_SIZE) {
            fprintf(out, ", %ld to %ld", s->min, s->max);
        }
        if (s->kind == SETTING_DAYS)
            fprintf(out, ", %s to %d", CONFIG_DAYS_MIN_TEXT, CONFIG_DAYS_MAX);
        fputc('\n', out);
    }
    fprintf(out, "  %-36s print this text and exit\n", "-h, --help");
    fprintf(out, "  %-36s print the version and exit\n", "--version");
}

void config_print_help(const char *prog)
{
    config_write_help(stdout, prog);
}

/* Reads the token secret from cfg->token_secret_file: its first line, blanks around it removed.
 * Messages name the file, never its content. */
static int config_read_secret_file(struct config *cfg, char *err, size_t errlen)
{
    static const char *const var = "ESS_TOKEN_SECRET_FILE";
    char buf[CONFIG_SECRET_FILE_MAX + 1];
    size_t n, len;
    const char *v;
    FILE *f;

    if (cfg->token_secret[0] != '\0') {
        snprintf(err, errlen, "%s: set ESS_TOKEN_SECRET or ESS_TOKEN_SECRET_FILE, not both", var);
        return -1;
    }
    f = fopen(cfg->token_secret_file, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read %s", var, cfg->token_secret_file);
        return -1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n > CONFIG_SECRET_FILE_MAX) {
        snprintf(err, errlen, "%s: %s is too long for a secret", var, cfg->token_secret_file);
        return -1;
    }
    buf[n] = '\0';
    len = strcspn(buf, "\n");
    v = config_trim(buf, &len);
    if (len < 32 || config_has_blank_or_control(v, len)) {
        snprintf(err, errlen,
                 "%s: %s must hold one line of at least 32 characters without blanks (make one "
                 "with: openssl rand -hex 32)",
                 var, cfg->token_secret_file);
        memset(buf, 0, sizeof buf);
        return -1;
    }
    if (config_set_string(&cfg->token_secret, v, len) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(buf, 0, sizeof buf);
    return 0;
}

enum config_result config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    char scratch[8];
    const struct setting *s = NULL;
    const char *value = NULL;
    enum config_arg what = ARG_ERROR;
    int help = 0, version = 0, bad_args = 0;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    memset(cfg, 0, sizeof *cfg);

    /* First pass: the syntax of argv only. --help wins over errors elsewhere on the line. */
    for (int i = 1; i < argc; i++) {
        char msg[256];

        what = config_next_arg(argc, argv, &i, &s, &value, msg, sizeof msg);
        if (what == ARG_HELP) help = 1;
        if (what == ARG_VERSION) version = 1;
        if (what == ARG_ERROR && !bad_args) {
            bad_args = 1;
            snprintf(err, errlen, "%s", msg);
        }
    }
    if (help) {
        config_print_help(argc > 0 ? argv[0] : NULL);
        err[0] = '\0';
        return CONFIG_EXIT_OK;
    }
    if (version) {
        printf("ess-router %s\n", ESS_VERSION);
        err[0] = '\0';
        return CONFIG_EXIT_OK;
    }
    if (bad_args) return CONFIG_ERROR;

    for (size_t k = 0; k < CONFIG_NSETTINGS; k++) {
        const struct setting *d = &config_settings[k];

        if (config_apply_from(cfg, d, "default", d->def, err, errlen) != 0) return CONFIG_ERROR;
    }
    for (size_t k = 0; k < CONFIG_NSETTINGS; k++) {
        const struct setting *e = &config_settings[k];
        const char *env = getenv(e->env);
        size_t n = env != NULL ? strlen(env) : 0;

        config_trim(env != NULL ? env : "", &n);
        if (n == 0) continue; /* unset, or only blanks */
        if (config_apply_from(cfg, e, e->env, env, err, errlen) != 0) return CONFIG_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        char source[64];

        what = config_next_arg(argc, argv, &i, &s, &value, err, errlen);
        if (what != ARG_SETTING) return CONFIG_ERROR; /* cannot happen after the first pass */
        snprintf(source, sizeof source, "--%s", s->flag);
        if (config_apply_from(cfg, s, source, value, err, errlen) != 0) return CONFIG_ERROR;
    }
    if (cfg->token_secret_file[0] != '\0' && config_read_secret_file(cfg, err, errlen) != 0)
        return CONFIG_ERROR;
    if (cfg->nsentinels > 0 && cfg->redis_master[0] == '\0') {
        snprintf(err, errlen,
                 "ESS_REDIS_SENTINELS is set without ESS_REDIS_MASTER: name the primary the "
                 "Sentinels monitor (their 'sentinel monitor <name> ...' line)");
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

int config_check_required(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->token_secret == NULL || cfg->token_secret[0] == '\0') {
        snprintf(err, errlen,
                 "ESS_TOKEN_SECRET or ESS_TOKEN_SECRET_FILE is required: the key team tokens are "
                 "derived from, at least 32 characters, kept outside Redis (make one with: "
                 "openssl rand -hex 32 > token-secret; chmod 600 token-secret; then set "
                 "ESS_TOKEN_SECRET_FILE=$PWD/token-secret)");
        return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL) return;
    free(cfg->listen_host);
    free(cfg->redis_url);
    free(cfg->redis_host);
    free(cfg->redis_password);
    free(cfg->redis_master);
    config_free_nodes(cfg->sentinels, cfg->nsentinels);
    free(cfg->key_prefix);
    free(cfg->rules_path);
    free(cfg->triage_model_path);
    free(cfg->admin_token);
    config_free_tokens(cfg->operator_tokens, cfg->noperator_tokens);
    config_free_tokens(cfg->operator_ids, cfg->noperator_tokens);
    free(cfg->line_channel_secret);
    free(cfg->public_url);
    free(cfg->line_channel_access_token);
    free(cfg->line_api_base);
    free(cfg->token_secret);
    free(cfg->token_secret_file);
    free(cfg->metrics_token);
    free(cfg->supervisor_webhook);
    free(cfg->supervisor_line_to);
    free(cfg->supervisor_secret);
    free(cfg->map_tiles);
    memset(cfg, 0, sizeof *cfg);
}
