
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_health_module: the attachments_health location.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_HEALTH_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_HEALTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_attachments_health_module;


#endif /* _NGX_HTTP_ATTACHMENTS_HEALTH_H_INCLUDED_ */
