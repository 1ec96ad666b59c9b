
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Local downloads through signed URLs:
 * ngx_http_attachments_download_module (attachments_download,
 * attachments_sign, $attachments_signed_url).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_DOWNLOAD_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_DOWNLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_attachments_download_module;


#endif /* _NGX_HTTP_ATTACHMENTS_DOWNLOAD_H_INCLUDED_ */
