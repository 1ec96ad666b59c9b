
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_download_module: local downloads through signed
 * URLs (attachments_download), public files (attachments_public), and the
 * URLs $attachments_signed_url mints for operators and tests
 * (attachments_sign).
 *
 * A signed URL is {download prefix}{escaped storage key}?X-Expires=...
 * &X-Key-Id=...[&X-Filename=...][&X-Type=...]&X-Signature=....
 * Verification is CPU only (no database): the path is taken from the raw
 * request line so that nginx's own normalisation cannot turn a refused key
 * into an accepted one, and a valid request is handed to the local storage
 * (ngx_http_attachments_local.c), which redirects it internally to its
 * internal location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_local.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_download.h"


/* attachments_sign: what $attachments_signed_url grants */
typedef struct {
    ngx_http_attachments_storage_t  *storage;
    ngx_http_complex_value_t        *key;
    ngx_http_complex_value_t        *filename;
    ngx_http_complex_value_t        *type;
    ngx_http_complex_value_t        *expires;
} ngx_http_attachments_sign_conf_t;


typedef struct {
    ngx_http_attachments_storage_t    *download;
    ngx_http_attachments_storage_t    *public;
    ngx_http_attachments_sign_conf_t  *sign;
} ngx_http_attachments_download_conf_t;


