
/*
 * ngx_http_attachments_module: directives, configuration and variables.
 *
 * The request handlers live in their own files; this one only turns
 * nginx.conf into the structures of ngx_http_attachments_module.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_api.h"


static ngx_int_t ngx_http_attachments_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_attachments_init_process(ngx_cycle_t *cycle);
static void ngx_http_attachments_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_attachments_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_attachments_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_attachments_merge_api(ngx_conf_t *cf,
    ngx_http_attachments_loc_conf_t *conf);
static ngx_int_t ngx_http_attachments_add_variables(ngx_conf_t *cf);

static char *ngx_http_attachments_signing_key(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_attachments_download(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_sign_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_database(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_attachments_ttl(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_attachments_active_storage(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_attachments_allowed_types(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_attachments_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_attachments_prefix_location(ngx_conf_t *cf,
    const char *directive, ngx_str_t *prefix);

static ngx_http_attachments_storage_t *ngx_http_attachments_conf_storage(
    ngx_conf_t *cf, ngx_str_t *name);
static ngx_http_attachments_storage_t *ngx_http_attachments_find_storage(
    ngx_conf_t *cf, ngx_str_t *name);
static void ngx_http_attachments_key_cleanup(void *data);
static ngx_int_t ngx_http_attachments_signed_url_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_conf_post_t  ngx_http_attachments_ttl_post = {
    ngx_http_attachments_ttl
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

    { ngx_string("attachments_download"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_attachments_download,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_sign"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_attachments_sign_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_attachments_database,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_attachments_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_attachments_health,
      NGX_HTTP_LOC_CONF_OFFSET,
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

    { ngx_string("attachments_active_storage"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_attachments_active_storage,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_gc_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_main_conf_t, gc_interval),
      NULL },

    { ngx_string("attachments_gc_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_main_conf_t, gc_retention),
      NULL },

    { ngx_string("attachments_gc_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_main_conf_t, gc_grace),
      NULL },

    { ngx_string("attachments_max_file_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, max_file_size),
      NULL },

    { ngx_string("attachments_max_files"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, max_files),
      NULL },

    { ngx_string("attachments_allowed_types"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_attachments_allowed_types,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("attachments_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_loc_conf_t, key),
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
    ngx_http_attachments_add_variables,    /* preconfiguration */
    ngx_http_attachments_init,             /* postconfiguration */

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


