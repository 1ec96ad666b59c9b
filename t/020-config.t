# Configuration: nginx -t refuses bad directive values with a clear message.

use Test::Nginx::Socket;

repeat_each(1);
plan tests => repeat_each() * blocks() * 2;


run_tests();

__DATA__

=== TEST 1: a minimal valid configuration starts
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- config
    location /files/ { attachments_download main; }
    location /_s/ { internal; alias $TEST_NGINX_HTML_DIR/; }
--- request
GET /files/x
--- error_code: 403
--- no_error_log
[emerg]



=== TEST 2: a signing key shorter than 16 bytes
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/short.key;
--- config
--- must_die
--- error_log
is shorter than 16 bytes



=== TEST 3: a missing signing key file
--- http_config
    attachments_signing_key k1 /nonexistent/k1.key;
--- config
--- must_die
--- error_log
open() "/nonexistent/k1.key" failed



=== TEST 4: an invalid key id
--- http_config
    attachments_signing_key "bad id" $TEST_NGINX_TOP/t/data/new.key;
--- config
--- must_die
--- error_log
invalid key id "bad id"



=== TEST 5: a duplicate key id
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/old.key;
--- config
--- must_die
--- error_log
duplicate key id "k1"



=== TEST 6: a download location for an undefined storage
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
--- config
    location /files/ { attachments_download nowhere; }
--- must_die
--- error_log
unknown storage "nowhere"



=== TEST 7: a download location without signing keys
--- http_config
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- config
    location /files/ { attachments_download main; }
--- must_die
--- error_log
"attachments_download" requires "attachments_signing_key"



=== TEST 8: a download location that is not a prefix ending with /
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- config
    location = /files/x { attachments_download main; }
--- must_die
--- error_log
needs a prefix location ending with "/"



=== TEST 9: an unknown storage type
--- http_config
    attachments_storage main ftp root=/srv;
--- config
--- must_die
--- error_log
unknown storage type "ftp"



=== TEST 10: a local storage without root= or internal=
--- http_config
    attachments_storage main local root=/srv;
--- config
--- must_die
--- error_log
local storage "main" needs "root=" and "internal="



=== TEST 11: an internal= that is not a URI prefix
--- http_config
    attachments_storage main local root=/srv internal=_s;
--- config
--- must_die
--- error_log
"internal=" must be a URI prefix that starts and ends with "/"



=== TEST 12: a duplicate storage
--- http_config
    attachments_storage main local root=/srv internal=/_s/;
    attachments_storage main local root=/srv internal=/_t/;
--- config
--- must_die
--- error_log
duplicate storage "main"



=== TEST 13: a zero URL TTL
--- http_config
    attachments_url_ttl 0;
--- config
--- must_die
--- error_log
"attachments_url_ttl" directive must be positive



=== TEST 14: an unparsable URL TTL
--- http_config
    attachments_url_ttl soon;
--- config
--- must_die
--- error_log
"attachments_url_ttl" directive invalid value



=== TEST 15: an unknown attachments_sign parameter
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=/srv internal=/_s/;
--- config
    location /m { attachments_sign main $arg_k color=blue; }
--- must_die
--- error_log
invalid parameter "color=blue"



=== TEST 16: one storage downloaded from two prefixes
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=/srv internal=/_s/;
--- config
    location /a/ { attachments_download main; }
    location /b/ { attachments_download main; }
--- must_die
--- error_log
storage "main" is already downloaded from "/a/"