static ngx_int_t ngx_http_attachments_download_add_variables(ngx_conf_t *cf);
static void *ngx_http_attachments_download_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_download_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_attachments_download(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_public(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_http_attachments_storage_t *ngx_http_attachments_download_location(
    ngx_conf_t *cf, ngx_str_t *prefix, ngx_http_handler_pt handler);
static char *ngx_http_attachments_sign_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_attachments_eval(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value);
static ngx_int_t ngx_http_attachments_signed_url_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_attachments_download_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_public_handler(ngx_http_request_t *r);
static void ngx_http_attachments_public_found(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_raw_key(ngx_http_request_t *r,
    ngx_str_t *prefix, ngx_str_t *key);
static ngx_int_t ngx_http_attachments_refuse(ngx_http_request_t *r,
    ngx_http_attachments_download_result_e why, ngx_str_t *path);


static ngx_command_t  ngx_http_attachments_download_commands[] = {

    { ngx_string("attachments_download"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_attachments_download,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_public"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_attachments_public,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_sign"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_attachments_sign_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_download_module_ctx = {
    ngx_http_attachments_download_add_variables, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_download_create_loc_conf, /* create location conf */
    ngx_http_attachments_download_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_download_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_download_module_ctx, /* module context */
    ngx_http_attachments_download_commands, /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* for the log, by ngx_http_attachments_download_result_e */
static const char  *ngx_http_attachments_refusals[] = {
    "verified", "method", "unsafe storage key", "repeated parameter",
    "signature parameters missing", "unknown key id", "malformed parameter",
    "signature mismatch", "expired"
};


static ngx_str_t  ngx_http_attachments_signed_url_name =
    ngx_string("attachments_signed_url");


static ngx_int_t
ngx_http_attachments_download_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_attachments_signed_url_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_attachments_signed_url_variable;

    return NGX_OK;
}


static void *
ngx_http_attachments_download_create_loc_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     adcf->download = NULL;
     *     adcf->sign = NULL;
     */

    return ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_attachments_download_conf_t));
}


static char *
ngx_http_attachments_download_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_download_conf_t  *prev = parent;
    ngx_http_attachments_download_conf_t  *conf = child;

    ngx_http_attachments_loc_conf_t  *alcf;

    if (conf->sign == NULL) {
        conf->sign = prev->sign;
    }

    alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_attachments_module);

    if (conf->public
        && ((ngx_http_attachments_main_conf_t *)
                ngx_http_conf_get_module_main_conf(cf,
                                               ngx_http_attachments_module))
           ->database == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_public\" requires "
                           "\"attachments_database\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->download || conf->sign) && alcf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"attachments_signing_key\"",
                           conf->download ? "attachments_download"
                                          : "attachments_sign");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* attachments_download <storage>: this prefix location serves signed URLs */

static char *
ngx_http_attachments_download(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_download_conf_t *adcf = conf;

    ngx_str_t                        prefix;
    ngx_http_attachments_storage_t  *storage;

    if (adcf->download) {
        return "is duplicate";
    }

    storage = ngx_http_attachments_download_location(cf, &prefix,
                                        ngx_http_attachments_download_handler);
    if (storage == NULL) {
        return NGX_CONF_ERROR;
    }

    if (storage->download.len
        && (storage->download.len != prefix.len
            || ngx_strncmp(storage->download.data, prefix.data, prefix.len)
               != 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "storage \"%V\" is already downloaded from \"%V\"",
                           &storage->name, &storage->download);
        return NGX_CONF_ERROR;
    }

    storage->download = prefix;
    adcf->download = storage;

    return NGX_CONF_OK;
}


/*
 * attachments_public <storage>: this prefix location, the storage's
 * public= prefix, serves its public files
 */

static char *
ngx_http_attachments_public(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_download_conf_t *adcf = conf;

    ngx_str_t                        prefix;
    ngx_http_attachments_storage_t  *storage;

    if (adcf->public) {
        return "is duplicate";
    }

    storage = ngx_http_attachments_download_location(cf, &prefix,
                                        ngx_http_attachments_public_handler);
    if (storage == NULL) {
        return NGX_CONF_ERROR;
    }

    if (storage->public.len != prefix.len
        || ngx_strncmp(storage->public.data, prefix.data, prefix.len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "storage \"%V\" has no public=%V",
                           &storage->name, &prefix);
        return NGX_CONF_ERROR;
    }

    adcf->public = storage;

    return NGX_CONF_OK;
}


/*
 * The storage a serving directive names, which nginx itself must serve,
 * and the prefix of the location, which the handler now answers
 */

static ngx_http_attachments_storage_t *
ngx_http_attachments_download_location(ngx_conf_t *cf, ngx_str_t *prefix,
    ngx_http_handler_pt handler)
{
    ngx_str_t                       *value;
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_attachments_storage_t  *storage;

    value = cf->args->elts;

    storage = ngx_http_attachments_conf_storage(cf, &value[1]);
    if (storage == NULL) {
        return NULL;
    }

    if (!storage->kind->served_by_nginx) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "storage \"%V\" is downloaded from S3 through "
                           "presigned URLs, not through nginx",
                           &storage->name);
        return NULL;
    }

    if (ngx_http_attachments_conf_location(cf, (char *) value[0].data,
                                           prefix)
        != NGX_OK)
    {
        return NULL;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = handler;

    return storage;
}


/*
 * attachments_sign <storage> <key> [filename=...] [type=...] [expires=...]:
 * the grant $attachments_signed_url mints, for operators and tests.
 */

static char *
ngx_http_attachments_sign_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_download_conf_t *adcf = conf;

    ngx_str_t                          *value, v;
    ngx_uint_t                          i;
    ngx_http_complex_value_t          **cv;
    ngx_http_compile_complex_value_t    ccv;
    ngx_http_attachments_sign_conf_t   *sign;

    if (adcf->sign) {
        return "is duplicate";
    }

    value = cf->args->elts;

    sign = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_sign_conf_t));
    if (sign == NULL) {
        return NGX_CONF_ERROR;
    }

    sign->storage = ngx_http_attachments_conf_storage(cf, &value[1]);
    if (sign->storage == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        v = value[i];

        if (i == 2) {
            cv = &sign->key;

        } else if (ngx_http_attachments_conf_param(&value[i], "filename", &v)) {
            cv = &sign->filename;

        } else if (ngx_http_attachments_conf_param(&value[i], "type", &v)) {
            cv = &sign->type;

        } else if (ngx_http_attachments_conf_param(&value[i], "expires", &v)) {
            cv = &sign->expires;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (*cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &v;
        ccv.complex_value = *cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    adcf->sign = sign;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_eval(ngx_http_request_t *r, ngx_http_complex_value_t *cv,
    ngx_str_t *value)
{
    if (cv == NULL) {
        ngx_str_null(value);
        return NGX_OK;
    }

    return ngx_http_complex_value(r, cv, value);
}


static ngx_int_t
ngx_http_attachments_signed_url_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                              url, expires;
    ngx_http_attachments_link_t            link;
    ngx_http_attachments_sign_conf_t      *sign;
    ngx_http_attachments_loc_conf_t       *alcf;
    ngx_http_attachments_download_conf_t  *adcf;

    adcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_download_module);
    sign = adcf->sign;

    if (sign == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    ngx_memzero(&link, sizeof(ngx_http_attachments_link_t));

    link.storage = sign->storage;
    link.keys = alcf->keys;
    link.ttl = alcf->url_ttl;

    if (ngx_http_attachments_eval(r, sign->key, &link.key) != NGX_OK
        || ngx_http_attachments_eval(r, sign->filename, &link.filename)
           != NGX_OK
        || ngx_http_attachments_eval(r, sign->type, &link.type) != NGX_OK
        || ngx_http_attachments_eval(r, sign->expires, &expires)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (expires.len) {
        link.expires = ngx_atotm(expires.data, expires.len);

        if (link.expires <= 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "attachments: invalid expires \"%V\"", &expires);
            v->not_found = 1;
            return NGX_OK;
        }
    }

    if (ngx_http_attachments_local_sign(r, &link, &url) != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = url.len;
    v->valid = 1;
    v->no_cacheable = 1;  /* a fresh expiry per evaluation */
    v->not_found = 0;
    v->data = url.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_download_handler(ngx_http_request_t *r)
{
    ngx_int_t                              rc;
    ngx_str_t                              key, expires, sig;
    ngx_str_t                              arg[NGX_HTTP_ATTACHMENTS_ARGS];
    ngx_uint_t                             i, escaped;
    ngx_http_attachments_key_t            *k;
    ngx_http_attachments_link_t            link;
    ngx_http_attachments_grant_t           g;
    ngx_http_attachments_storage_t        *storage;
    ngx_http_attachments_loc_conf_t       *alcf;
    ngx_http_attachments_download_conf_t  *adcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);
    adcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_download_module);
    storage = adcf->download;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_attachments_add_header(r, "Allow", "GET, HEAD")
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_attachments_metrics_download(NGX_HTTP_ATTACHMENTS_DL_METHOD);

        return ngx_http_attachments_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                               "method_not_allowed",
                                               "only GET and HEAD download");
    }

    rc = ngx_http_attachments_raw_key(r, &storage->download, &key);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_attachments_refuse(r,
                                           NGX_HTTP_ATTACHMENTS_DL_UNSAFE_KEY,
                                           &r->uri);
    }

    ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

    /* HEAD is the same grant as GET */
    ngx_str_set(&g.method, "GET");

    g.path.len = storage->download.len + key.len;
    g.path.data = ngx_pnalloc(r->pool, g.path.len);
    if (g.path.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(g.path.data, storage->download.data,
                          storage->download.len),
               key.data, key.len);

    if (ngx_http_attachments_parse_query(r->args.data, r->args.len, arg,
                                         &escaped)
        != NGX_OK)
    {
        return ngx_http_attachments_refuse(r,
                                           NGX_HTTP_ATTACHMENTS_DL_REPEATED,
                                           &g.path);
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
        return ngx_http_attachments_refuse(r, NGX_HTTP_ATTACHMENTS_DL_MISSING,
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
        return ngx_http_attachments_refuse(r,
                                           NGX_HTTP_ATTACHMENTS_DL_UNKNOWN_KEY,
                                           &g.path);
    }

    rc = ngx_http_attachments_verify(k[i].mac, &g, sig.data, sig.len);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
            if (!ngx_http_attachments_printable(arg[i].data, arg[i].len)) {
                return ngx_http_attachments_refuse(r,
                                            NGX_HTTP_ATTACHMENTS_DL_MALFORMED,
                                            &g.path);
            }
        }

        return ngx_http_attachments_refuse(r, NGX_HTTP_ATTACHMENTS_DL_MISMATCH,
                                           &g.path);
    }

    /* only a genuine URL learns that it expired */

    if (g.expires < ngx_time()) {
        return ngx_http_attachments_refuse(r, NGX_HTTP_ATTACHMENTS_DL_EXPIRED,
                                           &g.path);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments download: \"%V\" granted by key \"%V\"",
                   &g.path, &g.key_id);

    ngx_http_attachments_metrics_download(NGX_HTTP_ATTACHMENTS_DL_VERIFIED);

    if (storage->kind->serve != ngx_http_attachments_local_kind.serve) {
        /* a drive's: the kind answers, from the drive */
        ngx_memzero(&link, sizeof(ngx_http_attachments_link_t));

        link.storage = storage;
        link.key = key;
        link.filename = g.filename;
        link.type = g.type;

        return ngx_http_attachments_storage_serve(r, &link);
    }

    return ngx_http_attachments_local_send(r, storage, &key, &g);
}