static ngx_http_variable_t  ngx_http_attachments_vars[] = {

    { ngx_string("attachments_signed_url"), NULL,
      ngx_http_attachments_signed_url_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_uuid"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_UUID,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_filename"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_FILENAME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_org"), NULL,
      ngx_http_attachments_upload_variable, NGX_HTTP_ATTACHMENTS_VAR_ORG,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_entity_type"), NULL,
      ngx_http_attachments_upload_variable,
      NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("attachments_entity_id"), NULL,
      ngx_http_attachments_upload_variable,
      NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static void *
ngx_http_attachments_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->storages, cf->pool, 2,
                       sizeof(ngx_http_attachments_storage_t *))
        != NGX_OK)
    {
        return NULL;
    }

    amcf->request_id = NGX_CONF_UNSET;
    amcf->gc_interval = NGX_CONF_UNSET_MSEC;
    amcf->gc_retention = NGX_CONF_UNSET;
    amcf->gc_grace = NGX_CONF_UNSET;

    return amcf;
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
     *     alcf->download = NULL;
     *     alcf->sign = NULL;
     *     alcf->api = 0;
     *     alcf->api_prefix = { 0, NULL };
     */

    alcf->url_ttl = NGX_CONF_UNSET;
    alcf->user = NGX_CONF_UNSET_PTR;
    alcf->org = NGX_CONF_UNSET_PTR;
    alcf->base_url = NGX_CONF_UNSET_PTR;
    alcf->audit = NGX_CONF_UNSET;
    alcf->max_file_size = NGX_CONF_UNSET;
    alcf->max_files = NGX_CONF_UNSET_UINT;
    alcf->allowed_types = NGX_CONF_UNSET_PTR;
    alcf->key = NGX_CONF_UNSET_PTR;

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

    if (conf->sign == NULL) {
        conf->sign = prev->sign;
    }

    ngx_conf_merge_ptr_value(conf->user, prev->user, NULL);
    ngx_conf_merge_ptr_value(conf->org, prev->org, NULL);
    ngx_conf_merge_ptr_value(conf->base_url, prev->base_url, NULL);
    ngx_conf_merge_off_value(conf->max_file_size, prev->max_file_size,
                             10 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_files, prev->max_files, 10);
    ngx_conf_merge_value(conf->audit, prev->audit, 1);
    ngx_conf_merge_ptr_value(conf->allowed_types, prev->allowed_types, NULL);
    ngx_conf_merge_ptr_value(conf->key, prev->key, NULL);

    if (conf->max_files == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_max_files\" must be positive");
        return NGX_CONF_ERROR;
    }

    if ((conf->download || conf->sign || conf->api) && conf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"attachments_signing_key\"",
                           conf->download ? "attachments_download"
                           : conf->sign ? "attachments_sign"
                                        : "attachments_api");
        return NGX_CONF_ERROR;
    }

    if (conf->api) {
        return ngx_http_attachments_merge_api(cf, conf);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_attachments_merge_api(ngx_conf_t *cf,
    ngx_http_attachments_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_attachments_module);

    if (amcf->database == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires "
                           "\"attachments_database\"");
        return NGX_CONF_ERROR;
    }

    if (amcf->storages.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires an "
                           "\"attachments_storage\"");
        return NGX_CONF_ERROR;
    }

    if (conf->user == NULL || conf->org == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires \"attachments_user\" "
                           "and \"attachments_org\"");
        return NGX_CONF_ERROR;
    }

    /* with "satisfy any", another access module could skip authorize() */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->satisfy != NGX_HTTP_SATISFY_ALL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" cannot be used with "
                           "\"satisfy any\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The API's access handler runs last in the access phase: after
 * auth_request and the like have set the variables identity comes from.
 * Handlers run from the end of the array, so it goes first.
 */

