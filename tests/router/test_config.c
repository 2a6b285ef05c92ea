/* Unit tests of router/base/config.c: defaults, environment and flag precedence, every value parser
 * (listen address, Redis URL, bounds, booleans, token lists), --help and --version, and that an
 * error message never repeats a secret. */
#include "config.h"
#include "log.h"
#include "tap.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const all_vars[] = {
    "ESS_LISTEN",
    "ESS_REDIS_URL",
    "ESS_KEY_PREFIX",
    "ESS_RULES",
    "ESS_ADMIN_TOKEN",
    "ESS_OPERATOR_TOKENS",
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "LINE_API_BASE",
    "ESS_LINE_ABANDON_S",
    "ESS_CHAT_WAIT_S",
    "ESS_LOG_LEVEL",
    "ESS_MAX_BODY_BYTES",
    "ESS_REQUEST_TIMEOUT_S",
    "ESS_DRAIN_TIMEOUT_S",
    "ESS_REUSE_PORT",
    "ESS_METRICS_TOKEN",
    "ESS_TOKEN_SECRET",
    "ESS_TOKEN_SECRET_FILE",
    "ESS_WEBHOOK_ALLOW_NETS",
    "ESS_MAX_CONNECTIONS",
    "ESS_MAX_CONNECTIONS_PER_CLIENT",
    "ESS_TRACK_RATE_PER_MIN",
    "ESS_TRUSTED_PROXIES",
    "ESS_SESSION_IDLE_S",
    "ESS_PUBLIC_URL",
    "ESS_MAX_EVENT_STREAMS",
    "ESS_EVENTS_HEARTBEAT_S",
    "ESS_EVENTS_BUFFER_BYTES",
    "ESS_MAP_TILES",
    "ESS_AUDIT_RETENTION_DAYS",
    "ESS_RETENTION_DAYS",
    "ESS_TRACK_RETENTION_DAYS",
};
#define NVARS (sizeof all_vars / sizeof all_vars[0])

static void clear_env(void)
{
    for (size_t i = 0; i < NVARS; i++) unsetenv(all_vars[i]);
}

/* Loads with argv = {"ess-router", the NULL-terminated arguments...}; cfg is reset first and
 * must be freed by the caller. */
static enum config_result load(struct config *cfg, char *err, size_t errlen, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = "ess-router";
    va_start(ap, errlen);
    for (char *a = va_arg(ap, char *); a != NULL && argc < 31; a = va_arg(ap, char *)) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    return config_load(cfg, argc, argv, err, errlen);
}

/* 1 when loading with the single variable var=value fails with a message naming var. */
static int env_rejected(const char *var, const char *value)
{
    struct config cfg;
    char err[512];
    enum config_result r;

    clear_env();
    setenv(var, value, 1);
    r = load(&cfg, err, sizeof err, NULL);
    config_free(&cfg);
    clear_env();
    return r == CONFIG_ERROR && strstr(err, var) != NULL;
}

/* 1 when --flag=value is accepted. */
static int flag_accepted(const char *flag_eq_value)
{
    struct config cfg;
    char err[512];
    enum config_result r = load(&cfg, err, sizeof err, flag_eq_value, NULL);

    config_free(&cfg);
    return r == CONFIG_OK;
}

/* Runs config_load with stdout redirected into out[0..outlen); returns its result. */
static enum config_result load_captured(char *out, size_t outlen, const char *arg)
{
    struct config cfg;
    char err[256];
    enum config_result r;
    FILE *tmp = tmpfile();
    int saved;
    size_t n;

    out[0] = '\0';
    if (tmp == NULL) return CONFIG_ERROR;
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    r = load(&cfg, err, sizeof err, arg, NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    config_free(&cfg);
    return r;
}

static void test_defaults(void)
{
    struct config cfg;
    char err[256];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK, "no settings at all loads");
    CHECK(strcmp(cfg.listen_host, "127.0.0.1") == 0 && cfg.listen_port == 8080,
          "default listen is 127.0.0.1:8080");
    CHECK(strcmp(cfg.redis_url, "redis://127.0.0.1:6379/0") == 0, "default redis url");
    CHECK(strcmp(cfg.redis_host, "127.0.0.1") == 0 && cfg.redis_port == 6379 && cfg.redis_db == 0 &&
              strcmp(cfg.redis_password, "") == 0,
          "default redis url parsed: 127.0.0.1, 6379, db 0, no password");
    CHECK(strcmp(cfg.key_prefix, "ess:") == 0, "default key prefix ess:");
    CHECK(strcmp(cfg.rules_path, "rules/rules.json") == 0, "default rules path");
    CHECK(strcmp(cfg.admin_token, "") == 0, "admin token unset by default");
    CHECK(cfg.noperator_tokens == 0, "no operator tokens by default");
    CHECK(strcmp(cfg.line_channel_secret, "") == 0 &&
              strcmp(cfg.line_channel_access_token, "") == 0,
          "LINE secrets unset by default");
    CHECK(strcmp(cfg.line_api_base, "https://api.line.me") == 0, "default LINE API base");
    CHECK(cfg.log_level == LOG_LEVEL_INFO, "default log level info");
    CHECK(cfg.max_body_bytes == 65536, "default max body 65536");
    CHECK(cfg.request_timeout_s == 10 && cfg.drain_timeout_s == 10, "default timeouts 10 s");
    CHECK(cfg.reuse_port == 0, "reuse port off by default");
    config_free(&cfg);
}

