
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * JSON text, the pure part of the response writer: strings escaped as
 * jansson escapes them, and PostgreSQL's jsonb text made compact as
 * jansson prints it, so that a file object written here is byte for byte
 * what jansson made of it before.  One difference: numbers come as the
 * database keeps them (1.50 stays 1.50, 1e300 is its 301 digits), where
 * jansson made doubles of them (1.5; and 1e300 failed the whole answer).
 * Nothing here touches the nginx runtime; the unit tests link it alone.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_JSON_TEXT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_JSON_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


size_t ngx_http_attachments_json_escape(u_char *dst, u_char *src, size_t len);
size_t ngx_http_attachments_json_compact(u_char *dst, u_char *src,
    size_t len);


#endif /* _NGX_HTTP_ATTACHMENTS_JSON_TEXT_H_INCLUDED_ */
