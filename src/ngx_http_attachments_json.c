
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * JSON responses: serialisation into the request pool and the error shape
 * of DESIGN.md ({"error":{"code":...,"message":...}}).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_json.h"


#define NGX_HTTP_ATTACHMENTS_JSON_FLAGS   (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define NGX_HTTP_ATTACHMENTS_JSON_BUFFER  16384


/* jansson writes a response in small pieces; they go into pool buffers */

typedef struct {
    ngx_pool_t       *pool;
    ngx_chain_t      *out;
    ngx_chain_t     **last;
    ngx_buf_t        *buf;
    off_t             size;
} ngx_http_attachments_json_out_t;


static int ngx_http_attachments_json_write(const char *data, size_t len,
    void *ctx);


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

    ngx_memzero(&out, sizeof(ngx_http_attachments_json_out_t));
    out.pool = r->pool;
    out.last = &out.out;

    /* one pass: measuring first would walk (and UTF-8 check) it twice */

    rc = json_dump_callback(json, ngx_http_attachments_json_write, &out,
                            NGX_HTTP_ATTACHMENTS_JSON_FLAGS);
    json_decref(json);

    if (rc != 0 || ngx_http_attachments_json_write("\n", 1, &out) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out.buf->last_buf = (r == r->main) ? 1 : 0;
    out.buf->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = out.size;
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

    return ngx_http_output_filter(r, out.out);
}


static int
ngx_http_attachments_json_write(const char *data, size_t len, void *ctx)
{
    ngx_http_attachments_json_out_t *out = ctx;

    size_t        n;
    ngx_chain_t  *cl;

    out->size += len;

    while (len) {

        if (out->buf == NULL || out->buf->last == out->buf->end) {
            cl = ngx_alloc_chain_link(out->pool);
            if (cl == NULL) {
                return -1;
            }

            cl->buf = ngx_create_temp_buf(out->pool,
                                          NGX_HTTP_ATTACHMENTS_JSON_BUFFER);
            if (cl->buf == NULL) {
                return -1;
            }

            cl->next = NULL;
            *out->last = cl;
            out->last = &cl->next;
            out->buf = cl->buf;
        }

        n = ngx_min(len, (size_t) (out->buf->end - out->buf->last));
        out->buf->last = ngx_cpymem(out->buf->last, data, n);
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
