
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The request toolkit the API's handlers share: the request context, the
 * statements run for a request and the answers to their failures.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_REQUEST_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_input.h"


/* a JSON request body's limit: metadata updates, direct uploads */
#define NGX_HTTP_ATTACHMENTS_BODY_MAX  65536


/* the API's request context, under ngx_http_attachments_module */
typedef struct {
    ngx_http_attachments_route_t     route;
    ngx_str_t                        user;
    ngx_str_t                        org;
    char                            *action;
    ngx_uint_t                       access;
    ngx_uint_t                       refused;   /* status */
    ngx_uint_t                       limit;
    ngx_str_t                        base;      /* of absolute URLs */
    ngx_uint_t                       naming;    /* may store a file */
    ngx_str_t                        record;    /* record_label()'s */
    void                            *upload;
    void                            *publish;
    void                            *tus;
    void                            *direct;
} ngx_http_attachments_ctx_t;


ngx_http_attachments_pg_query_t *ngx_http_attachments_statement(
    ngx_http_request_t *r, ngx_http_attachments_ctx_t *ctx,
    ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler);
ngx_http_attachments_pg_query_t *ngx_http_attachments_file_statement(
    ngx_http_request_t *r, ngx_http_attachments_ctx_t *ctx,
    ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler);
ngx_int_t ngx_http_attachments_run(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
ngx_int_t ngx_http_attachments_run_through(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
ngx_int_t ngx_http_attachments_run_params(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler, ngx_str_t **params,
    ngx_uint_t n);
ngx_int_t ngx_http_attachments_json_body(ngx_http_request_t *r,
    const char *too_large, json_t **json);

ngx_uint_t ngx_http_attachments_failed(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one);
ngx_uint_t ngx_http_attachments_result(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one);
void ngx_http_attachments_finish(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_attachments_refused(ngx_http_request_t *r,
    ngx_uint_t status);

ngx_int_t ngx_http_attachments_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value);
ngx_int_t ngx_http_attachments_unescape(ngx_pool_t *pool, ngx_str_t *value);
ngx_int_t ngx_http_attachments_base(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);


#endif /* _NGX_HTTP_ATTACHMENTS_REQUEST_H_INCLUDED_ */
