
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * PostgreSQL without blocking: libpq's asynchronous API on nginx events.
 *
 * Each worker owns pg->size connection slots.  A connection's socket is an
 * nginx connection whose read event stays registered (level-triggered:
 * libpq reads the socket itself, so nginx cannot track readiness for it)
 * and whose write event is registered only while libpq has output pending.
 * A query takes an idle connection, or opens one in a free slot, or waits
 * in a bounded queue; statements are prepared on a connection the first
 * time they run there.  A query whose request goes away is orphaned: its
 * connection finishes the statement, drops the result and is reused only
 * if it is clean.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_pq.h"
#include "ngx_http_attachments_pg.h"


#define NGX_HTTP_ATTACHMENTS_PG_FREE        0
#define NGX_HTTP_ATTACHMENTS_PG_CONNECTING  1
#define NGX_HTTP_ATTACHMENTS_PG_IDLE        2
#define NGX_HTTP_ATTACHMENTS_PG_PREPARE     3
#define NGX_HTTP_ATTACHMENTS_PG_EXECUTE     4



struct ngx_http_attachments_pg_conn_s {
    ngx_queue_t                         queue;     /* in pg->idle */
    ngx_http_attachments_pg_t          *pg;
    PGconn                             *conn;
    ngx_connection_t                   *c;
    ngx_uint_t                          state;
    uint64_t                            prepared;  /* stmt->index bits */
    ngx_http_attachments_pg_stmt_t     *stmt;      /* being run */
    ngx_http_attachments_pg_query_t    *query;     /* NULL: orphaned */
    PGresult                           *result;
};


