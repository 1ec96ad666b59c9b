
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * JSON responses: the writer into the request's buffers, jansson's
 * documents dumped through it, and the error shape of DESIGN.md
 * ({"error":{"code":...,"message":...}}).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_json_text.h"
#include "ngx_http_attachments_json.h"


#define NGX_HTTP_ATTACHMENTS_JSON_FLAGS   (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define NGX_HTTP_ATTACHMENTS_JSON_BUFFER  16384


static int ngx_http_attachments_json_dump(const char *data, size_t len,
    void *ctx);


/* hint: the size the body will likely have, for its first buffer */

void
ngx_http_attachments_json_init(ngx_http_attachments_json_out_t *out,
    ngx_pool_t *pool, size_t hint)
{
    ngx_memzero(out, sizeof(ngx_http_attachments_json_out_t));

    out->pool = pool;
    out->last = &out->out;
    out->hint = ngx_max(hint, NGX_HTTP_ATTACHMENTS_JSON_BUFFER);
}


/*
 * room for n contiguous bytes in the last buffer, a new one if it lacks
 * them; NULL once memory ran out (the writer then ignores what follows)
 */

u_char *
ngx_http_attachments_json_reserve(ngx_http_attachments_json_out_t *out,
    size_t n)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->failed) {
        return NULL;
    }

    if (out->buf && (size_t) (out->buf->end - out->buf->last) >= n) {
        return out->buf->last;
    }

    cl = ngx_alloc_chain_link(out->pool);
    if (cl == NULL) {
        goto failed;
    }

    b = ngx_create_temp_buf(out->pool, ngx_max(n, out->hint));
    if (b == NULL) {
        goto failed;
    }

    /* later buffers: the usual size */
    out->hint = NGX_HTTP_ATTACHMENTS_JSON_BUFFER;

    cl->buf = b;
    cl->next = NULL;
    *out->last = cl;
    out->last = &cl->next;
    out->buf = b;

    return b->last;

failed:

    out->failed = 1;
    return NULL;
}


void
ngx_http_attachments_json_raw(ngx_http_attachments_json_out_t *out,
    u_char *data, size_t len)
{
    u_char  *p;

    p = ngx_http_attachments_json_room(out, len);

    if (p) {
        out->buf->last = ngx_cpymem(p, data, len);
    }
}


/* a JSON string of any bytes the database gave (UTF-8) */

void
ngx_http_attachments_json_string(ngx_http_attachments_json_out_t *out,
    u_char *data, size_t len)
{
    u_char  *p;
    size_t   n;

    n = ngx_http_attachments_json_escape(NULL, data, len);

    p = ngx_http_attachments_json_room(out, n + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';

    if (n == len) {
        ngx_memcpy(p, data, len);

    } else {
        (void) ngx_http_attachments_json_escape(p, data, len);
    }

    p += n;
    *p++ = '"';

    out->buf->last = p;
}


/* jsonb text from the database, passed through compact */

void
ngx_http_attachments_json_text(ngx_http_attachments_json_out_t *out,
    u_char *text, size_t len)
{
    u_char  *p;

    p = ngx_http_attachments_json_room(out, len);

    if (p) {
        out->buf->last = p + ngx_http_attachments_json_compact(p, text, len);
    }
}


/* sends the body written (a newline ends it) as the whole response */

ngx_int_t
ngx_http_attachments_send_out(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_attachments_json_out_t *out)
{
    off_t         size;
    ngx_int_t     rc;
    ngx_chain_t  *cl;

    ngx_http_attachments_json_literal(out, "\n");

    if (out->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = 0;

    for (cl = out->out; cl; cl = cl->next) {
        size += cl->buf->last - cl->buf->pos;
    }

    out->buf->last_buf = (r == r->main) ? 1 : 0;
    out->buf->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = size;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out->out);
}


/* sends json (and takes its reference) as the whole response */

ngx_int_t
ngx_http_attachments_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    int                               rc;
    ngx_http_attachments_json_out_t   out;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_attachments_json_init(&out, r->pool, 0);

    rc = json_dump_callback(json, ngx_http_attachments_json_dump, &out,
                            NGX_HTTP_ATTACHMENTS_JSON_FLAGS);
    json_decref(json);

    if (rc != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_send_out(r, status, &out);
}


/* jansson writes in small pieces; a piece may span two buffers */

static int
ngx_http_attachments_json_dump(const char *data, size_t len, void *ctx)
{
    ngx_http_attachments_json_out_t *out = ctx;

    size_t   n;
    u_char  *p;

    while (len) {
        p = ngx_http_attachments_json_reserve(out, 1);
        if (p == NULL) {
            return -1;
        }

        n = ngx_min(len, (size_t) (out->buf->end - p));
        out->buf->last = ngx_cpymem(p, data, n);
        data += n;
        len -= n;
    }

    return 0;
}


ngx_int_t
ngx_http_attachments_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    return ngx_http_attachments_send_json(r, status,
               json_pack("{s:{s:s,s:s}}", "error", "code", code,
                         "message", message));
}


/* the database (or a storage) cannot answer now; the log says why */

ngx_int_t
ngx_http_attachments_send_unavailable(ngx_http_request_t *r)
{
    if (ngx_http_attachments_add_header(r, "Retry-After",
                                        NGX_HTTP_ATTACHMENTS_RETRY_AFTER)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "unavailable",
                                           "the service is unavailable, "
                                           "retry later");
}


/* a response header; value NULL leaves it for the caller to fill */

ngx_table_elt_t *
ngx_http_attachments_add_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);

    if (value) {
        h->value.data = (u_char *) value;
        h->value.len = ngx_strlen(value);
    }

    return h;
}
