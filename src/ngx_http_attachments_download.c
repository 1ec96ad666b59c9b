
/*
 * Local downloads: minting signed URLs and verifying them.
 *
 * A signed URL is {download prefix}{escaped storage key}?X-Expires=…
 * &X-Key-Id=…[&X-Filename=…][&X-Type=…]&X-Signature=….  Verification is CPU
 * only (no database): the path is taken from the raw request line so that
 * nginx's own normalisation cannot turn a refused key into an accepted one,
 * and a valid request is handed by internal redirect to the storage's
 * internal location, where sendfile, ranges and conditional requests are
 * nginx's own.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_json.h"


static ngx_int_t ngx_http_attachments_raw_key(ngx_http_request_t *r,
    ngx_str_t *prefix, ngx_str_t *key);
static ngx_int_t ngx_http_attachments_decode(ngx_pool_t *pool,
    ngx_str_t *value);
static ngx_int_t ngx_http_attachments_unescape(ngx_pool_t *pool,
    ngx_str_t *value);
static ngx_int_t ngx_http_attachments_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *why, ngx_str_t *path);
static ngx_int_t ngx_http_attachments_set_headers(ngx_http_request_t *r,
    ngx_http_attachments_grant_t *g);
static ngx_int_t ngx_http_attachments_join(ngx_pool_t *pool, ngx_str_t *a,
    ngx_str_t *b, ngx_str_t *out);


ngx_int_t
ngx_http_attachments_download_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         key, expires, sig;
    ngx_str_t                         arg[NGX_HTTP_ATTACHMENTS_ARGS];
    ngx_uint_t                        i, escaped;
    ngx_http_attachments_key_t       *k;
    ngx_http_attachments_grant_t      g;
    ngx_http_attachments_storage_t   *storage;
    ngx_http_attachments_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);
    storage = alcf->download;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_attachments_add_header(r, "Allow", "GET, HEAD")
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_attachments_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                               "method_not_allowed",
                                               "only GET and HEAD download");
    }

    rc = ngx_http_attachments_raw_key(r, &storage->download, &key);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN,
                                           "forbidden", "unsafe storage key",
                                           &r->uri);
    }

    ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

    /* HEAD is the same grant as GET */
    ngx_str_set(&g.method, "GET");

    if (ngx_http_attachments_join(r->pool, &storage->download, &key, &g.path)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_parse_query(r->args.data, r->args.len, arg,
                                         &escaped)
        != NGX_OK)
    {
        return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                           "repeated parameter", &g.path);
    }

    /*
     * Control characters are looked for only once verification failed:
     * the signing code refuses them, so no URL that has them verifies.
     */

    for (i = 0; escaped; i++, escaped >>= 1) {
        if ((escaped & 1)
            && ngx_http_attachments_unescape(r->pool, &arg[i]) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    expires = arg[NGX_HTTP_ATTACHMENTS_ARG_I_EXPIRES];
    sig = arg[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE];
    g.key_id = arg[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID];
    g.filename = arg[NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME];
    g.type = arg[NGX_HTTP_ATTACHMENTS_ARG_I_TYPE];

    if (expires.len == 0 || g.key_id.len == 0 || sig.len == 0) {
        return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                           "signature parameters missing",
                                           &g.path);
    }

    g.expires = ngx_atotm(expires.data, expires.len);

    k = alcf->keys->elts;

    for (i = 0; i < alcf->keys->nelts; i++) {
        if (k[i].id.len == g.key_id.len
            && ngx_strncmp(k[i].id.data, g.key_id.data, g.key_id.len) == 0)
        {
            break;
        }
    }

    if (i == alcf->keys->nelts) {
        return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                           "unknown key id", &g.path);
    }

    if (ngx_http_attachments_verify(k[i].mac, &g, sig.data, sig.len)
        != NGX_OK)
    {
        for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
            if (!ngx_http_attachments_printable(arg[i].data, arg[i].len)) {
                return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN,
                                                   "forbidden",
                                                   "malformed parameter",
                                                   &g.path);
            }
        }

        return ngx_http_attachments_refuse(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                           "signature mismatch", &g.path);
    }

    /* only a genuine URL learns that it expired */

    if (g.expires < ngx_time()) {
        return ngx_http_attachments_refuse(r, NGX_HTTP_ATTACHMENTS_GONE,
                                           "url_expired", "expired", &g.path);
    }

    return ngx_http_attachments_serve(r, storage, &key, &g);
}


/*
 * Hands a granted download to the storage's internal location, with the
 * granted Content-Type and Content-Disposition.
 */

ngx_int_t
ngx_http_attachments_serve(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key,
    ngx_http_attachments_grant_t *g)
{
    ngx_str_t  uri;

    if (ngx_http_attachments_set_headers(r, g) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_join(r->pool, &storage->internal, key, &uri)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments download \"%V\"", &uri);

    return ngx_http_internal_redirect(r, &uri, NULL);
}


