
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The file object of the API's answers, and the links to blobs it is made
 * with.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_OBJECT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_OBJECT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_request.h"


/* what a file object usually takes, for the first buffer of an answer */
#define NGX_HTTP_ATTACHMENTS_FILE_OBJECT_SIZE  1024


void ngx_http_attachments_file_object(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    PGresult *res, int row);
void ngx_http_attachments_file_objects(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    PGresult *res, int n);
ngx_int_t ngx_http_attachments_send_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_uint_t status, PGresult *res,
    int row);
ngx_int_t ngx_http_attachments_send_files(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_uint_t status, PGresult *res, int n);
ngx_int_t ngx_http_attachments_send_objects(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_attachments_json_out_t *out);
void ngx_http_attachments_link(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
size_t ngx_http_attachments_time(u_char *buf, int64_t us, ngx_uint_t micro);


#endif /* _NGX_HTTP_ATTACHMENTS_OBJECT_H_INCLUDED_ */
