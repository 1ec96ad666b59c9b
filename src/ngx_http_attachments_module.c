
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_module: the configuration every part of the module
 * shares (ngx_http_attachments_module.h): attachments_database and the
 * per-worker pool, attachments_storage with the kinds there are,
 * attachments_active_storage, the signing keys, identity, URLs and
 * auditing.  The API, uploads, downloads, health and the collector are
 * modules of their own on top of this one, so that each registers its
 * own directives and hooks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_local.h"
#include "ngx_http_attachments_s3.h"
#include "ngx_http_attachments_yadisk.h"
#include "ngx_http_attachments_gdrive.h"
#include "ngx_http_attachments_module.h"


static ngx_int_t ngx_http_attachments_init_process(ngx_cycle_t *cycle);
static void ngx_http_attachments_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_attachments_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_attachments_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_attachments_signing_key(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_attachments_storage(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_database(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_ttl(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_attachments_active_storage(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_attachments_key_cleanup(void *data);


static ngx_conf_post_t  ngx_http_attachments_ttl_post = {
    ngx_http_attachments_ttl
};


/* the kinds attachments_storage knows */

static ngx_http_attachments_storage_kind_t  *ngx_http_attachments_kinds[] = {
    &ngx_http_attachments_local_kind,
    &ngx_http_attachments_s3_kind,
    &ngx_http_attachments_yadisk_kind,
    &ngx_http_attachments_gdrive_kind,
    NULL
};


static ngx_command_t  ngx_http_attachments_commands[] = {

    { ngx_string("attachments_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_attachments_signing_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_url_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, url_ttl),
      &ngx_http_attachments_ttl_post },

    { ngx_string("attachments_storage"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_attachments_storage,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_active_storage"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_attachments_active_storage,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_attachments_database,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, user),
      NULL },

    { ngx_string("attachments_org"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, org),
      NULL },

    { ngx_string("attachments_audit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, audit),
      NULL },

    { ngx_string("attachments_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, base_url),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_attachments_create_main_conf, /* create main configuration */
    ngx_http_attachments_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_create_loc_conf,  /* create location configuration */
    ngx_http_attachments_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_attachments_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_module_ctx,      /* module context */
    ngx_http_attachments_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_attachments_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_attachments_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_attachments_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->database = NULL;
     *     amcf->active = NULL;
     */

    if (ngx_array_init(&amcf->storages, cf->pool, 2,
                       sizeof(ngx_http_attachments_storage_t *))
        != NGX_OK)
    {
        return NULL;
    }

    amcf->request_id = NGX_CONF_UNSET;

    return amcf;
}


/* uploads go to attachments_active_storage, or the first storage defined */

static char *
ngx_http_attachments_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_str_t                         name = ngx_string("request_id");
    ngx_http_attachments_storage_t  **sp;

    if (amcf->active == NULL && amcf->storages.nelts) {
        sp = amcf->storages.elts;
        amcf->active = sp[0];
    }

    if (amcf->active && amcf->active->kind->activate
        && amcf->active->kind->activate(cf, amcf->active) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* statements carry the request's id into the audit log */

    if (amcf->database) {
        amcf->request_id = ngx_http_get_variable_index(cf, &name);
        if (amcf->request_id == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_attachments_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->keys = NULL;
     */

    alcf->url_ttl = NGX_CONF_UNSET;
    alcf->user = NGX_CONF_UNSET_PTR;
    alcf->org = NGX_CONF_UNSET_PTR;
    alcf->base_url = NGX_CONF_UNSET_PTR;
    alcf->audit = NGX_CONF_UNSET;

    return alcf;
}


static char *
ngx_http_attachments_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_attachments_loc_conf_t  *prev = parent;
    ngx_http_attachments_loc_conf_t  *conf = child;

    /* a key set is replaced as a whole, like add_header */
    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    ngx_conf_merge_sec_value(conf->url_ttl, prev->url_ttl, 3600);
    ngx_conf_merge_ptr_value(conf->user, prev->user, NULL);
    ngx_conf_merge_ptr_value(conf->org, prev->org, NULL);
    ngx_conf_merge_ptr_value(conf->base_url, prev->base_url, NULL);
    ngx_conf_merge_value(conf->audit, prev->audit, 1);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_init_process(ngx_cycle_t *cycle)
{
    ngx_http_attachments_main_conf_t  *amcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_attachments_module);

    if (amcf == NULL || amcf->database == NULL) {
        return NGX_OK;
    }

    return ngx_http_attachments_pg_init(cycle, amcf->database);
}


static void
ngx_http_attachments_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_attachments_main_conf_t  *amcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_attachments_module);

    if (amcf && amcf->database) {
        ngx_http_attachments_pg_close_all(amcf->database);
    }
}


static char *
ngx_http_attachments_ttl(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *ttl = data;

    if (*ttl <= 0) {
        return "must be positive";
    }

    return NGX_CONF_OK;
}


/* attachments_signing_key <id> <file> */

static char *
ngx_http_attachments_signing_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_attachments_loc_conf_t *alcf = conf;

    ngx_str_t                   *value, secret;
    ngx_uint_t                   i;
    ngx_pool_cleanup_t          *cln;
    ngx_http_attachments_key_t  *key;

    value = cf->args->elts;

    if (!ngx_http_attachments_key_id_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key id \"%V\": 1 to %d characters of "
                           "letters, digits, \"-\", \"_\" and \".\"",
                           &value[1], NGX_HTTP_ATTACHMENTS_KID_MAX);
        return NGX_CONF_ERROR;
    }

    if (alcf->keys == NULL) {
        alcf->keys = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_attachments_key_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = alcf->keys->elts;

    for (i = 0; i < alcf->keys->nelts; i++) {
        if (key[i].id.len == value[1].len
            && ngx_strncmp(key[i].id.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate key id \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_attachments_conf_secret(cf, "signing key", &value[2],
                                         NGX_HTTP_ATTACHMENTS_SECRET_MAX,
                                         &secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (secret.len < NGX_HTTP_ATTACHMENTS_SECRET_MIN) {
        ngx_explicit_memzero(secret.data, secret.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "signing key in \"%V\" is shorter than %d bytes",
                           &value[2], NGX_HTTP_ATTACHMENTS_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    key = ngx_array_push(alcf->keys);

    if (cln == NULL || key == NULL) {
        ngx_explicit_memzero(secret.data, secret.len);
        return NGX_CONF_ERROR;
    }

    key->id = value[1];
    key->mac = ngx_http_attachments_hmac_new(secret.data, secret.len);

    ngx_explicit_memzero(secret.data, secret.len);

    if (key->mac == NULL) {
        alcf->keys->nelts--;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot create an HMAC-SHA256 context");
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_attachments_key_cleanup;
    cln->data = key->mac;

    return NGX_CONF_OK;
}


static void
ngx_http_attachments_key_cleanup(void *data)
{
    ngx_http_attachments_hmac_free(data);
}


/* attachments_storage <name> <kind> <parameters>... */

static char *
ngx_http_attachments_storage(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_str_t                             *value;
    ngx_http_attachments_storage_t        *storage, **sp;
    ngx_http_attachments_storage_kind_t  **kind;

    value = cf->args->elts;

    if (ngx_http_attachments_storage_lookup(&amcf->storages, &value[1])
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate storage \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (kind = ngx_http_attachments_kinds; *kind; kind++) {
        if ((*kind)->name.len == value[2].len
            && ngx_strncmp((*kind)->name.data, value[2].data, value[2].len)
               == 0)
        {
            break;
        }
    }

    if (*kind == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown storage type \"%V\" "
                           "(the supported types are \"local\" and \"s3\")",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    storage = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_storage_t));
    if (storage == NULL) {
        return NGX_CONF_ERROR;
    }

    storage->name = value[1];
    storage->kind = *kind;

    if ((*kind)->conf(cf, storage, value, cf->args->nelts) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    sp = ngx_array_push(&amcf->storages);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = storage;

    return NGX_CONF_OK;
}


static char *
ngx_http_attachments_active_storage(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_str_t  *value;

    if (amcf->active) {
        return "is duplicate";
    }

    value = cf->args->elts;

    amcf->active = ngx_http_attachments_conf_storage(cf, &value[1]);

    return amcf->active ? NGX_CONF_OK : NGX_CONF_ERROR;
}


ngx_http_attachments_storage_t *
ngx_http_attachments_storage_by_name(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    return ngx_http_attachments_storage_lookup(&amcf->storages, name);
}


/* a storage a directive names, which is defined before */

ngx_http_attachments_storage_t *
ngx_http_attachments_conf_storage(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_http_attachments_storage_t    *storage;
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_attachments_module);

    storage = ngx_http_attachments_storage_lookup(&amcf->storages, name);

    if (storage == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown storage \"%V\" (storages are defined by "
                           "\"attachments_storage\" before they are used)",
                           name);
    }

    return storage;
}


/*
 * attachments_database <conninfo> [size=N] [queue=N] [queue_timeout=time]
 *     [idle_timeout=time] [timeout=time] [prepare=on|off]
 */

static char *
ngx_http_attachments_database(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    char                       *err;
    ngx_str_t                  *value, v;
    ngx_int_t                   n;
    ngx_msec_t                  ms, *msp;
    ngx_uint_t                  i;
    PQconninfoOption           *opts;
    ngx_http_attachments_pg_t  *pg;

    if (amcf->database) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a connection string";
    }

    pg = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_pg_t));
    if (pg == NULL) {
        return NGX_CONF_ERROR;
    }

    pg->conninfo = value[1];    /* ngx_conf_file keeps it null-terminated */

    /* a mistake in it (say, "prepare=off" inside) fails nginx -t */

    opts = PQconninfoParse((char *) value[1].data, &err);

    if (opts == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid connection string \"%V\": %s",
                           &value[1], err ? err : "out of memory");
        PQfreemem(err);
        return NGX_CONF_ERROR;
    }

    PQconninfoFree(opts);
    pg->size = 8;
    pg->queue_size = 128;
    pg->queue_timeout = 5000;
    pg->idle_timeout = 60000;
    pg->timeout = 30000;
    pg->prepare = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        /* off: unnamed statements, for poolers that share connections */

        if (ngx_http_attachments_conf_param(&value[i], "prepare", &v)) {
            if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {
                pg->prepare = 1;

            } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
                pg->prepare = 0;

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "size", &v)) {
            n = ngx_atoi(v.data, v.len);

            if (n < 1 || n > 1024) {
                goto invalid;
            }

            pg->size = n;
            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "queue", &v)) {
            n = ngx_atoi(v.data, v.len);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            pg->queue_size = n;
            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "queue_timeout", &v)) {
            msp = &pg->queue_timeout;

        } else if (ngx_http_attachments_conf_param(&value[i], "idle_timeout",
                                                   &v))
        {
            msp = &pg->idle_timeout;

        } else if (ngx_http_attachments_conf_param(&value[i], "timeout", &v)) {
            msp = &pg->timeout;

        } else {
            goto invalid;
        }

        ms = ngx_parse_time(&v, 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            goto invalid;
        }

        *msp = ms;
    }

    amcf->database = pg;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}
