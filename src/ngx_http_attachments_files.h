
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The file endpoints of the API (list, get, content, update, delete,
 * versions) and the caller's usage.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_FILES_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_FILES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_request.h"


ngx_int_t ngx_http_attachments_list(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char *audit);
ngx_int_t ngx_http_attachments_patch(ngx_http_request_t *r);
ngx_int_t ngx_http_attachments_delete(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_usage(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_versions(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);


#endif /* _NGX_HTTP_ATTACHMENTS_FILES_H_INCLUDED_ */