static void test_precedence(void)
{
    struct config cfg;
    char err[256];

    clear_env();
    setenv("ESS_LISTEN", "0.0.0.0:9000", 1);
    setenv("ESS_KEY_PREFIX", "test:", 1);
    setenv("ESS_LOG_LEVEL", "DEBUG", 1);
    setenv("ESS_MAX_BODY_BYTES", "2048", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK, "environment loads");
    CHECK(strcmp(cfg.listen_host, "0.0.0.0") == 0 && cfg.listen_port == 9000,
          "ESS_LISTEN overrides the default");
    CHECK(strcmp(cfg.key_prefix, "test:") == 0, "ESS_KEY_PREFIX overrides the default");
    CHECK(cfg.log_level == LOG_LEVEL_DEBUG, "ESS_LOG_LEVEL overrides the default, any case");
    CHECK(cfg.max_body_bytes == 2048, "ESS_MAX_BODY_BYTES overrides the default");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--listen", "127.0.0.1:0", "--key-prefix=flag:", NULL) ==
              CONFIG_OK,
          "flags load over the environment");
    CHECK(strcmp(cfg.listen_host, "127.0.0.1") == 0 && cfg.listen_port == 0,
          "--listen VALUE overrides ESS_LISTEN");
    CHECK(strcmp(cfg.key_prefix, "flag:") == 0, "--key-prefix=VALUE overrides ESS_KEY_PREFIX");
    CHECK(cfg.max_body_bytes == 2048, "a setting without a flag keeps its environment value");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--listen=a:1", "--listen=b:2", NULL) == CONFIG_OK &&
              strcmp(cfg.listen_host, "b") == 0 && cfg.listen_port == 2,
          "the last of a repeated flag wins");
    config_free(&cfg);

    clear_env();
    setenv("ESS_LISTEN", "   ", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.listen_port == 8080,
          "a variable holding only blanks counts as unset");
    config_free(&cfg);

    setenv("ESS_LISTEN", "bogus", 1);
    CHECK(load(&cfg, err, sizeof err, "--listen=127.0.0.1:1", NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_LISTEN") != NULL,
          "a bad variable is an error even when a flag overrides it");
    config_free(&cfg);
    clear_env();

    CHECK(load(&cfg, err, sizeof err, "--request-timeout", "30", "--drain-timeout=0",
               "--reuse-port", "yes", "--rules=/etc/ess/rules.json", "--line-api-base",
               "http://127.0.0.1:9999/", "--max-body-bytes", " 4096 ", "--log-level=warn",
               NULL) == CONFIG_OK,
          "every kind of flag loads");
    CHECK(cfg.request_timeout_s == 30 && cfg.drain_timeout_s == 0, "--*-timeout flags");
    CHECK(cfg.reuse_port == 1, "--reuse-port yes");
    CHECK(strcmp(cfg.rules_path, "/etc/ess/rules.json") == 0, "--rules=PATH");
    CHECK(strcmp(cfg.line_api_base, "http://127.0.0.1:9999") == 0,
          "--line-api-base loses its trailing slash");
    CHECK(cfg.max_body_bytes == 4096, "numbers tolerate surrounding blanks");
    CHECK(cfg.log_level == LOG_LEVEL_WARN, "--log-level=warn");
    config_free(&cfg);
}

static void test_listen(void)
{
    struct config cfg;
    char err[256];

    CHECK(load(&cfg, err, sizeof err, "--listen=[::1]:8081", NULL) == CONFIG_OK &&
              strcmp(cfg.listen_host, "::1") == 0 && cfg.listen_port == 8081,
          "[::1]:8081 gives host ::1 port 8081");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--listen=localhost:65535", NULL) == CONFIG_OK &&
              strcmp(cfg.listen_host, "localhost") == 0 && cfg.listen_port == 65535,
          "a host name and the highest port");
    config_free(&cfg);

    CHECK(!flag_accepted("--listen=localhost"), "listen without a port is refused");
    CHECK(!flag_accepted("--listen=:8080"), "listen without a host is refused");
    CHECK(!flag_accepted("--listen=h:65536"), "listen port 65536 is refused");
    CHECK(!flag_accepted("--listen=h:-1"), "listen port -1 is refused");
    CHECK(!flag_accepted("--listen=h:80x"), "listen port with junk is refused");
    CHECK(!flag_accepted("--listen=h:"), "listen with an empty port is refused");
    CHECK(!flag_accepted("--listen=::1:8080"), "unbracketed IPv6 is refused");
    CHECK(!flag_accepted("--listen=[::1]"), "bracketed IPv6 without a port is refused");
    CHECK(!flag_accepted("--listen=[::1]8080"), "junk between ] and the port is refused");
    CHECK(!flag_accepted("--listen=[::1:8080"), "an unterminated [ is refused");
    CHECK(!flag_accepted("--listen=[zz]:80"), "a non-address in brackets is refused");
    CHECK(!flag_accepted("--listen=a b:80"), "a blank inside the host is refused");
    CHECK(!flag_accepted("--listen="), "an empty listen is refused");
    CHECK(env_rejected("ESS_LISTEN", "nonsense"), "a bad ESS_LISTEN names the variable");
}

static void test_redis_url(void)
{
    struct config cfg;
    char err[256];

    CHECK(load(&cfg, err, sizeof err, "--redis-url=redis://:s3cret@redis.example:6380/3", NULL) ==
              CONFIG_OK,
          "redis url with :password, port and db loads");
    CHECK(strcmp(cfg.redis_host, "redis.example") == 0 && cfg.redis_port == 6380 &&
              cfg.redis_db == 3 && strcmp(cfg.redis_password, "s3cret") == 0,
          "redis host, port, db and password parsed");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--redis-url", "redis://ess:p%40ss@10.0.0.5", NULL) ==
                  CONFIG_OK &&
              strcmp(cfg.redis_host, "10.0.0.5") == 0 && cfg.redis_port == 6379 &&
              cfg.redis_db == 0 && strcmp(cfg.redis_password, "p@ss") == 0,
          "user:password, no port, no db: password percent-decoded, port 6379, db 0");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--redis-url=redis://cache/15", NULL) == CONFIG_OK &&
              strcmp(cfg.redis_host, "cache") == 0 && cfg.redis_port == 6379 &&
              cfg.redis_db == 15 && strcmp(cfg.redis_password, "") == 0,
          "no port, db 15");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--redis-url=redis://[::1]:7000/", NULL) == CONFIG_OK &&
              strcmp(cfg.redis_host, "::1") == 0 && cfg.redis_port == 7000 && cfg.redis_db == 0,
          "IPv6 host, trailing slash means db 0");
    config_free(&cfg);

    CHECK(!flag_accepted("--redis-url=http://127.0.0.1:6379"), "another scheme is refused");
    CHECK(!flag_accepted("--redis-url=rediss://127.0.0.1"), "TLS scheme is refused");
    CHECK(!flag_accepted("--redis-url=redis://"), "no host is refused");
    CHECK(!flag_accepted("--redis-url=redis://:pw@"), "a password and no host is refused");
    CHECK(!flag_accepted("--redis-url=redis://h:0"), "port 0 is refused");
    CHECK(!flag_accepted("--redis-url=redis://h:70000"), "port 70000 is refused");
    CHECK(!flag_accepted("--redis-url=redis://h:port"), "a named port is refused");
    CHECK(!flag_accepted("--redis-url=redis://h/16"), "db 16 is refused");
    CHECK(!flag_accepted("--redis-url=redis://h/-1"), "db -1 is refused");
    CHECK(!flag_accepted("--redis-url=redis://h/x"), "a db that is not a number is refused");
    CHECK(!flag_accepted("--redis-url=redis://h/1?timeout=3"), "a query string is refused");
    CHECK(!flag_accepted("--redis-url=redis://user@h"), "user info without ':' is refused");
    CHECK(!flag_accepted("--redis-url=redis://:p%zz@h"), "a bad %-escape is refused");
    CHECK(!flag_accepted("--redis-url=127.0.0.1:6379"), "a bare address is refused");

    CHECK(load(&cfg, err, sizeof err, "--redis-url=redis://:hunter2@h:99999/0", NULL) ==
                  CONFIG_ERROR &&
              strstr(err, "--redis-url") != NULL && strstr(err, "hunter2") == NULL &&
              strstr(err, "99999") != NULL,
          "a bad redis url is named, its password hidden, the rest shown");
    config_free(&cfg);
}

