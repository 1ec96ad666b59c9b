
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads: ngx_http_attachments_tus_module serves tus 1.0.0
 * under {api}/{entity_type}/{entity_id}/uploads (docs/uploads.md).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_TUS_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_TUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_request.h"


ngx_int_t ngx_http_attachments_tus(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);


extern ngx_module_t  ngx_http_attachments_tus_module;


#endif /* _NGX_HTTP_ATTACHMENTS_TUS_H_INCLUDED_ */