/*
 * A public file: served only while a visible public row has its key, with
 * the type its bytes were found to be at upload, "nosniff" and as an
 * attachment (ngx_http_attachments_local_send()), so that no uploaded
 * page or script ever runs in the browser under this host.
 */

static ngx_int_t
ngx_http_attachments_public_handler(ngx_http_request_t *r)
{
    ngx_int_t                              rc;
    ngx_str_t                              key, *pkey;
    ngx_http_attachments_pg_query_t       *q;
    ngx_http_attachments_main_conf_t      *amcf;
    ngx_http_attachments_download_conf_t  *adcf;

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

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    adcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_download_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_raw_key(r, &adcf->public->public, &key);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pkey = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (pkey == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* keys are UTF-8 text: other bytes name no file, and no statement */

    if (rc == NGX_DECLINED
        || !ngx_http_attachments_utf8_valid(key.data, key.len)
        || ngx_http_attachments_storage_public_key(r->pool, &key, pkey)
           != NGX_OK)
    {
        return ngx_http_attachments_send_error(r, NGX_HTTP_NOT_FOUND,
                                               "not_found", "no such file");
    }

    q = ngx_http_attachments_pg_query(r->pool, r->connection->log,
                                      amcf->database,
                                      &ngx_http_attachments_sql_public);
    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &adcf->public->name)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, pkey) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_attachments_public_found;
    q->data = r;

    ngx_http_set_ctx(r, pkey, ngx_http_attachments_download_module);

    if (ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        return ngx_http_attachments_send_unavailable(r);
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_attachments_public_found(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t                              rc;
    ngx_str_t                             *pkey;
    ngx_connection_t                      *c;
    ngx_http_request_t                    *r;
    ngx_http_attachments_grant_t           g;
    ngx_http_attachments_download_conf_t  *adcf;

    r = q->data;
    c = r->connection;

    if (q->rc == NGX_ERROR) {
        rc = ngx_http_attachments_send_unavailable(r);

    } else if (q->rc != NGX_OK) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (PQntuples(q->result) != 1) {
        rc = ngx_http_attachments_send_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found", "no such file");

    } else {
        adcf = ngx_http_get_module_loc_conf(r,
                                          ngx_http_attachments_download_module);
        pkey = ngx_http_get_module_ctx(r, ngx_http_attachments_download_module);

        ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

        g.type.data = (u_char *) PQgetvalue(q->result, 0, 0);
        g.type.len = ngx_strlen(g.type.data);
        g.filename.data = (u_char *) PQgetvalue(q->result, 0, 1);
        g.filename.len = ngx_strlen(g.filename.data);

        rc = ngx_http_attachments_local_send(r, adcf->public, pkey, &g);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
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


static ngx_int_t
ngx_http_attachments_refuse(ngx_http_request_t *r,
    ngx_http_attachments_download_result_e why, ngx_str_t *path)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "attachments: download refused (%s): \"%V\"",
                  ngx_http_attachments_refusals[why], path);

    ngx_http_attachments_metrics_download(why);

    if (why == NGX_HTTP_ATTACHMENTS_DL_EXPIRED) {
        return ngx_http_attachments_send_error(r, NGX_HTTP_ATTACHMENTS_GONE,
                                               "url_expired",
                                               "the download URL has expired");
    }

    return ngx_http_attachments_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                           "the download URL is not valid");
}
