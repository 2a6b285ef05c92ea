/* The session cookie and the CSRF header (session_cookie.h). */
#include "session_cookie.h"

#include <openssl/crypto.h>
#include <string.h>

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int session_cookie_value(const char *h, char out[SESSION_TOKEN_LEN + 1])
{
    static const char name[] = SESSION_COOKIE_NAME;
    const size_t nlen = sizeof name - 1;

    out[0] = '\0';
    if (h == NULL || strlen(h) > SESSION_COOKIE_HEADER_MAX) return -1;
    while (*h) {
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h), i;
        while (len > 0 && (*h == ' ' || *h == '\t')) {
            h++;
            len--;
        }
        while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t')) len--;
        if (len == nlen + 1 + SESSION_TOKEN_LEN && memcmp(h, name, nlen) == 0 && h[nlen] == '=') {
            const char *v = h + nlen + 1;
            for (i = 0; i < SESSION_TOKEN_LEN && is_b64url(v[i]); i++) continue;
            if (i == SESSION_TOKEN_LEN) {
                memcpy(out, v, SESSION_TOKEN_LEN);
                out[SESSION_TOKEN_LEN] = '\0';
                return 0;
            }
        }
        if (end == NULL) break;
        h = end + 1;
    }
    return -1;
}

int session_cookie_csrf_match(const char *sent, const char *want)
{
    size_t n = want ? strlen(want) : 0;
    return sent != NULL && n > 0 && strlen(sent) == n && CRYPTO_memcmp(sent, want, n) == 0;
}
