/* Files compiled into the router (router/http/static.h): lookup, ETag revalidation, answers. */
#include "static.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static int static_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct static_file *)elem)->path);
}

const struct static_file *static_find(const char *path)
{
    if (path == NULL) return NULL;
    return bsearch(path, static_files, static_files_count, sizeof static_files[0], static_cmp);
}

int static_etag_matches(const char *inm, const char *etag)
{
    size_t want = strlen(etag);
    const char *p = inm;

    if (p == NULL) return 0;
    for (;;) {
        const char *start;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p == '\0') return 0;
        if (*p == '*') return 1;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        start = p;
        if (*p == '"') { /* a quoted tag: up to its closing quote */
            const char *end = strchr(p + 1, '"');
            if (end == NULL) return 0;
            p = end + 1;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\t') p++;
        }
        if ((size_t)(p - start) == want && memcmp(start, etag, want) == 0) return 1;
    }
}

void static_reply(struct http_call *call, const struct static_file *file)
{
    const char *inm;

    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    inm = evhttp_find_header(evhttp_request_get_input_headers(call->req), "If-None-Match");
    evhttp_add_header(evhttp_request_get_output_headers(call->req), "ETag", file->etag);
    if (static_etag_matches(inm, file->etag)) {
        http_reply_text(call, 304, NULL, "", 0);
        return;
    }
    if (evhttp_request_get_command(call->req) == EVHTTP_REQ_HEAD) {
        /* evhttp sends no body to a HEAD, nor its length: the length a GET would get */
        char len[24];
        snprintf(len, sizeof len, "%zu", file->len);
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "Content-Length", len);
    }
    http_reply_static(call, 200, file->type, file->data, file->len);
}

void static_get(struct http_call *call)
{
    const struct static_file *file = static_find(call->params[0]);
    if (file == NULL) {
        http_reply_error(call, 404, "not_found", "No such file.");
        return;
    }
    static_reply(call, file);
}
