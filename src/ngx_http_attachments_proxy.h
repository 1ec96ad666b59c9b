
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Storage operations as subrequests through an internal proxy_pass
 * location, for the cloud storage kinds.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_PROXY_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_PROXY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_storage.h"


ngx_int_t ngx_http_attachments_proxy_init(ngx_conf_t *cf);
ngx_int_t ngx_http_attachments_proxy_stream(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t *args, ngx_str_t *auth);
ngx_int_t ngx_http_attachments_proxy_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *uri, ngx_str_t *args,
    ngx_str_t *method, ngx_keyval_t *headers, ngx_uint_t n);


#endif /* _NGX_HTTP_ATTACHMENTS_PROXY_H_INCLUDED_ */
