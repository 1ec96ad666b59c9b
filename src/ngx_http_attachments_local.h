
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "local" storage kind, and what the download location asks of it:
 * minting a signed URL and sending a granted blob.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_LOCAL_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_LOCAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_storage.h"


ngx_int_t ngx_http_attachments_local_sign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);
ngx_int_t ngx_http_attachments_local_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key,
    ngx_http_attachments_grant_t *g);


extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_local_kind;


#endif /* _NGX_HTTP_ATTACHMENTS_LOCAL_H_INCLUDED_ */
