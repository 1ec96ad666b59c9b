
#include <ngx_config.h>
#include <ngx_core.h>

extern ngx_module_t  ngx_http_attachments_module;
extern ngx_module_t  ngx_http_attachments_storage_module;
extern ngx_module_t  ngx_http_attachments_upload_module;
extern ngx_module_t  ngx_http_attachments_download_module;
extern ngx_module_t  ngx_http_attachments_health_module;
extern ngx_module_t  ngx_http_attachments_gc_module;
extern ngx_module_t  ngx_http_attachments_api_module;

ngx_module_t *ngx_modules[] = {
    &ngx_http_attachments_module,
    &ngx_http_attachments_storage_module,
    &ngx_http_attachments_upload_module,
    &ngx_http_attachments_download_module,
    &ngx_http_attachments_health_module,
    &ngx_http_attachments_gc_module,
    &ngx_http_attachments_api_module,
    NULL
};

char *ngx_module_names[] = {
    "ngx_http_attachments_module",
    "ngx_http_attachments_storage_module",
    "ngx_http_attachments_upload_module",
    "ngx_http_attachments_download_module",
    "ngx_http_attachments_health_module",
    "ngx_http_attachments_gc_module",
    "ngx_http_attachments_api_module",
    NULL
};

char *ngx_module_order[] = {
    NULL
};

