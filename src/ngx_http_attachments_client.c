
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The module's own HTTP client, for requests no client request can carry
 * as a subrequest (the collector's): one request per connection
 * ("Connection: close"), HTTP or HTTPS (nginx's SSL layer; the peer's
 * certificate is verified against ca=, the system's bundle by default),
 * driven by events with a timeout; the status line of the answer is read,
 * and, when the caller has room for it, the body (to the connection's
 * end; chunked or not).  The peer's address is resolved once, with the configuration, as
 * proxy_pass does with a host name.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include "ngx_http_attachments_client.h"


#define NGX_HTTP_ATTACHMENTS_CLIENT_TIMEOUT  30000
#define NGX_HTTP_ATTACHMENTS_CLIENT_CA       "/etc/ssl/certs/ca-certificates.crt"


typedef struct {
    ngx_http_attachments_peer_t            *peer;
    ngx_http_attachments_client_handler_pt  handler;
    void                                   *data;
    ngx_peer_connection_t                   pc;
    ngx_buf_t                              *out;
    ngx_str_t                              *answer;  /* or NULL */
    size_t                                  room;    /* answer's */
    u_char                                 *in;
    size_t                                  nin;
    size_t                                  size;
    unsigned                                connected:1;
} ngx_http_attachments_client_t;


static void ngx_http_attachments_client_handler(ngx_event_t *ev);
#if (NGX_SSL)
static void ngx_http_attachments_client_handshaked(ngx_connection_t *c);
#endif
static void ngx_http_attachments_client_io(ngx_http_attachments_client_t *cl);
static void ngx_http_attachments_client_done(ngx_http_attachments_client_t *cl,
    ngx_uint_t status);
static ngx_int_t ngx_http_attachments_client_test_connect(
    ngx_http_attachments_client_t *cl);
static ngx_uint_t ngx_http_attachments_client_status(
    ngx_http_attachments_client_t *cl);
static ngx_uint_t ngx_http_attachments_client_whole(
    ngx_http_attachments_client_t *cl);
static ngx_uint_t ngx_http_attachments_client_answered(
    ngx_http_attachments_client_t *cl);


/*
 * The peer at host ("name[:port]"): its address, and its TLS context when
 * https.  A host that does not resolve leaves peer->addr NULL, and the
 * client declines; name is what the log calls the peer.
 */

char *
ngx_http_attachments_client_conf(ngx_conf_t *cf,
    ngx_http_attachments_peer_t *peer, ngx_str_t *host, ngx_uint_t https,
    ngx_str_t *ca)
{
    ngx_url_t            u;
#if (NGX_SSL)
    ngx_str_t            bundle;
    ngx_pool_cleanup_t  *cln;
#endif

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *host;
    u.default_port = https ? 443 : 80;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "%V: %s \"%V\": the collector cannot delete "
                           "its objects",
                           &peer->name, u.err ? u.err : "no address for",
                           host);
        return NGX_CONF_OK;
    }

    peer->addr = &u.addrs[0];

    peer->server_name.data = ngx_pnalloc(cf->pool, u.host.len + 1);
    if (peer->server_name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_cpystrn(peer->server_name.data, u.host.data, u.host.len + 1);
    peer->server_name.len = u.host.len;

    if (!https) {
        return NGX_CONF_OK;
    }

#if (NGX_SSL)

    peer->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (peer->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    peer->ssl->log = cf->log;

    if (ngx_ssl_create(peer->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(peer->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = peer->ssl;

    if (ca->len) {
        bundle = *ca;

    } else {
        ngx_str_set(&bundle, NGX_HTTP_ATTACHMENTS_CLIENT_CA);
    }

    if (ngx_ssl_trusted_certificate(cf, peer->ssl, &bundle, 8) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "https:// endpoints need nginx built with SSL");
    return NGX_CONF_ERROR;

#endif
}


/* a request closing its connection: n headers after Host, body or none */

ngx_buf_t *
ngx_http_attachments_client_request(ngx_pool_t *pool, ngx_str_t *method,
    ngx_str_t *uri, ngx_str_t *host, ngx_keyval_t *headers, ngx_uint_t n,
    ngx_str_t *body)
{
    size_t      len;
    ngx_buf_t  *b;
    ngx_uint_t  i;

    len = method->len + 1 + uri->len
          + sizeof(" HTTP/1.1" CRLF "Host: " CRLF) - 1 + host->len
          + sizeof("Content-Length: " CRLF "Connection: close" CRLF CRLF)
          - 1 + NGX_SIZE_T_LEN + (body ? body->len : 0);

    for (i = 0; i < n; i++) {
        len += headers[i].key.len + sizeof(": " CRLF) - 1
               + headers[i].value.len;
    }

    b = ngx_create_temp_buf(pool, len);
    if (b == NULL) {
        return NULL;
    }

    b->last = ngx_sprintf(b->last, "%V %V HTTP/1.1" CRLF "Host: %V" CRLF,
                          method, uri, host);

    for (i = 0; i < n; i++) {
        b->last = ngx_sprintf(b->last, "%V: %V" CRLF,
                              &headers[i].key, &headers[i].value);
    }

    b->last = ngx_sprintf(b->last, "Content-Length: %uz" CRLF
                          "Connection: close" CRLF CRLF,
                          body ? body->len : 0);

    if (body) {
        b->last = ngx_cpymem(b->last, body->data, body->len);
    }

    return b;
}


/*
 * Sends the request in out to the peer with a connection of its own.
 * NGX_AGAIN: handler(data, status) is called later, never from inside this
 * call, the answer's body first put into answer (its data, as much as its
 * len says; then its length) if given; NGX_DECLINED: the peer has no
 * address; NGX_BUSY: it could not be connected to.
 */

ngx_int_t
ngx_http_attachments_client_send(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_attachments_peer_t *peer, ngx_buf_t *out, ngx_str_t *answer,
    ngx_http_attachments_client_handler_pt handler, void *data)
{
    ngx_int_t                       rc;
    ngx_connection_t               *c;
    ngx_http_attachments_client_t  *cl;

    if (peer->addr == NULL) {
        return NGX_DECLINED;
    }

    cl = ngx_pcalloc(pool, sizeof(ngx_http_attachments_client_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->peer = peer;
    cl->handler = handler;
    cl->data = data;
    cl->out = out;
    cl->answer = answer;

    /* the status line alone, or the headers too and the body */
    cl->size = answer ? answer->len + 8192 : 64;
    cl->in = ngx_pnalloc(pool, cl->size);
    if (cl->in == NULL) {
        return NGX_ERROR;
    }

    if (answer) {
        /* its room, and nothing in it until the answer is */
        cl->room = answer->len;
        answer->len = 0;
    }

    cl->pc.sockaddr = peer->addr->sockaddr;
    cl->pc.socklen = peer->addr->socklen;
    cl->pc.name = &peer->addr->name;
    cl->pc.get = ngx_event_get_peer;
    cl->pc.log = log;
    cl->pc.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&cl->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (cl->pc.connection) {
            ngx_close_connection(cl->pc.connection);
        }

        return NGX_BUSY;
    }

    c = cl->pc.connection;
    c->data = cl;
    c->pool = pool;
    c->read->handler = ngx_http_attachments_client_handler;
    c->write->handler = ngx_http_attachments_client_handler;

    ngx_add_timer(c->write, NGX_HTTP_ATTACHMENTS_CLIENT_TIMEOUT);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "attachments client: %V connecting to %V",
                   &peer->name, cl->pc.name);

    if (rc == NGX_OK) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    return NGX_AGAIN;
}


static void
ngx_http_attachments_client_handler(ngx_event_t *ev)
{
    ngx_connection_t               *c;
    ngx_http_attachments_client_t  *cl;

    c = ev->data;
    cl = c->data;

    if (ev->timedout) {
        ngx_log_error(NGX_LOG_ERR, c->log, NGX_ETIMEDOUT,
                      "attachments: %V timed out", &cl->peer->name);
        ngx_http_attachments_client_done(cl, NGX_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (cl->connected) {
        ngx_http_attachments_client_io(cl);
        return;
    }

    if (ngx_http_attachments_client_test_connect(cl) != NGX_OK) {
        ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    cl->connected = 1;

#if (NGX_SSL)

    if (cl->peer->ssl) {
        if (ngx_ssl_create_connection(cl->peer->ssl, c,
                                      NGX_SSL_BUFFER|NGX_SSL_CLIENT)
            != NGX_OK
            || SSL_set_tlsext_host_name(c->ssl->connection,
                   (char *) cl->peer->server_name.data) == 0)
        {
            ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        if (ngx_ssl_handshake(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_attachments_client_handshaked;
            return;
        }

        ngx_http_attachments_client_handshaked(c);
        return;
    }

#endif

    ngx_http_attachments_client_io(cl);
}


#if (NGX_SSL)

static void
ngx_http_attachments_client_handshaked(ngx_connection_t *c)
{
    long                            rc;
    ngx_http_attachments_client_t  *cl;

    cl = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_attachments_client_done(cl,
                                            c->write->timedout
                                            ? NGX_HTTP_GATEWAY_TIME_OUT
                                            : NGX_HTTP_BAD_GATEWAY);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: %V: certificate verify error: (%l:%s)", &cl->peer->name, rc,
                      X509_verify_cert_error_string(rc));
        ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    if (ngx_ssl_check_host(c, &cl->peer->server_name) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: %V: the certificate does not match \"%V\"", &cl->peer->name,
                      &cl->peer->server_name);
        ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    c->read->handler = ngx_http_attachments_client_handler;
    c->write->handler = ngx_http_attachments_client_handler;

    ngx_http_attachments_client_io(cl);
}

#endif


/* the request out, then the status line in, or the whole answer */

static void
ngx_http_attachments_client_io(ngx_http_attachments_client_t *cl)
{
    ssize_t            n;
    ngx_uint_t         status;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = cl->pc.connection;
    b = cl->out;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        b->pos += n;
    }

    for ( ;; ) {
        n = c->recv(c, cl->in + cl->nin, cl->size - cl->nin);

        if (n == NGX_AGAIN) {
            if (!c->read->timer_set) {
                ngx_add_timer(c->read, NGX_HTTP_ATTACHMENTS_CLIENT_TIMEOUT);
            }

            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            }

            return;
        }

        if (n == 0 && cl->answer) {
            /* the answer ends with the connection */
            ngx_http_attachments_client_done(cl,
                                    ngx_http_attachments_client_answered(cl));
            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        cl->nin += n;

        if (cl->answer && ngx_http_attachments_client_whole(cl)) {
            /* all that Content-Length or the last chunk says is in */
            ngx_http_attachments_client_done(cl,
                                    ngx_http_attachments_client_answered(cl));
            return;
        }

        if (cl->answer == NULL) {
            /* "HTTP/1.1 204 No Content": the status is all that is wanted */

            status = ngx_http_attachments_client_status(cl);

            if (status) {
                ngx_http_attachments_client_done(cl, status);
                return;
            }
        }

        if (cl->nin == cl->size) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "attachments: %V answered more than %uz bytes",
                          &cl->peer->name, cl->size);
            ngx_http_attachments_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }
    }
}


/* the status of the answer's first line; 0 while it is not all in */

static ngx_uint_t
ngx_http_attachments_client_status(ngx_http_attachments_client_t *cl)
{
    u_char      *p, *last;
    ngx_uint_t   status;

    last = cl->in + cl->nin;
    p = ngx_strlchr(cl->in, last, ' ');

    if (p == NULL || last - p < 4) {
        return 0;
    }

    status = ngx_atoi(p + 1, 3);

    if (cl->nin < 7 || ngx_strncmp(cl->in, "HTTP/1.", 7) != 0
        || status == (ngx_uint_t) NGX_ERROR || status < 100)
    {
        ngx_log_error(NGX_LOG_ERR, cl->pc.connection->log, 0,
                      "attachments: %V answered something else than HTTP",
                      &cl->peer->name);
        return NGX_HTTP_BAD_GATEWAY;
    }

    return status;
}


/*
 * Whether the answer is all in before the connection ends (a server may
 * keep it open): its Content-Length of body, or its last chunk
 */

static ngx_uint_t
ngx_http_attachments_client_whole(ngx_http_attachments_client_t *cl)
{
    u_char  *p, *last, *body;
    off_t    length;

    last = cl->in + cl->nin;
    p = ngx_strlcasestrn(cl->in, last, (u_char *) "\r\n\r\n", 4 - 1);

    if (p == NULL) {
        return 0;
    }

    body = p + 4;

    if (ngx_strlcasestrn(cl->in, body, (u_char *) "transfer-encoding: chunked",
                         sizeof("transfer-encoding: chunked") - 2)
        != NULL)
    {
        return (last - body >= 5
                && ngx_strlcasestrn(body, last, (u_char *) "\r\n0\r\n\r\n",
                                    7 - 1) != NULL)
               || (last - body == 5 && ngx_strncmp(body, "0\r\n\r\n", 5) == 0);
    }

    p = ngx_strlcasestrn(cl->in, body, (u_char *) "\r\ncontent-length:",
                         sizeof("\r\ncontent-length:") - 2);

    if (p == NULL) {
        return 0;
    }

    for (p += sizeof("\r\ncontent-length:") - 1; *p == ' '; p++) {
        /* void */
    }

    length = ngx_atoof(p, ngx_strlchr(p, body, '\r') - p);

    return length >= 0 && last - body >= length;
}


/*
 * The whole answer is in: its status, and its body (the chunks joined when
 * it came in chunks) into cl->answer, as much as there is room for
 */

static ngx_uint_t
ngx_http_attachments_client_answered(ngx_http_attachments_client_t *cl)
{
    u_char      *p, *last, *body, *dst, *end;
    size_t       size;
    ngx_uint_t   status;

    status = ngx_http_attachments_client_status(cl);
    last = cl->in + cl->nin;

    p = ngx_strlcasestrn(cl->in, last, (u_char *) "\r\n\r\n", 4 - 1);

    if (status == 0 || status == NGX_HTTP_BAD_GATEWAY || p == NULL) {
        return NGX_HTTP_BAD_GATEWAY;
    }

    body = p + 4;
    dst = cl->answer->data;
    end = dst + cl->room;

    if (ngx_strlcasestrn(cl->in, body, (u_char *) "transfer-encoding: chunked",
                         sizeof("transfer-encoding: chunked") - 2)
        == NULL)
    {
        size = ngx_min((size_t) (last - body), (size_t) (end - dst));
        cl->answer->len = ngx_cpymem(dst, body, size) - cl->answer->data;
        return status;
    }

    for (p = body; p < last; /* void */) {
        size = 0;

        while (p < last && ngx_hextoi(p, 1) != NGX_ERROR) {
            size = size * 16 + ngx_hextoi(p, 1);
            p++;

            if (size > cl->size) {
                return NGX_HTTP_BAD_GATEWAY;
            }
        }

        p = ngx_strlcasestrn(p, last, (u_char *) "\r\n", 2 - 1);

        if (p == NULL || (size_t) (last - p - 2) < size) {
            return NGX_HTTP_BAD_GATEWAY;
        }

        p += 2;

        if (size == 0) {
            break;
        }

        dst = ngx_cpymem(dst, p, ngx_min(size, (size_t) (end - dst)));
        p += size + 2;
    }

    cl->answer->len = dst - cl->answer->data;

    return status;
}


static void
ngx_http_attachments_client_done(ngx_http_attachments_client_t *cl,
    ngx_uint_t status)
{
    ngx_connection_t  *c;

    c = cl->pc.connection;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "attachments client: %V answered %ui",
                   &cl->peer->name, status);

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);

    cl->handler(cl->data, status);
}


static ngx_int_t
ngx_http_attachments_client_test_connect(
    ngx_http_attachments_client_t *cl)
{
    int                err;
    socklen_t          len;
    ngx_connection_t  *c;

    c = cl->pc.connection;
    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, c->log, err,
                      "attachments: connect() to %V failed", cl->pc.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}