static void test_sentinels(void)
{
    struct config cfg;
    char err[256];

    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.nsentinels == 0 &&
              strcmp(cfg.redis_master, "") == 0 && cfg.redis_wait_replicas == 0 &&
              cfg.redis_wait_timeout_ms == 1000,
          "no Sentinels, no WAIT by default; WAIT's timeout 1000 ms");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err,
               "--redis-sentinels= 10.0.0.11:26379 ,[::1]:26380,,s3.example:26381 ",
               "--redis-master=ess-primary", "--redis-wait-replicas=2", NULL) == CONFIG_OK,
          "three Sentinels (blanks and an empty item around), a master name, WAIT 2");
    CHECK(cfg.nsentinels == 3 && strcmp(cfg.sentinels[0].host, "10.0.0.11") == 0 &&
              cfg.sentinels[0].port == 26379 && strcmp(cfg.sentinels[1].host, "::1") == 0 &&
              cfg.sentinels[1].port == 26380 && strcmp(cfg.sentinels[2].host, "s3.example") == 0 &&
              cfg.sentinels[2].port == 26381,
          "each Sentinel's host and port, in order");
    CHECK(strcmp(cfg.redis_master, "ess-primary") == 0 && cfg.redis_wait_replicas == 2,
          "the master's name and the replicas to wait for");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--redis-sentinels=127.0.0.1:26379", NULL) ==
                  CONFIG_ERROR &&
              strstr(err, "ESS_REDIS_MASTER") != NULL,
          "Sentinels without a master's name are refused, naming ESS_REDIS_MASTER");
    config_free(&cfg);
    CHECK(!flag_accepted("--redis-sentinels=127.0.0.1"), "a Sentinel without its port is refused");
    CHECK(!flag_accepted("--redis-sentinels=127.0.0.1:0"), "port 0 is refused");
    CHECK(!flag_accepted("--redis-sentinels=a:1,b:x"), "a bad second Sentinel is refused");
    CHECK(!flag_accepted("--redis-sentinels=a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,"
                         "m:13,n:14,o:15,p:16,q:17"),
          "more than 16 Sentinels are refused");
    CHECK(!flag_accepted("--redis-master=my master"), "a master name with a blank is refused");
    CHECK(!flag_accepted("--redis-wait-replicas=17"), "WAIT for 17 replicas is refused");
    CHECK(!flag_accepted("--redis-wait-timeout=5"), "a WAIT timeout under 10 ms is refused");

    CHECK(load(&cfg, err, sizeof err, "--redis-sentinels=a:1,b:2", "--redis-sentinels=c:3",
               "--redis-master=m", NULL) == CONFIG_OK &&
              cfg.nsentinels == 1 && strcmp(cfg.sentinels[0].host, "c") == 0,
          "a later --redis-sentinels replaces the list");
    config_free(&cfg);
}

