# Copyright (C) 2026 The ngx_http_attachments_module authors

# Uploads: round trips, validation with proof that nothing was stored,
# spoofed types, hostile names, limits, quotas and their race, a client
# hanging up halfway.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use Attachments::HTTP;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 115;

# outside the server root, which each block makes afresh
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_base_url http://localhost;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_max_file_size 1000;
    attachments_max_files 3;
_EOC_

our $Config = <<'_EOC_' . $StoreLocation . $ApiLocation;
    location /files/ {
        attachments_download main;
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
    more_headers =>
        "$Owner\nContent-Type: multipart/form-data; boundary=XbOuNdArY7",
);

reset_db();
seed_people();

our $Up = '/api/work_orders/9/files';
our $Bad = '/api/work_orders/bad/files';
our $Text = ("a" x 999) . "\n";

sub nothing_stored {
    Test::More::is(::count_rows('files', "entity_id = 'bad'"), 0,
                   'no row for the refused uploads');
    Test::More::is(::stored_files("$::Store/org_acme/work_orders/bad")
                   . ::stored_files("$::Store/.tmp"), '',
                   'no blob and no temporary file');
}

run_tests();

__DATA__

=== TEST 1: one file with its metadata: 201 with the file object
--- request eval
::upload_request($::Up, ['file', 'dot.png', 'image/png', $::PNG],
                 ['tags', undef, undef, '["a","b"]'], ['category', undef, undef, 'photo'],
                 ['custom_fields', undef, undef, '{"k":"v"}'],
                 ['visibility', undef, undef, 'private'])
--- error_code: 201
--- response_body_like eval
'^\{"files":\[\{"id":"[0-9a-f-]{36}","entity_type":"work_orders","entity_id":"9",'
. '"organization_id":"acme","file_name":"dot.png","file_ext":"png",'
. '"content_type":"image/png","size":' . length($::PNG) . ',"sha256":"'
. Digest::SHA::sha256_hex($::PNG) . '","category":"photo","tags":\["a","b"\],'
. '"custom_fields":\{"k":"v"\},"doc_version":0,"visibility":"private",'
. '"uploaded_by":"owner1","created_at":"[^"]+","updated_at":"[^"]+",'
. '"download_url":"http://localhost/files/org_acme/work_orders/9/[0-9a-f-]{36}-dot\.png\?[^"]+",'
. '"download_url_expires_at":"[^"]+"\}\]\}$'



