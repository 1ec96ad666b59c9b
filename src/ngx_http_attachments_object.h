
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
#include <jansson.h>
#include <libpq-fe.h>

#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_request.h"


json_t *ngx_http_attachments_file_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int row);
json_t *ngx_http_attachments_files_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int n);
void ngx_http_attachments_link(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
json_t *ngx_http_attachments_json_str(u_char *p, size_t len);
size_t ngx_http_attachments_time(u_char *buf, int64_t us, ngx_uint_t micro);


#endif /* _NGX_HTTP_ATTACHMENTS_OBJECT_H_INCLUDED_ */
