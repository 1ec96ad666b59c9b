
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The HTTP client of every cloud storage kind (s3, yandex_disk).  A kind
 * writes a request (method, path, query, the headers it signs or
 * authorizes with) and this sends it the one way there is at that moment:
 * with a client request, as a subrequest to the storage's internal
 * location "proxy=" (ngx_http_attachments_proxy.c), whose proxy_pass
 * reaches the store without blocking, or, for an address the store itself
 * gave (op->url), to "upload=", whose "proxy_pass $attachments_storage_url"
 * goes there; without a request (the collector), through the module's own
 * client (ngx_http_attachments_client.c) with a connection of its own.
 * Either way op->handler is called once the store answered.  Also the
 * runs of operations a kind makes of several requests (a drive's): each
 * request a step of its own, whose answer the kind reads (JSON) and goes
 * on from, the caller's op ending with the last.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_client.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_proxy.h"
#include "ngx_http_attachments_cloud.h"


static ngx_int_t ngx_http_attachments_cloud_client(
    ngx_http_attachments_cloud_t *cloud,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_cloud_request_t *rq);
static void ngx_http_attachments_cloud_answered(void *data,
    ngx_uint_t status);
static void ngx_http_attachments_cloud_stepped(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *step);
static void ngx_http_attachments_cloud_end(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run);
static void ngx_http_attachments_cloud_waited(ngx_event_t *ev);
static void ngx_http_attachments_cloud_cleanup(void *data);


/*
 * The parameters every cloud kind takes: endpoint=, ca=, proxy=, temp= and,
 * for a kind that sends to addresses its store gives, upload=.  NGX_OK:
 * arg was one; NGX_DECLINED: it is the kind's own; NGX_ERROR: logged.
 */

ngx_int_t
ngx_http_attachments_cloud_param(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage,
    ngx_http_attachments_cloud_t *cloud, ngx_str_t *arg, ngx_uint_t upload,
    ngx_str_t *endpoint, ngx_str_t *ca)
{
    ngx_str_t  v, *prefix;

    prefix = NULL;

    if (ngx_http_attachments_conf_param(arg, "endpoint", &v)) {
        *endpoint = v;

    } else if (ngx_http_attachments_conf_param(arg, "ca", &v)) {
        *ca = v;

    } else if (ngx_http_attachments_conf_param(arg, "proxy", &v)) {
        prefix = &cloud->proxy;

    } else if (upload && ngx_http_attachments_conf_param(arg, "upload", &v)) {
        prefix = &cloud->upload;

    } else if (ngx_http_attachments_conf_param(arg, "temp", &v)) {
        /* where uploads wait for the store, as "<temp>/.tmp/<uuid>" */
        storage->root = v;

        if (v.len == 0) {
            goto invalid;
        }

        return (ngx_conf_full_name(cf->cycle, &storage->root, 0) == NGX_OK)
               ? NGX_OK : NGX_ERROR;

    } else {
        return NGX_DECLINED;
    }

    if (prefix) {
        return ngx_http_attachments_conf_prefix(cf, arg, "location prefix",
                                                prefix);
    }

    if (v.len) {
        return NGX_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", arg);

    return NGX_ERROR;
}


/*
 * endpoint=scheme://host[:port]: the Host requests go to (the port left
 * out when it is the scheme's, prefix and a dot in front, as a bucket's
 * own host has), and the peer of the module's own client
 */

ngx_int_t
ngx_http_attachments_cloud_endpoint(ngx_conf_t *cf,
    ngx_http_attachments_cloud_t *cloud,
    ngx_http_attachments_storage_t *storage, ngx_str_t *endpoint,
    ngx_str_t *prefix, ngx_str_t *ca)
{
    u_char      *p;
    char        *suffix;
    size_t       n;
    ngx_url_t    u;
    ngx_str_t    host;
    ngx_uint_t   https;

    if (endpoint->len > 8 && ngx_strncmp(endpoint->data, "https://", 8) == 0)
    {
        ngx_str_set(&cloud->scheme, "https://");

    } else if (endpoint->len > 7
               && ngx_strncmp(endpoint->data, "http://", 7) == 0)
    {
        ngx_str_set(&cloud->scheme, "http://");

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"endpoint=\" must be an http:// or https:// "
                           "URL, not \"%V\"", endpoint);
        return NGX_ERROR;
    }

    https = (cloud->scheme.len == 8);

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = endpoint->data + cloud->scheme.len;
    u.url.len = endpoint->len - cloud->scheme.len;
    u.default_port = https ? 443 : 80;
    u.no_resolve = 1;

    while (u.url.len && u.url.data[u.url.len - 1] == '/') {
        u.url.len--;
    }

    if (u.url.len == 0
        || ngx_strlchr(u.url.data, u.url.data + u.url.len, '/')
        || ngx_parse_url(cf->pool, &u) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"endpoint=\" must be a scheme and a host, "
                           "not \"%V\"", endpoint);
        return NGX_ERROR;
    }

    /* as written, but for the scheme's own port */

    host = u.url;
    suffix = https ? ":443" : ":80";
    n = ngx_strlen(suffix);

    if (host.len > n
        && ngx_strncmp(host.data + host.len - n, suffix, n) == 0)
    {
        host.len -= n;
    }

    if (prefix && prefix->len) {
        cloud->host.len = prefix->len + 1 + host.len;
        cloud->host.data = ngx_pnalloc(cf->pool, cloud->host.len);
        if (cloud->host.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(cloud->host.data, prefix->data, prefix->len);
        *p++ = '.';
        ngx_memcpy(p, host.data, host.len);

    } else {
        cloud->host = host;
    }

    /* the log's name for it: 's3 storage "cloud"' */

    cloud->peer.name.len = sizeof(" storage \"\"") - 1
                           + storage->kind->name.len + storage->name.len;
    cloud->peer.name.data = ngx_pnalloc(cf->pool, cloud->peer.name.len);
    if (cloud->peer.name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cloud->peer.name.data, "%V storage \"%V\"",
                &storage->kind->name, &storage->name);

    if (ngx_http_attachments_client_conf(cf, &cloud->peer, &cloud->host,
                                         https, ca)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * rq sent for op: NGX_AGAIN, op->handler is called later (in the
 * request's context, the caller runs the posted requests; or with no
 * request); NGX_OK, answered at once (op->status); NGX_DECLINED, there is
 * no way to the store now (no location, no address).
 */

ngx_int_t
ngx_http_attachments_cloud_send(ngx_http_request_t *r,
    ngx_http_attachments_cloud_t *cloud, ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_cloud_request_t *rq)
{
    u_char     *p;
    ngx_str_t   uri, args;

    if (r == NULL || (cloud->proxy.len == 0 && op->url.len == 0)) {
        return ngx_http_attachments_cloud_client(cloud, op, rq);
    }

    if (op->url.len) {
        /* the address is the variable's: the location only leads there */

        if (cloud->upload.len == 0) {
            return NGX_DECLINED;
        }

        uri = cloud->upload;
        ngx_str_null(&args);

    } else {
        /* the proxy= prefix for the leading "/": proxy_pass puts it back */

        uri.len = cloud->proxy.len + rq->path.len - 1;
        uri.data = ngx_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(uri.data, cloud->proxy.data, cloud->proxy.len);
        ngx_memcpy(p, rq->path.data + 1, rq->path.len - 1);

        args = rq->args;
    }

    return ngx_http_attachments_proxy_send(r, op, &uri, &args, &rq->method,
                                           rq->headers, rq->n);
}


static ngx_int_t
ngx_http_attachments_cloud_client(ngx_http_attachments_cloud_t *cloud,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_cloud_request_t *rq)
{
    ngx_int_t   rc;
    ngx_str_t   uri;
    ngx_buf_t  *b;

    if (op->pool == NULL || cloud->peer.addr == NULL || op->url.len) {
        return NGX_DECLINED;
    }

    uri.len = ngx_http_attachments_aws_escape(NULL, rq->path.data,
                                              rq->path.len, 1);
    uri.data = ngx_pnalloc(op->pool, uri.len + 1 + rq->args.len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_attachments_aws_escape(uri.data, rq->path.data,
                                           rq->path.len, 1);

    if (rq->args.len) {
        uri.data[uri.len++] = '?';
        uri.len = ngx_cpymem(uri.data + uri.len, rq->args.data, rq->args.len)
                  - uri.data;
    }

    b = ngx_http_attachments_client_request(op->pool, &rq->method, &uri,
                                            &cloud->host, rq->headers, rq->n,
                                            &op->body);
    if (b == NULL) {
        return NGX_ERROR;
    }

    /* the answer's body into op->head when it has room for it */
    op->head.len = op->head.data ? op->head_size : 0;

    rc = ngx_http_attachments_client_send(op->pool, op->log, &cloud->peer, b,
                                          op->head.data ? &op->head : NULL,
                                          ngx_http_attachments_cloud_answered,
                                          op);

    if (rc == NGX_BUSY) {
        /* answered at once, but never from inside this call */
        op->status = NGX_HTTP_BAD_GATEWAY;
        return NGX_OK;
    }

    return rc;
}


static void
ngx_http_attachments_cloud_answered(void *data, ngx_uint_t status)
{
    ngx_http_attachments_storage_op_t  *op = data;

    op->status = status;

    ngx_http_attachments_storage_done(NULL, op);
}


/* where an operation keeps the first size bytes of what the store answers */

ngx_int_t
ngx_http_attachments_cloud_answer_room(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op, size_t size)
{
    op->head_size = size;
    op->head.len = 0;
    op->head.data = ngx_pnalloc(pool, size);

    return op->head.data ? NGX_OK : NGX_ERROR;
}


/*
 * A run of size bytes (the kind's, a cloud run first) for op, its steps
 * answered to next: from the request's pool, or op->pool without one
 */

void *
ngx_http_attachments_cloud_run(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, size_t size,
    ngx_http_attachments_cloud_next_pt next)
{
    ngx_pool_t                        *pool;
    ngx_http_attachments_cloud_run_t  *run;

    pool = r ? r->pool : op->pool;

    if (pool == NULL) {
        return NULL;
    }

    run = ngx_pcalloc(pool, size);
    if (run == NULL) {
        return NULL;
    }

    run->op = op;
    run->pool = pool;
    run->next = next;
    run->request = r;

    run->step.storage = op->storage;
    run->step.key = op->key;
    run->step.log = op->log;
    run->step.pool = op->pool;
    run->step.step = 1;
    run->step.handler = ngx_http_attachments_cloud_stepped;
    run->step.data = run;

    return run;
}


/*
 * The operation's answer, given what sending its first step (rc) gave:
 * NGX_AGAIN; NGX_DECLINED, no way to the store without a request; or
 * NGX_OK, it could not start (op->status 502)
 */

ngx_int_t
ngx_http_attachments_cloud_started(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run, ngx_int_t rc)
{
    if (rc == NGX_AGAIN || (rc == NGX_DECLINED && r == NULL)) {
        return rc;
    }

    run->op->status = NGX_HTTP_BAD_GATEWAY;

    return NGX_OK;
}


/* for next: the next step sent (rc), or the operation ended with 502 */

ngx_int_t
ngx_http_attachments_cloud_sent(ngx_http_attachments_cloud_run_t *run,
    ngx_int_t rc)
{
    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    run->op->status = NGX_HTTP_BAD_GATEWAY;

    return NGX_OK;
}


/* a step answered: the next one, or the operation's end */

static void
ngx_http_attachments_cloud_stepped(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *step)
{
    ngx_http_attachments_cloud_run_t  *run = step->data;

    if (run->next(r, run) == NGX_AGAIN) {
        if (r) {
            ngx_http_run_posted_requests(r->connection);
        }

        return;
    }

    ngx_http_attachments_cloud_end(r, run);
}


static void
ngx_http_attachments_cloud_end(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run)
{
    if (run->served) {
        run->served(run->serve, run);
        return;
    }

    ngx_http_attachments_storage_done(r, run->op);
}


/*
 * For next: again() after delay ms (a store that answered "later"), with a
 * request only; NGX_AGAIN, or NGX_OK with the operation ended (503)
 */

ngx_int_t
ngx_http_attachments_cloud_later(ngx_http_attachments_cloud_run_t *run,
    ngx_msec_t delay, ngx_http_attachments_cloud_next_pt again)
{
    ngx_pool_cleanup_t  *cln;

    if (run->request == NULL) {
        run->op->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return NGX_OK;
    }

    if (run->again == NULL) {
        cln = ngx_pool_cleanup_add(run->pool, 0);
        if (cln == NULL) {
            run->op->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_OK;
        }

        cln->handler = ngx_http_attachments_cloud_cleanup;
        cln->data = run;

        run->later.handler = ngx_http_attachments_cloud_waited;
        run->later.data = run;
        run->later.log = run->request->connection->log;
    }

    run->again = again;

    ngx_add_timer(&run->later, delay);

    return NGX_AGAIN;
}


static void
ngx_http_attachments_cloud_waited(ngx_event_t *ev)
{
    ngx_http_attachments_cloud_run_t  *run = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = run->request;
    c = r->connection;

    if (run->again(r, run) != NGX_AGAIN) {
        /* r may be gone after this */
        ngx_http_attachments_cloud_end(r, run);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_attachments_cloud_cleanup(void *data)
{
    ngx_http_attachments_cloud_run_t  *run = data;

    if (run->later.timer_set) {
        ngx_del_timer(&run->later);
    }
}


/*
 * A string member of the JSON object the step answered, copied into the
 * run's pool: NGX_DECLINED when there is none
 */

ngx_int_t
ngx_http_attachments_cloud_answer(ngx_http_attachments_cloud_run_t *run,
    const char *name, ngx_str_t *value)
{
    size_t         len;
    json_t        *json, *v;
    const char    *s;
    json_error_t   err;

    json = json_loadb((char *) run->step.head.data, run->step.head.len, 0,
                      &err);
    if (json == NULL) {
        ngx_log_error(NGX_LOG_ERR, run->step.log, 0,
                      "attachments: %V storage \"%V\" answered no JSON for "
                      "\"%V\": %s", &run->op->storage->kind->name,
                      &run->op->storage->name, &run->op->key, err.text);
        return NGX_ERROR;
    }

    v = json_object_get(json, name);
    s = json_string_value(v);

    if (s == NULL) {
        json_decref(json);
        return NGX_DECLINED;
    }

    len = json_string_length(v);

    value->data = ngx_pnalloc(run->pool, len + 1);
    if (value->data == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, s, len);
    value->data[len] = '\0';
    value->len = len;

    json_decref(json);

    return NGX_OK;
}
