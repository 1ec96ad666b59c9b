
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * AWS Signature Version 4 for S3: query-presigned GET URLs and signed
 * request headers, byte for byte what AWS SDKs make for the same inputs
 * and clock.  Pure code over nginx
 * types and OpenSSL, unit-tested against AWS's published example and
 * checked against botocore.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_SIGV4_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_SIGV4_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_ATTACHMENTS_SIGV4_EXPIRES_MAX  604800   /* 7 days */


/* credentials, and the signing key of one day, derived once that day */
typedef struct {
    ngx_str_t     access_key;
    ngx_str_t     secret;
    ngx_str_t     region;
    ngx_str_t     service;          /* "s3" */
    u_char        day[8];           /* YYYYMMDD of key */
    u_char        key[32];
} ngx_http_attachments_sigv4_t;


/*
 * What a presigned URL grants: a GET, or with checksum set a PUT of exactly
 * length bytes whose SHA-256 is checksum (base64), both signed headers the
 * client must send and the store holds the body to
 */
typedef struct {
    ngx_str_t     host;             /* as in the Host header */
    ngx_str_t     path;             /* decoded: "/bucket/key" or "/key" */
    time_t        now;
    time_t        expires;          /* seconds, 1 to 604800 */
    ngx_str_t     cache_control;    /* response-cache-control */
    ngx_str_t     disposition;      /* response-content-disposition */
    ngx_str_t     encoding;         /* response-content-encoding */
    ngx_str_t     type;             /* response-content-type */
    ngx_str_t     checksum;         /* PUT: x-amz-checksum-sha256 */
    off_t         length;           /* PUT: content-length */
} ngx_http_attachments_presign_t;


/* a request signed in its headers: PUT, DELETE, HEAD and GET of objects */
typedef struct {
    ngx_str_t     method;
    ngx_str_t     host;
    ngx_str_t     path;             /* decoded */
    ngx_str_t     query;            /* canonical: sorted, escaped */
    time_t        now;
    u_char       *payload;          /* SHA-256 of the body, 64 hex digits,
                                       or "UNSIGNED-PAYLOAD" */
    ngx_uint_t    checksum_mode;    /* x-amz-checksum-mode: ENABLED */
    u_char        date[sizeof("20260201T103000Z")];  /* x-amz-date, out */
} ngx_http_attachments_sigv4_request_t;


size_t ngx_http_attachments_aws_escape(u_char *dst, u_char *src, size_t len,
    ngx_uint_t path);
ngx_int_t ngx_http_attachments_sigv4_key(ngx_http_attachments_sigv4_t *s,
    u_char *day);
size_t ngx_http_attachments_presign(u_char *dst,
    ngx_http_attachments_sigv4_t *s, ngx_http_attachments_presign_t *p);
size_t ngx_http_attachments_sigv4_authorization(u_char *dst,
    ngx_http_attachments_sigv4_t *s, ngx_http_attachments_sigv4_request_t *rq);


#endif /* _NGX_HTTP_ATTACHMENTS_SIGV4_H_INCLUDED_ */
