
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The garbage collector: blobs of files soft-deleted longer than
 * attachments_gc_retention, and uploads left pending by a crash or an
 * abort longer than attachments_gc_grace.
 *
 * A timer in worker 0 only; each run claims a batch of rows in the
 * database (rows another collector claimed are skipped, so several nginx
 * nodes may share a database), deletes their blobs, then marks the rows
 * purged (or removes pending ones) with audit rows.  A row whose blob
 * could not be deleted stays for the next run: it is never forgotten
 * before its blob is gone.  Blobs are deleted through the storage
 * interface, without a request, one after the other (s3: by the module's
 * own client, ngx_http_attachments_client.c).  Runs repeat at once while
 * batches come back full, then wait for the interval.
 *
 * ngx_http_attachments_gc_module: attachments_gc_interval,
 * attachments_gc_retention, attachments_gc_grace.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_gc.h"


#define NGX_HTTP_ATTACHMENTS_GC_BATCH  100


typedef struct {
    ngx_msec_t                          interval;
    time_t                              retention;
    time_t                              grace;

    /* worker 0's */
    ngx_http_attachments_main_conf_t   *amcf;
    ngx_event_t                         event;
    ngx_pool_t                         *pool;     /* of the current run */
    ngx_uint_t                          more;
    void                               *orphans;  /* files asked about */
} ngx_http_attachments_gc_conf_t;


/* files of resumable uploads that may be gone */
typedef struct {
    ngx_uint_t                          n;
    ngx_http_attachments_storage_t     *storage[NGX_HTTP_ATTACHMENTS_GC_BATCH];
    u_char                              id[NGX_HTTP_ATTACHMENTS_GC_BATCH]
                                          [NGX_HTTP_ATTACHMENTS_UUID_LEN + 1];
} ngx_http_attachments_gc_tus_t;


typedef struct {
    ngx_http_attachments_gc_conf_t     *gcf;
    PGresult                           *res;      /* the claimed rows */
    ngx_log_t                          *log;
    int                                 n;
    int                                 i;        /* row being swept */
    ngx_str_t                           ids;      /* of the rows to purge */
    u_char                             *p;
    ngx_str_t                           kept;     /* blobs that stayed */
    u_char                             *k;
    ngx_http_attachments_storage_op_t   op;
} ngx_http_attachments_gc_batch_t;


