
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * PostgreSQL without blocking: a per-worker pool of libpq connections
 * driven by nginx events.
 *
 * Owns the connections (connect, prepare once, execute, idle keepalive,
 * replacement of broken ones), the queue of queries waiting for a free
 * connection and the timeouts.  Callers build a query of one prepared
 * statement with text parameters and get their handler called once, never
 * from inside ngx_http_attachments_pg_run().
 */


#ifndef _NGX_HTTP_ATTACHMENTS_PG_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_PG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>

#include "ngx_http_attachments_pq.h"


#define NGX_HTTP_ATTACHMENTS_PG_PARAMS  NGX_HTTP_ATTACHMENTS_PQ_PARAMS


typedef struct ngx_http_attachments_pg_s        ngx_http_attachments_pg_t;
typedef struct ngx_http_attachments_pg_conn_s   ngx_http_attachments_pg_conn_t;
typedef struct ngx_http_attachments_pg_query_s  ngx_http_attachments_pg_query_t;

typedef void (*ngx_http_attachments_pg_handler_pt)(
    ngx_http_attachments_pg_query_t *q);


/* a statement every connection prepares on first use; params are text */
typedef struct {
    ngx_uint_t                          index;  /* < 64, unique */
    const char                         *name;
    const char                         *sql;
    int                                 nparams;
} ngx_http_attachments_pg_stmt_t;


struct ngx_http_attachments_pg_query_s {
    ngx_http_attachments_pg_stmt_t     *stmt;
    int                                 nparams;
    const char                         *values[NGX_HTTP_ATTACHMENTS_PG_PARAMS];

    ngx_http_attachments_pg_handler_pt  handler;
    void                               *data;

    /*
     * for the handler: NGX_OK and a result; NGX_ERROR, the database is
     * unavailable; NGX_DECLINED, the statement failed (result has why)
     */
    ngx_int_t                           rc;
    PGresult                           *result;

    /* owned by the pool */
    ngx_http_attachments_pg_t          *pg;
    ngx_http_attachments_pg_conn_t     *conn;
    ngx_queue_t                         queue;
    ngx_event_t                         wait;
    ngx_log_t                          *log;
    unsigned                            queued:1;
    unsigned                            retried:1;
};


/* attachments_database: the configuration and one worker's state */
struct ngx_http_attachments_pg_s {
    ngx_str_t                           conninfo;  /* null-terminated */
    ngx_uint_t                          size;
    ngx_uint_t                          queue_size;
    ngx_msec_t                          queue_timeout;
    ngx_msec_t                          idle_timeout;
    ngx_msec_t                          timeout;
    ngx_uint_t                          prepare;   /* named statements */
    ngx_uint_t                          pooled;    /* warned of a pooler */

    ngx_http_attachments_pg_conn_t     *conns;     /* size slots */
    ngx_queue_t                         idle;
    ngx_queue_t                         waiting;
    ngx_uint_t                          nwaiting;
    ngx_log_t                          *log;
};


ngx_http_attachments_pg_query_t *ngx_http_attachments_pg_query(
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_attachments_pg_t *pg,
    ngx_http_attachments_pg_stmt_t *stmt);
ngx_int_t ngx_http_attachments_pg_param(ngx_pool_t *pool,
    ngx_http_attachments_pg_query_t *q, ngx_str_t *value);
ngx_int_t ngx_http_attachments_pg_run(ngx_http_attachments_pg_query_t *q);

ngx_int_t ngx_http_attachments_pg_init(ngx_cycle_t *cycle,
    ngx_http_attachments_pg_t *pg);
void ngx_http_attachments_pg_close_all(ngx_http_attachments_pg_t *pg);


#endif /* _NGX_HTTP_ATTACHMENTS_PG_H_INCLUDED_ */
