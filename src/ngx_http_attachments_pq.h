
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libpq on nginx events: the socket, opening a connection, sending a
 * statement and flushing it, the messages, the error classes.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>


/* a libpq message on one line, for the error log */
#define NGX_HTTP_ATTACHMENTS_PQ_ERRLEN  256

/* parameters of a statement, at most */
#define NGX_HTTP_ATTACHMENTS_PQ_PARAMS  20

/* ngx_http_attachments_pq_send(): how */
#define NGX_HTTP_ATTACHMENTS_PQ_UNNAMED  0   /* a pooler: nothing named */
#define NGX_HTTP_ATTACHMENTS_PQ_EXECUTE  1
#define NGX_HTTP_ATTACHMENTS_PQ_PREPARE  2


ngx_connection_t *ngx_http_attachments_pq_wrap(PGconn *conn, ngx_log_t *log,
    ngx_event_handler_pt handler, void *data);
void ngx_http_attachments_pq_unwrap(ngx_connection_t *c);
void ngx_http_attachments_pq_set_write(ngx_connection_t *c, ngx_uint_t on);
PGconn *ngx_http_attachments_pq_connect(ngx_str_t *conninfo, ngx_log_t *log);
ngx_int_t ngx_http_attachments_pq_send(PGconn *conn, ngx_uint_t how,
    const char *name, const char *sql, int nparams, const char *const *values,
    ngx_log_t *log);
ngx_int_t ngx_http_attachments_pq_flush(PGconn *conn, ngx_connection_t *c);
ngx_int_t ngx_http_attachments_pq_consume(PGconn *conn, ngx_connection_t *c);
ngx_int_t ngx_http_attachments_pq_polled(PGconn *conn, ngx_connection_t *c,
    PostgresPollingStatusType st);
ngx_int_t ngx_http_attachments_pq_idle(PGconn *conn, ngx_log_t *log);
u_char *ngx_http_attachments_pq_text(u_char *buf, const char *msg);
ngx_uint_t ngx_http_attachments_pq_unavailable(PGresult *res);
ngx_uint_t ngx_http_attachments_pq_statement_lost(PGresult *res,
    ngx_uint_t exists);


#endif /* _NGX_HTTP_ATTACHMENTS_PQ_H_INCLUDED_ */
