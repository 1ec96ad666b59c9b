# Copyright (C) 2026 The ngx_http_attachments_module authors

# attachments_health: the database and every storage checked without
# blocking; 200 when all can be used, 503 (and which one) otherwise.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::S3;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
plan tests => 21;

start_s3rver();
$ENV{TEST_NGINX_DOWN_PORT} = free_port();        # nobody listens there

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
_EOC_

our $Cloud = <<'_EOC_';
    attachments_storage cloud s3 endpoint=http://127.0.0.1:$TEST_NGINX_S3_PORT
        region=us-east-1 bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/;
_EOC_

our $Config = <<'_EOC_';
    location = /health {
        attachments_health;
    }

    location /_s3/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT/;
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
    request => 'GET /health',
);

run_tests();

__DATA__

=== TEST 1: the database and a local storage that can be used
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
{"status":"ok","database":"ok","storages":{"main":"ok"}}



=== TEST 2: a local root that cannot take blobs
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1;
    attachments_storage main local root=/nonexistent/attachments internal=/_s/;
--- error_code: 503
--- response_body
{"status":"unavailable","database":"ok","storages":{"main":"unavailable"}}
--- error_log
attachments: storage "main": access("/nonexistent/attachments") failed



=== TEST 3: an s3 storage: a HEAD of its bucket through proxy=
--- http_config eval: $::Http . $::Cloud
--- error_code: 200
--- response_body
{"status":"ok","database":"ok","storages":{"main":"ok","cloud":"ok"}}



=== TEST 4: an s3 storage that cannot be reached
--- http_config eval: $::Http . $::Cloud
--- config eval
$::Config =~ s/\$TEST_NGINX_S3_PORT/\$TEST_NGINX_DOWN_PORT/r
--- error_code: 503
--- response_body
{"status":"unavailable","database":"ok","storages":{"main":"ok","cloud":"unavailable"}}
--- error_log
attachments: HEAD "" in s3 storage "cloud": 502



=== TEST 5: an s3 storage without proxy= cannot be checked, and fails nothing
--- http_config eval: $::Http . ($::Cloud =~ s/\s*proxy=\/_s3\///r)
--- error_code: 200
--- response_body
{"status":"ok","database":"ok","storages":{"main":"ok","cloud":"unchecked"}}



=== TEST 6: a database that cannot be reached
--- http_config
    attachments_database "host=127.0.0.1 port=$TEST_NGINX_DOWN_PORT dbname=x connect_timeout=2";
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- error_code: 503
--- response_body
{"status":"unavailable","database":"unavailable","storages":{"main":"ok"}}



=== TEST 7: only GET and HEAD
--- request
POST /health
--- error_code: 405
--- response_headers
Allow: GET, HEAD



=== TEST 8: without attachments_database only the storages are checked
--- http_config
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- error_code: 200
--- response_body
{"status":"ok","database":"unconfigured","storages":{"main":"ok"}}



=== TEST 9: a database that takes no writes (a standby, or made read-only) fails the check
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO options='-c default_transaction_read_only=on'" size=1;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR internal=/_s/;
--- error_code: 503
--- response_body
{"status":"unavailable","database":"read_only","storages":{"main":"ok"}}
