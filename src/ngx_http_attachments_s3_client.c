
/*
 * The module's own S3 client, for requests no client request can carry as
 * a subrequest: the collector's DELETEs.  One request per connection
 * ("Connection: close"), HTTP or HTTPS (nginx's SSL layer; the endpoint's
 * certificate is verified against ca=, the system's bundle by default),
 * driven by events with a timeout; only the status line of the answer is
 * read.  The endpoint's address is resolved once, with the configuration,
 * as proxy_pass does with a host name.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_s3.h"


#define NGX_HTTP_ATTACHMENTS_S3_TIMEOUT  30000
#define NGX_HTTP_ATTACHMENTS_S3_CA       "/etc/ssl/certs/ca-certificates.crt"


typedef struct {
    ngx_http_attachments_storage_op_t  *op;
    ngx_peer_connection_t               peer;
    ngx_buf_t                          *out;
    size_t                              nin;
    unsigned                            connected:1;
    u_char                              in[64];
} ngx_http_attachments_s3_client_t;


static void ngx_http_attachments_s3_client_handler(ngx_event_t *ev);
#if (NGX_SSL)
static void ngx_http_attachments_s3_client_handshaked(ngx_connection_t *c);
#endif
static void ngx_http_attachments_s3_client_io(
    ngx_http_attachments_s3_client_t *cl);
static void ngx_http_attachments_s3_client_done(
    ngx_http_attachments_s3_client_t *cl, ngx_uint_t status);
static ngx_int_t ngx_http_attachments_s3_client_test_connect(
    ngx_http_attachments_s3_client_t *cl);


/* the endpoint's address, and its TLS context for https:// */

