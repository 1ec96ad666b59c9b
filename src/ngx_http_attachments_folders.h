
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The folders of drive storages: ngx_http_attachments_folders_module
 * (attachments_route, $attachments_record_name), the key an upload's
 * file has on a drive, and the folder it goes into, made once and cached.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_FOLDERS_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_FOLDERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_undo.h"


/* the folder is there (status 0) or could not be had (an HTTP status) */
typedef void (*ngx_http_attachments_folder_handler_pt)(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_uint_t status);


ngx_int_t ngx_http_attachments_folder_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b);
ngx_int_t ngx_http_attachments_folder_resolve(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b,
    ngx_http_attachments_folder_handler_pt handler);


extern ngx_module_t  ngx_http_attachments_folders_module;


#endif /* _NGX_HTTP_ATTACHMENTS_FOLDERS_H_INCLUDED_ */
