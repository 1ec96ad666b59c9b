# Copyright (C) 2026 The ngx_http_attachments_module authors

# Configuration: nginx -t refuses bad directive values with a clear message.

use Test::Nginx::Socket;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

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



=== TEST 17: the API needs a database
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
--- config
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
--- must_die
--- error_log
"attachments_api" requires "attachments_database"



=== TEST 18: the API needs an identity
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_database "dbname=x";
    attachments_storage main local root=/srv internal=/_s/;
--- config
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
    }
--- must_die
--- error_log
"attachments_api" requires "attachments_user" and "attachments_org"



=== TEST 19: the API needs signing keys for its download URLs
--- http_config
    attachments_database "dbname=x";
--- config
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
--- must_die
--- error_log
"attachments_api" requires "attachments_signing_key"



=== TEST 20: "satisfy any" could skip authorize()
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_database "dbname=x";
    attachments_storage main local root=/srv internal=/_s/;
--- config
    location /api/ {
        satisfy any;
        allow 127.0.0.1;
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
--- must_die
--- error_log
"attachments_api" cannot be used with "satisfy any"



=== TEST 21: the API is a prefix location
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_database "dbname=x";
--- config
    location ~ ^/api/ {
        attachments_api;
    }
--- must_die
--- error_log
"attachments_api" needs a prefix location ending with "/"



=== TEST 22: an unknown database parameter
--- http_config
    attachments_database "dbname=x" pool=3;
--- config
--- must_die
--- error_log
invalid parameter "pool=3"



=== TEST 23: a pool of no connections
--- http_config
    attachments_database "dbname=x" size=0;
--- config
--- must_die
--- error_log
invalid parameter "size=0"



=== TEST 23b: a connection string libpq cannot parse (a parameter of the directive inside it)
--- http_config
    attachments_database "dbname=x prepare=off";
--- config
--- must_die
--- error_log
invalid connection string "dbname=x prepare=off": invalid connection option "prepare"



=== TEST 23c: prepare takes on or off
--- http_config
    attachments_database "dbname=x" prepare=maybe;
--- config
--- must_die
--- error_log
invalid parameter "prepare=maybe"



=== TEST 24: a zero timeout
--- http_config
    attachments_database "dbname=x" timeout=0;
--- config
--- must_die
--- error_log
invalid parameter "timeout=0"



=== TEST 25: one database per http block
--- http_config
    attachments_database "dbname=x";
    attachments_database "dbname=y";
--- config
--- must_die
--- error_log
"attachments_database" directive is duplicate



=== TEST 26: nginx -t does not connect: an unreachable database starts
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_database "host=/nonexistent dbname=x" size=1 queue=4
                         queue_timeout=1s idle_timeout=10s timeout=5s;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- config
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: u
X-Org: o
--- error_code: 503
--- error_log
attachments: cannot connect to PostgreSQL



=== TEST 27: an undefined active storage
--- http_config
    attachments_storage main local root=/srv internal=/_s/;
    attachments_active_storage other;
--- config
--- must_die
--- error_log
unknown storage "other" (storages are defined by "attachments_storage" before they are used)



=== TEST 28: a "*" inside an allowed type
--- http_config
    attachments_allowed_types image/*png;
--- config
--- must_die
--- error_log
invalid type "image/*png": "*" only at the end



=== TEST 29: no files per upload
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_max_files 0;
--- config
--- must_die
--- error_log
"attachments_max_files" must be positive



=== TEST 30: an unparsable file size
--- http_config
    attachments_max_file_size 10q;
--- config
--- must_die
--- error_log
"attachments_max_file_size" directive invalid value



=== TEST 31: the API needs a storage
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_database "dbname=x";
--- config
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
--- must_die
--- error_log
"attachments_api" requires an "attachments_storage"



=== TEST 32: a signing key file over 4096 bytes
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/big.key;
--- config
--- must_die
--- error_log eval
qr/signing key file "[^"]+big\.key" is larger than 4096 bytes/



=== TEST 33: an S3 secret of 255 bytes loads whatever white space follows it
--- http_config
    attachments_signing_key k1 $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK
        secret_file=$TEST_NGINX_TOP/t/data/s3-padded.secret;
--- config
    location /files/ { attachments_download main; }
    location /_s/ { internal; alias $TEST_NGINX_HTML_DIR/; }
--- request
GET /files/x
--- error_code: 403
--- no_error_log
[emerg]



=== TEST 34: an S3 secret over 255 bytes
--- http_config
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:4569 region=us-east-1
        bucket=files access_key=AK
        secret_file=$TEST_NGINX_TOP/t/data/s3-long.secret;
--- config
--- must_die
--- error_log eval
qr/no usable secret in "[^"]+s3-long\.secret"/



=== TEST 35: an S3 endpoint whose port is not a number
--- http_config
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
    attachments_storage cloud s3 endpoint=http://127.0.0.1:abc region=us-east-1
        bucket=files access_key=AK secret_file=$TEST_NGINX_TOP/t/data/s3.secret;
--- config
--- must_die
--- error_log
"endpoint=" must be a scheme and a host, not "http://127.0.0.1:abc"
