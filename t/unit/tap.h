
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The few TAP helpers the C unit tests share (one binary per suite).
 */


#ifndef _TAP_H_INCLUDED_
#define _TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>


static int  tests, failures;


static ngx_inline void
ok(int cond, const char *name)
{
    tests++;

    if (!cond) {
        failures++;
    }

    printf("%sok %d - %s\n", cond ? "" : "not ", tests, name);
}


static ngx_inline void
is_str(const u_char *got, size_t len, const char *want, const char *name)
{
    int  same;

    same = (len == strlen(want) && memcmp(got, want, len) == 0);
    ok(same, name);

    if (!same) {
        printf("#   got:      '%.*s'\n#   expected: '%s'\n", (int) len, got,
               want);
    }
}


#define S(s)  { sizeof(s) - 1, (u_char *) s }


static ngx_inline int
done_testing(void)
{
    printf("1..%d\n", tests);

    return failures ? 1 : 0;
}


#endif /* _TAP_H_INCLUDED_ */