static void *ngx_http_attachments_gc_create_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_gc_init_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_attachments_gc_init_process(ngx_cycle_t *cycle);
static void ngx_http_attachments_gc_run(ngx_event_t *ev);
static void ngx_http_attachments_gc_sweep(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_gc_swept(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_purge(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_id(u_char **p, u_char *start, char *id);
static void ngx_http_attachments_gc_expired(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_purged(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_orphans(
    ngx_http_attachments_gc_conf_t *gcf);
static void ngx_http_attachments_gc_unknown(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_files(
    ngx_http_attachments_gc_conf_t *gcf);
static void ngx_http_attachments_gc_claimed(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_done(ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_count(ngx_http_attachments_pg_query_t *q,
    int col, ngx_http_attachments_gc_counter_e what);
static void ngx_http_attachments_gc_next(ngx_http_attachments_gc_conf_t *gcf,
    ngx_msec_t delay);


static ngx_command_t  ngx_http_attachments_gc_commands[] = {

    { ngx_string("attachments_gc_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_gc_conf_t, interval),
      NULL },

    { ngx_string("attachments_gc_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_gc_conf_t, retention),
      NULL },

    { ngx_string("attachments_gc_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_attachments_gc_conf_t, grace),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_gc_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_attachments_gc_create_conf,   /* create main configuration */
    ngx_http_attachments_gc_init_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_attachments_gc_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_gc_module_ctx,   /* module context */
    ngx_http_attachments_gc_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_attachments_gc_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_attachments_gc_create_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_gc_conf_t  *gcf;

    gcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_gc_conf_t));
    if (gcf == NULL) {
        return NULL;
    }

    gcf->interval = NGX_CONF_UNSET_MSEC;
    gcf->retention = NGX_CONF_UNSET;
    gcf->grace = NGX_CONF_UNSET;

    return gcf;
}


static char *
ngx_http_attachments_gc_init_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_attachments_gc_conf_t *gcf = conf;

    ngx_conf_init_msec_value(gcf->interval, 5 * 60 * 1000);
    ngx_conf_init_value(gcf->retention, 30 * 86400);
    ngx_conf_init_value(gcf->grace, 3600);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_gc_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t                       *ev;
    ngx_http_attachments_gc_conf_t    *gcf;
    ngx_http_attachments_main_conf_t  *amcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_attachments_module);
    gcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_attachments_gc_module);

    if (amcf == NULL || amcf->database == NULL || gcf == NULL
        || gcf->interval == 0
        || (ngx_process == NGX_PROCESS_WORKER && ngx_worker != 0))
    {
        return NGX_OK;
    }

    gcf->amcf = amcf;

    ev = &gcf->event;
    ev->handler = ngx_http_attachments_gc_run;
    ev->data = gcf;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, gcf->interval);

    return NGX_OK;
}


static void
ngx_http_attachments_gc_run(ngx_event_t *ev)
{
    ngx_str_t                          v[3];
    ngx_uint_t                         i;
    ngx_pool_t                        *pool;
    ngx_http_attachments_storage_t   **sp;
    ngx_http_attachments_pg_query_t   *q;
    ngx_http_attachments_gc_conf_t    *gcf;
    u_char                             buf[3][NGX_INT_T_LEN];

    gcf = ev->data;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0, "attachments gc: run");

    ngx_http_attachments_metrics_gc(NGX_HTTP_ATTACHMENTS_GC_RUNS, 1);

    sp = gcf->amcf->storages.elts;

    for (i = 0; i < gcf->amcf->storages.nelts; i++) {
        ngx_http_attachments_storage_sweep_tmp(ev->log, sp[i], gcf->grace);
    }

    pool = ngx_create_pool(4096, ev->log);
    if (pool == NULL) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    gcf->pool = pool;

    /* resumable uploads expired first, then the files */

    q = ngx_http_attachments_pg_query(pool, ev->log, gcf->amcf->database,
                                      &ngx_http_attachments_sql_tus_expired);
    if (q == NULL) {
        goto failed;
    }

    q->handler = ngx_http_attachments_gc_expired;
    q->data = gcf;

    v[0].data = buf[0];
    v[0].len = ngx_sprintf(buf[0], "%d", NGX_HTTP_ATTACHMENTS_GC_BATCH)
               - buf[0];

    if (ngx_http_attachments_pg_param(pool, q, &v[0]) == NGX_OK
        && ngx_http_attachments_pg_run(q) == NGX_AGAIN)
    {
        return;
    }

    ngx_http_attachments_gc_files(gcf);
    return;

failed:

    ngx_http_attachments_gc_next(gcf, gcf->interval);
}


/*
 * Expired resumable uploads: the bytes of each go (those a request still
 * appends to stay, their claims released), then their rows, whose
 * reservations go with them.
 */

static void
ngx_http_attachments_gc_expired(ngx_http_attachments_pg_query_t *q)
{
    int                                 i, n;
    u_char                             *p, *k;
    ngx_str_t                           name, gone, kept;
    ngx_http_attachments_storage_t     *s;
    ngx_http_attachments_pg_query_t    *next;
    ngx_http_attachments_gc_conf_t     *gcf;

    gcf = q->data;

    n = (q->rc == NGX_OK) ? PQntuples(q->result) : 0;

    if (n == 0) {
        ngx_http_attachments_gc_orphans(gcf);
        return;
    }

    gone.data = ngx_pnalloc(gcf->pool,
                            2 * (2 + n * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1)));
    if (gone.data == NULL) {
        ngx_http_attachments_gc_files(gcf);
        return;
    }

    kept.data = gone.data + 2 + n * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1);
    p = gone.data;
    k = kept.data;
    *p++ = '{';
    *k++ = '{';

    for (i = 0; i < n; i++) {
        name.data = (u_char *) PQgetvalue(q->result, i, 1);
        name.len = PQgetlength(q->result, i, 1);

        s = ngx_http_attachments_storage_lookup(&gcf->amcf->storages, &name);

        if (s && ngx_http_attachments_storage_drop_tus(q->log, s,
                     (u_char *) PQgetvalue(q->result, i, 0))
                 == NGX_OK)
        {
            ngx_http_attachments_gc_id(&p, gone.data,
                                       PQgetvalue(q->result, i, 0));

        } else {
            ngx_http_attachments_gc_id(&k, kept.data,
                                       PQgetvalue(q->result, i, 0));
        }
    }

    *p++ = '}';
    *k++ = '}';
    gone.len = p - gone.data;
    kept.len = k - kept.data;

    next = ngx_http_attachments_pg_query(gcf->pool, q->log,
                                         gcf->amcf->database,
                                         &ngx_http_attachments_sql_tus_purge);
    if (next == NULL
        || ngx_http_attachments_pg_param(gcf->pool, next, &gone) != NGX_OK
        || ngx_http_attachments_pg_param(gcf->pool, next, &kept) != NGX_OK)
    {
        ngx_http_attachments_gc_files(gcf);
        return;
    }

    next->handler = ngx_http_attachments_gc_purged;
    next->data = gcf;

    if (ngx_http_attachments_pg_run(next) != NGX_AGAIN) {
        ngx_http_attachments_gc_files(gcf);
    }
}


static void
ngx_http_attachments_gc_purged(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_gc_conf_t  *gcf;

    gcf = q->data;

    if (q->rc == NGX_OK && PQntuples(q->result) == 1) {
        ngx_log_error(NGX_LOG_INFO, q->log, 0,
                      "attachments gc: %s expired resumable upload(s) "
                      "removed", PQgetvalue(q->result, 0, 0));
    }

    ngx_http_attachments_gc_orphans(gcf);
}


/*
 * Files in a .tus/ area untouched for longer than the grace whose upload
 * is gone (a worker that died between an upload's end and its files'
 * removal): asked about in one statement, then removed unless locked.
 */

static void
ngx_http_attachments_gc_orphans(ngx_http_attachments_gc_conf_t *gcf)
{
    u_char                            *p;
    ngx_str_t                          dir, ids;
    ngx_dir_t                          d;
    ngx_uint_t                         i, n;
    ngx_http_attachments_gc_tus_t     *o;
    ngx_http_attachments_storage_t   **sp;
    ngx_http_attachments_pg_query_t   *q;
    u_char                             path[NGX_MAX_PATH];

    o = ngx_pcalloc(gcf->pool, sizeof(ngx_http_attachments_gc_tus_t));
    ids.data = ngx_pnalloc(gcf->pool, 2 + NGX_HTTP_ATTACHMENTS_GC_BATCH
                                          * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1));
    if (o == NULL || ids.data == NULL) {
        ngx_http_attachments_gc_files(gcf);
        return;
    }

    sp = gcf->amcf->storages.elts;
    n = 0;
    p = ids.data;
    *p++ = '{';

    for (i = 0; i < gcf->amcf->storages.nelts; i++) {

        if (sp[i]->root.len == 0 || sp[i]->root.len + 64 >= NGX_MAX_PATH) {
            continue;
        }

        dir.data = path;
        dir.len = ngx_sprintf(path, "%V/.tus%Z", &sp[i]->root) - path - 1;

        if (ngx_open_dir(&dir, &d) != NGX_OK) {
            continue;
        }

        while (n < NGX_HTTP_ATTACHMENTS_GC_BATCH && ngx_read_dir(&d) == NGX_OK) {

            if (ngx_de_namelen(&d) < NGX_HTTP_ATTACHMENTS_UUID_LEN
                || !ngx_http_attachments_uuid_valid(ngx_de_name(&d),
                                                NGX_HTTP_ATTACHMENTS_UUID_LEN))
            {
                continue;
            }

            (void) ngx_sprintf(path + dir.len, "/%s%Z", ngx_de_name(&d));

            if (ngx_de_info(path, &d) == NGX_FILE_ERROR
                || ngx_de_mtime(&d) > ngx_time() - ngx_max(gcf->grace, 3))
            {
                continue;
            }

            o->storage[n] = sp[i];
            ngx_memcpy(o->id[n], ngx_de_name(&d), NGX_HTTP_ATTACHMENTS_UUID_LEN);
            ngx_http_attachments_gc_id(&p, ids.data, (char *) o->id[n]);
            n++;
        }

        (void) ngx_close_dir(&d);
    }

    *p++ = '}';
    ids.len = p - ids.data;
    o->n = n;

    if (n == 0) {
        ngx_http_attachments_gc_files(gcf);
        return;
    }

    q = ngx_http_attachments_pg_query(gcf->pool, gcf->event.log,
                                      gcf->amcf->database,
                                      &ngx_http_attachments_sql_tus_known);
    if (q == NULL
        || ngx_http_attachments_pg_param(gcf->pool, q, &ids) != NGX_OK)
    {
        ngx_http_attachments_gc_files(gcf);
        return;
    }

    gcf->orphans = o;
    q->handler = ngx_http_attachments_gc_unknown;
    q->data = gcf;

    if (ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        ngx_http_attachments_gc_files(gcf);
    }
}


static void
ngx_http_attachments_gc_unknown(ngx_http_attachments_pg_query_t *q)
{
    int                              row;
    ngx_uint_t                       i;
    ngx_http_attachments_gc_tus_t   *o;
    ngx_http_attachments_gc_conf_t  *gcf;

    gcf = q->data;
    o = gcf->orphans;

    if (q->rc == NGX_OK) {
        for (i = 0; i < o->n; i++) {

            for (row = 0; row < PQntuples(q->result); row++) {
                if (ngx_strncmp(PQgetvalue(q->result, row, 0), o->id[i],
                                NGX_HTTP_ATTACHMENTS_UUID_LEN)
                    == 0)
                {
                    break;
                }
            }

            if (row == PQntuples(q->result)
                && ngx_http_attachments_storage_drop_tus(q->log, o->storage[i],
                                                         o->id[i])
                   == NGX_OK)
            {
                ngx_log_error(NGX_LOG_INFO, q->log, 0,
                              "attachments gc: the files of a resumable "
                              "upload that is gone removed: %*s",
                              (size_t) NGX_HTTP_ATTACHMENTS_UUID_LEN,
                              o->id[i]);
            }
        }
    }

    ngx_http_attachments_gc_files(gcf);
}


/* the files' rows: deleted past the retention, pending past the grace */

static void
ngx_http_attachments_gc_files(ngx_http_attachments_gc_conf_t *gcf)
{
    ngx_str_t                          v[3];
    ngx_uint_t                         i;
    ngx_pool_t                        *pool;
    ngx_http_attachments_pg_query_t   *q;
    u_char                             buf[3][NGX_INT_T_LEN];

    pool = gcf->pool;

    q = ngx_http_attachments_pg_query(pool, gcf->event.log,
                                      gcf->amcf->database,
                                      &ngx_http_attachments_sql_gc_claim);
    if (q == NULL) {
        goto failed;
    }

    q->handler = ngx_http_attachments_gc_claimed;
    q->data = gcf;

    v[0].data = buf[0];
    v[0].len = ngx_sprintf(buf[0], "%T", gcf->retention) - buf[0];
    v[1].data = buf[1];
    v[1].len = ngx_sprintf(buf[1], "%T", gcf->grace) - buf[1];
    v[2].data = buf[2];
    v[2].len = ngx_sprintf(buf[2], "%d", NGX_HTTP_ATTACHMENTS_GC_BATCH)
               - buf[2];

    for (i = 0; i < 3; i++) {
        if (ngx_http_attachments_pg_param(pool, q, &v[i]) != NGX_OK) {
            goto failed;
        }
    }

    if (ngx_http_attachments_pg_run(q) == NGX_AGAIN) {
        return;
    }

failed:

    ngx_http_attachments_gc_next(gcf, gcf->interval);
}


static void
ngx_http_attachments_gc_claimed(ngx_http_attachments_pg_query_t *q)
{
    int                                 n;
    size_t                              len;
    ngx_http_attachments_gc_batch_t    *gb;
    ngx_http_attachments_gc_conf_t     *gcf;

    gcf = q->data;

    if (q->rc != NGX_OK) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    n = PQntuples(q->result);

    if (n == 0) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    gb = ngx_pcalloc(gcf->pool, sizeof(ngx_http_attachments_gc_batch_t));
    if (gb == NULL) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    /* room for two array literals of n ids: purged, and kept */

    len = 2 + n * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1);

    gb->ids.data = ngx_pnalloc(gcf->pool, 2 * len);
    if (gb->ids.data == NULL) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    gb->gcf = gcf;
    gb->res = q->result;
    gb->log = q->log;
    gb->n = n;
    gb->p = gb->ids.data;
    *gb->p++ = '{';
    gb->kept.data = gb->ids.data + len;
    gb->k = gb->kept.data;
    *gb->k++ = '{';

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, gb->log, 0,
                   "attachments gc: %d row(s) claimed", n);

    ngx_http_attachments_gc_sweep(gb);
}