/*
 * The key is read from the request line as the client sent it: r->uri has
 * already merged slashes and resolved dot segments.
 */

static ngx_int_t
ngx_http_attachments_raw_key(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_str_t *key)
{
    u_char  *raw, *last;

    if (r->internal || r->uri_start == NULL || r->uri_end == NULL) {
        /* rewritten into the location: only the normalised URI is known */
        raw = r->uri.data;
        last = r->uri.data + r->uri.len;

    } else {
        raw = r->uri_start;
        last = r->args_start ? r->args_start - 1 : r->uri_end;
    }

    if ((size_t) (last - raw) < prefix->len
        || ngx_strncmp(raw, prefix->data, prefix->len) != 0)
    {
        return NGX_DECLINED;
    }

    raw += prefix->len;

    key->data = raw;
    key->len = last - raw;

    if (memchr(raw, '%', key->len) != NULL
        && ngx_http_attachments_unescape(r->pool, key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_key_safe(key->data, key->len)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A decoded query argument; an absent one is empty.  NGX_DECLINED: it has
 * control characters.
 */

ngx_int_t
ngx_http_attachments_arg(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        ngx_str_null(value);
        return NGX_OK;
    }

    return ngx_http_attachments_decode(r->pool, value);
}


/*
 * Percent-decodes a query value in place of its reference (a copy when it
 * has escapes).  NGX_DECLINED: it has control characters.
 */

static ngx_int_t
ngx_http_attachments_decode(ngx_pool_t *pool, ngx_str_t *value)
{
    if (value->len && memchr(value->data, '%', value->len) != NULL
        && ngx_http_attachments_unescape(pool, value) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_printable(value->data, value->len)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a decoded copy of an escaped value */

static ngx_int_t
ngx_http_attachments_unescape(ngx_pool_t *pool, ngx_str_t *value)
{
    u_char  *dst;

    dst = ngx_pnalloc(pool, value->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->len = ngx_http_attachments_percent_decode(dst, value->data,
                                                     value->len);
    value->data = dst;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *why, ngx_str_t *path)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "attachments: download refused (%s): \"%V\"", why, path);

    return ngx_http_attachments_send_error(r, status, code,
               status == NGX_HTTP_ATTACHMENTS_GONE
               ? "the download URL has expired"
               : "the download URL is not valid");
}


static ngx_int_t
ngx_http_attachments_set_headers(ngx_http_request_t *r,
    ngx_http_attachments_grant_t *g)
{
    ngx_table_elt_t  *h;

    if (g->type.len) {
        r->headers_out.content_type = g->type;
        r->headers_out.content_type_len = g->type.len;
        r->headers_out.content_type_lowcase = NULL;
    }

    /* always "attachment": an uploaded HTML file must never render inline */

    h = ngx_http_attachments_add_header(r, "Content-Disposition", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_attachments_disposition_value(r->pool, &g->filename,
                                                  &h->value);
}


ngx_int_t
ngx_http_attachments_disposition_value(ngx_pool_t *pool, ngx_str_t *filename,
    ngx_str_t *value)
{
    value->data = ngx_pnalloc(pool,
                      NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(filename->len));
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    value->len = ngx_http_attachments_disposition(value->data, filename);

    return NGX_OK;
}


ngx_int_t
ngx_http_attachments_signed_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    ngx_http_attachments_key_t       *k;
    ngx_http_attachments_grant_t      g;
    ngx_http_attachments_storage_t   *storage;
    ngx_http_attachments_loc_conf_t  *alcf;
    u_char                            sig[NGX_HTTP_ATTACHMENTS_SIG_LEN];

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);
    storage = link->storage;

    if (alcf->keys == NULL || storage->download.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: cannot sign for storage \"%V\": %s",
                      &storage->name,
                      alcf->keys ? "no attachments_download location"
                                 : "no attachments_signing_key");
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_key_safe(link->key.data, link->key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: refusing to sign unsafe key \"%V\"",
                      &link->key);
        return NGX_DECLINED;
    }

    k = alcf->keys->elts;

    ngx_str_set(&g.method, "GET");
    g.key_id = k[0].id;
    g.filename = link->filename;
    g.type = link->type;
    g.expires = link->expires ? link->expires : ngx_time() + alcf->url_ttl;

    if (ngx_http_attachments_join(r->pool, &storage->download, &link->key,
                                  &g.path)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_attachments_sign(k[0].mac, &g, sig) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: cannot sign \"%V\": control characters",
                      &g.path);
        return NGX_DECLINED;
    }

    url->len = ngx_http_attachments_url(NULL, &storage->download, &link->key,
                                        &g, sig);

    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_attachments_url(url->data, &storage->download, &link->key, &g,
                             sig);
    link->expires = g.expires;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_join(ngx_pool_t *pool, ngx_str_t *a, ngx_str_t *b,
    ngx_str_t *out)
{
    out->len = a->len + b->len;
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(out->data, a->data, a->len), b->data, b->len);

    return NGX_OK;
}
