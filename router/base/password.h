/* Operator passwords: stored only as a slow salted hash (scrypt through OpenSSL), with a random
 * salt per password and the cost in the stored string, so that it can be raised later without
 * breaking the hashes already stored. Hashing and verifying take tens of milliseconds of CPU and
 * tens of MiB of memory: they run on worker threads (worker.h), never on the event loop. Both
 * are safe to call from several threads at once. */
#ifndef ESS_ROUTER_PASSWORD_H
#define ESS_ROUTER_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MIN_CHARS 12   /* characters (UTF-8 code points) */
#define PASSWORD_MAX_BYTES 1024 /* a longer password only costs CPU */
#define PASSWORD_HASH_SIZE 128  /* an encoded hash with its NUL fits */

/* 1 when pw[0..len) is acceptable as a password: valid UTF-8 without NUL or control characters,
 * PASSWORD_MIN_CHARS characters or more, at most PASSWORD_MAX_BYTES bytes. */
int password_acceptable(const char *pw, size_t len);

/* Hashes pw[0..len) with a new random salt into out: "scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash
 * hex>". Slow. 0, or -1 (out is then ""). */
int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_SIZE]);

/* 1 when pw[0..len) is the password of encoded (compared in constant time), 0 when it is not, -1
 * when encoded is not a hash of ours (or its cost is out of bounds) or hashing failed. Slow:
 * as slow for a wrong password as for the right one. */
int password_verify(const char *pw, size_t len, const char *encoded);

/* A well-formed hash of no one's password, verified in place of an unknown operator's so that
 * a wrong id takes as long to refuse as a wrong password. */
extern const char password_dummy_hash[];

#endif
