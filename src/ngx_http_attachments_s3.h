
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "s3" storage kind: S3-compatible object stores, reached through
 * subrequests to a proxy_pass location and, without a request, through
 * the module's own client.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_storage.h"


extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_s3_kind;


#endif /* _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_ */