static ngx_int_t
ngx_http_attachments_init(ngx_conf_t *cf)
{
    ngx_array_t                *a;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    a = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    h = ngx_array_push(a);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = a->elts;
    ngx_memmove(&h[1], &h[0], (a->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_attachments_access_handler;

    return ngx_http_attachments_upload_init(cf);
}


/* uploads go to attachments_active_storage, or the first storage defined */

static char *
ngx_http_attachments_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_http_attachments_storage_t  **sp;

    if (amcf->active == NULL && amcf->storages.nelts) {
        sp = amcf->storages.elts;
        amcf->active = sp[0];
    }

    if (amcf->active
        && amcf->active->kind == &ngx_http_attachments_s3_kind
        && (amcf->active->proxy.len == 0 || amcf->active->root.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the s3 storage \"%V\" receives uploads and "
                           "needs \"proxy=\" (an internal location that "
                           "proxy_pass'es to its endpoint) and \"temp=\"",
                           &amcf->active->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(amcf->gc_interval, 5 * 60 * 1000);
    ngx_conf_init_value(amcf->gc_retention, 30 * 86400);
    ngx_conf_init_value(amcf->gc_grace, 3600);

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


/* attachments_allowed_types type|prefix*|* ... */

static char *
ngx_http_attachments_allowed_types(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_attachments_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *t;
    ngx_uint_t   i;

    if (alcf->allowed_types != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->allowed_types = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_str_t));
    if (alcf->allowed_types == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '*')
            && value[i].data[value[i].len - 1] != '*')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid type \"%V\": \"*\" only at the end",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        t = ngx_array_push(alcf->allowed_types);
        if (t == NULL) {
            return NGX_CONF_ERROR;
        }

        /* ngx_conf_file keeps values null-terminated */
        *t = value[i];
    }

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

    /* the magic database is read once per worker, before any request */

    amcf->magic = magic_open(MAGIC_MIME_TYPE|MAGIC_ERROR);

    if (amcf->magic == NULL || magic_load(amcf->magic, NULL) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "attachments: cannot load the libmagic database: %s",
                      amcf->magic ? magic_error(amcf->magic) : "no memory");
        return NGX_ERROR;
    }

    if (ngx_http_attachments_pg_init(cycle, amcf->database) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_attachments_gc_init(cycle, amcf);
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

    if (amcf && amcf->magic) {
        magic_close(amcf->magic);
        amcf->magic = NULL;
    }
}


static ngx_int_t
ngx_http_attachments_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_attachments_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
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

    ssize_t                      n;
    ngx_fd_t                     fd;
    ngx_str_t                   *value, secret;
    ngx_uint_t                   i;
    ngx_file_info_t              fi;
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

    if (ngx_conf_full_name(cf->cycle, &value[2], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(value[2].data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &value[2]);
        goto failed;
    }

    if (ngx_file_size(&fi) > 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "signing key file \"%V\" is larger than 4096 bytes",
                           &value[2]);
        goto failed;
    }

    secret.data = ngx_pnalloc(cf->temp_pool, 4096);
    if (secret.data == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, secret.data, 4096);
    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &value[2]);
        goto failed;
    }

    ngx_close_file(fd);
    fd = NGX_INVALID_FILE;

    /* "openssl rand -hex 32 > file" leaves a newline */
    while (n > 0 && isspace(secret.data[n - 1])) {
        n--;
    }

    secret.len = n;

    if (secret.len < NGX_HTTP_ATTACHMENTS_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "signing key in \"%V\" is shorter than %d bytes",
                           &value[2], NGX_HTTP_ATTACHMENTS_SECRET_MIN);
        goto failed;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    key = ngx_array_push(alcf->keys);
    if (key == NULL) {
        goto failed;
    }

    key->id = value[1];
    key->mac = ngx_http_attachments_hmac_new(secret.data, secret.len);

    ngx_explicit_memzero(secret.data, 4096);

    if (key->mac == NULL) {
        alcf->keys->nelts--;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot create an HMAC-SHA256 context");
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_attachments_key_cleanup;
    cln->data = key->mac;

    return NGX_CONF_OK;

failed:

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

    return NGX_CONF_ERROR;
}


static void
ngx_http_attachments_key_cleanup(void *data)
{
    ngx_http_attachments_hmac_free(data);
}


static ngx_http_attachments_storage_t *
ngx_http_attachments_find_storage(ngx_conf_t *cf, ngx_str_t *name)
{
    return ngx_http_attachments_lookup_storage(
               ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_attachments_module),
               name);
}


static ngx_http_attachments_storage_t *
ngx_http_attachments_conf_storage(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_http_attachments_storage_t  *storage;

    storage = ngx_http_attachments_find_storage(cf, name);

    if (storage == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown storage \"%V\" (storages are defined by "
                           "\"attachments_storage\" before they are used)",
                           name);
    }

    return storage;
}


/* attachments_download <storage>: this prefix location serves signed URLs */

static char *
ngx_http_attachments_download(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_loc_conf_t *alcf = conf;

    ngx_str_t                        *value, prefix;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_attachments_storage_t   *storage;

    if (alcf->download) {
        return "is duplicate";
    }

    value = cf->args->elts;

    storage = ngx_http_attachments_conf_storage(cf, &value[1]);
    if (storage == NULL) {
        return NGX_CONF_ERROR;
    }

    if (!storage->kind->served_by_nginx) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "storage \"%V\" is downloaded from S3 through "
                           "presigned URLs, not through nginx",
                           &storage->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_attachments_prefix_location(cf, "attachments_download",
                                             &prefix)
        != NGX_CONF_OK)
    {
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
    alcf->download = storage;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_attachments_download_handler;

    return NGX_CONF_OK;
}


/* attachments_api: this prefix location serves DESIGN.md §3 */

