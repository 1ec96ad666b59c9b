
/*
 * What the API's parts share: the request context the access phase fills,
 * and the helpers that run a statement for a request and answer it.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_input.h"


typedef struct {
    ngx_http_attachments_route_t     route;
    ngx_str_t                        user;
    ngx_str_t                        org;
    char                            *action;
    ngx_uint_t                       access;
    ngx_uint_t                       refused;   /* status */
    ngx_uint_t                       limit;
    ngx_str_t                        base;      /* of absolute URLs */
    void                            *upload;
    void                            *publish;
    void                            *health;
    ngx_http_attachments_storage_op_t  *s3;     /* under way */
} ngx_http_attachments_ctx_t;


/* api.c */
ngx_http_attachments_pg_query_t *ngx_http_attachments_statement(
    ngx_http_request_t *r, ngx_http_attachments_ctx_t *ctx,
    ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler);
ngx_int_t ngx_http_attachments_run(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
ngx_http_attachments_pg_query_t *ngx_http_attachments_file_statement(
    ngx_http_request_t *r, ngx_http_attachments_ctx_t *ctx,
    ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler);
ngx_int_t ngx_http_attachments_run_through(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
ngx_uint_t ngx_http_attachments_failed(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one);
ngx_uint_t ngx_http_attachments_result(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one);
void ngx_http_attachments_finish(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_attachments_refused(ngx_http_request_t *r,
    ngx_uint_t status);

/* upload.c */
#define NGX_HTTP_ATTACHMENTS_VAR_UUID         0
#define NGX_HTTP_ATTACHMENTS_VAR_FILENAME     1
#define NGX_HTTP_ATTACHMENTS_VAR_ORG          2
#define NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE  3
#define NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID    4

ngx_int_t ngx_http_attachments_upload_init(ngx_conf_t *cf);
ngx_int_t ngx_http_attachments_upload(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
ngx_int_t ngx_http_attachments_upload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* files.c */
ngx_int_t ngx_http_attachments_list(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char *audit);
void ngx_http_attachments_patch(ngx_http_request_t *r);
ngx_int_t ngx_http_attachments_delete(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_usage(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_versions(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);

/* publish.c */
ngx_int_t ngx_http_attachments_publish(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
json_t *ngx_http_attachments_file_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int row);
ngx_int_t ngx_http_attachments_health_handler(ngx_http_request_t *r);
json_t *ngx_http_attachments_files_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int n);


#endif /* _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_ */
