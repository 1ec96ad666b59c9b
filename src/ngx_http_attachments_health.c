
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_health_module.
 *
 * attachments_health: a location that tells whether the database and each
 * storage can be used, for load balancers and monitoring, as stub_status
 * does (operators restrict it with allow/deny).  The checks run one after
 * the other without blocking: the database by a statement through the
 * pool, each storage through the storage interface's health (local: the
 * root is writable; s3: a HEAD of the bucket through proxy=).
 *
 *   200 {"status":"ok","database":"ok","storages":{"main":"ok"}}
 *   503 when anything is "unavailable"; a check a storage cannot make
 *       (s3 without proxy=) is "unchecked" and fails nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_health.h"


typedef struct {
    json_t                             *storages;
    const char                         *database;
    ngx_uint_t                          failed;
    ngx_uint_t                          next;      /* storage being checked */
    ngx_http_attachments_storage_op_t   op;
} ngx_http_attachments_health_t;


static char *ngx_http_attachments_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_attachments_health_handler(ngx_http_request_t *r);
static void ngx_http_attachments_health_database(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_health_storages(ngx_http_request_t *r,
    ngx_http_attachments_health_t *h);
static void ngx_http_attachments_health_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_health_record(
    ngx_http_attachments_health_t *h, const char *what, const char *state);
static void ngx_http_attachments_health_cleanup(void *data);


static ngx_command_t  ngx_http_attachments_health_commands[] = {

    { ngx_string("attachments_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_attachments_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_health_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_attachments_health_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_health_module_ctx, /* module context */
    ngx_http_attachments_health_commands,  /* module directives */
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


static ngx_int_t
ngx_http_attachments_health_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_pool_cleanup_t                *cln;
    ngx_http_attachments_health_t     *h;
    ngx_http_attachments_pg_query_t   *q;
    ngx_http_attachments_main_conf_t  *amcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_attachments_metrics_not_allowed(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    h = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_health_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (h == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->storages = json_object();
    if (h->storages == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_health_cleanup;
    cln->data = h;

    ngx_http_set_ctx(r, h, ngx_http_attachments_health_module);

    r->main->count++;

    if (amcf->database == NULL) {
        h->database = "unconfigured";
        ngx_http_attachments_health_storages(r, h);
        return NGX_DONE;
    }

    q = ngx_http_attachments_pg_query(r->pool, r->connection->log,
                                      amcf->database,
                                      &ngx_http_attachments_sql_health);
    if (q == NULL) {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_attachments_health_database;
    q->data = r;

    if (ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        ngx_http_attachments_health_record(h, NULL, "unavailable");
        ngx_http_attachments_health_storages(r, h);
    }

    return NGX_DONE;
}


static void
ngx_http_attachments_health_database(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t             *r;
    ngx_http_attachments_health_t  *h;

    r = q->data;
    h = ngx_http_get_module_ctx(r, ngx_http_attachments_health_module);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments health: database %i", q->rc);

    ngx_http_attachments_health_record(h, NULL,
        q->rc != NGX_OK ? "unavailable"
        : ngx_strcmp(PQgetvalue(q->result, 0, 0), "on") == 0 ? "read_only"
        : "ok");
    ngx_http_attachments_health_storages(r, h);
}


/* from storage h->next on; the answer once all were checked */

static void
ngx_http_attachments_health_storages(ngx_http_request_t *r,
    ngx_http_attachments_health_t *h)
{
    ngx_int_t                          rc;
    json_t                            *json;
    ngx_connection_t                  *c;
    ngx_http_attachments_storage_t   **sp;
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    sp = amcf->storages.elts;

    for ( /* void */ ; h->next < amcf->storages.nelts; h->next++) {

        ngx_memzero(&h->op, sizeof(ngx_http_attachments_storage_op_t));
        h->op.storage = sp[h->next];
        h->op.log = r->connection->log;
        h->op.handler = ngx_http_attachments_health_checked;
        h->op.data = h;

        rc = ngx_http_attachments_storage_health(r, &h->op);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        ngx_http_attachments_health_record(h, (char *) sp[h->next]->name.data,
            rc == NGX_DECLINED ? "unchecked"
            : (rc == NGX_OK && ngx_http_attachments_op_done(&h->op))
              ? "ok" : "unavailable");
    }

    json = json_pack("{s:s,s:s,s:O}",
                     "status", h->failed ? "unavailable" : "ok",
                     "database", h->database, "storages", h->storages);

    /* the request may be freed by its finalization: its connection stays */
    c = r->connection;

    ngx_http_finalize_request(r,
        ngx_http_attachments_send_json(r, h->failed
                                          ? NGX_HTTP_SERVICE_UNAVAILABLE
                                          : NGX_HTTP_OK, json));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_attachments_health_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_health_t  *h;

    h = op->data;

    ngx_http_attachments_health_record(h, (char *) op->storage->name.data,
                                       ngx_http_attachments_op_done(op)
                                       ? "ok" : "unavailable");
    h->next++;

    ngx_http_attachments_health_storages(r, h);
}


/* what: a storage's name (NUL-terminated in the configuration), or NULL */

static void
ngx_http_attachments_health_record(ngx_http_attachments_health_t *h,
    const char *what, const char *state)
{
    /* "unconfigured" and "unchecked" are no failure */

    if (ngx_strcmp(state, "unavailable") == 0
        || ngx_strcmp(state, "read_only") == 0)
    {
        h->failed = 1;
    }

    if (what == NULL) {
        h->database = state;
        return;
    }

    (void) json_object_set_new(h->storages, what, json_string(state));
}


static void
ngx_http_attachments_health_cleanup(void *data)
{
    ngx_http_attachments_health_t  *h = data;

    json_decref(h->storages);
}
