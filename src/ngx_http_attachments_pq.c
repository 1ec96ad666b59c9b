
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * libpq on nginx events: a libpq socket as an nginx connection, libpq's
 * messages for the error log, and which errors mean "not now".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_attachments_pq.h"


/*
 * libpq's socket as an nginx connection whose read event stays registered
 * (level-triggered: libpq reads the socket itself, so nginx cannot track
 * readiness for it); handler gets both events, c->data is data
 */

ngx_connection_t *
ngx_http_attachments_pq_wrap(PGconn *conn, ngx_log_t *log,
    ngx_event_handler_pt handler, void *data)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(PQsocket(conn), log);
    if (c == NULL) {
        return NULL;
    }

    c->data = data;
    c->read->handler = handler;
    c->write->handler = handler;
    c->read->log = c->log;
    c->write->log = c->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
        return NULL;
    }

    return c;
}


/* forgets the nginx side of the socket; libpq closes the socket itself */

void
ngx_http_attachments_pq_unwrap(ngx_connection_t *c)
{
    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


/* the write event, registered only while libpq has output pending */

void
ngx_http_attachments_pq_set_write(ngx_connection_t *c, ngx_uint_t on)
{
    ngx_event_t  *wev;

    wev = c->write;

    if (on && !wev->active) {
        (void) ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);

    } else if (!on && wev->active) {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }
}


#define NGX_HTTP_ATTACHMENTS_PQ_TEXTOID  25


/* every parameter is text: PostgreSQL casts it where the SQL says */

static const Oid  ngx_http_attachments_pq_types[NGX_HTTP_ATTACHMENTS_PQ_PARAMS]
    = {
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID,
    NGX_HTTP_ATTACHMENTS_PQ_TEXTOID, NGX_HTTP_ATTACHMENTS_PQ_TEXTOID
};


/* a non-blocking connection being opened; NULL (logged) on failure */

PGconn *
ngx_http_attachments_pq_connect(ngx_str_t *conninfo, ngx_log_t *log)
{
    u_char       text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];
    PGconn      *conn;
    const char  *values[4], *err;

    /* later keywords win: the operator may name the application */
    static const char  *keywords[] = {
        "fallback_application_name", "client_encoding", "dbname", NULL
    };

    values[0] = "nginx attachments";
    values[1] = "UTF8";
    values[2] = (const char *) conninfo->data;
    values[3] = NULL;

    conn = PQconnectStartParams(keywords, values, 1);

    if (conn == NULL || PQstatus(conn) == CONNECTION_BAD
        || PQsetnonblocking(conn, 1) == -1)
    {
        err = conn ? PQerrorMessage(conn) : "out of memory";
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "attachments: cannot connect to PostgreSQL: %s",
                      ngx_http_attachments_pq_text(text, err));

        if (conn) {
            PQfinish(conn);
        }

        return NULL;
    }

    return conn;
}


/* a statement sent unnamed, executed as prepared, or prepared first */

ngx_int_t
ngx_http_attachments_pq_send(PGconn *conn, ngx_uint_t how, const char *name,
    const char *sql, int nparams, const char *const *values, ngx_log_t *log)
{
    int     ok;
    u_char  text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "attachments pg %s \"%s\"",
                   how == NGX_HTTP_ATTACHMENTS_PQ_UNNAMED ? "run unnamed"
                   : how == NGX_HTTP_ATTACHMENTS_PQ_EXECUTE ? "execute"
                   : "prepare", name);

    switch (how) {

    case NGX_HTTP_ATTACHMENTS_PQ_UNNAMED:
        ok = PQsendQueryParams(conn, sql, nparams,
                               ngx_http_attachments_pq_types, values,
                               NULL, NULL, 0);
        break;

    case NGX_HTTP_ATTACHMENTS_PQ_EXECUTE:
        ok = PQsendQueryPrepared(conn, name, nparams, values, NULL, NULL, 0);
        break;

    default:
        ok = PQsendPrepare(conn, name, sql, nparams,
                           ngx_http_attachments_pq_types);
    }

    if (!ok) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "attachments: cannot send \"%s\" to PostgreSQL: %s",
                      name, ngx_http_attachments_pq_text(text,
                                                    PQerrorMessage(conn)));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* what libpq still has to send; the write event only while it has some */

