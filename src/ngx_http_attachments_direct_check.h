
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * A direct upload as a request holds it, and its confirmation and
 * cancellation (ngx_http_attachments_direct_check.c).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_DIRECT_CHECK_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_DIRECT_CHECK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_receive.h"


typedef struct {
    ngx_http_attachments_upload_t        up;
    ngx_http_attachments_upload_conf_t  *conf;
    ngx_http_attachments_storage_op_t    op;
    ngx_str_t                            id;
    ngx_str_t                            checksum;    /* base64 */
    EVP_MD_CTX                          *sha;
    u_char                               head[NGX_HTTP_ATTACHMENTS_SNIFF];
} ngx_http_attachments_direct_t;


ngx_int_t ngx_http_attachments_direct_checksum(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d);
void ngx_http_attachments_direct_got(ngx_http_attachments_pg_query_t *q);
ngx_int_t ngx_http_attachments_direct_fail(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message);


#endif /* _NGX_HTTP_ATTACHMENTS_DIRECT_CHECK_H_INCLUDED_ */
