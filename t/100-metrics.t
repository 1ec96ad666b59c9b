# Copyright (C) 2026 The ngx_http_attachments_module authors

# attachments_metrics: after known traffic, every counter says exactly
# what happened (each block starts a fresh nginx, so its zone starts at 0).

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Sign;
use Attachments::Upload;
use IO::Socket::INET;
use Time::HiRes qw(sleep);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
plan tests => 56;

our $Config = $ApiConfig . <<'_EOC_';
    location = /metrics {
        attachments_metrics;
    }
_EOC_

block_defaults(
    http_config => $HttpConfig,
    config => $Config,
    user_files => $Files,
);

reset_db();
seed_people();

our $Pdf = '/files/org_acme/work_orders/123/contract.pdf';

# a regex that the exposition has each of these lines, in any order
sub metrics (@) {
    return '(?ms)\A' . join('', map { "(?=.*^\Q$_\E\$)" } @_);
}

run_tests();

__DATA__

=== TEST 1: before any traffic: every fixed series at zero, in Prometheus' text format
--- request
GET /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body
# HELP attachments_uploads_total Upload requests, by outcome.
# TYPE attachments_uploads_total counter
attachments_uploads_total{outcome="stored"} 0
attachments_uploads_total{outcome="refused"} 0
attachments_uploads_total{outcome="aborted"} 0
attachments_uploads_total{outcome="failed"} 0
# HELP attachments_upload_bytes_total Bytes of the files in upload requests, by outcome.
# TYPE attachments_upload_bytes_total counter
attachments_upload_bytes_total{outcome="stored"} 0
attachments_upload_bytes_total{outcome="refused"} 0
attachments_upload_bytes_total{outcome="aborted"} 0
attachments_upload_bytes_total{outcome="failed"} 0
# HELP attachments_downloads_verified_total Signed download URLs verified.
# TYPE attachments_downloads_verified_total counter
attachments_downloads_verified_total 0
# HELP attachments_downloads_refused_total Signed download URLs refused, by reason.
# TYPE attachments_downloads_refused_total counter
attachments_downloads_refused_total{reason="method"} 0
attachments_downloads_refused_total{reason="unsafe_key"} 0
attachments_downloads_refused_total{reason="repeated_parameter"} 0
attachments_downloads_refused_total{reason="missing_parameter"} 0
attachments_downloads_refused_total{reason="unknown_key"} 0
attachments_downloads_refused_total{reason="malformed_parameter"} 0
attachments_downloads_refused_total{reason="signature_mismatch"} 0
attachments_downloads_refused_total{reason="expired"} 0
# HELP attachments_api_requests_total API requests, by endpoint and status.
# TYPE attachments_api_requests_total counter
# HELP attachments_storage_operations_total Storage operations, by kind, operation and result.
# TYPE attachments_storage_operations_total counter
# HELP attachments_gc_runs_total Collector runs.
# TYPE attachments_gc_runs_total counter
attachments_gc_runs_total 0
# HELP attachments_gc_purged_total Rows of deleted files purged, their blobs gone.
# TYPE attachments_gc_purged_total counter
attachments_gc_purged_total 0
# HELP attachments_gc_removed_total Rows of pending uploads removed, their blobs gone.
# TYPE attachments_gc_removed_total counter
attachments_gc_removed_total 0
# HELP attachments_gc_kept_total Rows kept because their blob could not be removed.
# TYPE attachments_gc_kept_total counter
attachments_gc_kept_total 0
# HELP attachments_pg_queries_total Statements run through the PostgreSQL pool.
# TYPE attachments_pg_queries_total counter
attachments_pg_queries_total 0
# HELP attachments_pg_waits_total Statements that waited in the queue for a connection.
# TYPE attachments_pg_waits_total counter
attachments_pg_waits_total 0
# HELP attachments_pg_errors_total Statements answered that the database is unavailable.
# TYPE attachments_pg_errors_total counter
attachments_pg_errors_total 0
# HELP attachments_pg_connections Open PostgreSQL connections of all workers, by state.
# TYPE attachments_pg_connections gauge
attachments_pg_connections{state="busy"} 0
attachments_pg_connections{state="idle"} 0
# HELP attachments_pg_queued Statements waiting for a PostgreSQL connection.
# TYPE attachments_pg_queued gauge
attachments_pg_queued 0



