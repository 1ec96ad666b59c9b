
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Helpers every directive of the module parses its arguments with:
 * "name=value" parameters, URI prefixes, prefix locations and secrets read
 * from files.  Nothing here knows the module's own structures.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_CONF_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_uint_t ngx_http_attachments_conf_param(ngx_str_t *arg, const char *name,
    ngx_str_t *value);
ngx_int_t ngx_http_attachments_conf_prefix(ngx_conf_t *cf, ngx_str_t *arg,
    const char *what, ngx_str_t *prefix);
ngx_int_t ngx_http_attachments_conf_location(ngx_conf_t *cf,
    const char *directive, ngx_str_t *prefix);
ngx_int_t ngx_http_attachments_conf_secret(ngx_conf_t *cf, const char *what,
    ngx_str_t *file, size_t max, ngx_str_t *secret);
ngx_int_t ngx_http_attachments_conf_token(ngx_conf_t *cf, const char *what,
    ngx_str_t *file, const char *prefix, ngx_str_t *token);


#endif /* _NGX_HTTP_ATTACHMENTS_CONF_H_INCLUDED_ */