/* the rows' blobs, from row gb->i on, one after the other */

static void
ngx_http_attachments_gc_sweep(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_int_t                          rc;
    ngx_str_t                          name;
    ngx_http_attachments_storage_t    *storage;

    for ( /* void */ ; gb->i < gb->n; gb->i++) {
        name.data = (u_char *) PQgetvalue(gb->res, gb->i, 1);
        name.len = ngx_strlen(name.data);

        storage = ngx_http_attachments_storage_lookup(
                      &gb->gcf->amcf->storages, &name);

        if (storage == NULL) {
            ngx_log_error(NGX_LOG_WARN, gb->log, 0,
                          "attachments gc: file %s is in storage \"%V\", "
                          "which is not configured; kept",
                          PQgetvalue(gb->res, gb->i, 0), &name);
            continue;
        }

        ngx_memzero(&gb->op, sizeof(ngx_http_attachments_storage_op_t));
        gb->op.storage = storage;
        gb->op.key.data = (u_char *) PQgetvalue(gb->res, gb->i, 2);
        gb->op.key.len = ngx_strlen(gb->op.key.data);

        /* a stray upload in parts is aborted */
        gb->op.upload_id.data = (u_char *) PQgetvalue(gb->res, gb->i, 4);
        gb->op.upload_id.len = PQgetlength(gb->res, gb->i, 4);
        gb->op.log = gb->log;
        gb->op.pool = gb->gcf->pool;
        gb->op.handler = ngx_http_attachments_gc_deleted;
        gb->op.data = gb;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, gb->log, 0,
                       "attachments gc: sweeping file %s (%s)",
                       PQgetvalue(gb->res, gb->i, 0),
                       PQgetvalue(gb->res, gb->i, 3));

        rc = ngx_http_attachments_storage_delete(NULL, &gb->op);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, gb->log, 0,
                          "attachments gc: file %s: storage \"%V\" cannot "
                          "delete it now; kept",
                          PQgetvalue(gb->res, gb->i, 0), &name);
            continue;
        }

        ngx_http_attachments_gc_swept(gb);
    }

    ngx_http_attachments_gc_purge(gb);
}


