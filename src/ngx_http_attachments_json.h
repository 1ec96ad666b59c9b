
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Responses: every body the module writes is JSON made by jansson here.
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


ngx_int_t ngx_http_attachments_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_attachments_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_attachments_send_unavailable(ngx_http_request_t *r);
ngx_table_elt_t *ngx_http_attachments_add_header(ngx_http_request_t *r,
    char *key, char *value);


#endif /* _NGX_HTTP_ATTACHMENTS_JSON_H_INCLUDED_ */