static void test_bounds(void)
{
    CHECK(!flag_accepted("--max-body-bytes=1023"), "max body 1023 is refused");
    CHECK(flag_accepted("--max-body-bytes=1024"), "max body 1024 is accepted");
    CHECK(flag_accepted("--max-body-bytes=1048576"), "max body 1048576 is accepted");
    CHECK(!flag_accepted("--max-body-bytes=1048577"), "max body 1048577 is refused");
    CHECK(!flag_accepted("--max-body-bytes=99999999999999999999999"), "a huge number is refused");
    CHECK(!flag_accepted("--max-body-bytes=64k"), "a unit suffix is refused");
    CHECK(!flag_accepted("--request-timeout=0"), "request timeout 0 is refused");
    CHECK(flag_accepted("--request-timeout=300"), "request timeout 300 is accepted");
    CHECK(!flag_accepted("--request-timeout=301"), "request timeout 301 is refused");
    CHECK(!flag_accepted("--request-timeout=1.5"), "a fraction is refused");
    CHECK(flag_accepted("--drain-timeout=0"), "drain timeout 0 is accepted");
    CHECK(!flag_accepted("--drain-timeout=-1"), "drain timeout -1 is refused");
    CHECK(!flag_accepted("--drain-timeout=301"), "drain timeout 301 is refused");
    CHECK(!flag_accepted("--log-level=verbose"), "an unknown log level is refused");
    CHECK(!flag_accepted("--reuse-port=maybe"), "a non-boolean reuse port is refused");
    CHECK(flag_accepted("--reuse-port=FALSE") && flag_accepted("--reuse-port=no") &&
              flag_accepted("--reuse-port=0") && flag_accepted("--reuse-port=true"),
          "true/false/yes/no/1/0 are booleans");
    CHECK(flag_accepted("--key-prefix=a") && flag_accepted("--key-prefix=A-z_0.9:"),
          "key prefix: one character, and every allowed character");
    CHECK(!flag_accepted("--key-prefix=ess prod:"), "key prefix with a blank is refused");
    CHECK(!flag_accepted("--key-prefix=ess{x}:"), "key prefix with braces is refused");
    CHECK(flag_accepted(
              "--key-prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
          "key prefix of 64 characters is accepted");
    CHECK(!flag_accepted(
              "--key-prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
          "key prefix of 65 characters is refused");
    CHECK(!flag_accepted("--key-prefix="), "an empty key prefix is refused");
    CHECK(!flag_accepted("--rules="), "an empty rules path is refused");
    CHECK(!flag_accepted("--line-api-base=ftp://api.line.me"), "an ftp LINE base is refused");
    CHECK(!flag_accepted("--line-api-base=https://"), "a LINE base without host is refused");
    CHECK(!flag_accepted("--line-api-base=api.line.me"), "a LINE base without scheme is refused");

    CHECK(env_rejected("ESS_MAX_BODY_BYTES", "12"), "a bad ESS_MAX_BODY_BYTES names it");
    CHECK(env_rejected("ESS_REQUEST_TIMEOUT_S", "x"), "a bad ESS_REQUEST_TIMEOUT_S names it");
    CHECK(env_rejected("ESS_DRAIN_TIMEOUT_S", "1000"), "a bad ESS_DRAIN_TIMEOUT_S names it");
    CHECK(env_rejected("ESS_REUSE_PORT", "2"), "a bad ESS_REUSE_PORT names it");
    CHECK(env_rejected("ESS_LOG_LEVEL", "loud"), "a bad ESS_LOG_LEVEL names it");
    CHECK(env_rejected("ESS_KEY_PREFIX", "a/b"), "a bad ESS_KEY_PREFIX names it");
    CHECK(env_rejected("LINE_API_BASE", "gopher://x"), "a bad LINE_API_BASE names it");
    CHECK(env_rejected("ESS_REDIS_URL", "redis://h:1:2"), "a bad ESS_REDIS_URL names it");
}

static void test_errors(void)
{
    struct config cfg;
    char err[256];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, "--listen=nowhere", NULL) == CONFIG_ERROR &&
              strstr(err, "--listen") != NULL && strstr(err, "nowhere") != NULL,
          "an invalid value names the flag and the value");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--bogus=1", NULL) == CONFIG_ERROR &&
              strstr(err, "--bogus") != NULL,
          "an unknown flag is an error naming it");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--listen", NULL) == CONFIG_ERROR &&
              strstr(err, "--listen") != NULL && strstr(err, "missing") != NULL,
          "a flag without its value is an error");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--listen", "--rules=x", NULL) == CONFIG_ERROR &&
              strstr(err, "missing") != NULL,
          "a flag followed by another flag is missing its value");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "stray", NULL) == CONFIG_ERROR, "a bare word is refused");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "-x", NULL) == CONFIG_ERROR, "an unknown short flag");
    config_free(&cfg);
    CHECK(load(&cfg, NULL, 0, "--bogus", NULL) == CONFIG_ERROR, "a NULL error buffer is fine");
    config_free(&cfg);

    /* config_free leaves an empty struct behind, so that freeing it again frees nothing twice
     * (the sanitizer build would report it) and NULL is accepted. */
    {
        static const struct config empty;
        clear_env();
        setenv("ESS_OPERATOR_TOKENS",
               "op-0123456789abcdef0123456789abcdef,op-fedcba9876543210fedcba9876543210", 1);
        CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.listen_host != NULL &&
                  cfg.noperator_tokens > 0,
              "a valid configuration loads (strings and tokens allocated)");
        config_free(&cfg);
        CHECK(memcmp(&cfg, &empty, sizeof cfg) == 0,
              "config_free clears every field (pointers NULL, counts 0)");
        config_free(&cfg);
        config_free(NULL);
        clear_env();
    }
}

/* A token of at least 32 characters, the shortest accepted. */
#define LONG(t) t "-0123456789abcdef0123456789abcdef"

static void test_tokens(void)
{
    struct config cfg;
    char err[256];

    clear_env();
    setenv("ESS_OPERATOR_TOKENS",
           " " LONG("op-one") " , ," LONG("op-two") ",,\t" LONG("op-three") " ,", 1);
    setenv("ESS_ADMIN_TOKEN", "  " LONG("admin-tok") " \n", 1);
    setenv("LINE_CHANNEL_SECRET", " 8c570fa6dd201bb328f1c1eac23a96d8 ", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK, "tokens load");
    CHECK(cfg.noperator_tokens == 3, "operator tokens: three, empty items dropped");
    CHECK(cfg.noperator_tokens == 3 && strcmp(cfg.operator_tokens[0], LONG("op-one")) == 0 &&
              strcmp(cfg.operator_tokens[1], LONG("op-two")) == 0 &&
              strcmp(cfg.operator_tokens[2], LONG("op-three")) == 0,
          "operator tokens trimmed and in order");
    CHECK(strcmp(cfg.admin_token, LONG("admin-tok")) == 0, "admin token trimmed");
    CHECK(strcmp(cfg.line_channel_secret, "8c570fa6dd201bb328f1c1eac23a96d8") == 0,
          "channel secret trimmed");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--operator-tokens= , ,", "--admin-token=", NULL) ==
                  CONFIG_OK &&
              cfg.noperator_tokens == 0 && strcmp(cfg.admin_token, "") == 0,
          "empty flags turn the operator and admin APIs off over the environment");
    config_free(&cfg);

    CHECK(load(&cfg, err, sizeof err, "--operator-tokens=" LONG("solo"), NULL) == CONFIG_OK &&
              cfg.noperator_tokens == 1 && strcmp(cfg.operator_tokens[0], LONG("solo")) == 0,
          "a single operator token");
    config_free(&cfg);
    clear_env();

    setenv("ESS_ADMIN_TOKEN", "0123456789abcdef0123456789abcde", 1); /* 31 characters */
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_ADMIN_TOKEN") != NULL && strstr(err, "at least 32") != NULL &&
              strstr(err, "0123456789abcdef") == NULL,
          "an admin token of 31 characters refuses to start, saying why");
    config_free(&cfg);
    clear_env();
    setenv("ESS_ADMIN_TOKEN", "0123456789abcdef0123456789abcdef", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK, "an admin token of 32 characters loads");
    config_free(&cfg);
    clear_env();
    setenv("ESS_OPERATOR_TOKENS", LONG("good") ",short-op-token", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_OPERATOR_TOKENS") != NULL && strstr(err, "token 2") != NULL &&
              strstr(err, "short-op") == NULL,
          "a short operator token refuses to start, naming which one");
    config_free(&cfg);
    clear_env();
    setenv("ESS_METRICS_TOKEN", "metrics", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_METRICS_TOKEN") != NULL && strstr(err, "at least 32") != NULL,
          "a short metrics token refuses to start");
    config_free(&cfg);
    clear_env();
    setenv("ESS_METRICS_TOKEN", LONG("metrics"), 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              strcmp(cfg.metrics_token, LONG("metrics")) == 0,
          "ESS_METRICS_TOKEN loads");
    config_free(&cfg);
    clear_env();

    setenv("ESS_ADMIN_TOKEN", "sup3r s3cret", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_ADMIN_TOKEN") != NULL && strstr(err, "sup3r") == NULL &&
              strstr(err, "s3cret") == NULL,
          "a bad admin token is named, its value not shown");
    config_free(&cfg);
    clear_env();

    setenv("ESS_OPERATOR_TOKENS", "good,bad token", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_OPERATOR_TOKENS") != NULL && strstr(err, "good") == NULL &&
              strstr(err, "bad token") == NULL,
          "a bad operator token list is named, no token shown");
    config_free(&cfg);
    clear_env();

    CHECK(load(&cfg, err, sizeof err, "--line-channel-secret",
               "abc\x01"
               "def",
               NULL) == CONFIG_ERROR &&
              strstr(err, "--line-channel-secret") != NULL && strstr(err, "abc") == NULL,
          "a bad channel secret flag is named, its value not shown");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--line-channel-access-token=xyzzy plugh", NULL) ==
                  CONFIG_ERROR &&
              strstr(err, "--line-channel-access-token") != NULL && strstr(err, "xyzzy") == NULL,
          "a bad access token flag is named, its value not shown");
    config_free(&cfg);
}

