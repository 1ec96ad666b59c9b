
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * POST .../files/{id}/publish.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_PUBLISH_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_PUBLISH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_request.h"


ngx_int_t ngx_http_attachments_publish(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);


#endif /* _NGX_HTTP_ATTACHMENTS_PUBLISH_H_INCLUDED_ */