ngx_int_t
ngx_http_attachments_pq_flush(PGconn *conn, ngx_connection_t *c)
{
    u_char  text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];

    switch (PQflush(conn)) {

    case 0:
        ngx_http_attachments_pq_set_write(c, 0);
        return NGX_OK;

    case 1:
        ngx_http_attachments_pq_set_write(c, 1);
        return NGX_OK;

    default:
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: PostgreSQL write failed: %s",
                      ngx_http_attachments_pq_text(text,
                                                   PQerrorMessage(conn)));
        return NGX_ERROR;
    }
}


/* a busy connection read, and what libpq still has to send sent */

ngx_int_t
ngx_http_attachments_pq_consume(PGconn *conn, ngx_connection_t *c)
{
    u_char  text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];

    if (!PQconsumeInput(conn)
        || ngx_http_attachments_pq_flush(conn, c) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: PostgreSQL connection lost: %s",
                      ngx_http_attachments_pq_text(text,
                                                   PQerrorMessage(conn)));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* PQconnectPoll()'s answer: NGX_AGAIN waiting, NGX_OK connected */

ngx_int_t
ngx_http_attachments_pq_polled(PGconn *conn, ngx_connection_t *c,
    PostgresPollingStatusType st)
{
    u_char  text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];

    switch (st) {

    case PGRES_POLLING_READING:
        ngx_http_attachments_pq_set_write(c, 0);
        return NGX_AGAIN;

    case PGRES_POLLING_WRITING:
        ngx_http_attachments_pq_set_write(c, 1);
        return NGX_AGAIN;

    case PGRES_POLLING_OK:
        return NGX_OK;

    default:
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: cannot connect to PostgreSQL: %s",
                      ngx_http_attachments_pq_text(text,
                                                   PQerrorMessage(conn)));
        return NGX_ERROR;
    }
}


/* an idle connection read: the server went away, or sent a notice */

ngx_int_t
ngx_http_attachments_pq_idle(PGconn *conn, ngx_log_t *log)
{
    u_char     text[NGX_HTTP_ATTACHMENTS_PQ_ERRLEN];
    PGnotify  *n;

    if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "attachments: idle PostgreSQL connection closed: %s",
                      ngx_http_attachments_pq_text(text,
                                                   PQerrorMessage(conn)));
        return NGX_ERROR;
    }

    while ((n = PQnotifies(conn)) != NULL) {
        PQfreemem(n);
    }

    return NGX_OK;
}


/* libpq's messages span lines; the error log wants one */

u_char *
ngx_http_attachments_pq_text(u_char *buf, const char *msg)
{
    u_char  *p, *last;

    p = buf;
    last = buf + NGX_HTTP_ATTACHMENTS_PQ_ERRLEN - 1;

    for ( /* void */ ; *msg && p < last; msg++) {

        if (*msg == '\n' || *msg == '\t' || *msg == ' ') {
            if (p > buf && p[-1] != ' ') {
                *p++ = ' ';
            }

            continue;
        }

        *p++ = *msg;
    }

    while (p > buf && p[-1] == ' ') {
        p--;
    }

    *p = '\0';

    return buf;
}


/* errors that say "not now" rather than "never": answered with 503 */

/* a named statement missing on, or already on, the server connection */

ngx_uint_t
ngx_http_attachments_pq_statement_lost(PGresult *res, ngx_uint_t exists)
{
    char  *state;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return state != NULL
           && ngx_strcmp(state, exists ? "42P05" : "26000") == 0;
}


ngx_uint_t
ngx_http_attachments_pq_unavailable(PGresult *res)
{
    char  *state;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (state == NULL) {
        return 1;
    }

    /*
     * Not the request's fault: connection exception, insufficient
     * resources, operator intervention (a cancelled or timed out
     * statement too), system error, a transaction rolled back
     * (serialization, deadlock), a lock not available, a server that
     * became read-only (a primary demoted behind a pooler or an address
     * during a switchover), and a prepared statement missing or already
     * there: a pooler that shares server connections (PgBouncer in
     * transaction mode, without prepare=off).
     */

    return ngx_strncmp(state, "08", 2) == 0
           || ngx_strncmp(state, "53", 2) == 0
           || ngx_strncmp(state, "57", 2) == 0
           || ngx_strncmp(state, "58", 2) == 0
           || ngx_strncmp(state, "40", 2) == 0
           || ngx_strcmp(state, "55P03") == 0
           || ngx_strcmp(state, "25006") == 0
           || ngx_strcmp(state, "26000") == 0
           || ngx_strcmp(state, "42P05") == 0;
}
