# Copyright (C) 2026 The ngx_http_attachments_module authors

# The metadata API: PATCH and its validation, SQL metacharacters stored and
# returned verbatim, pagination across pages, category and tag filters.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 102;

block_defaults(
    http_config => $HttpConfig,
    config => $ApiConfig,
    user_files => $Files,
    more_headers => "X-User: editor1\nX-Org: acme",
);

our $F1 = uuid(1);
our $AuditCount;
our $File = "/api/work_orders/123/files/$F1";
our $Leads = '/api/leads/77/files';

# hostile strings for every string input
our $Evil = q{O'Brien"; DROP TABLE attachments.files; -- \\ $1 %s <x>};
our $EvilJson = q{O'Brien\"; DROP TABLE attachments.files; -- \\\\ $1 %s <x>};

reset_db();
seed_people();
add_file(id => $F1, name => 'contract.pdf', ext => 'pdf',
         content_type => 'application/pdf', size => 34,
         key => 'org_acme/work_orders/123/contract.pdf',
         category => 'document', tags => '["signed"]',
         fields => '{"customer_ref": "C-77"}',
         created => "timestamptz '2026-02-01 10:30:00Z'");

# leads/77: seven files a second apart, ids 101..107, newest (107) first
for my $i (1 .. 7) {
    add_file(id => uuid(100 + $i), type => 'leads', eid => '77',
             name => "f$i.txt",
             category => $i % 2 ? 'photo' : 'scan',
             tags => $i <= 3 ? '["red", "blue"]' : '["blue"]',
             created => "timestamptz '2026-01-01 00:00:00Z'"
                        . " + interval '$i seconds'");
}

# file objects by id, in order (an object holds at most one level of {})
sub ids {
    CORE::join ',', map { '\{"id":"' . uuid($_) . '"[^{}]*(?:\{[^{}]*\}[^{}]*)*\}' } @_;
}
sub cursor { sprintf '2026-01-01T00:00:%02d.000000_%s', $_[0] - 100, uuid($_[0]) }

run_tests();

__DATA__

=== TEST 1: PATCH replaces tags, custom_fields and category and returns the file
(custom_fields come back in jsonb's key order)
--- request eval
"PATCH $::File
{\"tags\":[\"signed\",\"final\"],\"custom_fields\":{\"customer_ref\":\"C-78\",\"n\":2,\"nested\":{\"a\":[1,true,null]}},\"category\":\"contract\"}"
--- response_body_like eval
'^' . ::file_re(tags => '["signed","final"]',
                custom_fields => '{"n":2,"nested":{"a":[1,true,null]},"customer_ref":"C-78"}',
                category => '"contract"', updated_at => 'NOW') . '\n$'



=== TEST 2: GET shows the change; the update and the URL it issued are audited
--- init
Test::More::is(::audit_rows(), "update|editor1|$::F1|\nurl_issued|editor1|$::F1|",
               'update and url_issued rows');
--- request eval
"GET $::File"
--- response_body_like eval
'"category":"contract","tags":\["signed","final"\],"custom_fields":\{"n":2,"nested":\{"a":\[1,true,null\]\},"customer_ref":"C-78"\}'



=== TEST 3: fields left out stay; category null clears it
--- request eval
["PATCH $::File\n{\"category\":null}", "PATCH $::File\n{}"]
--- response_body_like eval
['"category":null,"tags":\["signed","final"\],"custom_fields":\{"n":2,',
 '"category":null,"tags":\["signed","final"\]']



=== TEST 4: invalid metadata is 422 and changes nothing
--- request eval
[map { "PATCH $::File\n$_" }
 '{"tags":"a"}', '{"tags":[1]}', '{"tags":[""]}', '{"tags":["a\u0001"]}',
 '{"tags":[' . CORE::join(',', ('"t"') x 65) . ']}', '{"tags":["' . ('t' x 129) . '"]}',
 '{"custom_fields":[]}', '{"custom_fields":"x"}',
 '{"custom_fields":{"big":"' . ('x' x 16400) . '"}}',
 '{"category":5}', '{"category":""}', '{"category":["a"]}',
 '{"size":1}', '{"tags":[],"storage_key":"../x"}', '[]', '"tags"']
--- error_code eval
[(422) x 16]
--- response_body_like eval
[(qr/^\{"error":\{"code":"invalid_metadata","message":"tags must be an array of strings"\}\}$/) x 2,
 (qr/"message":"a tag is 1 to 128 bytes without control characters"/) x 2,
 qr/"message":"at most 64 tags"/, qr/"message":"a tag is 1 to 128 bytes/,
 (qr/"message":"custom_fields must be an object"/) x 2,
 qr/"message":"custom_fields must be at most 16384 bytes of JSON"/,
 (qr/"message":"category must be null or a string of 1 to 128 bytes/) x 3,
 (qr/"message":"only tags, custom_fields and category can be changed"/) x 2,
 (qr/"message":"the body must be a JSON object"/) x 2]



=== TEST 5: a body that is not JSON is 400; too large is 413
--- request eval
["PATCH $::File\n{\"tags\":", "PATCH $::File\n{\"tags\":[],\"tags\":[]}",
 "PATCH $::File\n", "PATCH $::File\n{\"custom_fields\":{\"x\":\"" . ("x" x 70000) . "\"}}"]
--- error_code eval
[400, 400, 400, 413]
--- response_body_like eval
[(qr/^\{"error":\{"code":"malformed_json","message":".+"\}\}$/) x 3,
 qr/^\{"error":\{"code":"body_too_large",/]



=== TEST 6: ...and nothing changed or was audited
--- init
Test::More::is(::psql("SELECT category IS NULL, tags, custom_fields->>'customer_ref'
                         FROM attachments.files WHERE id = '$::F1'"),
               't|["signed", "final"]|C-78', 'row as TEST 3 left it');
Test::More::is(::count_rows('audit_log', "action = 'update'"), 3,
               'only the three accepted updates');
--- request
GET /plain
--- response_body
plain



=== TEST 7: SQL metacharacters are stored and returned verbatim
--- request eval
"PATCH $::File
{\"tags\":[\"$::EvilJson\",\"x'y\"],\"custom_fields\":{\"$::EvilJson\":\"$::EvilJson\"},\"category\":\"$::EvilJson\"}"
--- response_body_like eval
my $e = quotemeta $::EvilJson;
"\"category\":\"$e\",\"tags\":\\[\"$e\",\"x'y\"\\],\"custom_fields\":\\{\"$e\":\"$e\"\\}"



=== TEST 8: ...in the database as sent, and usable as filters
--- init
Test::More::is(::psql("SELECT category FROM attachments.files WHERE id = '$::F1'"),
               $::Evil, 'category verbatim');
Test::More::is(::psql("SELECT count(*) FROM attachments.files"), 8, 'no row lost');
--- request eval
["GET /api/work_orders/123/files?category=" . Attachments::Sign::escape_arg($::Evil),
 "GET /api/work_orders/123/files?tag=" . Attachments::Sign::escape_arg($::Evil),
 "GET /api/work_orders/123/files?tag=x%27y", "GET /api/work_orders/123/files?tag=x%27"]
--- response_body_like eval
[qr/^\{"files":\[\{"id":"$::F1"/, qr/^\{"files":\[\{"id":"$::F1"/,
 qr/^\{"files":\[\{"id":"$::F1"/, qr/^\{"files":\[\],"next_cursor":null\}$/]



=== TEST 9: pages follow each other newest first, each with the next cursor
--- request eval
["GET $::Leads?limit=3", "GET $::Leads?limit=3&cursor=" . ::cursor(105),
 "GET $::Leads?limit=3&cursor=" . ::cursor(102), "GET $::Leads?limit=7",
 "GET $::Leads?cursor=" . ::cursor(101)]
--- response_body_like eval
['^\{"files":\[' . ::ids(107, 106, 105) . '\],"next_cursor":"' . ::cursor(105) . '"\}$',
 '^\{"files":\[' . ::ids(104, 103, 102) . '\],"next_cursor":"' . ::cursor(102) . '"\}$',
 '^\{"files":\[' . ::ids(101) . '\],"next_cursor":null\}$',
 '^\{"files":\[' . ::ids(107, 106, 105, 104, 103, 102, 101) . '\],"next_cursor":null\}$',
 '^\{"files":\[\],"next_cursor":null\}$']



=== TEST 10: filters by category and tag, also across pages
--- request eval
["GET $::Leads?category=photo", "GET $::Leads?tag=red", "GET $::Leads?tag=blue&category=scan",
 "GET $::Leads?category=photo&limit=2", "GET $::Leads?category=photo&limit=2&cursor=" . ::cursor(105),
 "GET $::Leads?tag=green"]
--- response_body_like eval
['^\{"files":\[' . ::ids(107, 105, 103, 101) . '\],"next_cursor":null\}$',
 '^\{"files":\[' . ::ids(103, 102, 101) . '\],"next_cursor":null\}$',
 '^\{"files":\[' . ::ids(106, 104, 102) . '\],"next_cursor":null\}$',
 '^\{"files":\[' . ::ids(107, 105) . '\],"next_cursor":"' . ::cursor(105) . '"\}$',
 '^\{"files":\[' . ::ids(103, 101) . '\],"next_cursor":null\}$',
 '^\{"files":\[\],"next_cursor":null\}$']



=== TEST 11: a page of 100 files is the most
--- init
::psql("INSERT INTO attachments.files (lineage_id, organization_id, entity_type,
            entity_id, storage, storage_key, file_name, content_type, size,
            uploaded_by, state)
        SELECT gen_random_uuid(), 'acme', 'leads', '88', 'main', 'k/' || g,
               'm' || g, 'text/plain', 1, 'owner1', 'ready'
          FROM generate_series(1, 101) g");
--- request eval
["GET /api/leads/88/files?limit=100", "GET /api/leads/88/files"]
--- response_body_like eval
['^\{"files":\[(?:\{"id":"[^{}]*(?:\{[^{}]*\}[^{}]*)*\},?){100}\],"next_cursor":"[^"]+"\}$',
 '^\{"files":\[(?:\{"id":"[^{}]*(?:\{[^{}]*\}[^{}]*)*\},?){50}\],"next_cursor":"[^"]+"\}$']



=== TEST 12: attachments_audit off: the actions happen, no audit row is written
--- init
$::AuditCount = ::count_rows('audit_log');
--- config eval
$::ApiConfig =~ s/attachments_api;/attachments_api;\n        attachments_audit off;/r
--- request eval
["GET /api/work_orders/123/files", "PATCH $::File\n{\"category\":\"unaudited\"}"]
--- response_body_like eval
['^\{"files":\[\{', '"category":"unaudited"']



=== TEST 13: ...none
--- init
Test::More::is(::count_rows('audit_log'), $::AuditCount, 'no new audit row');
--- request
GET /plain
--- response_body
plain



=== TEST 14: a metadata update over 64k is refused before its body is read
--- no_http2
--- config eval
$::ApiConfig =~ s/attachments_api;/attachments_api;\n        client_max_body_size 10m;/r
--- init
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT}) or die;
$s->autoflush(1);
print $s "PATCH $::File HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\n"
    . "X-Org: acme\r\nContent-Type: application/json\r\n"
    . "Content-Length: 5000000\r\nConnection: close\r\n\r\n{\"tags\":[\"";
my $resp = '';
eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 3;
    while (<$s>) { $resp .= $_ }
    alarm 0;
};
Test::More::like($resp, qr{^HTTP/1\.1 413 .*"code":"body_too_large"}s,
                 'answered at once, the 5 MB never sent');
--- request
GET /api/work_orders/123/files
--- error_code: 200



=== TEST 15: custom_fields come back compact as sent: escapes, numbers, UTF-8, separators inside strings
--- request eval
"PATCH $::File\n"
. '{"custom_fields":{"b":"x\u001fy\"z\\\\ \u00e9 \ud83d\udcce","a":[1.5,100.0,-3,true,null,{}],"cc":{"k":"v: w, u"}}}'
--- response_body_like eval
quotemeta('"custom_fields":{"a":[1.5,100.0,-3,true,null,{}],"b":"x\u001Fy\"z\\\\ '
          . "\xc3\xa9 \xf0\x9f\x93\x8e"
          . '","cc":{"k":"v: w, u"}},"doc_version":')