/* ESS_SUPERVISOR_SECRET: the key of the supervisor webhook's signature, a secret of its own. */
/* ESS_OPERATOR_TOKENS entries: id=token or a bare token (id operator-N). */
static void test_operator_entries(void)
{
    struct config cfg;
    char err[256];
    size_t id_len, at;
    static const char bare_eq[] = "abc=def"; /* too short a rest: read whole, as a bare token */

    config_token_entry("op-17=" LONG("t"), strlen("op-17=" LONG("t")), 32, &id_len, &at);
    CHECK(id_len == 5 && at == 6, "id=token: the id and where the token starts");
    config_token_entry(LONG("t"), strlen(LONG("t")), 32, &id_len, &at);
    CHECK(id_len == 0 && at == 0, "a bare token");
    config_token_entry(bare_eq, strlen(bare_eq), 32, &id_len, &at);
    CHECK(id_len == 0 && at == 0, "a rest shorter than a whole token: the entry is a bare token");
    config_token_entry("Op=" LONG("t"), strlen("Op=" LONG("t")), 32, &id_len, &at);
    CHECK(id_len == 0 && at == 0, "an id out of the pattern (capital): a bare token");
    config_token_entry("=" LONG("t"), strlen("=" LONG("t")), 32, &id_len, &at);
    CHECK(id_len == 0 && at == 0, "nothing before '=': a bare token");
    config_token_entry("a=b=" LONG("t"), strlen("a=b=" LONG("t")), 32, &id_len, &at);
    CHECK(id_len == 1 && at == 2, "split at the first '=': the token may hold '='");

    clear_env();
    setenv("ESS_OPERATOR_TOKENS", "op-17=" LONG("a") ", " LONG("b") ",desk-3=" LONG("c"), 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.noperator_tokens == 3 &&
              strcmp(cfg.operator_ids[0], "op-17") == 0 &&
              strcmp(cfg.operator_tokens[0], LONG("a")) == 0 &&
              strcmp(cfg.operator_ids[1], "operator-2") == 0 &&
              strcmp(cfg.operator_tokens[1], LONG("b")) == 0 &&
              strcmp(cfg.operator_ids[2], "desk-3") == 0 &&
              strcmp(cfg.operator_tokens[2], LONG("c")) == 0,
          "ids and tokens: named entries keep their id, a bare one is operator-N");
    config_free(&cfg);
    setenv("ESS_OPERATOR_TOKENS", "op-1=" LONG("a") ",op-1=" LONG("b"), 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "same operator id") != NULL && strstr(err, LONG("a")) == NULL,
          "two entries with one id are refused, the tokens not shown");
    config_free(&cfg);
    setenv("ESS_OPERATOR_TOKENS", "op-1=short", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR && strstr(err, "token 1") != NULL &&
              strstr(err, "at least 32") != NULL && strstr(err, "op-1=short") == NULL,
          "id=short is a bare token too short: refused, the value not shown");
    config_free(&cfg);
    clear_env();

    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.session_idle_s == 1800 &&
              strcmp(cfg.public_url, "") == 0,
          "ESS_SESSION_IDLE_S defaults to 1800, ESS_PUBLIC_URL to none");
    config_free(&cfg);
    setenv("ESS_SESSION_IDLE_S", "0", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_SESSION_IDLE_S") != NULL,
          "ESS_SESSION_IDLE_S of 0 is refused");
    config_free(&cfg);
    clear_env();
    CHECK(load(&cfg, err, sizeof err, "--session-idle", "60", "--public-url",
               "https://help.example.go.th/", NULL) == CONFIG_OK &&
              cfg.session_idle_s == 60 && strcmp(cfg.public_url, "https://help.example.go.th") == 0,
          "--session-idle and --public-url");
    config_free(&cfg);
}

static void test_supervisor_secret(void)
{
    static char out[16384];
    struct config cfg;
    char err[256];

    clear_env();
    unsetenv("ESS_SUPERVISOR_SECRET");
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && strcmp(cfg.supervisor_secret, "") == 0,
          "no supervisor secret by default (notices unsigned)");
    config_free(&cfg);
    setenv("ESS_SUPERVISOR_SECRET", " sup-6f1d0c2a9b8e7d6c5b4a39281706f5e4 ", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              strcmp(cfg.supervisor_secret, "sup-6f1d0c2a9b8e7d6c5b4a39281706f5e4") == 0,
          "ESS_SUPERVISOR_SECRET read and trimmed");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--supervisor-secret=sup-flag", NULL) == CONFIG_OK &&
              strcmp(cfg.supervisor_secret, "sup-flag") == 0,
          "--supervisor-secret overrides the environment");
    config_free(&cfg);
    setenv("ESS_SUPERVISOR_SECRET", "two words", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_SUPERVISOR_SECRET") != NULL && strstr(err, "words") == NULL,
          "a bad supervisor secret is named, its value not shown");
    config_free(&cfg);
    setenv("ESS_SUPERVISOR_SECRET", "never-shown-in-help", 1);
    CHECK(load_captured(out, sizeof out, "--help") == CONFIG_EXIT_OK &&
              strstr(out, "ESS_SUPERVISOR_SECRET") && strstr(out, "--supervisor-secret") &&
              strstr(out, "never-shown-in-help") == NULL,
          "--help lists ESS_SUPERVISOR_SECRET and never prints its value");
    unsetenv("ESS_SUPERVISOR_SECRET");
    clear_env();
}

