
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_metrics_module: see ngx_http_attachments_metrics.h.
 *
 * Counters are atomics in the zone, added to by whichever worker counts;
 * gauges (the PostgreSQL pool's) belong to one worker each, in a slot it
 * claims at start and frees at exit, and are summed over the slots of
 * living workers when scraped.  The zone outlives reloads (same name and
 * size), so counters only ever grow, as Prometheus expects.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_metrics.h"


#define NGX_HTTP_ATTACHMENTS_METRICS_SLOTS     256
#define NGX_HTTP_ATTACHMENTS_METRICS_STATUSES  600
#define NGX_HTTP_ATTACHMENTS_METRICS_KINDS     5
#define NGX_HTTP_ATTACHMENTS_METRICS_LINE      256


typedef struct {
    ngx_atomic_t                    pid;
    ngx_atomic_t                    busy;
    ngx_atomic_t                    idle;
    ngx_atomic_t                    queued;
} ngx_http_attachments_metrics_slot_t;


typedef struct {
    ngx_atomic_t  uploads[NGX_HTTP_ATTACHMENTS_UPLOAD_OUTCOMES];
    ngx_atomic_t  upload_bytes[NGX_HTTP_ATTACHMENTS_UPLOAD_OUTCOMES];
    ngx_atomic_t  downloads[NGX_HTTP_ATTACHMENTS_DL_RESULTS];
    ngx_atomic_t  api[NGX_HTTP_ATTACHMENTS_ENDPOINTS]
                     [NGX_HTTP_ATTACHMENTS_METRICS_STATUSES];
    ngx_atomic_t  storage[NGX_HTTP_ATTACHMENTS_METRICS_KINDS]
                         [NGX_HTTP_ATTACHMENTS_OPS][2];
    ngx_atomic_t  gc[NGX_HTTP_ATTACHMENTS_GC_COUNTERS];
    ngx_atomic_t  pg[NGX_HTTP_ATTACHMENTS_PG_COUNTERS];

    ngx_http_attachments_metrics_slot_t
                  slots[NGX_HTTP_ATTACHMENTS_METRICS_SLOTS];
} ngx_http_attachments_metrics_sh_t;


typedef struct {
    ngx_shm_zone_t                       *zone;
    ngx_http_attachments_metrics_slot_t  *slot;    /* this worker's */
} ngx_http_attachments_metrics_main_conf_t;


static void *ngx_http_attachments_metrics_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_attachments_metrics_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_int_t ngx_http_attachments_metrics_init_process(
    ngx_cycle_t *cycle);
static void ngx_http_attachments_metrics_exit_process(ngx_cycle_t *cycle);
static ngx_uint_t ngx_http_attachments_metrics_alive(ngx_atomic_uint_t pid);
static ngx_http_attachments_metrics_sh_t *ngx_http_attachments_metrics_sh(
    void);
static ngx_int_t ngx_http_attachments_metrics_handler(ngx_http_request_t *r);
static u_char *ngx_http_attachments_metrics_head(u_char *p, u_char *last,
    const char *name, const char *type, const char *help);
static u_char *ngx_http_attachments_metrics_family(u_char *p, u_char *last,
    const char *name, const char *help, const char *label,
    const char **values, ngx_atomic_t *counters, ngx_uint_t n);


static ngx_command_t  ngx_http_attachments_metrics_commands[] = {

    { ngx_string("attachments_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_attachments_metrics,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_attachments_metrics_create_main_conf,
                                           /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_attachments_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_metrics_module_ctx, /* module context */
    ngx_http_attachments_metrics_commands, /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_attachments_metrics_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_attachments_metrics_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_attachments_metrics_zone_name =
    ngx_string("attachments_metrics");

static const char  *ngx_http_attachments_metrics_outcomes[] = {
    "stored", "refused", "aborted", "failed"
};

/* [0] is "verified" and has a series of its own */
static const char  *ngx_http_attachments_metrics_reasons[] = {
    "verified", "method", "unsafe_key", "repeated_parameter",
    "missing_parameter", "unknown_key", "malformed_parameter",
    "signature_mismatch", "expired"
};

static const char  *ngx_http_attachments_metrics_endpoints[] = {
    "unrouted", "list", "upload", "get", "update", "delete", "content",
    "versions", "new_version", "publish", "usage", "tus_create", "tus_head",
    "tus_patch", "tus_delete", "tus_options", "direct_create",
    "direct_confirm", "direct_delete"
};

/* the last is every kind not named here */
static ngx_str_t  ngx_http_attachments_metrics_kinds[] = {
    ngx_string("local"), ngx_string("s3"), ngx_string("yandex_disk"),
    ngx_string("google_drive"), ngx_string("other")
};

static const char  *ngx_http_attachments_metrics_ops[] = {
    "create", "delete", "publish", "health", "check", "read",
    "folder"
};

static const char  *ngx_http_attachments_metrics_gc_names[] = {
    "attachments_gc_runs_total",
    "attachments_gc_purged_total",
    "attachments_gc_removed_total",
    "attachments_gc_kept_total"
};

static const char  *ngx_http_attachments_metrics_gc_help[] = {
    "Collector runs.",
    "Rows of deleted files purged, their blobs gone.",
    "Rows of pending uploads removed, their blobs gone.",
    "Rows kept because their blob could not be removed."
};

static const char  *ngx_http_attachments_metrics_pg_names[] = {
    "attachments_pg_queries_total",
    "attachments_pg_waits_total",
    "attachments_pg_errors_total"
};

static const char  *ngx_http_attachments_metrics_pg_help[] = {
    "Statements run through the PostgreSQL pool.",
    "Statements that waited in the queue for a connection.",
    "Statements answered that the database is unavailable."
};


static void *
ngx_http_attachments_metrics_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     ammcf->zone = NULL;
     *     ammcf->slot = NULL;
     */

    return ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_attachments_metrics_main_conf_t));
}


static char *
ngx_http_attachments_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_metrics_main_conf_t *ammcf = conf;

    size_t                     size;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_attachments_metrics_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_attachments_metrics_handler;

    if (ammcf->zone) {
        return NGX_CONF_OK;
    }

    /* the counters in whole pages, and the slab allocator's own */

    size = ngx_align(sizeof(ngx_http_attachments_metrics_sh_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    ammcf->zone = ngx_shared_memory_add(cf,
                                    &ngx_http_attachments_metrics_zone_name,
                                    size, &ngx_http_attachments_metrics_module);
    if (ammcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ammcf->zone->init = ngx_http_attachments_metrics_init_zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                    *shpool;
    ngx_http_attachments_metrics_sh_t  *sh;

    if (data) {
        /* a reload: the same zone, the counters go on */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_attachments_metrics_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* a worker takes a free slot, or one whose worker died without freeing it */

static ngx_int_t
ngx_http_attachments_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                                 i;
    ngx_atomic_uint_t                          pid;
    ngx_http_attachments_metrics_sh_t         *sh;
    ngx_http_attachments_metrics_slot_t       *slot;
    ngx_http_attachments_metrics_main_conf_t  *ammcf;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ammcf = ngx_http_cycle_get_module_main_conf(cycle,
                                          ngx_http_attachments_metrics_module);

    if (ammcf == NULL || ammcf->zone == NULL) {
        return NGX_OK;
    }

    sh = ammcf->zone->data;

    /*
     * The slots of workers that died without freeing theirs (a crash, a
     * kill) are freed first: their gauges must not come back to life if
     * their pid is taken by another process.  A dead worker is replaced
     * by a new one, whose start comes here.
     */

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_METRICS_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if (pid != 0 && !ngx_http_attachments_metrics_alive(pid)) {
            slot->busy = 0;
            slot->idle = 0;
            slot->queued = 0;
            (void) ngx_atomic_cmp_set(&slot->pid, pid, 0);
        }
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_METRICS_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid == 0
            && ngx_atomic_cmp_set(&slot->pid, 0, (ngx_atomic_uint_t) ngx_pid))
        {
            slot->busy = 0;
            slot->idle = 0;
            slot->queued = 0;
            ammcf->slot = slot;
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "attachments metrics: no slot left for this worker's "
                  "PostgreSQL gauges (%d workers at most)",
                  NGX_HTTP_ATTACHMENTS_METRICS_SLOTS);

    return NGX_OK;
}


static void
ngx_http_attachments_metrics_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_attachments_metrics_main_conf_t  *ammcf;

    ammcf = ngx_http_cycle_get_module_main_conf(cycle,
                                          ngx_http_attachments_metrics_module);

    if (ammcf == NULL || ammcf->slot == NULL) {
        return;
    }

    ammcf->slot->busy = 0;
    ammcf->slot->idle = 0;
    ammcf->slot->queued = 0;
    ammcf->slot->pid = 0;
    ammcf->slot = NULL;
}


static ngx_uint_t
ngx_http_attachments_metrics_alive(ngx_atomic_uint_t pid)
{
    /* EPERM: alive, under another user */
    return kill((ngx_pid_t) pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


/* NULL when no location has attachments_metrics: nothing is counted */

static ngx_http_attachments_metrics_sh_t *
ngx_http_attachments_metrics_sh(void)
{
    ngx_http_attachments_metrics_main_conf_t  *ammcf;

    ammcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_attachments_metrics_module);

    if (ammcf == NULL || ammcf->zone == NULL) {
        return NULL;
    }

    return ammcf->zone->data;
}


void
ngx_http_attachments_metrics_upload(ngx_uint_t status, off_t bytes)
{
    ngx_uint_t                          o;
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();
    if (sh == NULL) {
        return;
    }

    if (status < 400) {
        o = NGX_HTTP_ATTACHMENTS_UPLOAD_STORED;

    } else if (status == NGX_HTTP_CLIENT_CLOSED_REQUEST) {
        o = NGX_HTTP_ATTACHMENTS_UPLOAD_ABORTED;

    } else if (status < 500) {
        o = NGX_HTTP_ATTACHMENTS_UPLOAD_REFUSED;

    } else {
        o = NGX_HTTP_ATTACHMENTS_UPLOAD_FAILED;
    }

    (void) ngx_atomic_fetch_add(&sh->uploads[o], 1);
    (void) ngx_atomic_fetch_add(&sh->upload_bytes[o], bytes);
}


void
ngx_http_attachments_metrics_download(
    ngx_http_attachments_download_result_e result)
{
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();

    if (sh) {
        (void) ngx_atomic_fetch_add(&sh->downloads[result], 1);
    }
}


void
ngx_http_attachments_metrics_api(ngx_http_attachments_endpoint_e ep,
    ngx_uint_t status)
{
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();
    if (sh == NULL) {
        return;
    }

    if (status >= NGX_HTTP_ATTACHMENTS_METRICS_STATUSES) {
        status = 0;
    }

    (void) ngx_atomic_fetch_add(&sh->api[ep][status], 1);
}


void
ngx_http_attachments_metrics_storage(ngx_str_t *kind,
    ngx_http_attachments_op_e op, ngx_uint_t failed)
{
    ngx_uint_t                          k;
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();
    if (sh == NULL) {
        return;
    }

    for (k = 0; k < NGX_HTTP_ATTACHMENTS_METRICS_KINDS - 1; k++) {
        if (kind->len == ngx_http_attachments_metrics_kinds[k].len
            && ngx_strncmp(kind->data,
                           ngx_http_attachments_metrics_kinds[k].data,
                           kind->len) == 0)
        {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&sh->storage[k][op][failed ? 1 : 0], 1);
}


void
ngx_http_attachments_metrics_gc(ngx_http_attachments_gc_counter_e what,
    ngx_uint_t n)
{
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();

    if (sh) {
        (void) ngx_atomic_fetch_add(&sh->gc[what], n);
    }
}


void
ngx_http_attachments_metrics_pg(ngx_http_attachments_pg_counter_e what)
{
    ngx_http_attachments_metrics_sh_t  *sh;

    sh = ngx_http_attachments_metrics_sh();

    if (sh) {
        (void) ngx_atomic_fetch_add(&sh->pg[what], 1);
    }
}


void
ngx_http_attachments_metrics_pg_state(ngx_uint_t busy, ngx_uint_t idle,
    ngx_uint_t queued)
{
    ngx_http_attachments_metrics_main_conf_t  *ammcf;

    ammcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_attachments_metrics_module);

    if (ammcf == NULL || ammcf->slot == NULL) {
        return;
    }

    ammcf->slot->busy = busy;
    ammcf->slot->idle = idle;
    ammcf->slot->queued = queued;
}


static ngx_int_t
ngx_http_attachments_metrics_handler(ngx_http_request_t *r)
{
    size_t                               size;
    u_char                              *p, *last;
    ngx_int_t                            rc;
    ngx_buf_t                           *b;
    ngx_uint_t                           i, k, op, n;
    ngx_atomic_uint_t                    busy, idle, queued;
    ngx_chain_t                          out;
    ngx_http_attachments_metrics_sh_t   *sh;
    ngx_http_attachments_metrics_slot_t *slot;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_attachments_metrics_not_allowed(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    sh = ngx_http_attachments_metrics_sh();
    if (sh == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a line per series that has counted, and the fixed ones */

    n = 64;

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_ENDPOINTS; i++) {
        for (k = 0; k < NGX_HTTP_ATTACHMENTS_METRICS_STATUSES; k++) {
            n += (sh->api[i][k] != 0);
        }
    }

    n += NGX_HTTP_ATTACHMENTS_METRICS_KINDS * NGX_HTTP_ATTACHMENTS_OPS * 2;

    size = n * NGX_HTTP_ATTACHMENTS_METRICS_LINE;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    last = b->end;

    p = ngx_http_attachments_metrics_family(p, last,
            "attachments_uploads_total", "Upload requests, by outcome.",
            "outcome", ngx_http_attachments_metrics_outcomes, sh->uploads,
            NGX_HTTP_ATTACHMENTS_UPLOAD_OUTCOMES);

    p = ngx_http_attachments_metrics_family(p, last,
            "attachments_upload_bytes_total",
            "Bytes of the files in upload requests, by outcome.",
            "outcome", ngx_http_attachments_metrics_outcomes,
            sh->upload_bytes, NGX_HTTP_ATTACHMENTS_UPLOAD_OUTCOMES);

    p = ngx_http_attachments_metrics_family(p, last,
            "attachments_downloads_verified_total",
            "Signed download URLs verified.", NULL, NULL,
            &sh->downloads[NGX_HTTP_ATTACHMENTS_DL_VERIFIED], 1);

    /* [0] is "verified", above */
    p = ngx_http_attachments_metrics_family(p, last,
            "attachments_downloads_refused_total",
            "Signed download URLs refused, by reason.",
            "reason", &ngx_http_attachments_metrics_reasons[1],
            &sh->downloads[1], NGX_HTTP_ATTACHMENTS_DL_RESULTS - 1);

    p = ngx_http_attachments_metrics_head(p, last,
            "attachments_api_requests_total", "counter",
            "API requests, by endpoint and status.");

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_ENDPOINTS; i++) {
        for (k = 0; k < NGX_HTTP_ATTACHMENTS_METRICS_STATUSES; k++) {
            if (sh->api[i][k]) {
                p = ngx_slprintf(p, last, "attachments_api_requests_total"
                                 "{endpoint=\"%s\",status=\"%03ui\"} %uA\n",
                                 ngx_http_attachments_metrics_endpoints[i], k,
                                 sh->api[i][k]);
            }
        }
    }

    p = ngx_http_attachments_metrics_head(p, last,
            "attachments_storage_operations_total", "counter",
            "Storage operations, by kind, operation and result.");

    for (k = 0; k < NGX_HTTP_ATTACHMENTS_METRICS_KINDS; k++) {
        for (op = 0; op < NGX_HTTP_ATTACHMENTS_OPS; op++) {
            for (i = 0; i < 2; i++) {
                if (sh->storage[k][op][i]) {
                    p = ngx_slprintf(p, last,
                                     "attachments_storage_operations_total"
                                     "{kind=\"%V\",operation=\"%s\","
                                     "result=\"%s\"} %uA\n",
                                     &ngx_http_attachments_metrics_kinds[k],
                                     ngx_http_attachments_metrics_ops[op],
                                     i ? "failed" : "ok",
                                     sh->storage[k][op][i]);
                }
            }
        }
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_GC_COUNTERS; i++) {
        p = ngx_http_attachments_metrics_family(p, last,
                ngx_http_attachments_metrics_gc_names[i],
                ngx_http_attachments_metrics_gc_help[i], NULL, NULL,
                &sh->gc[i], 1);
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_PG_COUNTERS; i++) {
        p = ngx_http_attachments_metrics_family(p, last,
                ngx_http_attachments_metrics_pg_names[i],
                ngx_http_attachments_metrics_pg_help[i], NULL, NULL,
                &sh->pg[i], 1);
    }

    busy = 0;
    idle = 0;
    queued = 0;

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_METRICS_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid && ngx_http_attachments_metrics_alive(slot->pid)) {
            busy += slot->busy;
            idle += slot->idle;
            queued += slot->queued;
        }
    }

    p = ngx_http_attachments_metrics_head(p, last,
            "attachments_pg_connections", "gauge",
            "Open PostgreSQL connections of all workers, by state.");
    p = ngx_slprintf(p, last,
                     "attachments_pg_connections{state=\"busy\"} %uA\n"
                     "attachments_pg_connections{state=\"idle\"} %uA\n",
                     busy, idle);

    p = ngx_http_attachments_metrics_head(p, last, "attachments_pg_queued",
            "gauge", "Statements waiting for a PostgreSQL connection.");
    p = ngx_slprintf(p, last, "attachments_pg_queued %uA\n", queued);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_attachments_metrics_head(u_char *p, u_char *last, const char *name,
    const char *type, const char *help)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


/* a counter family: one series, or one per label value */

static u_char *
ngx_http_attachments_metrics_family(u_char *p, u_char *last,
    const char *name, const char *help, const char *label,
    const char **values, ngx_atomic_t *counters, ngx_uint_t n)
{
    ngx_uint_t  i;

    p = ngx_http_attachments_metrics_head(p, last, name, "counter", help);

    if (label == NULL) {
        return ngx_slprintf(p, last, "%s %uA\n", name, counters[0]);
    }

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, "%s{%s=\"%s\"} %uA\n",
                         name, label, values[i], counters[i]);
    }

    return p;
}


/* as the module's other locations: with Allow, which nginx's page lacks */

ngx_int_t
ngx_http_attachments_metrics_not_allowed(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    ngx_str_set(&h->value, "GET, HEAD");

    return NGX_HTTP_NOT_ALLOWED;
}
