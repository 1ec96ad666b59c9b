
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads, appended to: a PATCH's body (or a creation's) read
 * as it arrives into the upload (ngx_http_attachments_tus_patch.c).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_TUS_PATCH_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_TUS_PATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_tus_store.h"


ngx_int_t ngx_http_attachments_tus_body_init(ngx_conf_t *cf);
ngx_int_t ngx_http_attachments_tus_check(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
ngx_int_t ngx_http_attachments_tus_unchecked(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
ngx_int_t ngx_http_attachments_tus_patch(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
void ngx_http_attachments_tus_end(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
ngx_int_t ngx_http_attachments_tus_refuse(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc);
ngx_int_t ngx_http_attachments_tus_answer(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);


#endif /* _NGX_HTTP_ATTACHMENTS_TUS_PATCH_H_INCLUDED_ */
