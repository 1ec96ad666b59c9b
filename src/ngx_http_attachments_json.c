
/*
 * JSON responses: serialisation into the request pool and the error shape
 * of DESIGN.md ({"error":{"code":…,"message":…}}).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_json.h"


#define NGX_HTTP_ATTACHMENTS_JSON_FLAGS  (JSON_COMPACT | JSON_PRESERVE_ORDER)


/* sends json (and takes its reference) as the whole response */

ngx_int_t
ngx_http_attachments_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = json_dumpb(json, NULL, 0, NGX_HTTP_ATTACHMENTS_JSON_FLAGS);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL || len == 0) {
        json_decref(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += json_dumpb(json, (char *) b->pos, len,
                          NGX_HTTP_ATTACHMENTS_JSON_FLAGS);
    *b->last++ = '\n';
    json_decref(json);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
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

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
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
