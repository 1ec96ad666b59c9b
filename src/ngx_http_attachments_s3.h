
/*
 * The s3 storage kind's parts: signing a request to the bucket
 * (ngx_http_attachments_s3.c) and the module's own client
 * (ngx_http_attachments_s3_client.c), for what has no request to make a
 * subrequest from: the collector's deletions.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"


/* a request to the bucket, signed in its headers */
typedef struct {
    ngx_str_t     method;
    ngx_str_t     path;             /* decoded "/bucket/key" or "/key" */
    ngx_str_t     authorization;
    u_char       *date;             /* x-amz-date, 16 characters */
    u_char       *payload;          /* x-amz-content-sha256, 64 */
} ngx_http_attachments_s3_signed_t;


ngx_int_t ngx_http_attachments_s3_sign(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_s3_signed_t *sg);

char *ngx_http_attachments_s3_client_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *ca);
ngx_int_t ngx_http_attachments_s3_client(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op);


#endif /* _NGX_HTTP_ATTACHMENTS_S3_H_INCLUDED_ */
