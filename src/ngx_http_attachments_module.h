
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_module: the configuration every part shares (the
 * database, the storages, the signing keys, identity and URLs).  The
 * parts with directives of their own (API, uploads, downloads, health,
 * collector) are modules of their own on top of it.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_storage.h"


typedef struct {
    ngx_array_t                      storages;    /* of storage pointers */
    ngx_http_attachments_pg_t       *database;
    ngx_http_attachments_storage_t  *active;      /* receives uploads */
    ngx_int_t                        request_id;  /* variable index */
} ngx_http_attachments_main_conf_t;


typedef struct {
    ngx_array_t                     *keys;        /* the first one signs */
    time_t                           url_ttl;
    ngx_http_complex_value_t        *user;
    ngx_http_complex_value_t        *org;
    ngx_http_complex_value_t        *base_url;
    ngx_flag_t                       audit;
} ngx_http_attachments_loc_conf_t;


ngx_http_attachments_storage_t *ngx_http_attachments_storage_by_name(
    ngx_http_request_t *r, ngx_str_t *name);
ngx_http_attachments_storage_t *ngx_http_attachments_conf_storage(
    ngx_conf_t *cf, ngx_str_t *name);


extern ngx_module_t  ngx_http_attachments_module;


#endif /* _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_ */
