
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The API's router: ngx_http_attachments_api_module, the access phase and
 * the dispatch of an attachments_api location.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_attachments_api_module;


#endif /* _NGX_HTTP_ATTACHMENTS_API_H_INCLUDED_ */
