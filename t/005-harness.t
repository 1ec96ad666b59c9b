# Copyright (C) 2026 The ngx_http_attachments_module authors

# The suite format itself: the parts of Test::Nginx::Socket the project's
# suites rely on, run against plain nginx locations.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::HTTP;
use IO::Socket::INET;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(2);
plan tests => repeat_each() * 13 + 1;

# the protocol a body goes by in this run's mode, as nginx sees it
our $Proto = $ENV{TEST_NGINX_USE_HTTP2} ? "HTTP/2.0|\n"
           : $ENV{ATTACHMENTS_CHUNKED} ? "HTTP/1.1|chunked\n" : "HTTP/1.1|\n";

block_defaults();

# a port of its own for TEST 4's second server
$ENV{TEST_NGINX_PROTO_PORT} = IO::Socket::INET->new(Listen => 1,
                                                    LocalAddr => '127.0.0.1')->sockport;

run_tests();

__DATA__

=== TEST 1: main_config, request bodies and more_headers
--- main_config
env TEST_NGINX_SERVER_PORT;
--- config
    location = /echo {
        client_body_buffer_size 64k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/body;
    }
    location = /body {
        return 200 "$request_method $http_x_a $content_length\n";
    }
--- request eval
"POST /echo\nhello"
--- more_headers
X-A: b
--- response_body
POST b 5
--- response_headers
Content-Type: text/plain



=== TEST 2: raw_request and response_headers_like
--- config
    location = /t { return 204; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: x\r\n\r\n"
--- error_code: 204
--- response_headers_like
Server: nginx(/[0-9.]+)?



=== TEST 3: pipelined requests on one connection
--- config
    location /p { return 200 "$uri $connection_requests\n"; }
--- pipelined_requests eval
["GET /p1", "GET /p2"]
--- response_body eval
["/p1 1\n", "/p2 2\n"]
--- no_error_log
[error]



=== TEST 4: the run's mode, for the blocks' requests and the suites' own
The body is read before the answer (proxy_pass): an answer before it, over
HTTP/2, ends in a stream reset that curl takes for an error.
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PROTO_PORT;
        location / { return 200 "$http_x_proto\n"; }
    }
--- config
    location = /proto {
        proxy_set_header X-Proto "$server_protocol|$http_transfer_encoding";
        proxy_pass http://127.0.0.1:$TEST_NGINX_PROTO_PORT;
    }
--- init
my $r = Attachments::HTTP->new->post(
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/proto", { content => 'x' x 9000 });
Test::More::is($r->{content}, $::Proto, "Attachments::HTTP's body goes by the run's mode");
--- request eval
"POST /proto\nhello"
--- response_body eval
$::Proto