static ngx_int_t ngx_http_attachments_pg_connect(
    ngx_http_attachments_pg_conn_t *pc, ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_pg_wrap(
    ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_unwrap(ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_event(ngx_event_t *ev);
static void ngx_http_attachments_pg_poll(ngx_http_attachments_pg_conn_t *pc);
static ngx_int_t ngx_http_attachments_pg_send(
    ngx_http_attachments_pg_conn_t *pc, ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_pg_read(ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_complete(
    ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_release(
    ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_fail(ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_close(ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_dispatch(ngx_http_attachments_pg_t *pg);
static ngx_http_attachments_pg_query_t *ngx_http_attachments_pg_dequeue(
    ngx_http_attachments_pg_t *pg);
static ngx_http_attachments_pg_conn_t *ngx_http_attachments_pg_slot(
    ngx_http_attachments_pg_t *pg);
static ngx_int_t ngx_http_attachments_pg_start(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_pg_pooled(ngx_http_attachments_pg_conn_t *pc);
static void ngx_http_attachments_pg_gauges(ngx_http_attachments_pg_t *pg);
static void ngx_http_attachments_pg_finish(ngx_http_attachments_pg_query_t *q,
    ngx_int_t rc);
static void ngx_http_attachments_pg_wait_expired(ngx_event_t *ev);
static void ngx_http_attachments_pg_cleanup(void *data);


ngx_int_t
ngx_http_attachments_pg_init(ngx_cycle_t *cycle, ngx_http_attachments_pg_t *pg)
{
    ngx_uint_t  i;

    pg->conns = ngx_pcalloc(cycle->pool,
                            pg->size * sizeof(ngx_http_attachments_pg_conn_t));
    if (pg->conns == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < pg->size; i++) {
        pg->conns[i].pg = pg;
    }

    ngx_queue_init(&pg->idle);
    ngx_queue_init(&pg->waiting);
    pg->nwaiting = 0;
    pg->log = cycle->log;

    return NGX_OK;
}


void
ngx_http_attachments_pg_close_all(ngx_http_attachments_pg_t *pg)
{
    ngx_uint_t  i;

    if (pg->conns == NULL) {
        return;
    }

    for (i = 0; i < pg->size; i++) {
        if (pg->conns[i].conn) {
            ngx_http_attachments_pg_close(&pg->conns[i]);
        }
    }
}


ngx_http_attachments_pg_query_t *
ngx_http_attachments_pg_query(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_attachments_pg_t *pg, ngx_http_attachments_pg_stmt_t *stmt)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_attachments_pg_query_t  *q;

    q = ngx_pcalloc(pool, sizeof(ngx_http_attachments_pg_query_t));
    if (q == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_attachments_pg_cleanup;
    cln->data = q;

    q->stmt = stmt;
    q->pg = pg;
    q->log = log;
    q->wait.handler = ngx_http_attachments_pg_wait_expired;
    q->wait.data = q;
    q->wait.log = log;

    return q;
}


/* the next parameter; NULL is SQL NULL */

ngx_int_t
ngx_http_attachments_pg_param(ngx_pool_t *pool,
    ngx_http_attachments_pg_query_t *q, ngx_str_t *value)
{
    u_char  *p;

    if (q->nparams == NGX_HTTP_ATTACHMENTS_PG_PARAMS) {
        return NGX_ERROR;
    }

    if (value == NULL) {
        q->values[q->nparams++] = NULL;
        return NGX_OK;
    }

    /* text parameters end at NUL; callers never pass one inside */

    p = ngx_pnalloc(pool, value->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *ngx_cpymem(p, value->data, value->len) = '\0';
    q->values[q->nparams++] = (const char *) p;

    return NGX_OK;
}


/*
 * NGX_AGAIN: q->handler will be called later; NGX_ERROR: the database
 * cannot take the query now (unreachable or the queue is full).
 */

ngx_int_t
ngx_http_attachments_pg_run(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t  rc;

    ngx_http_attachments_metrics_pg(NGX_HTTP_ATTACHMENTS_PG_QUERIES);

    rc = ngx_http_attachments_pg_start(q);

    if (rc == NGX_ERROR) {
        ngx_http_attachments_metrics_pg(NGX_HTTP_ATTACHMENTS_PG_ERRORS);
    }

    ngx_http_attachments_pg_gauges(q->pg);

    return rc;
}


static ngx_int_t
ngx_http_attachments_pg_start(ngx_http_attachments_pg_query_t *q)
{
    ngx_queue_t                     *head;
    ngx_http_attachments_pg_t       *pg;
    ngx_http_attachments_pg_conn_t  *pc;

    pg = q->pg;

    if (q->nparams != q->stmt->nparams) {
        ngx_log_error(NGX_LOG_ALERT, q->log, 0,
                      "attachments: statement \"%s\" takes %d parameters, "
                      "not %d", q->stmt->name, q->stmt->nparams, q->nparams);
        return NGX_ERROR;
    }

    /* an idle connection may turn out dead only when written to */

    while (!ngx_queue_empty(&pg->idle)) {
        head = ngx_queue_head(&pg->idle);
        ngx_queue_remove(head);

        pc = ngx_queue_data(head, ngx_http_attachments_pg_conn_t, queue);
        pc->c->idle = 0;
        pc->c->read->cancelable = 0;

        if (pc->c->read->timer_set) {
            ngx_del_timer(pc->c->read);
        }

        if (ngx_http_attachments_pg_send(pc, q) == NGX_OK) {
            return NGX_AGAIN;
        }

        ngx_http_attachments_pg_close(pc);
    }

    pc = ngx_http_attachments_pg_slot(pg);

    if (pc) {
        return ngx_http_attachments_pg_connect(pc, q) == NGX_OK ? NGX_AGAIN
                                                                : NGX_ERROR;
    }

    if (pg->nwaiting >= pg->queue_size) {
        ngx_log_error(NGX_LOG_ERR, q->log, 0,
                      "attachments: all %ui PostgreSQL connections are busy "
                      "and %ui queries wait already", pg->size, pg->nwaiting);
        return NGX_ERROR;
    }

    ngx_queue_insert_tail(&pg->waiting, &q->queue);
    pg->nwaiting++;
    q->queued = 1;

    ngx_http_attachments_metrics_pg(NGX_HTTP_ATTACHMENTS_PG_WAITS);

    ngx_add_timer(&q->wait, pg->queue_timeout);

    return NGX_AGAIN;
}


static ngx_http_attachments_pg_conn_t *
ngx_http_attachments_pg_slot(ngx_http_attachments_pg_t *pg)
{
    ngx_uint_t  i;

    for (i = 0; i < pg->size; i++) {
        if (pg->conns[i].state == NGX_HTTP_ATTACHMENTS_PG_FREE) {
            return &pg->conns[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_attachments_pg_connect(ngx_http_attachments_pg_conn_t *pc,
    ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_pg_t  *pg;

    pg = pc->pg;

    pc->conn = ngx_http_attachments_pq_connect(&pg->conninfo, q->log);
    if (pc->conn == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_attachments_pg_wrap(pc) != NGX_OK) {
        PQfinish(pc->conn);
        pc->conn = NULL;
        return NGX_ERROR;
    }

    pc->state = NGX_HTTP_ATTACHMENTS_PG_CONNECTING;
    pc->prepared = 0;
    pc->query = q;
    q->conn = pc;

    ngx_add_timer(pc->c->read, pg->timeout);

    /* libpq's first step is to wait for the socket to become writable */

    if (ngx_add_event(pc->c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
        != NGX_OK)
    {
        pc->query = NULL;
        q->conn = NULL;
        ngx_http_attachments_pg_close(pc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_pg_wrap(ngx_http_attachments_pg_conn_t *pc)
{
    pc->c = ngx_http_attachments_pq_wrap(pc->conn, pc->pg->log,
                                         ngx_http_attachments_pg_event, pc);

    return pc->c ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_attachments_pg_unwrap(ngx_http_attachments_pg_conn_t *pc)
{
    if (pc->c) {
        ngx_http_attachments_pq_unwrap(pc->c);
        pc->c = NULL;
    }
}


static void
ngx_http_attachments_pg_event(ngx_event_t *ev)
{
    ngx_connection_t                *c;
    ngx_http_attachments_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    if (c->close) {
        /* the worker is shutting down and the connection is idle */
        ngx_http_attachments_pg_close(pc);
        return;
    }

    if (ev->timedout) {
        ev->timedout = 0;

        if (pc->state == NGX_HTTP_ATTACHMENTS_PG_IDLE) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                           "attachments pg idle timeout");
            ngx_http_attachments_pg_close(pc);
            return;
        }

        ngx_log_error(NGX_LOG_ERR, ev->log, NGX_ETIMEDOUT,
                      "attachments: PostgreSQL %s timed out",
                      pc->state == NGX_HTTP_ATTACHMENTS_PG_CONNECTING
                      ? "connect" : "statement");
        ngx_http_attachments_pg_fail(pc);
        return;
    }

    switch (pc->state) {

    case NGX_HTTP_ATTACHMENTS_PG_CONNECTING:
        ngx_http_attachments_pg_poll(pc);
        return;

    case NGX_HTTP_ATTACHMENTS_PG_IDLE:

        if (ngx_http_attachments_pq_idle(pc->conn, ev->log) != NGX_OK) {
            ngx_http_attachments_pg_close(pc);
        }

        return;

    default:
        ngx_http_attachments_pg_read(pc);
    }
}


static void
ngx_http_attachments_pg_poll(ngx_http_attachments_pg_conn_t *pc)
{
    PostgresPollingStatusType         st;
    ngx_http_attachments_pg_query_t  *q;

    st = PQconnectPoll(pc->conn);

    if (st != PGRES_POLLING_FAILED && PQsocket(pc->conn) != pc->c->fd) {

        /* libpq moved on to another address or retried without SSL */

        ngx_http_attachments_pg_unwrap(pc);

        if (ngx_http_attachments_pg_wrap(pc) != NGX_OK) {
            ngx_http_attachments_pg_fail(pc);
            return;
        }

        ngx_add_timer(pc->c->read, pc->pg->timeout);
    }

    switch (ngx_http_attachments_pq_polled(pc->conn, pc->c, st)) {

    case NGX_AGAIN:
        return;

    case NGX_ERROR:
        ngx_http_attachments_pg_fail(pc);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->c->log, 0,
                   "attachments pg connected, backend %d",
                   PQbackendPID(pc->conn));

    if (pc->c->read->timer_set) {
        ngx_del_timer(pc->c->read);
    }

    ngx_http_attachments_pq_set_write(pc->c, 0);
    pc->state = NGX_HTTP_ATTACHMENTS_PG_IDLE;

    q = pc->query;

    if (q == NULL) {
        ngx_http_attachments_pg_release(pc);
        return;
    }

    if (ngx_http_attachments_pg_send(pc, q) != NGX_OK) {
        ngx_http_attachments_pg_fail(pc);
    }
}


static ngx_int_t
ngx_http_attachments_pg_send(ngx_http_attachments_pg_conn_t *pc,
    ngx_http_attachments_pg_query_t *q)
{
    uint64_t                         bit;
    ngx_uint_t                       how;
    ngx_http_attachments_pg_stmt_t  *stmt;

    stmt = q->stmt;
    bit = (uint64_t) 1 << stmt->index;

    if (!pc->pg->prepare) {
        /*
         * A pooler in transaction mode (PgBouncer) gives each statement
         * whichever server connection is free: a named statement
         * prepared on one is unknown on, or collides with, another.
         */

        how = NGX_HTTP_ATTACHMENTS_PQ_UNNAMED;
        pc->state = NGX_HTTP_ATTACHMENTS_PG_EXECUTE;

    } else if (pc->prepared & bit) {
        how = NGX_HTTP_ATTACHMENTS_PQ_EXECUTE;
        pc->state = NGX_HTTP_ATTACHMENTS_PG_EXECUTE;

    } else {
        how = NGX_HTTP_ATTACHMENTS_PQ_PREPARE;
        pc->state = NGX_HTTP_ATTACHMENTS_PG_PREPARE;
    }

    if (ngx_http_attachments_pq_send(pc->conn, how, stmt->name, stmt->sql,
                                     how == NGX_HTTP_ATTACHMENTS_PQ_PREPARE
                                     ? stmt->nparams : q->nparams,
                                     q->values, q->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    pc->query = q;
    pc->stmt = stmt;
    q->conn = pc;

    ngx_add_timer(pc->c->read, pc->pg->timeout);

    return ngx_http_attachments_pq_flush(pc->conn, pc->c);
}


static void
ngx_http_attachments_pg_read(ngx_http_attachments_pg_conn_t *pc)
{
    PGresult  *res;

    if (ngx_http_attachments_pq_consume(pc->conn, pc->c) != NGX_OK) {
        ngx_http_attachments_pg_fail(pc);
        return;
    }

    while (!PQisBusy(pc->conn)) {
        res = PQgetResult(pc->conn);

        if (res == NULL) {
            ngx_http_attachments_pg_complete(pc);
            return;
        }

        /* one statement gives one result; an error replaces it */

        if (pc->result) {
            PQclear(pc->result);
        }

        pc->result = res;
    }
}


static void
ngx_http_attachments_pg_complete(ngx_http_attachments_pg_conn_t *pc)
{
    u_char                            text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];
    ngx_int_t                         rc;
    PGresult                         *res;
    ExecStatusType                    status;
    ngx_http_attachments_pg_query_t  *q;

    res = pc->result;
    pc->result = NULL;
    q = pc->query;

    if (pc->c->read->timer_set) {
        ngx_del_timer(pc->c->read);
    }

    if (res == NULL || PQstatus(pc->conn) != CONNECTION_OK) {
        if (res) {
            ngx_log_error(NGX_LOG_ERR, pc->c->log, 0,
                          "attachments: PostgreSQL connection lost: %s",
                          ngx_http_attachments_pq_text(text,
                                                PQresultErrorMessage(res)));
            PQclear(res);
        }

        ngx_http_attachments_pg_fail(pc);
        return;
    }

    status = PQresultStatus(res);

    /*
     * Behind a pooler that shares server connections, the statement may
     * already be prepared on this one (another client connection did it):
     * it is used as it is.  One missing where it was prepared is prepared
     * again next time.  Both are logged with what to do about them.
     */

    if (status == PGRES_FATAL_ERROR
        && pc->state != NGX_HTTP_ATTACHMENTS_PG_PREPARE
        && ngx_http_attachments_pq_statement_lost(res, 0))
    {
        pc->prepared &= ~((uint64_t) 1 << pc->stmt->index);
        ngx_http_attachments_pg_pooled(pc);

    } else if (status == PGRES_FATAL_ERROR
               && pc->state == NGX_HTTP_ATTACHMENTS_PG_PREPARE
               && ngx_http_attachments_pq_statement_lost(res, 1))
    {
        ngx_http_attachments_pg_pooled(pc);
        status = PGRES_COMMAND_OK;
    }

    if (pc->state == NGX_HTTP_ATTACHMENTS_PG_PREPARE
        && status == PGRES_COMMAND_OK)
    {
        PQclear(res);
        pc->prepared |= (uint64_t) 1 << pc->stmt->index;

        if (q == NULL) {
            ngx_http_attachments_pg_release(pc);
            return;
        }

        if (ngx_http_attachments_pg_send(pc, q) != NGX_OK) {
            ngx_http_attachments_pg_fail(pc);
        }

        return;
    }

    pc->query = NULL;
    ngx_http_attachments_pg_release(pc);

    if (q == NULL) {
        PQclear(res);
        return;
    }

    q->conn = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "attachments pg \"%s\" done: %s",
                   q->stmt->name, PQresStatus(status));

    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        rc = NGX_OK;

    } else {
        ngx_log_error(NGX_LOG_ERR, q->log, 0,
                      "attachments: statement \"%s\" failed: %s",
                      q->stmt->name, ngx_http_attachments_pq_text(text,
                                                PQresultErrorMessage(res)));

        rc = ngx_http_attachments_pq_unavailable(res) ? NGX_ERROR
                                                      : NGX_DECLINED;
    }

    q->result = res;
    ngx_http_attachments_pg_finish(q, rc);
}


/* a connection whose statement is done: reuse it, or hand it on */

static void
ngx_http_attachments_pg_release(ngx_http_attachments_pg_conn_t *pc)
{
    ngx_connection_t                 *c;
    ngx_http_attachments_pg_t        *pg;
    ngx_http_attachments_pg_query_t  *q;

    pg = pc->pg;
    c = pc->c;

    if (PQstatus(pc->conn) != CONNECTION_OK
        || PQtransactionStatus(pc->conn) != PQTRANS_IDLE
        || ngx_exiting || ngx_terminate)
    {
        ngx_http_attachments_pg_close(pc);
        ngx_http_attachments_pg_dispatch(pg);
        return;
    }

    pc->state = NGX_HTTP_ATTACHMENTS_PG_IDLE;

    q = ngx_http_attachments_pg_dequeue(pg);

    if (q) {
        if (ngx_http_attachments_pg_send(pc, q) != NGX_OK) {
            pc->query = q;
            ngx_http_attachments_pg_fail(pc);
            return;
        }

        ngx_http_attachments_pg_gauges(pg);
        return;
    }

    /* most recently used first: the others may time out */

    ngx_queue_insert_head(&pg->idle, &pc->queue);

    c->idle = 1;
    c->read->cancelable = 1;
    ngx_add_timer(c->read, pg->idle_timeout);

    ngx_http_attachments_pg_gauges(pg);
}


/* the connection is broken: its query learns that the database is gone */

static void
ngx_http_attachments_pg_fail(ngx_http_attachments_pg_conn_t *pc)
{
    ngx_http_attachments_pg_t        *pg;
    ngx_http_attachments_pg_query_t  *q;

    pg = pc->pg;
    q = pc->query;
    pc->query = NULL;

    ngx_http_attachments_pg_close(pc);

    if (q) {
        q->conn = NULL;
        ngx_http_attachments_pg_finish(q, NGX_ERROR);
    }

    ngx_http_attachments_pg_dispatch(pg);
}


static void
ngx_http_attachments_pg_close(ngx_http_attachments_pg_conn_t *pc)
{
    if (pc->state == NGX_HTTP_ATTACHMENTS_PG_IDLE && pc->c && pc->c->idle) {
        ngx_queue_remove(&pc->queue);
    }

    if (pc->result) {
        PQclear(pc->result);
        pc->result = NULL;
    }

    ngx_http_attachments_pg_unwrap(pc);

    if (pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }

    pc->state = NGX_HTTP_ATTACHMENTS_PG_FREE;
    pc->prepared = 0;

    ngx_http_attachments_pg_gauges(pc->pg);
}


/* free slots open connections for queries still waiting */

static void
ngx_http_attachments_pg_dispatch(ngx_http_attachments_pg_t *pg)
{
    ngx_http_attachments_pg_conn_t   *pc;
    ngx_http_attachments_pg_query_t  *q;

    while (!ngx_queue_empty(&pg->waiting)) {

        pc = ngx_http_attachments_pg_slot(pg);
        if (pc == NULL) {
            return;
        }

        q = ngx_http_attachments_pg_dequeue(pg);

        if (ngx_http_attachments_pg_connect(pc, q) != NGX_OK) {
            ngx_http_attachments_pg_finish(q, NGX_ERROR);
        }
    }
}


/* the query that waited longest, out of the queue; NULL: none waits */

static ngx_http_attachments_pg_query_t *
ngx_http_attachments_pg_dequeue(ngx_http_attachments_pg_t *pg)
{
    ngx_queue_t                      *head;
    ngx_http_attachments_pg_query_t  *q;

    if (ngx_queue_empty(&pg->waiting)) {
        return NULL;
    }

    head = ngx_queue_head(&pg->waiting);
    ngx_queue_remove(head);
    pg->nwaiting--;

    q = ngx_queue_data(head, ngx_http_attachments_pg_query_t, queue);
    q->queued = 0;

    if (q->wait.timer_set) {
        ngx_del_timer(&q->wait);
    }

    return q;
}


static void
ngx_http_attachments_pg_finish(ngx_http_attachments_pg_query_t *q,
    ngx_int_t rc)
{
    if (rc == NGX_ERROR) {
        ngx_http_attachments_metrics_pg(NGX_HTTP_ATTACHMENTS_PG_ERRORS);
    }

    ngx_http_attachments_pg_gauges(q->pg);

    q->rc = rc;
    q->handler(q);
}


/* once per worker: what to do about a pooler is said once */

static void
ngx_http_attachments_pg_pooled(ngx_http_attachments_pg_conn_t *pc)
{
    if (pc->pg->pooled) {
        return;
    }

    pc->pg->pooled = 1;

    ngx_log_error(NGX_LOG_WARN, pc->c->log, 0,
                  "attachments: prepared statement \"%s\" %s on the server "
                  "connection: a pooler in transaction mode (PgBouncer) "
                  "needs \"prepare=off\" in attachments_database",
                  pc->stmt->name,
                  pc->state == NGX_HTTP_ATTACHMENTS_PG_PREPARE
                  ? "already there" : "missing");
}


/* this worker's connections and queue, for the metrics */

static void
ngx_http_attachments_pg_gauges(ngx_http_attachments_pg_t *pg)
{
    ngx_uint_t                       i, busy, idle;
    ngx_http_attachments_pg_conn_t  *pc;

    busy = 0;
    idle = 0;

    for (i = 0; i < pg->size; i++) {
        pc = &pg->conns[i];

        if (pc->state == NGX_HTTP_ATTACHMENTS_PG_IDLE) {
            idle++;

        } else if (pc->state != NGX_HTTP_ATTACHMENTS_PG_FREE) {
            busy++;
        }
    }

    ngx_http_attachments_metrics_pg_state(busy, idle, pg->nwaiting);
}


static void
ngx_http_attachments_pg_wait_expired(ngx_event_t *ev)
{
    ngx_http_attachments_pg_query_t  *q;

    q = ev->data;

    ngx_queue_remove(&q->queue);
    q->pg->nwaiting--;
    q->queued = 0;

    ngx_log_error(NGX_LOG_ERR, q->log, 0,
                  "attachments: no PostgreSQL connection became free "
                  "within %M ms", q->pg->queue_timeout);

    ngx_http_attachments_pg_finish(q, NGX_ERROR);
}


/* the query's pool is going away, maybe with the statement still running */

static void
ngx_http_attachments_pg_cleanup(void *data)
{
    ngx_http_attachments_pg_query_t  *q = data;

    if (q->queued) {
        ngx_queue_remove(&q->queue);
        q->pg->nwaiting--;
        q->queued = 0;
    }

    if (q->wait.timer_set) {
        ngx_del_timer(&q->wait);
    }

    if (q->conn) {
        q->conn->query = NULL;
        q->conn = NULL;
    }

    if (q->result) {
        PQclear(q->result);
        q->result = NULL;
    }

    ngx_http_attachments_pg_gauges(q->pg);
}
