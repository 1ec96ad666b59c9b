
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libpq on nginx events: the socket, the messages, the error classes.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>


/* a libpq message on one line, for the error log */
#define NGX_HTTP_ATTACHMENTS_PQ_ERRLEN  256


ngx_connection_t *ngx_http_attachments_pq_wrap(PGconn *conn, ngx_log_t *log,
    ngx_event_handler_pt handler, void *data);
void ngx_http_attachments_pq_unwrap(ngx_connection_t *c);
void ngx_http_attachments_pq_set_write(ngx_connection_t *c, ngx_uint_t on);
u_char *ngx_http_attachments_pq_text(u_char *buf, const char *msg);
ngx_uint_t ngx_http_attachments_pq_unavailable(PGresult *res);
ngx_uint_t ngx_http_attachments_pq_statement_lost(PGresult *res,
    ngx_uint_t exists);


#endif /* _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_ */
