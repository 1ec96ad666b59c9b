# Copyright (C) 2026 The ngx_http_attachments_module authors

# The metadata API against the real PostgreSQL: list, get, content, patch,
# delete, their errors, and that refused requests write nothing.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 161;

block_defaults(
    http_config => $HttpConfig,
    config => $ApiConfig,
    user_files => $Files,
    more_headers => $Owner,
);

our ($F1, $F2, $F3, $F4, $F5, $F6) = map { uuid($_) } 1 .. 6;
our $Base = '/api/work_orders/123/files';

reset_db();
seed_people();
add_file(id => $F1, name => 'contract.pdf', ext => 'pdf',
         content_type => 'application/pdf', size => 34,
         key => 'org_acme/work_orders/123/contract.pdf',
         category => 'document', tags => '["signed"]',
         fields => '{"customer_ref": "C-77"}',
         created => "timestamptz '2026-02-01 10:30:00Z'");
add_file(id => $F2, eid => '456');                 # another record
add_file(id => $F3, org => 'globex', by => 'gowner');  # another organization
add_file(id => $F4, deleted => 1);
add_file(id => $F5, state => 'pending');
add_file(id => $F6, name => 'gone.txt');           # deleted by TEST 14

our $AuditBefore = count_rows('audit_log');

# nginx 1.29.4 validates the Host header's characters itself
our $StrictHost = do {
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my ($v) = `$nginx -v 2>&1` =~ m{/(\d+\.\d+\.\d+)};
    $v && sprintf('%03d%03d%03d', split /\./, $v) ge '001029004';
};

run_tests();

__DATA__

=== TEST 1: list: the parent's visible files, with signed URLs
--- init
::psql("UPDATE attachments.files SET deleted_at = now() WHERE id = '$::F6'");
--- request eval
"GET $::Base"
--- response_headers
Content-Type: application/json
--- response_body_like eval
'^\{"files":\[' . ::file_re() . '\],"next_cursor":null\}\n$'
--- no_error_log
[error]



=== TEST 2: get one file
--- request eval
"GET $::Base/$::F1"
--- response_body_like eval
'^' . ::file_re() . '\n$'



=== TEST 3: content: the bytes, by internal redirect, with the stored type and name
--- request eval
"GET $::Base/$::F1/content"
--- response_headers
Content-Type: application/pdf
Content-Disposition: attachment; filename="contract.pdf"; filename*=UTF-8''contract.pdf
Content-Length: 34
--- response_body
%PDF-1.4 0123456789 contract body



=== TEST 4: content: HEAD and Range are nginx's own
--- request eval
["HEAD $::Base/$::F1/content", "GET $::Base/$::F1/content"]
--- more_headers
X-User: viewer1
X-Org: acme
Range: bytes=0-7
--- error_code eval
[206, 206]
--- response_body eval
["", "%PDF-1.4"]



=== TEST 5: each action wrote its audit row
--- init
Test::More::is(::audit_rows("id > $::AuditBefore"),
               join("\n", 'url_issued|owner1||', "url_issued|owner1|$::F1|",
                    "download|owner1|$::F1|34", "download|viewer1|$::F1|34",
                    "download|viewer1|$::F1|34"),
               'audit rows for list, get, content, HEAD and range');
