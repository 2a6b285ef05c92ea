/* Logging: one line per event on stderr, "2026-11-21T03:04:05.123Z LEVEL message". The level is
 * checked before the arguments are evaluated. Never log personal data: names, phones, LINE user
 * ids, descriptions, addresses, coordinates. Refer to a case by its case id. */
#ifndef ESS_ROUTER_LOG_H
#define ESS_ROUTER_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

extern enum log_level log_min_level;

/* Parses "debug", "info", "warn" or "error"; -1 for anything else. */
int log_level_parse(const char *name);

/* Writes the printable form of the message msg[0..n) to out[0..cap) (not NUL-terminated) and
 * returns its length: \n, \r, \t and \\ as those two-character escapes, other ASCII controls,
 * DEL and bytes of invalid UTF-8 as \xHH, C1 controls and U+2028/U+2029 as \uHHHH; everything
 * else as it is. An escape is never cut: *cut is set when out was full before msg ended.
 * cut_input says msg itself was cut short, so an incomplete UTF-8 sequence at its end is
 * dropped rather than escaped. */
size_t log_escape(char *out, size_t cap, const char *msg, size_t n, int cut_input, int *cut);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= log_min_level) log_write((level), __VA_ARGS__);                             \
    } while (0)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
