
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * attachments-presign: an S3 SigV4 presigned GET URL (or, with -k, a PUT
 * of -l bytes with that SHA-256) from the module's own code, for the
 * botocore comparison suite and make bench.
 *
 *   attachments-presign -a key_id -s secret -r region -H host -p path
 *       -t now -e expires [-C cache-control] [-d disposition]
 *       [-E encoding] [-c type] [-k base64 -l length]
 *       [-n count]
 *
 * prints "{path}?{query}"; with -n it signs count times (all but the last
 * with the clock moving a second each time) and prints the last URL.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ngx_http_attachments_sigv4.h"


#define S(v, a)  ((v).data = (u_char *) (a), (v).len = strlen(a))


int
main(int argc, char **argv)
{
    int                              ch;
    long                             i, count;
    size_t                           n = 0;
    u_char                          *url;
    ngx_http_attachments_sigv4_t     s;
    ngx_http_attachments_presign_t   p;

    ngx_memzero(&s, sizeof(s));
    ngx_memzero(&p, sizeof(p));
    S(s.service, "s3");
    count = 1;

    while ((ch = getopt(argc, argv, "a:s:r:H:p:t:e:C:d:E:c:k:l:n:")) != -1) {
        switch (ch) {
        case 'a': S(s.access_key, optarg); break;
        case 's': S(s.secret, optarg); break;
        case 'r': S(s.region, optarg); break;
        case 'H': S(p.host, optarg); break;
        case 'p': S(p.path, optarg); break;
        case 't': p.now = atol(optarg); break;
        case 'e': p.expires = atol(optarg); break;
        case 'C': S(p.cache_control, optarg); break;
        case 'd': S(p.disposition, optarg); break;
        case 'E': S(p.encoding, optarg); break;
        case 'c': S(p.type, optarg); break;
        case 'k': S(p.checksum, optarg); break;
        case 'l': p.length = atoll(optarg); break;
        case 'n': count = atol(optarg); break;
        default:
            fprintf(stderr, "usage: attachments-presign -a key_id -s secret "
                    "-r region -H host -p path -t now -e expires "
                    "[-C cache-control] [-d disposition] [-E encoding] "
                    "[-c type] [-k base64 -l length] "
                    "[-n count]\n");
            return 2;
        }
    }

    if (s.access_key.len == 0 || s.secret.len == 0 || s.region.len == 0
        || p.host.len == 0 || p.path.len == 0 || p.now == 0
        || p.expires <= 0
        || p.expires > NGX_HTTP_ATTACHMENTS_SIGV4_EXPIRES_MAX)
    {
        fprintf(stderr, "attachments-presign: missing or invalid option\n");
        return 2;
    }

    url = malloc(ngx_http_attachments_presign(NULL, &s, &p));
    if (url == NULL) {
        return 1;
    }

    p.now -= count - 1;

    for (i = 0; i < count; i++, p.now++) {
        n = ngx_http_attachments_presign(url, &s, &p);
        if (n == 0) {
            fprintf(stderr, "attachments-presign: signing failed\n");
            return 1;
        }
    }

    printf("%.*s\n", (int) n, url);

    return 0;
}