Test::More::is(::psql("SELECT detail FROM attachments.audit_log
                        WHERE id = $::AuditBefore + 1"),
               qq{{"files": ["$::F1"]}}, 'the list row names the files');
Test::More::is(::psql("SELECT count(*) FROM attachments.audit_log
                        WHERE id > $::AuditBefore AND request_id ~ '^[0-9a-f]{32}\$'
                          AND client_addr = '127.0.0.1' AND organization_id = 'acme'
                          AND entity_type = 'work_orders' AND entity_id = '123'"),
               5, 'with request id, client address and parent record');
--- request
GET /plain
--- response_body
plain



=== TEST 6: another record's, another organization's, deleted and pending files are 404
--- request eval
[map { my $id = $_; ("GET $::Base/$id", "GET $::Base/$id/content",
                     "PATCH $::Base/$id\n{\"tags\":[\"x\"]}",
                     "DELETE $::Base/$id") }
     $::F2, $::F3, $::F4, $::F5, ::uuid(999)]
--- error_code eval
[(404) x 20]
--- response_body eval
[('{"error":{"code":"not_found","message":"no such record or file"}}' . "\n") x 20]



=== TEST 7: ...and wrote nothing
--- init
Test::More::is(::count_rows('audit_log', "id > $::AuditBefore + 5"), 0,
               'no audit rows');
Test::More::is(::psql("SELECT string_agg(tags::text || coalesce(deleted_at::text, '-'), ',' ORDER BY id)
                         FROM attachments.files WHERE id IN ('$::F2', '$::F3', '$::F5')"),
               '[]-,[]-,[]-', 'no row changed');
--- request
GET /plain
--- response_body
plain



=== TEST 8: the other organization sees its own file, not acme's
--- request eval
["GET $::Base/$::F3", "GET $::Base/$::F1", "GET $::Base"]
--- more_headers
X-User: gowner
X-Org: globex
--- error_code eval
[200, 404, 200]
--- response_body_like eval
[qr/^\{"id":"$::F3","entity_type":"work_orders","entity_id":"123","organization_id":"globex",/,
 qr/"not_found"/,
 qr/^\{"files":\[\{"id":"$::F3",.*\}\],"next_cursor":null\}$/s]



=== TEST 9: invalid ids are 400 before the database
--- request eval
["GET /api/Work_Orders/123/files", "GET /api/9lives/123/files",
 "GET /api/" . ("a" x 64) . "/123/files",
 "GET /api/work_orders/12.3/files", "GET /api/work_orders/" . ("1" x 129) . "/files",
 "GET $::Base/not-a-uuid", "GET $::Base/00000000-0000-4000-8000-00000000000g/content",
 "DELETE $::Base/" . ("0" x 36)]
--- error_code eval
[(400) x 8]
--- response_body_like eval
[(qr/^\{"error":\{"code":"invalid_request","message":"entity_type must match \[a-z\]\[a-z0-9_\]\{0,62\}"\}\}$/) x 3,
 (qr/"message":"entity_id must match \[A-Za-z0-9_-\]\{1,128\}"/) x 2,
 (qr/"message":"file_id must be a UUID"/) x 3]
--- no_error_log
attachments: statement



=== TEST 10: list parameters are checked
--- request eval
["GET $::Base?limit=0", "GET $::Base?limit=101", "GET $::Base?limit=ten",
 "GET $::Base?cursor=abc", "GET $::Base?cursor=2026-02-01T10:30:00.000000_x",
 "GET $::Base?cursor=9999-99-99T99:99:99.999999_$::F1",
 "GET $::Base?tag=%01", "GET $::Base?category=" . ("c" x 129),
 "GET $::Base?tag=%FF", "GET $::Base?category=%C0%AF"]
--- error_code eval
[(400) x 10]
--- response_body_like eval
[(qr/"message":"limit must be 1 to 100"/) x 3,
 (qr/"message":"cursor must be a next_cursor this API returned"/) x 3,
 (qr/"message":"category and tag are UTF-8 text of at most 128 bytes/) x 4]



=== TEST 11: unknown routes are 404, wrong methods 405 with Allow
--- request eval
["GET /api/work_orders", "GET /api/work_orders/123", "GET /api/work_orders/123/files/",
 "GET /api/work_orders/123/attachments", "GET $::Base/$::F1/raw",
 "GET $::Base/$::F1/content/x", "PUT $::Base/$::F1\n{}", "POST $::Base/$::F1/content",
 "DELETE $::Base"]
--- error_code eval
[(404) x 6, (405) x 3]
--- response_headers_like eval
[("") x 6, "Allow: ^GET, PATCH, DELETE\$", "Allow: ^GET, HEAD\$", "Allow: ^GET, POST\$"]
--- response_body_like eval
[(qr/"code":"not_found"/) x 6, (qr/^\{"error":\{"code":"method_not_allowed",/) x 3]



=== TEST 12: no identity is 401, one that is not text 400
--- config eval
$::ArgsApiConfig
--- request eval
["GET $::Base?as=owner1", "GET $::Base?org=acme", "GET $::Base?as=&org=acme",
 "GET $::Base?as=\xff\xfe&org=acme"]
--- error_code eval
[401, 401, 401, 400]
--- response_body eval
[('{"error":{"code":"unauthenticated","message":"no user or organization"}}' . "\n") x 3,
 '{"error":{"code":"invalid_request","message":"user and organization must be UTF-8 text"}}' . "\n"]



=== TEST 13: a subrequest into the API gets nothing
--- config eval
$::ApiConfig . '
    location /ssi {
        ssi on;
        default_type text/html;
        return 200 "[<!--# include virtual=\"/api/work_orders/123/files\" -->]";
    }'
--- request
GET /ssi
--- response_body_like chomp
^\[\{"error":\{"code":"forbidden",



=== TEST 14: delete: 204, gone from reads at once, audited, row kept
--- request eval
["DELETE $::Base/$::F6", "GET $::Base/$::F6", "DELETE $::Base/$::F6"]
--- init
::psql("UPDATE attachments.files SET deleted_at = NULL WHERE id = '$::F6'");
--- error_code eval
[204, 404, 404]
--- response_body_like eval
["^\$", "not_found", "not_found"]



=== TEST 15: ...the row is soft-deleted and the audit row has its size
--- init
Test::More::is(::psql("SELECT deleted_at IS NOT NULL AND state = 'ready' FROM attachments.files WHERE id = '$::F6'"),
               't', 'soft-deleted');
Test::More::is(::audit_rows("action = 'delete'"), "delete|owner1|$::F6|5", 'one delete row');
--- request
GET /plain
--- response_body
plain



=== TEST 16: URLs come from attachments_base_url, never from the request's Host
--- more_headers
X-User: owner1
X-Org: acme
Host: attacker.example
--- request eval
"GET $::Base/$::F1"
--- response_body_like: "download_url":"http://localhost/files/org_acme/work_orders/123/contract\.pdf\?



=== TEST 17: ...and without it they are relative
--- http_config eval
$::HttpConfig =~ s/\s*attachments_base_url[^;]*;//r
--- more_headers
X-User: owner1
X-Org: acme
Host: attacker.example
--- request eval
"GET $::Base/$::F1"
--- response_body_like: "download_url":"/files/org_acme/work_orders/123/contract\.pdf\?



=== TEST 18: a Host that is not UTF-8 changes nothing (nginx 1.29.4 and later refuse it themselves)
--- http_config eval
$::HttpConfig =~ s/\s*attachments_base_url[^;]*;//r
--- more_headers eval
"X-User: owner1\nX-Org: acme\nHost: h\xff\xfe.example"
--- request eval
"GET $::Base/$::F1"
--- error_code eval
$::StrictHost ? 400 : 200
--- response_body_like eval
$::StrictHost ? '<title>400 Bad Request</title>' : '"download_url":"/files/'