static void
ngx_http_attachments_gc_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_gc_batch_t  *gb = op->data;

    ngx_http_attachments_gc_swept(gb);

    gb->i++;
    ngx_http_attachments_gc_sweep(gb);
}


/* row gb->i's blob was asked to go: its id joins the purge if it is gone */

static void
ngx_http_attachments_gc_swept(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_uint_t  gone;

    /* a blob already gone is gone */
    gone = ngx_http_attachments_op_done(&gb->op)
           || gb->op.status == NGX_HTTP_NOT_FOUND;

    if (PQgetvalue(gb->res, gb->i, 3)[0] == 's') {

        /* a stray name has no row to purge: its journal entry went */

        if (!gone) {
            ngx_log_error(NGX_LOG_ERR, gb->log, 0,
                          "attachments gc: the stray name \"%V\" stays "
                          "(attachments-fsck reports it)", &gb->op.key);
        }

        return;
    }

    if (!gone) {
        ngx_log_error(NGX_LOG_ERR, gb->log, 0,
                      "attachments gc: the blob of file %s stays; "
                      "the row waits for the next run",
                      PQgetvalue(gb->res, gb->i, 0));
        ngx_http_attachments_gc_id(&gb->k, gb->kept.data,
                                   PQgetvalue(gb->res, gb->i, 0));
        return;
    }

    /* an upload that stopped before its rename left the temporary */

    if (PQgetvalue(gb->res, gb->i, 3)[0] == 'p') {
        if (ngx_http_attachments_storage_drop_tmp(gb->log, gb->op.storage,
                                        (u_char *) PQgetvalue(gb->res, gb->i, 0))
            != NGX_OK)
        {
            ngx_http_attachments_gc_id(&gb->k, gb->kept.data,
                                       PQgetvalue(gb->res, gb->i, 0));
            return;
        }
    }

    ngx_http_attachments_gc_id(&gb->p, gb->ids.data,
                               PQgetvalue(gb->res, gb->i, 0));
}