=== TEST 2: the blob is the bytes sent, under its key; content serves them
--- init
my ($id, $key, $state) = split /\|/, ::psql("SELECT id, storage_key, state
    FROM attachments.files WHERE entity_id = '9'");
Test::More::is($state, 'ready', 'the row is ready');
Test::More::like($key, qr{^org_acme/work_orders/9/$id-dot\.png$}, 'default key');
open my $fh, '<', "$::Store/$key" or die "$key: $!";
binmode $fh;
Test::More::is(do { local $/; <$fh> }, $::PNG, 'identical bytes on disk');
Test::More::is(sprintf('%o', (stat "$::Store/$key")[2] & 07777), '600',
               'the blob is readable by the workers\' user only');
Test::More::is(sprintf('%o', (stat "$::Store/org_acme/work_orders/9")[2] & 07777), '700',
               'and so is its directory');
Test::More::is(sprintf('%o', (stat "$::Store/.tmp")[2] & 07777), '700',
               'and the temporary area');
Test::More::is(::audit_rows("file_id = '$id'"),
               "upload|owner1|$id|" . length($::PNG) . "\nurl_issued|owner1|$id|",
               'upload and url_issued audited');
my $http = Attachments::HTTP->new;
my $base = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}";
my %who = (headers => { 'X-User' => 'viewer1', 'X-Org' => 'acme' });
my $r = $http->get("$base$::Up/$id/content", \%who);
Test::More::is($r->{content}, $::PNG, 'content serves the same bytes');
Test::More::is($r->{headers}{'content-type'}, 'image/png', 'as the sniffed type');
$r = $http->get("$base$::Up/$id", \%who);
my ($url) = $r->{content} =~ m{"download_url":"http://[^/"]+([^"]+)"};
Test::More::is($http->get("$base$url")->{content}, $::PNG, 'and so does its signed URL');
--- more_headers
X-User: viewer1
X-Org: acme
--- request eval
"GET $::Up"
--- response_body_like: ^\{"files":\[\{"id":"[0-9a-f-]{36}",[^\]]+"file_name":"dot\.png"



=== TEST 3: several files and fields in one request
--- request eval
::upload_request('/api/work_orders/10/files', ['file', 'a.pdf', 'application/pdf', $::PDF],
                 ['category', undef, undef, 'scan'], ['file', 'b.png', undef, $::PNG])
--- error_code: 201
--- response_body_like eval
'^\{"files":\[\{.*"file_name":"a\.pdf","file_ext":"pdf","content_type":"application/pdf",.*"category":"scan".*\},\{.*"file_name":"b\.png",.*"content_type":"image/png".*\}\]\}$'



=== TEST 4: the type is the bytes', not the client's
--- request eval
[::upload_request($::Bad, ['file', 'x.pdf', 'application/pdf', $::PNG]),
 ::upload_request($::Bad, ['file', 'invoice.pdf', 'application/octet-stream', $::ELF]),
 ::upload_request($::Bad, ['file', 'ok.png', 'image/png', $::PNG], ['file', 'run.pdf', undef, $::ELF])]
--- error_code eval
[415, 415, 415]
--- response_body eval
['{"error":{"code":"type_mismatch","message":"the file\'s content is not of its declared type","file":"x.pdf"}}' . "\n",
 '{"error":{"code":"unsupported_type","message":"the file\'s content is not of an allowed type","file":"invoice.pdf"}}' . "\n",
 '{"error":{"code":"unsupported_type","message":"the file\'s content is not of an allowed type","file":"run.pdf"}}' . "\n"]



=== TEST 5: sizes: the limit passes, one byte more is 413, nothing is 400
--- request eval
[::upload_request('/api/work_orders/11/files', ['file', 'limit.txt', 'text/plain', $::Text]),
 ::upload_request($::Bad, ['file', 'over.txt', 'text/plain', $::Text . 'b']),
 ::upload_request($::Bad, ['file', 'empty.txt', 'text/plain', ''])]
--- error_code eval
[201, 413, 400]
--- response_body_like eval
['"size":1000,', '^\{"error":\{"code":"file_too_large","message":"a file is over attachments_max_file_size","file":"over.txt"\}\}$',
 '^\{"error":\{"code":"empty_file","message":"a file of 0 bytes"\}\}$']



=== TEST 6: hostile file names are stored harmless
--- request eval
[map { ::upload_request('/api/work_orders/12/files', ['file', $_, 'text/plain', "x\n"]) }
 '../../etc/passwd', '..\\\\x.txt', '%2e%2e%2fy.txt', "\xe2\x80\xa4\xe2\x80\xa4\xe2\x88\x95z.txt",
 "a\xe2\x80\xaetxt.exe", '']
--- error_code eval
[(201) x 6]
--- response_body_like eval
['"file_name":"passwd","file_ext":"",', '"file_name":"x.txt",', '"file_name":"%2e%2e%2fy.txt",',
 "\"file_name\":\"\xe2\x80\xa4\xe2\x80\xa4\xe2\x88\x95z.txt\"" =~ s/\xe2\x80\xa4|\xe2\x88\x95/_/gr,
 '"file_name":"atxt.exe","file_ext":"exe",', '"file_name":"file","file_ext":"",']



=== TEST 7: ...and their keys stay inside the storage
--- init
my @keys = split /\n/, ::psql("SELECT storage_key FROM attachments.files
                                WHERE entity_id = '12' ORDER BY created_at");
Test::More::is(scalar(grep { m{^org_acme/work_orders/12/[0-9a-f-]{36}-[A-Za-z0-9._-]+$} && !/\.\./ } @keys),
               6, 'six keys of [A-Za-z0-9._-] under the record');
Test::More::is(scalar(grep { -f "$::Store/$_" } @keys), 6, 'six blobs there');
--- request
GET /api/work_orders/12/files
--- response_body_like: "next_cursor":null



=== TEST 8: malformed multipart is 400
--- request eval
[::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"]) =~ s/--XbOuNdArY7--\r\n$//r,
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"]) =~ s/Content-Disposition: form-data; name="file"; filename="a.txt"\r\n/X-Pad: @{["p" x 9000]}\r\n/r,
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"]) =~ s/Content-Disposition[^\r]*\r\n//r,
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['tags', undef, undef, '[]'], ['tags', undef, undef, '[]']),
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['owner', undef, undef, 'me']),
 ::upload_request($::Bad, ['file', undef, undef, "hello\n"]),
 ::upload_request($::Bad, ['category', undef, undef, 'doc']),
 "POST $::Bad\nnot multipart at all"]
--- error_code eval
[(400) x 8]
--- response_body_like eval
['"message":"the body ends before the final boundary"', '"message":"the headers of a part are too long"',
 '"message":"a part without Content-Disposition"', '"message":"a field is sent twice"',
 '"message":"parts are file, category, tags, custom_fields and visibility"',
 '"message":"a file part without a filename"', '^\{"error":\{"code":"no_file","message":"no part named file"\}\}$',
 '"message":"no boundary in the body"']



=== TEST 9: a multipart Content-Type without a boundary is 400
--- more_headers
X-User: owner1
X-Org: acme
Content-Type: multipart/form-data
--- request eval
"POST $::Bad\n" . ::multipart(['file', 'a.txt', undef, "hello\n"])
--- error_code: 400
--- response_body
{"error":{"code":"malformed_multipart","message":"the body must be multipart/form-data with a boundary"}}



=== TEST 10: too many files is 413, bad fields 422
--- request eval
[::upload_request($::Bad, map { ['file', "$_.txt", undef, "hello\n"] } 1 .. 4),
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['tags', undef, undef, '"x"']),
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['custom_fields', undef, undef, '[1]']),
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['visibility', undef, undef, 'secret']),
 ::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['category', undef, undef, "a\tb"])]
