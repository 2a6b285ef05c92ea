/* The daemon's settings: one table (name, environment variable, flag, default, bounds) from which
 * parsing, validation and --help are all derived. Flags override the environment, which
 * overrides the defaults. */
#ifndef ESS_ROUTER_CONFIG_H
#define ESS_ROUTER_CONFIG_H

#include <stddef.h>

#include "netaddr.h"

/* The most Sentinels ESS_REDIS_SENTINELS may list. */
#define CONFIG_MAX_NODES 16

/* A Redis Sentinel's address. */
struct config_node {
    char *host;
    int port;
};

/* Every string is heap-owned by the struct and freed by config_free(); "" means unset. */
struct config {
    char *listen_host; /* ESS_LISTEN host part */
    int listen_port;   /* ESS_LISTEN port part; 0 picks a free port */
    char *redis_url;   /* ESS_REDIS_URL as given */
    char *redis_host;  /* parsed from redis_url */
    int redis_port;
    char *redis_password; /* "" when none */
    int redis_db;
    struct config_node sentinels[CONFIG_MAX_NODES]; /* ESS_REDIS_SENTINELS; nsentinels 0: none */
    size_t nsentinels;
    char *redis_master;        /* ESS_REDIS_MASTER: the primary's name at the Sentinels; "" */
    int redis_wait_replicas;   /* ESS_REDIS_WAIT_REPLICAS: WAIT before a report's 2xx; 0 = none */
    int redis_wait_timeout_ms; /* ESS_REDIS_WAIT_TIMEOUT_MS: WAIT's timeout */
    int outbox_tick_ms;        /* ESS_OUTBOX_TICK_MS: the outbox's poll, besides its wake-ups */
    char *key_prefix;          /* ESS_KEY_PREFIX */
    char *rules_path;          /* ESS_RULES */
    char *triage_model_path;   /* ESS_TRIAGE_MODEL: "auto" (or "") beside the rules, "none" */
    char *admin_token;         /* ESS_ADMIN_TOKEN; "" = admin API off */
    char **operator_tokens;    /* ESS_OPERATOR_TOKENS split on commas, blanks trimmed: the tokens */
    char **operator_ids;       /* the id of each (its "id=" part, or operator-N) */
    size_t noperator_tokens;
    int session_idle_s;    /* ESS_SESSION_IDLE_S: a console session's idle expiry */
    int feed_visibility_s; /* ESS_FEED_VISIBILITY_S: an unacknowledged feed entry comes again */
    long long audit_retention_ms; /* ESS_AUDIT_RETENTION_DAYS: how long audit entries are kept */
    long long retention_ms;       /* ESS_RETENTION_DAYS: a closed case's personal data, kept */
    long long track_retention_ms; /* ESS_TRACK_RETENTION_DAYS: a closed case's public view, kept */
    char *public_url;    /* ESS_PUBLIC_URL: http(s)://host[:port], no path or trailing slash; "" */
    char *map_tiles;     /* ESS_MAP_TILES: the console's tile URL template ({z} {x} {y}); "" */
    char *metrics_token; /* ESS_METRICS_TOKEN; "" = /metrics open to anyone */
    char *line_channel_secret; /* "" = LINE webhook off */
    char *line_channel_access_token;
    char *line_api_base;     /* no trailing slash */
    int chat_wait_s;         /* ESS_CHAT_WAIT_S: a chat nobody took is escalated */
    int line_abandon_s;      /* ESS_LINE_ABANDON_S: a report stopped before its location is filed */
    char *token_secret;      /* ESS_TOKEN_SECRET, or read from ESS_TOKEN_SECRET_FILE */
    char *token_secret_file; /* ESS_TOKEN_SECRET_FILE; "" = none */
    struct net_list webhook_allow_nets; /* ESS_WEBHOOK_ALLOW_NETS: team webhooks may reach */
    char *supervisor_webhook;           /* ESS_SUPERVISOR_WEBHOOK; "" = none */
    char *supervisor_line_to;           /* ESS_SUPERVISOR_LINE_TO; "" = none */
    char *supervisor_secret;            /* ESS_SUPERVISOR_SECRET; "" = notices unsigned */
    int log_level;                      /* enum log_level; ESS_LOG_LEVEL */
    size_t max_body_bytes;              /* ESS_MAX_BODY_BYTES, default 65536 */
    int request_timeout_s;    /* ESS_REQUEST_TIMEOUT_S: a request's deadline from its start */
    int max_connections;      /* ESS_MAX_CONNECTIONS: client connections open at once */
    int max_conns_per_client; /* ESS_MAX_CONNECTIONS_PER_CLIENT: from one address; 0 = any */
    int track_rate_per_min;   /* ESS_TRACK_RATE_PER_MIN: lookups per client address */
    struct net_list trusted_proxies; /* ESS_TRUSTED_PROXIES: their X-Forwarded-For is believed */
    int drain_timeout_s;             /* ESS_DRAIN_TIMEOUT_S: how long SIGTERM waits for requests */
    int reuse_port;                  /* ESS_REUSE_PORT: SO_REUSEPORT so processes share the port */

    /* GET /v1/events, the live updates */
    int max_event_streams;      /* ESS_MAX_EVENT_STREAMS: streams open at once */
    int events_heartbeat_s;     /* ESS_EVENTS_HEARTBEAT_S: a comment line on idle streams */
    size_t events_buffer_bytes; /* ESS_EVENTS_BUFFER_BYTES: a stream's unsent output, at most */
};

enum config_result { CONFIG_OK = 0, CONFIG_EXIT_OK = 1, CONFIG_ERROR = -1 };

/* Fills cfg from the defaults, then the environment, then argv. CONFIG_EXIT_OK after printing
 * --help or --version to stdout; CONFIG_ERROR with a message naming the setting and its bad value
 * in err (never the value of a secret). cfg must be freed with config_free() in every case. */
enum config_result config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Checks what the daemon cannot run without (the key team tokens are derived from). 0, or -1
 * with a message saying what to set in err. */
int config_check_required(const struct config *cfg, char *err, size_t errlen);

/* Reads one ESS_OPERATOR_TOKENS entry item[0..n) (blanks trimmed): "id=token" when the part
 * before its first '=' is an id (text_id_valid) and the rest a whole token (at least min
 * characters, no blank or control character); then *id_len is the id's length and *token_at
 * where the token starts. Else the whole entry is a bare token: both are 0. */
void config_token_entry(const char *item, size_t n, size_t min, size_t *id_len, size_t *token_at);

/* Prints the usage text listing every setting with its variable, flag and default. */
void config_print_help(const char *prog);

void config_free(struct config *cfg); /* accepts NULL */

#endif