static char *
ngx_http_attachments_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_loc_conf_t *alcf = conf;

    ngx_str_t                          name = ngx_string("request_id");
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_attachments_main_conf_t  *amcf;

    if (alcf->api) {
        return "is duplicate";
    }

    if (ngx_http_attachments_prefix_location(cf, "attachments_api",
                                             &alcf->api_prefix)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_attachments_module);

    if (amcf->request_id == NGX_CONF_UNSET) {
        amcf->request_id = ngx_http_get_variable_index(cf, &name);
        if (amcf->request_id == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    alcf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_attachments_api_handler;

    return NGX_CONF_OK;
}


/* attachments_health: this location answers the health checks */

static char *
ngx_http_attachments_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_attachments_health_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_attachments_health_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_attachments_prefix_location(ngx_conf_t *cf, const char *directive,
    ngx_str_t *prefix)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->exact_match || clcf->named || clcf->noname
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->name.len < 2 || clcf->name.data[clcf->name.len - 1] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" needs a prefix location ending with "
                           "\"/\", such as \"location /files/\"", directive);
        return NGX_CONF_ERROR;
    }

    *prefix = clcf->name;

    return NGX_CONF_OK;
}


/*
 * attachments_database <conninfo> [size=N] [queue=N] [queue_timeout=time]
 *     [idle_timeout=time] [timeout=time]
 */

static char *
ngx_http_attachments_database(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_str_t                  *value, v;
    ngx_int_t                   n;
    ngx_msec_t                  ms, *msp;
    ngx_uint_t                  i;
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
    pg->size = 8;
    pg->queue_size = 128;
    pg->queue_timeout = 5000;
    pg->idle_timeout = 60000;
    pg->timeout = 30000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0
            || ngx_strncmp(value[i].data, "queue=", 6) == 0)
        {
            v.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            v.len = value[i].data + value[i].len - v.data;

            n = ngx_atoi(v.data, v.len);

            if (value[i].data[0] == 's') {
                if (n < 1 || n > 1024) {
                    goto invalid;
                }

                pg->size = n;

            } else {
                if (n == NGX_ERROR) {
                    goto invalid;
                }

                pg->queue_size = n;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "queue_timeout=", 14) == 0) {
            msp = &pg->queue_timeout;

        } else if (ngx_strncmp(value[i].data, "idle_timeout=", 13) == 0) {
            msp = &pg->idle_timeout;

        } else if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            msp = &pg->timeout;

        } else {
            goto invalid;
        }

        v.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
        v.len = value[i].data + value[i].len - v.data;

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


/*
 * attachments_sign <storage> <key> [filename=…] [type=…] [expires=…]:
 * the grant $attachments_signed_url mints, for operators and tests.
 */

static char *
ngx_http_attachments_sign_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_loc_conf_t *alcf = conf;

    ngx_str_t                          *value, v;
    ngx_uint_t                          i;
    ngx_http_complex_value_t          **cv;
    ngx_http_compile_complex_value_t    ccv;
    ngx_http_attachments_sign_conf_t   *sign;

    if (alcf->sign) {
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

        } else if (ngx_strncmp(v.data, "filename=", 9) == 0) {
            cv = &sign->filename;
            v.data += 9;
            v.len -= 9;

        } else if (ngx_strncmp(v.data, "type=", 5) == 0) {
            cv = &sign->type;
            v.data += 5;
            v.len -= 5;

        } else if (ngx_strncmp(v.data, "expires=", 8) == 0) {
            cv = &sign->expires;
            v.data += 8;
            v.len -= 8;

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

    alcf->sign = sign;

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
    ngx_str_t                          url, expires;
    ngx_http_attachments_link_t        link;
    ngx_http_attachments_loc_conf_t   *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (alcf->sign == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    link.storage = alcf->sign->storage;
    link.expires = 0;

    if (ngx_http_attachments_eval(r, alcf->sign->key, &link.key) != NGX_OK
        || ngx_http_attachments_eval(r, alcf->sign->filename, &link.filename)
           != NGX_OK
        || ngx_http_attachments_eval(r, alcf->sign->type, &link.type) != NGX_OK
        || ngx_http_attachments_eval(r, alcf->sign->expires, &expires)
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

    if (ngx_http_attachments_signed_url(r, &link, &url) != NGX_OK) {
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
