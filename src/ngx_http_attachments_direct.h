
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Direct uploads: the client PUTs the bytes to the store itself, then the
 * module checks what arrived before the file is ready.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_DIRECT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_DIRECT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_request.h"


ngx_int_t ngx_http_attachments_direct(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);


extern ngx_module_t  ngx_http_attachments_direct_module;


#endif /* _NGX_HTTP_ATTACHMENTS_DIRECT_H_INCLUDED_ */