char *
ngx_http_attachments_s3_client_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *ca)
{
    ngx_url_t            u;
#if (NGX_SSL)
    ngx_str_t            bundle;
    ngx_pool_cleanup_t  *cln;
#endif

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = s->host;
    u.default_port = (s->scheme.len == sizeof("https://") - 1) ? 443 : 80;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        /* downloads and uploads do not need it: only the collector does */
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "s3 storage \"%V\": %s \"%V\": the collector "
                           "cannot delete its objects",
                           &s->name, u.err ? u.err : "no address for",
                           &s->host);
        return NGX_CONF_OK;
    }

    s->addr = &u.addrs[0];

    s->server_name.data = ngx_pnalloc(cf->pool, u.host.len + 1);
    if (s->server_name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_cpystrn(s->server_name.data, u.host.data, u.host.len + 1);
    s->server_name.len = u.host.len;

    if (s->scheme.len != sizeof("https://") - 1) {
        return NGX_CONF_OK;
    }

#if (NGX_SSL)

    s->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (s->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    s->ssl->log = cf->log;

    if (ngx_ssl_create(s->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(s->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = s->ssl;

    if (ca->len) {
        bundle = *ca;

    } else {
        ngx_str_set(&bundle, NGX_HTTP_ATTACHMENTS_S3_CA);
    }

    if (ngx_ssl_trusted_certificate(cf, s->ssl, &bundle, 8) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "https:// endpoints need nginx built with SSL");
    return NGX_CONF_ERROR;

#endif
}


/*
 * Sends op (its method, path and signature) with a connection of its own.
 * NGX_AGAIN: op->handler is called later, with no request; NGX_DECLINED:
 * the endpoint has no address.
 */

ngx_int_t
ngx_http_attachments_s3_client(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op)
{
    size_t                             len;
    ngx_int_t                          rc;
    ngx_buf_t                         *b;
    ngx_connection_t                  *c;
    ngx_http_attachments_storage_t    *s;
    ngx_http_attachments_s3_signed_t   sg;
    ngx_http_attachments_s3_client_t  *cl;

    s = op->storage;

    if (s->addr == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_attachments_s3_sign(pool, op, &sg) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sg.method.len + 1
          + ngx_http_attachments_aws_escape(NULL, sg.path.data, sg.path.len, 1)
          + sizeof(" HTTP/1.1" CRLF "Host: ") - 1 + s->host.len
          + sizeof(CRLF "x-amz-date: ") - 1 + 16
          + sizeof(CRLF "x-amz-content-sha256: ") - 1 + 64
          + sizeof(CRLF "Authorization: ") - 1 + sg.authorization.len
          + sizeof(CRLF "Content-Length: 0" CRLF "Connection: close"
                   CRLF CRLF) - 1;

    cl = ngx_pcalloc(pool, sizeof(ngx_http_attachments_s3_client_t));
    b = ngx_create_temp_buf(pool, len);
    if (cl == NULL || b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, sg.method.data, sg.method.len);
    *b->last++ = ' ';
    b->last += ngx_http_attachments_aws_escape(b->last, sg.path.data,
                                               sg.path.len, 1);
    b->last = ngx_sprintf(b->last, " HTTP/1.1" CRLF "Host: %V"
                          CRLF "x-amz-date: %*s"
                          CRLF "x-amz-content-sha256: %*s"
                          CRLF "Authorization: %V"
                          CRLF "Content-Length: 0"
                          CRLF "Connection: close" CRLF CRLF,
                          &s->host, (size_t) 16, sg.date,
                          (size_t) 64, sg.payload, &sg.authorization);

    cl->op = op;
    cl->out = b;

    cl->peer.sockaddr = s->addr->sockaddr;
    cl->peer.socklen = s->addr->socklen;
    cl->peer.name = &s->addr->name;
    cl->peer.get = ngx_event_get_peer;
    cl->peer.log = op->log;
    cl->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&cl->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (cl->peer.connection) {
            ngx_close_connection(cl->peer.connection);
        }

        /* answered at once, but never from inside this call */
        op->status = NGX_HTTP_BAD_GATEWAY;
        return NGX_OK;
    }

    c = cl->peer.connection;
    c->data = cl;
    c->pool = pool;
    c->read->handler = ngx_http_attachments_s3_client_handler;
    c->write->handler = ngx_http_attachments_s3_client_handler;

    ngx_add_timer(c->write, NGX_HTTP_ATTACHMENTS_S3_TIMEOUT);

    if (rc == NGX_OK) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    return NGX_AGAIN;
}


static void
ngx_http_attachments_s3_client_handler(ngx_event_t *ev)
{
    ngx_connection_t                  *c;
    ngx_http_attachments_s3_client_t  *cl;

    c = ev->data;
    cl = c->data;

    if (ev->timedout) {
        ngx_log_error(NGX_LOG_ERR, c->log, NGX_ETIMEDOUT,
                      "attachments: s3 storage \"%V\" timed out",
                      &cl->op->storage->name);
        ngx_http_attachments_s3_client_done(cl, NGX_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (cl->connected) {
        ngx_http_attachments_s3_client_io(cl);
        return;
    }

    if (ngx_http_attachments_s3_client_test_connect(cl) != NGX_OK) {
        ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    cl->connected = 1;

#if (NGX_SSL)

    if (cl->op->storage->ssl) {
        if (ngx_ssl_create_connection(cl->op->storage->ssl, c,
                                      NGX_SSL_BUFFER|NGX_SSL_CLIENT)
            != NGX_OK
            || SSL_set_tlsext_host_name(c->ssl->connection,
                   (char *) cl->op->storage->server_name.data) == 0)
        {
            ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        if (ngx_ssl_handshake(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_attachments_s3_client_handshaked;
            return;
        }

        ngx_http_attachments_s3_client_handshaked(c);
        return;
    }

#endif

    ngx_http_attachments_s3_client_io(cl);
}


#if (NGX_SSL)

static void
ngx_http_attachments_s3_client_handshaked(ngx_connection_t *c)
{
    long                               rc;
    ngx_http_attachments_s3_client_t  *cl;

    cl = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_attachments_s3_client_done(cl,
                                            c->write->timedout
                                            ? NGX_HTTP_GATEWAY_TIME_OUT
                                            : NGX_HTTP_BAD_GATEWAY);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: s3 storage \"%V\": certificate verify "
                      "error: (%l:%s)", &cl->op->storage->name, rc,
                      X509_verify_cert_error_string(rc));
        ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    if (ngx_ssl_check_host(c, &cl->op->storage->server_name) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: s3 storage \"%V\": the certificate does "
                      "not match \"%V\"", &cl->op->storage->name,
                      &cl->op->storage->server_name);
        ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
        return;
    }

    c->read->handler = ngx_http_attachments_s3_client_handler;
    c->write->handler = ngx_http_attachments_s3_client_handler;

    ngx_http_attachments_s3_client_io(cl);
}

#endif


/* the request out, then the status line in */

static void
ngx_http_attachments_s3_client_io(ngx_http_attachments_s3_client_t *cl)
{
    u_char            *p, *last;
    ssize_t            n;
    ngx_uint_t         status;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = cl->peer.connection;
    b = cl->out;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        b->pos += n;
    }

    for ( ;; ) {
        n = c->recv(c, cl->in + cl->nin, sizeof(cl->in) - cl->nin);

        if (n == NGX_AGAIN) {
            if (!c->read->timer_set) {
                ngx_add_timer(c->read, NGX_HTTP_ATTACHMENTS_S3_TIMEOUT);
            }

            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }

        cl->nin += n;

        /* "HTTP/1.1 204 No Content": the status is all that is wanted */

        last = cl->in + cl->nin;
        p = ngx_strlchr(cl->in, last, ' ');

        if (p && last - p >= 4) {
            status = ngx_atoi(p + 1, 3);

            if (ngx_strncmp(cl->in, "HTTP/1.", 7) != 0
                || status == (ngx_uint_t) NGX_ERROR || status < 100)
            {
                ngx_log_error(NGX_LOG_ERR, c->log, 0,
                              "attachments: s3 storage \"%V\" answered "
                              "something else than HTTP",
                              &cl->op->storage->name);
                status = NGX_HTTP_BAD_GATEWAY;
            }

            ngx_http_attachments_s3_client_done(cl, status);
            return;
        }

        if (cl->nin == sizeof(cl->in)) {
            ngx_http_attachments_s3_client_done(cl, NGX_HTTP_BAD_GATEWAY);
            return;
        }
    }
}


static void
ngx_http_attachments_s3_client_done(ngx_http_attachments_s3_client_t *cl,
    ngx_uint_t status)
{
    ngx_connection_t                   *c;
    ngx_http_attachments_storage_op_t  *op;

    c = cl->peer.connection;
    op = cl->op;

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);

    op->status = status;

    if (status < 200 || status >= 300) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "attachments: %s \"%V\" in s3 storage \"%V\": %ui",
                      op->method == NGX_HTTP_DELETE ? "DELETE" : "HEAD",
                      &op->key, &op->storage->name, status);
    }

    op->handler(NULL, op);
}


static ngx_int_t
ngx_http_attachments_s3_client_test_connect(
    ngx_http_attachments_s3_client_t *cl)
{
    int                err;
    socklen_t          len;
    ngx_connection_t  *c;

    c = cl->peer.connection;
    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, c->log, err,
                      "attachments: connect() to %V failed", cl->peer.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}