static void test_token_secret(void)
{
    struct config cfg;
    char err[512], path[] = "/tmp/ess-test-secret-XXXXXX";
    int fd;

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              config_check_required(&cfg, err, sizeof err) != 0 &&
              strstr(err, "ESS_TOKEN_SECRET") != NULL && strstr(err, "ESS_TOKEN_SECRET_FILE"),
          "without a token secret the daemon may not start, and the message says what to set");
    config_free(&cfg);
    setenv("ESS_TOKEN_SECRET", "tooshort", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR &&
              strstr(err, "ESS_TOKEN_SECRET") != NULL && strstr(err, "tooshort") == NULL,
          "a short token secret is refused, not shown");
    config_free(&cfg);
    setenv("ESS_TOKEN_SECRET", LONG("secret"), 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              config_check_required(&cfg, err, sizeof err) == 0 &&
              strcmp(cfg.token_secret, LONG("secret")) == 0,
          "ESS_TOKEN_SECRET satisfies the requirement");
    config_free(&cfg);

    fd = mkstemp(path);
    CHECK(fd >= 0 &&
              write(fd, "  " LONG("from-file") "  \n", 2 + strlen(LONG("from-file")) + 3) > 0,
          "secret file written");
    if (fd >= 0) close(fd);
    setenv("ESS_TOKEN_SECRET_FILE", path, 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR && strstr(err, "not both") != NULL,
          "ESS_TOKEN_SECRET and ESS_TOKEN_SECRET_FILE together are refused");
    config_free(&cfg);
    unsetenv("ESS_TOKEN_SECRET");
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              config_check_required(&cfg, err, sizeof err) == 0 &&
              strcmp(cfg.token_secret, LONG("from-file")) == 0,
          "ESS_TOKEN_SECRET_FILE: its line, blanks around it removed");
    config_free(&cfg);
    fd = open(path, O_WRONLY | O_TRUNC);
    if (fd >= 0) {
        CHECK(write(fd, "short\n", 6) == 6, "short secret written");
        close(fd);
    }
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR && strstr(err, path) != NULL &&
              strstr(err, "short\n") == NULL,
          "a secret file with a short secret is refused, naming the file");
    config_free(&cfg);
    unlink(path);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_ERROR && strstr(err, path) != NULL,
          "a missing secret file is refused, naming it");
    config_free(&cfg);
    clear_env();
}

static void test_limits(void)
{
    struct config cfg;
    char err[512];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.max_connections == 1000 &&
              cfg.max_conns_per_client == 32 && cfg.track_rate_per_min == 30 &&
              cfg.trusted_proxies.n == 0 && cfg.webhook_allow_nets.n == 0,
          "defaults: 1000 connections, 32 per client, 30 lookups a minute, no trusted proxies "
          "or allowed nets");
    config_free(&cfg);
    setenv("ESS_TRUSTED_PROXIES", " 10.0.0.1, fd00::/8 ,", 1);
    setenv("ESS_WEBHOOK_ALLOW_NETS", "10.20.0.0/16", 1);
    setenv("ESS_MAX_CONNECTIONS", "5", 1);
    setenv("ESS_MAX_CONNECTIONS_PER_CLIENT", "0", 1);
    setenv("ESS_TRACK_RATE_PER_MIN", "7", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.trusted_proxies.n == 2 &&
              cfg.trusted_proxies.nets[1].v6 && cfg.trusted_proxies.nets[1].prefix == 8 &&
              cfg.webhook_allow_nets.n == 1 && cfg.max_connections == 5 &&
              cfg.max_conns_per_client == 0 && cfg.track_rate_per_min == 7,
          "ESS_TRUSTED_PROXIES, ESS_WEBHOOK_ALLOW_NETS, ESS_MAX_CONNECTIONS, "
          "ESS_MAX_CONNECTIONS_PER_CLIENT (0: no cap), ESS_TRACK_RATE_PER_MIN load");
    config_free(&cfg);
    clear_env();
    CHECK(env_rejected("ESS_TRUSTED_PROXIES", "10.0.0.1,proxy.example"),
          "a name in ESS_TRUSTED_PROXIES is refused");
    CHECK(env_rejected("ESS_WEBHOOK_ALLOW_NETS", "10.0.0.0/33"), "a /33 is refused");
    CHECK(env_rejected("ESS_MAX_CONNECTIONS", "0"), "ESS_MAX_CONNECTIONS 0 is refused");
    CHECK(env_rejected("ESS_MAX_CONNECTIONS_PER_CLIENT", "-1"),
          "a negative ESS_MAX_CONNECTIONS_PER_CLIENT is refused");
    CHECK(env_rejected("ESS_TRACK_RATE_PER_MIN", "0"), "ESS_TRACK_RATE_PER_MIN 0 is refused");
}

static void test_events(void)
{
    struct config cfg;
    char err[512];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.max_event_streams == 1000 &&
              cfg.events_heartbeat_s == 15 && cfg.events_buffer_bytes == 262144,
          "defaults: 1000 event streams, a heartbeat every 15 s, 256 KiB behind at most");
    config_free(&cfg);
    setenv("ESS_MAX_EVENT_STREAMS", "0", 1);
    CHECK(load(&cfg, err, sizeof err, "--events-heartbeat", "2", "--events-buffer-bytes", "4096",
               NULL) == CONFIG_OK &&
              cfg.max_event_streams == 0 && cfg.events_heartbeat_s == 2 &&
              cfg.events_buffer_bytes == 4096,
          "ESS_MAX_EVENT_STREAMS (0: streams off), --events-heartbeat, --events-buffer-bytes load");
    config_free(&cfg);
    clear_env();
    CHECK(env_rejected("ESS_EVENTS_HEARTBEAT_S", "0"), "a heartbeat of 0 s is refused");
    CHECK(env_rejected("ESS_EVENTS_BUFFER_BYTES", "100"), "a 100-byte stream buffer is refused");
    CHECK(env_rejected("ESS_MAX_EVENT_STREAMS", "-1"), "negative ESS_MAX_EVENT_STREAMS is refused");
}