=== TEST 2: signed downloads: one verified, one refused for each reason
--- request eval
[
    "GET " . ::signed_url(raw => $::Pdf, kid => 'new'),
    "HEAD " . ::signed_url(raw => $::Pdf, kid => 'new'),
    "GET " . ::signed_url(raw => $::Pdf, kid => 'new', expires => time - 10),
    "GET " . ::signed_url(raw => $::Pdf, kid => 'new',
                          tamper => sub { $_[0]{'X-Expires'}++ }),
    "GET " . ::signed_url(raw => $::Pdf, kid => 'new',
                          tamper => sub { $_[0]{'X-Key-Id'} = 'nope' }),
    "GET $::Pdf?X-Expires=1",
    "POST " . ::signed_url(raw => $::Pdf, kid => 'new'),
    "GET /metrics",
]
--- error_code eval
[200, 200, 410, 403, 403, 403, 405, 200]
--- response_body_like eval
['', '', '', '', '', '', '', ::metrics(
    'attachments_downloads_verified_total 2',
    'attachments_downloads_refused_total{reason="method"} 1',
    'attachments_downloads_refused_total{reason="missing_parameter"} 1',
    'attachments_downloads_refused_total{reason="unknown_key"} 1',
    'attachments_downloads_refused_total{reason="signature_mismatch"} 1',
    'attachments_downloads_refused_total{reason="expired"} 1',
    'attachments_downloads_refused_total{reason="unsafe_key"} 0',
    'attachments_pg_queries_total 0',
) . '(?!.*^attachments_api_requests_total\{)']



=== TEST 3: API requests by endpoint and status; the pool's statements and gauges
--- more_headers eval: $::Owner
--- request eval
[
    "GET /api/work_orders/123/files",
    "GET /api/work_orders/123/files",
    "GET /api/work_orders/123/files/" . ::uuid(404),
    "GET /api/usage",
    "DELETE /api/usage",
    "GET /api/Work_Orders/123/files",
    "GET /metrics",
]
--- error_code eval
[200, 200, 404, 200, 405, 400, 200]
--- response_body_like eval
['', '', '', '', '', '', ::metrics(
    'attachments_api_requests_total{endpoint="list",status="200"} 2',
    'attachments_api_requests_total{endpoint="get",status="404"} 1',
    'attachments_api_requests_total{endpoint="usage",status="200"} 1',
    'attachments_api_requests_total{endpoint="unrouted",status="405"} 1',
    'attachments_api_requests_total{endpoint="unrouted",status="400"} 1',
    'attachments_pg_queries_total 7',
    'attachments_pg_waits_total 0',
    'attachments_pg_errors_total 0',
    'attachments_pg_connections{state="busy"} 0',
    'attachments_pg_connections{state="idle"} 1',
    'attachments_pg_queued 0',
)]



=== TEST 4: uploads by outcome with their bytes; the storage's operations
--- more_headers eval
"$::Owner\nContent-Type: multipart/form-data; boundary=XbOuNdArY7"
--- request eval
[
    ::upload_request('/api/work_orders/5/files',
                     ['file', 'a.txt', 'text/plain', 'x' x 1000]),
    ::upload_request('/api/work_orders/5/files',
                     ['file', 'b.txt', 'text/plain', 'y' x 10],
                     ['file', 'c.txt', 'text/plain', 'z' x 20]),
    ::upload_request('/api/work_orders/5/files',
                     ['file', 'd.txt', 'text/plain', $::ELF]),
    "GET /metrics",
]
--- error_code eval
[201, 201, 415, 200]
--- response_body_like eval
['', '', '', ::metrics(
    'attachments_uploads_total{outcome="stored"} 2',
    'attachments_uploads_total{outcome="refused"} 1',
    'attachments_uploads_total{outcome="failed"} 0',
    'attachments_upload_bytes_total{outcome="stored"} 1030',
    'attachments_api_requests_total{endpoint="upload",status="201"} 2',
    'attachments_api_requests_total{endpoint="upload",status="415"} 1',
    'attachments_storage_operations_total{kind="local",operation="create",result="ok"} 3',
)]



