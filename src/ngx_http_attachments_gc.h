
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_gc_module: the garbage collector.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_GC_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_GC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_attachments_gc_module;


#endif /* _NGX_HTTP_ATTACHMENTS_GC_H_INCLUDED_ */
