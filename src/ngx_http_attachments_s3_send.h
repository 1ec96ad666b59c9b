
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Requests to an S3 bucket, signed in their headers: objects put, deleted,
 * checked and read, and uploads in parts, sent through the cloud kinds'
 * client (ngx_http_attachments_cloud.c).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_S3_SEND_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_S3_SEND_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"


/* an s3 storage's own: storage->data */
typedef struct {
    ngx_http_attachments_cloud_t     cloud;
    ngx_http_attachments_sigv4_t     sigv4;
    ngx_str_t                        bucket;
    ngx_uint_t                       virtual_host;
} ngx_http_attachments_s3_t;


ngx_int_t ngx_http_attachments_s3_path(ngx_pool_t *pool,
    ngx_http_attachments_s3_t *s3, ngx_str_t *key, ngx_str_t *path);
ngx_int_t ngx_http_attachments_s3_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_s3_complete_body(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_s3_answered_parts(
    ngx_http_attachments_storage_op_t *op);


#endif /* _NGX_HTTP_ATTACHMENTS_S3_SEND_H_INCLUDED_ */