--- error_code eval
[413, 422, 422, 422, 422]
--- response_body_like eval
['"code":"too_many_files"', '"message":"tags must be an array of strings"',
 '"message":"custom_fields must be an object"', '"message":"visibility is private or public"',
 '"message":"category must be null or a string']



=== TEST 11: a viewer may not upload
--- more_headers
X-User: viewer1
X-Org: acme
Content-Type: multipart/form-data; boundary=XbOuNdArY7
--- request eval
::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"])
--- error_code: 403



=== TEST 12: nothing of any refused upload was stored; usage counts what was
--- init
::nothing_stored();
my $org = ::psql("SELECT sum(size) FROM attachments.files WHERE organization_id = 'acme' AND state = 'ready'");
my $user = ::psql("SELECT sum(size) FROM attachments.files WHERE uploaded_by = 'owner1' AND visibility = 'private' AND state = 'ready'");
my $r = Attachments::HTTP->new->get("http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/api/usage",
                             { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
Test::More::is($r->{content},
               qq({"organization":{"id":"acme","used_bytes":$org,"limit_bytes":null},)
               . qq("user":{"id":"owner1","used_bytes":$user,"limit_bytes":null}}\n),
               'usage as the rows say');
--- request
GET /api/usage
--- more_headers
X-User: gowner
X-Org: globex
--- response_body
{"organization":{"id":"globex","used_bytes":0,"limit_bytes":null},"user":{"id":"gowner","used_bytes":0,"limit_bytes":null}}



=== TEST 13: over the organization's quota: 507 and nothing stored
--- init
my $used = ::psql("SELECT sum(size) FROM attachments.files WHERE organization_id = 'acme' AND state = 'ready'");
::psql("INSERT INTO attachments.quotas VALUES ('acme', '', $used + " . (length($::PNG) + 10) . ")");
--- request eval
[::upload_request('/api/work_orders/13/files', ['file', 'fits.png', undef, $::PNG]),
 ::upload_request($::Bad, ['file', 'over.png', undef, $::PNG])]
--- error_code eval
[201, 507]
--- response_body_like eval
['"file_name":"fits.png"', '^\{"error":\{"code":"quota_exceeded","message":"the upload does not fit the organization\'s quota"\}\}$']



=== TEST 14: over the user's quota, the same
--- init
::psql("DELETE FROM attachments.quotas");
::psql("INSERT INTO attachments.quotas VALUES ('acme', 'editor1', 10)");
--- more_headers
X-User: editor1
X-Org: acme
Content-Type: multipart/form-data; boundary=XbOuNdArY7
--- request eval
::upload_request($::Bad, ['file', 'over.png', undef, $::PNG])
--- error_code: 507
--- response_body_like: user's quota



=== TEST 15: two uploads racing for room for one: one 201, one 507
--- init
::nothing_stored();
::psql("DELETE FROM attachments.quotas");
my $used = ::psql("SELECT sum(size) FROM attachments.files WHERE organization_id = 'acme' AND state = 'ready'");
::psql("INSERT INTO attachments.quotas VALUES ('acme', '', $used + " . (length($::PNG) + 10) . ")");
my $body = ::multipart(['file', 'race.png', undef, $::PNG]);
my @pids = map { ::post_async('/api/work_orders/race/files', $body, 'owner1', 'acme') } 1 .. 2;
my @st = sort map { ::async_status($_) } @pids;
Test::More::is("@st", '201 507', 'exactly one fits');
Test::More::is(::count_rows('files', "entity_id = 'race'"), 1, 'one row');
Test::More::is(scalar(() = ::stored_files("$::Store/org_acme/work_orders/race") =~ /race\.png/g), 1,
               'one blob');
::psql("DELETE FROM attachments.quotas");
--- request
GET /api/work_orders/race/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body_like: ^\{"files":\[\{[^\]]+"file_name":"race\.png"



=== TEST 16: a client hanging up halfway leaves nothing
--- init
my $pid = ::post_async($::Bad, ::multipart(['file', 'half.txt', undef, "z" x 900]), 'owner1', 'acme', 0.3);
::async_status($pid);
Time::HiRes::sleep(0.2);
::nothing_stored();
--- request
GET /api/work_orders/bad/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body
{"files":[],"next_cursor":null}



=== TEST 17: attachments_key with the module's variables and map
--- http_config eval
$::Http . '
    map $attachments_entity_type $folder {
        work_orders  field-service;
        default      general;
    }
    attachments_key $folder/$attachments_org/$attachments_entity_id/$attachments_uuid-$attachments_filename;'
--- request eval
::upload_request('/api/work_orders/17/files', ['file', "r\xc3\xa9sum\xc3\xa9 (1).png", 'image/png', $::PNG])
--- error_code: 201
--- response_body_like eval
qr{"file_name":"r\xc3\xa9sum\xc3\xa9 \(1\)\.png".*"download_url":"http://localhost/files/field-service/acme/17/[0-9a-f-]{36}-r_sum___1_\.png\?}



=== TEST 18: a key template that leaves the storage fails the upload
--- http_config eval
$::Http . '
    attachments_key ../$attachments_uuid;'
--- request eval
::upload_request('/api/work_orders/18/files', ['file', 'a.png', 'image/png', $::PNG])
--- error_code: 500
--- error_log
attachments: attachments_key made an unsafe key "../



=== TEST 18a: ...and so does a private file's key in the public area (an organization "public")
--- http_config eval
$::Http . '
    attachments_key $attachments_org/$attachments_uuid-$attachments_filename;'
--- init
::psql("INSERT INTO attachments.memberships VALUES ('public', 'owner1', 'owner')"
       . " ON CONFLICT DO NOTHING");
--- more_headers
X-User: owner1
X-Org: public
Content-Type: multipart/form-data; boundary=XbOuNdArY7
--- request eval
::upload_request('/api/work_orders/18/files', ['file', 'a.png', 'image/png', $::PNG])
--- error_code: 500
--- error_log
attachments: attachments_key made a key in the public area "public/



=== TEST 19: client_max_body_size: nginx refuses a declared length up front
--- config eval
$::Config =~ s/attachments_api;/attachments_api;\n        client_max_body_size 2k;/r
--- raw_request eval
my $body = ::multipart(['file', 'a.txt', undef, "hello\n" x 400]);
"POST $::Bad HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\nX-Org: acme\r\n"
. "Content-Type: multipart/form-data; boundary=XbOuNdArY7\r\n"
. "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body"
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large



=== TEST 19b: ...and the module a chunked body over it as it comes
--- config eval
$::Config =~ s/attachments_api;/attachments_api;\n        client_max_body_size 2k;/r
--- raw_request eval
my $body = ::multipart(['file', 'a.txt', undef, "hello\n" x 400]);
"POST $::Bad HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\nX-Org: acme\r\n"
. "Content-Type: multipart/form-data; boundary=XbOuNdArY7\r\n"
. "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
. CORE::join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) } unpack('(a500)*', $body))
. "0\r\n\r\n"
--- error_code: 413
--- response_body_like: ^\{"error":\{"code":"body_too_large","message":"the body is over client_max_body_size"\}\}$



=== TEST 20: an oversized field is 400; usage takes GET only
--- request eval
[::upload_request($::Bad, ['file', 'a.txt', undef, "hello\n"], ['custom_fields', undef, undef, '{"k":"' . ("v" x 17000) . '"}']),
 "POST /api/usage\n"]
--- error_code eval
[400, 405]
--- response_body_like eval
['"message":"a field is over 16384 bytes"', '"code":"method_not_allowed"']



=== TEST 21: still nothing stored from any refused upload
--- init
::nothing_stored();
--- request
GET /api/work_orders/bad/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body
{"files":[],"next_cursor":null}



=== TEST 22: attachments-fsck finds every row with its blob and every blob with its row
--- init
Test::More::is(::fsck("main=local:$::Store"), '', 'no finding');
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