=== TEST 5: a database that cannot be reached: errors counted, 503 answered
--- http_config eval
$::HttpConfig =~ s/attachments_database "[^"]*"/attachments_database "host=127.0.0.1 port=1 dbname=none connect_timeout=1"/r
--- more_headers eval: $::Owner
--- request eval
["GET /api/work_orders/123/files", "GET /metrics"]
--- error_code eval
[503, 200]
--- response_body_like eval
['', ::metrics(
    'attachments_api_requests_total{endpoint="list",status="503"} 1',
    'attachments_pg_queries_total 1',
    'attachments_pg_errors_total 1',
    'attachments_pg_connections{state="busy"} 0',
    'attachments_pg_connections{state="idle"} 0',
)]



=== TEST 6: the collector: a run purges a deleted file and its blob
--- http_config eval
$::HttpConfig . "attachments_gc_interval 100ms; attachments_gc_retention 0; attachments_gc_grace 0;\n"
--- init
# blocks run in any order: nothing but this file is left for the collector
::psql("DELETE FROM attachments.stray_names;
        DELETE FROM attachments.files WHERE deleted_at IS NOT NULL OR state = 'pending'");
::add_file(id => ::uuid(61), key => 'org_acme/work_orders/6/gone.txt',
           eid => '6', deleted => 1);
Test::More::ok(::wait_until(sub {
    ::count_rows('files', "id = '" . ::uuid(61) . "' AND purged_at IS NOT NULL") == 1
}), 'the collector purged the row');
--- user_files
>>> store/org_acme/work_orders/6/gone.txt
gone
--- request
GET /metrics
--- response_body_like eval
::metrics(
    'attachments_gc_purged_total 1',
    'attachments_gc_removed_total 0',
    'attachments_gc_kept_total 0',
    'attachments_storage_operations_total{kind="local",operation="delete",result="ok"} 1',
) . '(?=.*^attachments_gc_runs_total [1-9])'



=== TEST 7: only GET and HEAD
--- request
POST /metrics
--- error_code: 405
--- response_headers
Allow: GET, HEAD



=== TEST 8: an HTTP/1.1 upload whose client leaves in the middle of its body is "aborted"
--- no_http2
--- more_headers eval: $::Owner
--- init
my $body = ::multipart(['file', 'a.txt', 'text/plain', 'x' x 100000]);
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT}) or die $!;
print $s "POST /api/work_orders/8/files HTTP/1.1\r\nHost: localhost\r\n"
       . "X-User: owner1\r\nX-Org: acme\r\n"
       . "Content-Type: multipart/form-data; boundary=XbOuNdArY7\r\n"
       . "Content-Length: " . length($body) . "\r\n\r\n"
       . substr($body, 0, 50000);
sleep 0.3;
close $s;
sleep 0.3;
--- request
GET /metrics
--- response_body_like eval
::metrics(
    'attachments_uploads_total{outcome="aborted"} 1',
    'attachments_uploads_total{outcome="refused"} 0',
    'attachments_api_requests_total{endpoint="upload",status="499"} 1',
)



=== TEST 9: an error_page does not change the endpoint a request is counted for
--- config eval
$::Config . "    error_page 500 /oops;\n    location = /oops { return 500 'oops'; }\n"
--- http_config eval
$::HttpConfig . '    attachments_key "../$attachments_uuid";' . "\n"
--- more_headers eval
"$::Owner\nContent-Type: multipart/form-data; boundary=XbOuNdArY7"
--- request eval
[::upload_request('/api/work_orders/9/files', ['file', 'a.txt', 'text/plain', 'hello']),
 "GET /metrics"]
--- error_code eval
[500, 200]
--- response_body_like eval
['', ::metrics(
    'attachments_uploads_total{outcome="failed"} 1',
    'attachments_api_requests_total{endpoint="upload",status="500"} 1',
) . '(?!.*^attachments_api_requests_total\{endpoint="list")']