/* an id appended to an array literal begun at start */

static void
ngx_http_attachments_gc_id(u_char **p, u_char *start, char *id)
{
    if (*p != start + 1) {
        *(*p)++ = ',';
    }

    *p = ngx_cpymem(*p, id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
}


/* the rows whose blobs are gone: purged, or removed if pending */

static void
ngx_http_attachments_gc_purge(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_http_attachments_pg_query_t    *done;
    ngx_http_attachments_gc_conf_t     *gcf;

    gcf = gb->gcf;

    *gb->p++ = '}';
    gb->ids.len = gb->p - gb->ids.data;
    *gb->k++ = '}';
    gb->kept.len = gb->k - gb->kept.data;

    /* "{id,id}": an id and its separator per row kept */
    ngx_http_attachments_metrics_gc(NGX_HTTP_ATTACHMENTS_GC_KEPT,
                                    (gb->kept.len - 1)
                                    / (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1));

    done = ngx_http_attachments_pg_query(gcf->pool, gb->log,
                                         gcf->amcf->database,
                                         &ngx_http_attachments_sql_gc_done);
    if (done == NULL
        || ngx_http_attachments_pg_param(gcf->pool, done, &gb->ids)
           != NGX_OK
        || ngx_http_attachments_pg_param(gcf->pool, done, &gb->kept)
           != NGX_OK)
    {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
        return;
    }

    done->handler = ngx_http_attachments_gc_done;
    done->data = gcf;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, gb->log, 0,
                   "attachments gc: purging %V, keeping %V",
                   &gb->ids, &gb->kept);

    /* a full batch: more may wait */
    gcf->more = (gb->n == NGX_HTTP_ATTACHMENTS_GC_BATCH);

    if (ngx_http_attachments_pg_run(done) != NGX_AGAIN) {
        ngx_http_attachments_gc_next(gcf, gcf->interval);
    }
}


