
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, received: ngx_http_attachments_upload_module reads a
 * multipart body as it arrives and hands it to the commit.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_UPLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_receive.h"


ngx_int_t ngx_http_attachments_upload(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
ngx_int_t ngx_http_attachments_upload_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up,
    ngx_http_attachments_upload_conf_t *conf, ngx_http_attachments_blob_t *b);
magic_t ngx_http_attachments_upload_magic(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_attachments_upload_module;


#endif /* _NGX_HTTP_ATTACHMENTS_UPLOAD_H_INCLUDED_ */
