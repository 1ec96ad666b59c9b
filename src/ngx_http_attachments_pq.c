
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
