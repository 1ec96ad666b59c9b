
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Prints the SQL of the module's statements, so that make bench can run
 * exactly what the API sends through pgbench:  statements [name …]
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdio.h>

#include "ngx_http_attachments_sql.h"


static ngx_http_attachments_pg_stmt_t  *statements[] = {
    &ngx_http_attachments_sql_authorize,
    &ngx_http_attachments_sql_list,
    &ngx_http_attachments_sql_file,
    &ngx_http_attachments_sql_update,
    &ngx_http_attachments_sql_delete,
};


int
main(int argc, char **argv)
{
    int     i;
    size_t  k;

    for (i = 1; i < argc; i++) {
        for (k = 0; k < sizeof(statements) / sizeof(statements[0]); k++) {
            if (strcmp(statements[k]->name, argv[i]) == 0) {
                printf("%s;\n", statements[k]->sql);
                break;
            }
        }

        if (k == sizeof(statements) / sizeof(statements[0])) {
            fprintf(stderr, "no statement \"%s\"\n", argv[i]);
            return 1;
        }
    }

    return 0;
}