static void test_line_abandon(void)
{
    struct config cfg;
    char err[512];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.line_abandon_s == 120,
          "ESS_LINE_ABANDON_S defaults to 120 s");
    config_free(&cfg);
    setenv("ESS_LINE_ABANDON_S", "2", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.line_abandon_s == 2,
          "ESS_LINE_ABANDON_S loads");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--line-abandon=30", NULL) == CONFIG_OK &&
              cfg.line_abandon_s == 30,
          "--line-abandon overrides ESS_LINE_ABANDON_S");
    config_free(&cfg);
    clear_env();
    CHECK(env_rejected("ESS_LINE_ABANDON_S", "0"), "ESS_LINE_ABANDON_S 0 is refused");
    CHECK(env_rejected("ESS_LINE_ABANDON_S", "86401"), "ESS_LINE_ABANDON_S over a day is refused");
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.chat_wait_s == 120,
          "ESS_CHAT_WAIT_S defaults to 120 s");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--chat-wait=5", NULL) == CONFIG_OK && cfg.chat_wait_s == 5,
          "--chat-wait sets it");
    config_free(&cfg);
    CHECK(env_rejected("ESS_CHAT_WAIT_S", "0"), "ESS_CHAT_WAIT_S 0 is refused");
    CHECK(env_rejected("ESS_CHAT_WAIT_S", "86401"), "ESS_CHAT_WAIT_S over a day is refused");
}

/* The milliseconds ESS_AUDIT_RETENTION_DAYS=value loads as, or -1 when it is refused (the error
 * naming the variable). */
static long long days_ms(const char *value)
{
    struct config cfg;
    char err[512];
    long long ms = -1;

    clear_env();
    setenv("ESS_AUDIT_RETENTION_DAYS", value, 1);
    if (load(&cfg, err, sizeof err, NULL) == CONFIG_OK)
        ms = cfg.audit_retention_ms;
    else if (strstr(err, "ESS_AUDIT_RETENTION_DAYS") == NULL)
        ms = -2;
    config_free(&cfg);
    clear_env();
    return ms;
}

/* SETTING_DAYS: a decimal number of days, stored as milliseconds, within its bounds. */
static void test_days(void)
{
    struct config cfg;
    char err[512];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
              cfg.audit_retention_ms == 730LL * 86400000,
          "ESS_AUDIT_RETENTION_DAYS defaults to 730 days");
    config_free(&cfg);
    CHECK(days_ms("90") == 90LL * 86400000, "90 days");
    CHECK(days_ms("0.5") == 43200000, "0.5 day is 12 hours");
    CHECK(days_ms("0.00002") == 1728, "0.00002 day is 1.728 s");
    CHECK(days_ms("0.00001") == 864, "the least, 0.00001 day, is 0.864 s");
    CHECK(days_ms(".25") == 21600000, "a leading point");
    CHECK(days_ms("36500") == 36500LL * 86400000, "the most, 36500 days");
    CHECK(days_ms(" 7 ") == 7LL * 86400000, "blanks around are trimmed");
    CHECK(days_ms("0.000000001") == -1, "below 0.00001 is refused");
    CHECK(days_ms("0.0000099") == -1, "just below 0.00001 is refused");
    CHECK(days_ms("0") == -1 && days_ms("0.0") == -1, "zero is refused");
    CHECK(days_ms("36500.5") == -1 && days_ms("99999") == -1 && days_ms("100000") == -1,
          "above 36500 is refused");
    CHECK(days_ms("-1") == -1 && days_ms("1e3") == -1 && days_ms("90d") == -1 &&
              days_ms("1.") == -1 && days_ms(".") == -1 && days_ms("1.2.3") == -1 &&
              days_ms("0x10") == -1 && days_ms("0.1234567891") == -1,
          "signs, exponents, units, a bare point and too many decimals are refused");
    CHECK(load(&cfg, err, sizeof err, "--audit-retention-days=1.5", NULL) == CONFIG_OK &&
              cfg.audit_retention_ms == 129600000,
          "--audit-retention-days loads");
    config_free(&cfg);
}

/* ESS_RETENTION_DAYS and ESS_TRACK_RETENTION_DAYS: days as ESS_AUDIT_RETENTION_DAYS reads them. */
static void test_retention_days(void)
{
    struct config cfg;
    char err[512];

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.retention_ms == 90LL * 86400000 &&
              cfg.track_retention_ms == 30LL * 86400000,
          "ESS_RETENTION_DAYS defaults to 90 days, ESS_TRACK_RETENTION_DAYS to 30");
    config_free(&cfg);
    setenv("ESS_RETENTION_DAYS", "0.00005", 1);
    setenv("ESS_TRACK_RETENTION_DAYS", "365", 1);
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && cfg.retention_ms == 4320 &&
              cfg.track_retention_ms == 365LL * 86400000,
          "both read from the environment (0.00005 day is 4.32 s)");
    config_free(&cfg);
    CHECK(load(&cfg, err, sizeof err, "--retention-days=2", "--track-retention-days=0.5", NULL) ==
                  CONFIG_OK &&
              cfg.retention_ms == 2LL * 86400000 && cfg.track_retention_ms == 43200000,
          "the flags override the environment");
    config_free(&cfg);
    clear_env();
    CHECK(env_rejected("ESS_RETENTION_DAYS", "0") && env_rejected("ESS_RETENTION_DAYS", "36501") &&
              env_rejected("ESS_RETENTION_DAYS", "-3") &&
              env_rejected("ESS_RETENTION_DAYS", "ninety"),
          "ESS_RETENTION_DAYS out of its bounds, or not a number, is refused");
    CHECK(env_rejected("ESS_TRACK_RETENTION_DAYS", "0.000001") &&
              env_rejected("ESS_TRACK_RETENTION_DAYS", "40000"),
          "ESS_TRACK_RETENTION_DAYS out of its bounds is refused");
}

/* 1 when loading with var=value succeeds, the field then reading want. */
static int env_gives(const char *var, const char *value, size_t field, const char *want)
{
    struct config cfg;
    char err[512];
    int ok;

    clear_env();
    setenv(var, value, 1);
    ok = load(&cfg, err, sizeof err, NULL) == CONFIG_OK &&
         strcmp(*(char **)((char *)&cfg + field), want) == 0;
    config_free(&cfg);
    clear_env();
    return ok;
}

