
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads sent in parts as they come, into a storage that takes
 * uploads in parts (s3).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_TUS_PARTS_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_TUS_PARTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_tus_store.h"


/* every part but the last; S3 wants 5 MB at least */
#define NGX_HTTP_ATTACHMENTS_TUS_PART  (8 * 1024 * 1024)


typedef void (*ngx_http_attachments_tus_parts_pt)(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc);


ngx_int_t ngx_http_attachments_tus_parts_row(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res, int col);
ngx_int_t ngx_http_attachments_tus_parts(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t all,
    ngx_http_attachments_tus_parts_pt done);


#endif /* _NGX_HTTP_ATTACHMENTS_TUS_PARTS_H_INCLUDED_ */
