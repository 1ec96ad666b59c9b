
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The module's own non-blocking HTTP(S) client, for what has no client
 * request to make a subrequest from (the collector).  Cloud storage kinds
 * sign and write their requests; this sends them and reads the status,
 * and the body when asked.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_CLIENT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_CLIENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t                        name;         /* for the log */
    ngx_addr_t                      *addr;         /* NULL: unresolved */
    ngx_str_t                        server_name;  /* NUL-terminated */
#if (NGX_SSL)
    ngx_ssl_t                       *ssl;          /* https:// */
#endif
} ngx_http_attachments_peer_t;


typedef void (*ngx_http_attachments_client_handler_pt)(void *data,
    ngx_uint_t status);


char *ngx_http_attachments_client_conf(ngx_conf_t *cf,
    ngx_http_attachments_peer_t *peer, ngx_str_t *host, ngx_uint_t https,
    ngx_str_t *ca);
ngx_buf_t *ngx_http_attachments_client_request(ngx_pool_t *pool,
    ngx_str_t *method, ngx_str_t *uri, ngx_str_t *host, ngx_keyval_t *headers,
    ngx_uint_t n, ngx_str_t *body);
ngx_int_t ngx_http_attachments_client_send(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_attachments_peer_t *peer, ngx_buf_t *out, ngx_str_t *answer,
    ngx_http_attachments_client_handler_pt handler, void *data);


#endif /* _NGX_HTTP_ATTACHMENTS_CLIENT_H_INCLUDED_ */
