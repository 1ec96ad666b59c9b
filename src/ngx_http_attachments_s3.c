
/*
 * S3-compatible storages: their configuration and their download URLs,
 * SigV4 query-presigned GETs (ngx_http_attachments_sigv4.c) that carry the
 * file's name and type as response-content-disposition and -type.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"


static ngx_int_t ngx_http_attachments_s3_secret(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value);


/*
 * attachments_storage <name> s3 endpoint=<url> region=<r> bucket=<b>
 *     access_key=<id> (secret_file=<path> | secret_env=<VAR)
 *     [style=path|virtual]
 */

char *
ngx_http_attachments_s3_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n)
{
    u_char      *p, *last;
    ngx_str_t    v, endpoint, *dst;
    ngx_uint_t   i;

    ngx_str_null(&endpoint);
    ngx_str_set(&storage->sigv4.service, "s3");

    for (i = 3; i < n; i++) {
        p = (u_char *) ngx_strchr(value[i].data, '=');

        if (p == NULL) {
            goto invalid;
        }

        v.data = p + 1;
        v.len = value[i].data + value[i].len - v.data;

        dst = NULL;

#define PARAM(name)                                                           \
    ((size_t) (p - value[i].data) == sizeof(name) - 1                         \
     && ngx_strncmp(value[i].data, name, sizeof(name) - 1) == 0)

        if (PARAM("endpoint")) {
            dst = &endpoint;

        } else if (PARAM("region")) {
            dst = &storage->sigv4.region;

        } else if (PARAM("bucket")) {
            dst = &storage->bucket;

        } else if (PARAM("access_key")) {
            dst = &storage->sigv4.access_key;

        } else if (PARAM("secret_file") || PARAM("secret_env")) {
            if (ngx_http_attachments_s3_secret(cf, storage, &value[i])
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;

        } else if (PARAM("style")) {
            if (v.len == 7 && ngx_strncmp(v.data, "virtual", 7) == 0) {
                storage->virtual_host = 1;

            } else if (!(v.len == 4 && ngx_strncmp(v.data, "path", 4) == 0)) {
                goto invalid;
            }

            continue;

        } else {
            goto invalid;
        }

#undef PARAM

        if (v.len == 0) {
            goto invalid;
        }

        *dst = v;
    }

    if (endpoint.len == 0 || storage->sigv4.region.len == 0
        || storage->bucket.len == 0 || storage->sigv4.access_key.len == 0
        || storage->sigv4.secret.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "s3 storage \"%V\" needs \"endpoint=\", "
                           "\"region=\", \"bucket=\", \"access_key=\" and "
                           "\"secret_file=\" or \"secret_env=\"",
                           &storage->name);
        return NGX_CONF_ERROR;
    }

    /* scheme://host[:port], the port left out when it is the default */

    if (ngx_strncmp(endpoint.data, "https://", 8) == 0) {
        ngx_str_set(&storage->scheme, "https://");

    } else if (ngx_strncmp(endpoint.data, "http://", 7) == 0) {
        ngx_str_set(&storage->scheme, "http://");

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"endpoint=\" must be an http:// or https:// "
                           "URL, not \"%V\"", &endpoint);
        return NGX_CONF_ERROR;
    }

    v.data = endpoint.data + storage->scheme.len;
    last = endpoint.data + endpoint.len;

    while (last > v.data && last[-1] == '/') {
        last--;
    }

    v.len = last - v.data;

    if (v.len == 0 || ngx_strlchr(v.data, last, '/')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"endpoint=\" must be a scheme and a host, "
                           "not \"%V\"", &endpoint);
        return NGX_CONF_ERROR;
    }

    if ((storage->scheme.len == 8 && v.len > 4
         && ngx_strncmp(last - 4, ":443", 4) == 0)
        || (storage->scheme.len == 7 && v.len > 3
            && ngx_strncmp(last - 3, ":80", 3) == 0))
    {
        v.len -= (storage->scheme.len == 8) ? 4 : 3;
    }

    if (storage->virtual_host) {
        storage->host.len = storage->bucket.len + 1 + v.len;
        storage->host.data = ngx_pnalloc(cf->pool, storage->host.len);
        if (storage->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(storage->host.data, storage->bucket.data,
                       storage->bucket.len);
        *p++ = '.';
        ngx_memcpy(p, v.data, v.len);

    } else {
        storage->host = v;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the secret is read once, by the master: from a file or the environment */

static ngx_int_t
ngx_http_attachments_s3_secret(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value)
{
    char        *env;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t    name;
    u_char       buf[256];

    name.data = (u_char *) ngx_strchr(value->data, '=') + 1;
    name.len = value->data + value->len - name.data;

    if (value->data[7] == 'e') {                /* secret_env= */
        env = getenv((char *) name.data);

        if (env == NULL || *env == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the environment has no \"%V\"", &name);
            return NGX_ERROR;
        }

        storage->sigv4.secret.len = ngx_strlen(env);
        storage->sigv4.secret.data = ngx_pnalloc(cf->pool,
                                                 storage->sigv4.secret.len);
        if (storage->sigv4.secret.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(storage->sigv4.secret.data, env,
                   storage->sigv4.secret.len);

        return NGX_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    while (n > 0 && isspace(buf[n - 1])) {
        n--;
    }

    if (n <= 0 || n == sizeof(buf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no usable secret in \"%V\"", &name);
        return NGX_ERROR;
    }

    storage->sigv4.secret.data = ngx_pnalloc(cf->pool, n);
    if (storage->sigv4.secret.data == NULL) {
        return NGX_ERROR;
    }

    storage->sigv4.secret.len = n;
    ngx_memcpy(storage->sigv4.secret.data, buf, n);
    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


/* an absolute presigned GET for link, valid attachments_url_ttl (≤ 7 days) */

ngx_int_t
ngx_http_attachments_s3_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    u_char                           *p;
    size_t                            n;
    ngx_http_attachments_storage_t   *s;
    ngx_http_attachments_presign_t    ps;
    ngx_http_attachments_loc_conf_t  *alcf;

    s = link->storage;
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    ngx_memzero(&ps, sizeof(ngx_http_attachments_presign_t));

    ps.host = s->host;
    ps.now = ngx_time();
    ps.expires = ngx_min(alcf->url_ttl, NGX_HTTP_ATTACHMENTS_SIGV4_EXPIRES_MAX);
    ps.type = link->type;

    /* "/bucket/key" or, on the bucket's own host, "/key" */

    ps.path.len = 1 + (s->virtual_host ? 0 : s->bucket.len + 1)
                  + link->key.len;
    ps.path.data = ngx_pnalloc(r->pool, ps.path.len);
    if (ps.path.data == NULL) {
        return NGX_ERROR;
    }

    p = ps.path.data;
    *p++ = '/';

    if (!s->virtual_host) {
        p = ngx_cpymem(p, s->bucket.data, s->bucket.len);
        *p++ = '/';
    }

    ngx_memcpy(p, link->key.data, link->key.len);

    ps.disposition.len = ngx_http_attachments_disposition(NULL,
                                                          &link->filename);
    ps.disposition.data = ngx_pnalloc(r->pool, ps.disposition.len);
    if (ps.disposition.data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_attachments_disposition(ps.disposition.data, &link->filename);

    n = ngx_http_attachments_presign(NULL, &s->sigv4, &ps);

    url->data = ngx_pnalloc(r->pool, s->scheme.len + s->host.len + n);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, s->scheme.data, s->scheme.len);
    p = ngx_cpymem(p, s->host.data, s->host.len);

    n = ngx_http_attachments_presign(p, &s->sigv4, &ps);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: SigV4 signing failed for \"%V\"",
                      &link->key);
        return NGX_ERROR;
    }

    url->len = p + n - url->data;
    link->expires = ps.now + ps.expires;

    return NGX_OK;
}
