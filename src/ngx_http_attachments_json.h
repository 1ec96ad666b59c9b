
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Responses: every body the module writes is JSON, written here into
 * the request's buffers.  File objects, the bulk of what the API sends,
 * go through a small writer; the rarer answers are built with jansson
 * and dumped through the same writer.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_JSON_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


#define NGX_HTTP_ATTACHMENTS_GONE           410
#define NGX_HTTP_ATTACHMENTS_UNPROCESSABLE  422
#define NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE  507

/* seconds a client waits before it retries a 503 */
#define NGX_HTTP_ATTACHMENTS_RETRY_AFTER    "2"


/* a response body being written: pool buffers chained in order */

typedef struct {
    ngx_pool_t                  *pool;
    ngx_chain_t                 *out;
    ngx_chain_t                **last;
    ngx_buf_t                   *buf;
    size_t                       hint;
    ngx_uint_t                   failed;   /* sticky: memory ran out */
} ngx_http_attachments_json_out_t;


#define ngx_http_attachments_json_literal(out, s)                            \
    ngx_http_attachments_json_raw(out, (u_char *) s, sizeof(s) - 1)


/* room for n bytes: at once when the last buffer has it */

#define ngx_http_attachments_json_room(out, n)                               \
    (((out)->buf && (size_t) ((out)->buf->end - (out)->buf->last) >= (n))    \
     ? (out)->buf->last : ngx_http_attachments_json_reserve(out, n))


void ngx_http_attachments_json_init(ngx_http_attachments_json_out_t *out,
    ngx_pool_t *pool, size_t hint);
u_char *ngx_http_attachments_json_reserve(
    ngx_http_attachments_json_out_t *out, size_t n);
void ngx_http_attachments_json_raw(ngx_http_attachments_json_out_t *out,
    u_char *data, size_t len);
void ngx_http_attachments_json_string(ngx_http_attachments_json_out_t *out,
    u_char *data, size_t len);
void ngx_http_attachments_json_text(ngx_http_attachments_json_out_t *out,
    u_char *text, size_t len);
ngx_int_t ngx_http_attachments_send_out(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_attachments_json_out_t *out);
ngx_int_t ngx_http_attachments_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_attachments_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_attachments_send_unavailable(ngx_http_request_t *r);
ngx_table_elt_t *ngx_http_attachments_add_header(ngx_http_request_t *r,
    char *key, char *value);


#endif /* _NGX_HTTP_ATTACHMENTS_JSON_H_INCLUDED_ */