static void test_public_url_and_tiles(void)
{
    struct config cfg;
    char err[512];
    static const char *const bad_origins[] = {
        "help.example.go.th",         "ftp://help.example",         "https://",
        "https://help.example/track", "https://help.example/a/",    "https://help.example?x=1",
        "https://help.example#top",   "https://u:p@help.example",   "https://help example",
        "https://help.example:0",     "https://help.example:99999", "https://a:b:c",
        "https://help.example//",
    };
    static const char *const bad_tiles[] = {
        "tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://tile.example/{z}/{x}.png",
        "https://tile.example/{x}/{y}.png",
        "https://tile.example/{z}/{x}/{y}.png\"",
        "https://tile.example/{z}/{x}/{y}.png'",
        "https://tile.example/<{z}>/{x}/{y}",
        "https://{s}.tile.example/{z}/{x}/{y}.png",
        "https://tile.example/{z}/{x}/{y} .png",
        "https:///{z}/{x}/{y}.png",
        "https://tile.example/{z}/{x}/{y};x",
    };
    int all = 1;

    clear_env();
    CHECK(load(&cfg, err, sizeof err, NULL) == CONFIG_OK && strcmp(cfg.public_url, "") == 0 &&
              strcmp(cfg.map_tiles, "") == 0,
          "ESS_PUBLIC_URL and ESS_MAP_TILES default to empty");
    config_free(&cfg);
    CHECK(env_gives("ESS_PUBLIC_URL", "https://help.example.go.th",
                    offsetof(struct config, public_url), "https://help.example.go.th"),
          "ESS_PUBLIC_URL takes https://host");
    CHECK(env_gives("ESS_PUBLIC_URL", " http://127.0.0.1:8080/ ",
                    offsetof(struct config, public_url), "http://127.0.0.1:8080"),
          "ESS_PUBLIC_URL takes http://host:port, blanks and one trailing slash dropped");
    CHECK(env_gives("ESS_PUBLIC_URL", "https://[2001:db8::1]:8443",
                    offsetof(struct config, public_url), "https://[2001:db8::1]:8443"),
          "ESS_PUBLIC_URL takes a bracketed IPv6 host");
    for (size_t i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++)
        all &= env_rejected("ESS_PUBLIC_URL", bad_origins[i]);
    CHECK(all, "ESS_PUBLIC_URL refuses a missing scheme or host, a path, query, fragment, user "
               "info, blanks and bad ports, naming the variable");
    CHECK(load(&cfg, err, sizeof err, "--public-url=https://h.example", NULL) == CONFIG_OK &&
              strcmp(cfg.public_url, "https://h.example") == 0,
          "--public-url sets it");
    config_free(&cfg);

    CHECK(env_gives("ESS_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    offsetof(struct config, map_tiles),
                    "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
          "ESS_MAP_TILES takes a template with {z} {x} {y}");
    CHECK(env_gives("ESS_MAP_TILES", "http://127.0.0.1:9000/t/{z}/{y}/{x}.png?key=abc",
                    offsetof(struct config, map_tiles),
                    "http://127.0.0.1:9000/t/{z}/{y}/{x}.png?key=abc"),
          "ESS_MAP_TILES takes http, a port, any order and a query");
    all = 1;
    for (size_t i = 0; i < sizeof bad_tiles / sizeof bad_tiles[0]; i++)
        all &= env_rejected("ESS_MAP_TILES", bad_tiles[i]);
    CHECK(all, "ESS_MAP_TILES refuses no scheme, a missing {z} {x} or {y}, quotes, brackets, "
               "blanks, ';' and a host that is a placeholder");
    CHECK(load(&cfg, err, sizeof err, "--map-tiles=https://t.example/{z}/{x}/{y}.png", NULL) ==
                  CONFIG_OK &&
              strcmp(cfg.map_tiles, "https://t.example/{z}/{x}/{y}.png") == 0,
          "--map-tiles sets it");
    config_free(&cfg);
    clear_env();
}

static void test_help(void)
{
    static char out[16384];
    enum config_result r;
    int all = 1;

    clear_env();
    setenv("ESS_ADMIN_TOKEN", "do-not-print-me", 1);
    r = load_captured(out, sizeof out, "--help");
    CHECK(r == CONFIG_EXIT_OK, "--help returns CONFIG_EXIT_OK");
    for (size_t i = 0; i < NVARS; i++) all &= strstr(out, all_vars[i]) != NULL;
    CHECK(all, "--help lists every variable");
    CHECK(strstr(out, "--listen") && strstr(out, "--redis-url") && strstr(out, "--key-prefix") &&
              strstr(out, "--rules") && strstr(out, "--admin-token") &&
              strstr(out, "--operator-tokens") && strstr(out, "--line-channel-secret") &&
              strstr(out, "--line-channel-access-token") && strstr(out, "--line-api-base") &&
              strstr(out, "--log-level") && strstr(out, "--max-body-bytes") &&
              strstr(out, "--request-timeout") && strstr(out, "--drain-timeout") &&
              strstr(out, "--reuse-port") && strstr(out, "--public-url") &&
              strstr(out, "--map-tiles"),
          "--help lists every flag");
    CHECK(strstr(out, "127.0.0.1:8080") && strstr(out, "redis://127.0.0.1:6379/0") &&
              strstr(out, "https://api.line.me") && strstr(out, "65536"),
          "--help shows the defaults");
    CHECK(strstr(out, "(secret)") != NULL && strstr(out, "do-not-print-me") == NULL,
          "--help marks secrets and never prints them");
    clear_env();

    CHECK(load_captured(out, sizeof out, "-h") == CONFIG_EXIT_OK && strstr(out, "ESS_LISTEN"),
          "-h prints the help too");
    CHECK(load_captured(out, sizeof out, "--version") == CONFIG_EXIT_OK &&
              strcmp(out, "ess-router 0.1.0\n") == 0,
          "--version prints ess-router 0.1.0");
}

static void test_log_level_parse(void)
{
    CHECK(log_level_parse("debug") == LOG_LEVEL_DEBUG &&
              log_level_parse("INFO") == LOG_LEVEL_INFO &&
              log_level_parse("warn") == LOG_LEVEL_WARN &&
              log_level_parse("error") == LOG_LEVEL_ERROR,
          "log_level_parse knows the four levels");
    CHECK(log_level_parse("") == -1 && log_level_parse("trace") == -1 &&
              log_level_parse(NULL) == -1,
          "log_level_parse refuses anything else");
}

int main(void)
{
    test_defaults();
    test_precedence();
    test_listen();
    test_redis_url();
    test_sentinels();
    test_bounds();
    test_errors();
    test_tokens();
    test_operator_entries();
    test_supervisor_secret();
    test_token_secret();
    test_limits();
    test_events();
    test_line_abandon();
    test_days();
    test_retention_days();
    test_public_url_and_tiles();
    test_help();
    test_log_level_parse();
    clear_env();
    return tap_done();
}