static void
ngx_http_attachments_gc_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_gc_conf_t    *gcf;

    gcf = q->data;

    if (q->rc == NGX_OK && PQntuples(q->result) == 1) {
        ngx_http_attachments_gc_count(q, 0, NGX_HTTP_ATTACHMENTS_GC_PURGED);
        ngx_http_attachments_gc_count(q, 1, NGX_HTTP_ATTACHMENTS_GC_REMOVED);

        ngx_log_error(NGX_LOG_INFO, q->log, 0,
                      "attachments gc: %s deleted file(s) purged, "
                      "%s pending upload(s) removed",
                      PQgetvalue(q->result, 0, 0),
                      PQgetvalue(q->result, 0, 1));
    }

    ngx_http_attachments_gc_next(gcf, gcf->more && q->rc == NGX_OK
                                       ? 1 : gcf->interval);
}


static void
ngx_http_attachments_gc_count(ngx_http_attachments_pg_query_t *q, int col,
    ngx_http_attachments_gc_counter_e what)
{
    ngx_int_t  n;

    n = ngx_atoi((u_char *) PQgetvalue(q->result, 0, col),
                 PQgetlength(q->result, 0, col));

    if (n > 0) {
        ngx_http_attachments_metrics_gc(what, n);
    }
}


static void
ngx_http_attachments_gc_next(ngx_http_attachments_gc_conf_t *gcf,
    ngx_msec_t delay)
{
    if (gcf->pool) {
        ngx_destroy_pool(gcf->pool);
        gcf->pool = NULL;
    }

    if (!ngx_exiting && !ngx_terminate) {
        ngx_add_timer(&gcf->event, delay);
    }
}
