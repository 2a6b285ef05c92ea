/* Cryptographically secure random values (OpenSSL's RAND_bytes): bytes, bearer tokens, UUIDs. */
#ifndef ESS_ROUTER_RANDOM_H
#define ESS_ROUTER_RANDOM_H

#include <stddef.h>

/* Fills buf[0..len) from the CSPRNG. 0, or -1 when the generator failed (never partial output). */
int random_bytes(void *buf, size_t len);

/* Writes nbytes of randomness as unpadded base64url plus a NUL to out; outlen must be at least
 * 4 * ceil(nbytes / 3) + 1. 0 or -1. */
int random_token(char *out, size_t outlen, size_t nbytes);

/* Writes a random (version 4) UUID, lowercase, with its NUL: 37 bytes. 0 or -1. */
int random_uuid(char out[37]);

#endif
