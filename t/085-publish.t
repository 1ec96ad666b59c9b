# Copyright (C) 2026 The ngx_http_attachments_module authors

# Public files: publishing moves the blob to the storage's public area and
# gives a permanent unsigned URL served without identity; uploads may be
# public at once; usage follows the seed rules, computed here by hand.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use File::Temp qw(tempdir);
use Attachments::HTTP;
use JSON::PP;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 76;

our $Store = tempdir('attachments-publish.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_base_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/ public=/pub/;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /pub/ {
        attachments_public main;
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
);

reset_db();
seed_people();
psql(q{INSERT INTO attachments.memberships VALUES
         ('initech', 'peter', 'owner'), ('initech', 'milton', 'editor')});

our %F;

sub call {
    my ($method, $path, $user, $org, $body) = @_;
    my %h = ('X-User' => $user, 'X-Org' => $org);
    $h{'Content-Type'} = "multipart/form-data; boundary=XbOuNdArY7" if defined $body;
    my $r = Attachments::HTTP->new->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    return ($r->{status}, eval { JSON::PP->new->decode($r->{content}) }, $r->{content});
}

sub usage {
    my ($user, $org) = @_;
    my (undef, $j) = call('GET', '/api/usage', $user, $org);
    return "$j->{organization}{used_bytes}/$j->{user}{used_bytes}";
}

run_tests();

__DATA__

=== TEST 1: publish: the file becomes public with a permanent unsigned URL
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/7/files', 'owner1', 'acme',
                      ::multipart(['file', 'logo.png', 'image/png', $::PNG]));
$::F{logo} = $j->{files}[0];
my $old = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$::F{logo}{id}'");
($st, $j) = ::call('POST', "/api/work_orders/7/files/$::F{logo}{id}/publish", 'owner1', 'acme');
Test::More::is($st, 200, 'published');
Test::More::is($j->{visibility}, 'public', 'visibility public');
Test::More::like($j->{download_url},
                 qr{^http://127\.0\.0\.1:\d+/pub/org_acme/work_orders/7/[0-9a-f-]{36}-logo\.png$},
                 'an unsigned URL under public=');
Test::More::ok(exists $j->{download_url_expires_at} && !defined $j->{download_url_expires_at},
               'that does not expire');
Test::More::ok(!-e "$::Store/$old", 'the private name is gone');
Test::More::ok(-e "$::Store/public/$old", 'the blob is in the public area');
my $r = Attachments::HTTP->new->get($j->{download_url});
Test::More::is($r->{content}, $::PNG, 'served without signature and without identity');
Test::More::is(::audit_rows("action = 'publish'"),
               "publish|owner1|$::F{logo}{id}|" . length($::PNG), 'audited');
($st, $j) = ::call('POST', "/api/work_orders/7/files/$::F{logo}{id}/publish", 'owner1', 'acme');
Test::More::is("$st $j->{visibility}", '200 public', 'publishing twice is harmless');
($st) = ::call('GET', "/api/work_orders/7/files/$::F{logo}{id}/content", 'owner1', 'acme');
Test::More::is($st, 200, 'content still works');
--- request
GET /api/work_orders/7/files/00000000-0000-4000-8000-000000000001/publish
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 405



=== TEST 2: who may publish, and what
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/7/files', 'owner1', 'acme',
                      ::multipart(['file', 'plan.pdf', 'application/pdf', $::PDF]));
$::F{plan} = $j->{files}[0]{id};
($st) = ::call('POST', "/api/work_orders/7/files/$::F{plan}/publish", 'viewer1', 'acme');
Test::More::is($st, 403, 'a viewer: 403');
($st) = ::call('POST', "/api/work_orders/7/files/$::F{plan}/publish", 'gowner', 'globex');
Test::More::is($st, 404, 'another organization: 404');
($st) = ::call('POST', "/api/work_orders/8/files/$::F{plan}/publish", 'owner1', 'acme');
Test::More::is($st, 404, 'another record: 404');
Test::More::is(::psql("SELECT visibility FROM attachments.files WHERE id = '$::F{plan}'"),
               'private', 'still private');
--- request
GET /pub/
--- error_code: 404



=== TEST 3: an upload can be public at once
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/7/files', 'owner1', 'acme',
                      ::multipart(['file', 'flyer.pdf', 'application/pdf', $::PDF],
                                  ['visibility', undef, undef, 'public']));
Test::More::is($st, 201, 'uploaded');
Test::More::like($j->{files}[0]{download_url}, qr{/pub/org_acme/work_orders/7/[0-9a-f-]{36}-flyer\.pdf$},
                 'with its public URL');
Test::More::is(Attachments::HTTP->new->get($j->{files}[0]{download_url})->{content}, $::PDF,
               'served');
--- request
GET /api/work_orders/7/files
--- more_headers
X-User: owner1
X-Org: acme
--- response_body_like: "visibility":"public".*"download_url_expires_at":null



=== TEST 4: usage by hand: the organization counts everything, a user their private files
--- init
my $A = 'a' x 100; my $B = 'b' x 30; my $C = 'c' x 7;
my ($st, $j) = ::call('POST', '/api/leads/1/files', 'peter', 'initech',
                      ::multipart(['file', 'a.txt', 'text/plain', $A]));
my $a_id = $j->{files}[0]{id};
::call('POST', '/api/leads/1/files', 'peter', 'initech',
       ::multipart(['file', 'b.txt', 'text/plain', $B], ['visibility', undef, undef, 'public']));
::call('POST', '/api/leads/1/files', 'milton', 'initech',
       ::multipart(['file', 'c.txt', 'text/plain', $C]));
Test::More::is(::usage('peter', 'initech'), '137/100', 'peter: org 100+30+7, his private 100');
Test::More::is(::usage('milton', 'initech'), '137/7', 'milton: his private 7');
($st) = ::call('POST', "/api/leads/1/files/$a_id/publish", 'peter', 'initech');
Test::More::is($st, 200, 'peter publishes a.txt');
Test::More::is(::usage('peter', 'initech'), '137/0', 'the org still counts it, peter no more');
::psql("INSERT INTO attachments.quotas VALUES ('initech', '', 100)");
($st, $j) = ::call('POST', '/api/leads/1/files', 'milton', 'initech',
                   ::multipart(['file', 'd.txt', 'text/plain', "dddd\n"]));
Test::More::is($st, 507, 'an organization over its quota takes no upload');
my (undef, $list) = ::call('GET', '/api/leads/1/files', 'milton', 'initech');
my ($c) = grep { $_->{file_name} eq 'c.txt' } @{$list->{files}};
($st, $j) = ::call('POST', "/api/leads/1/files/$c->{id}/publish", 'milton', 'initech');
Test::More::is("$st $j->{error}{code}", '507 quota_exceeded', '...and publishes nothing');
Test::More::is(::psql("SELECT visibility FROM attachments.files WHERE id = '$c->{id}'"),
               'private', 'nothing moved');
--- request
GET /api/usage
--- more_headers
X-User: milton
X-Org: initech
--- response_body
{"organization":{"id":"initech","used_bytes":137,"limit_bytes":100},"user":{"id":"milton","used_bytes":7,"limit_bytes":null}}



=== TEST 5: two publishes of one file at once: both answered 200, the blob stays and is served
--- init
my @bad;
for my $i (1 .. 12) {
    my ($st, $j) = ::call('POST', '/api/work_orders/9/files', 'owner1', 'acme',
                          ::multipart(['file', "race$i.pdf", 'application/pdf', $::PDF]));
    my $id = $j->{files}[0]{id};
    my @p = map { ::post_async("/api/work_orders/9/files/$id/publish", '', 'owner1', 'acme') }
                1 .. 2;
    my @s = map { ::async_status($_) } @p;
    my (undef, $f) = ::call('GET', "/api/work_orders/9/files/$id", 'owner1', 'acme');
    my $got = defined $f->{download_url}
              ? Attachments::HTTP->new->get($f->{download_url})->{content} : '';
    push @bad, "round $i: @s, $f->{visibility}, " . ($got eq $::PDF ? 'served' : 'lost')
        unless "@s" eq '200 200' && $got eq $::PDF;
}
Test::More::is(join("\n", @bad), '', 'every round: 200 and 200, public and served');
--- request
GET /pub/
--- error_code: 404



=== TEST 6: a public name another file holds is not taken, nor removed
--- http_config eval
$::Http . '    attachments_key k/$attachments_entity_id/$attachments_filename;'
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/10/files', 'owner1', 'acme',
                      ::multipart(['file', 'pub.pdf', 'application/pdf', $::PDF],
                                  ['visibility', undef, undef, 'public']));
Test::More::is($st, 201, 'a public pub.pdf');
my $public = $j->{files}[0];
($st, $j) = ::call('POST', '/api/work_orders/10/files', 'owner1', 'acme',
                   ::multipart(['file', 'pub.pdf', 'application/pdf', "$::PDF%second\n"]));
Test::More::is($st, 201, 'a private pub.pdf');
($st, $j) = ::call('POST', "/api/work_orders/10/files/$j->{files}[0]{id}/publish",
                   'owner1', 'acme');
Test::More::is("$st $j->{error}{code}", '409 conflict', 'publishing it is a conflict');
Test::More::is(Attachments::HTTP->new->get($public->{download_url})->{content}, $::PDF,
               'the public one is still served');
--- request
GET /pub/
--- error_code: 404



=== TEST 7: a new version of a public document is public, in the public area, and served
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/11/files', 'owner1', 'acme',
                      ::multipart(['file', 'menu.pdf', 'application/pdf', $::PDF],
                                  ['visibility', undef, undef, 'public']));
my $v0 = $j->{files}[0];
my $v1pdf = "$::PDF%v1\n";
($st, $j) = ::call('POST', "/api/work_orders/11/files/$v0->{id}/versions", 'owner1', 'acme',
                   ::multipart(['file', 'menu.pdf', 'application/pdf', $v1pdf]));
Test::More::is($st, 201, 'a new version');
my $v1 = $j->{files}[0];
Test::More::is("$v1->{visibility} $v1->{doc_version}", 'public 1', 'public, version 1');
Test::More::like($v1->{download_url} // '', qr{/pub/org_acme/work_orders/11/[0-9a-f-]{36}-menu\.pdf$},
                 'with its public URL');
Test::More::is(Attachments::HTTP->new->get($v1->{download_url} // '')->{content}, $v1pdf, 'served');
Test::More::like(::psql("SELECT storage_key FROM attachments.files WHERE id = '$v1->{id}'"),
                 qr{^public/}, 'its key is in the public area');
--- request
GET /pub/
--- error_code: 404



=== TEST 8: a public file is served as what its bytes are, never rendered: an HTML name changes nothing
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/12/files', 'owner1', 'acme',
                      ::multipart(['file', 'notes.html', 'text/plain',
                                   "hello <img src=x onerror=alert(1)>\n"],
                                  ['visibility', undef, undef, 'public']));
Test::More::is($st, 201, 'notes.html, plain text, public');
my $r = Attachments::HTTP->new->get($j->{files}[0]{download_url} // '');
Test::More::is($r->{status}, 200, 'served');
Test::More::like($r->{headers}{'content-type'} // '', qr{^text/plain}, 'as text/plain');
Test::More::is($r->{headers}{'x-content-type-options'} // '', 'nosniff', 'not to be sniffed');
Test::More::like($r->{headers}{'content-disposition'} // '', qr{^attachment; filename="notes\.html"},
                 'as an attachment');
my $url = $j->{files}[0]{download_url};
::call('DELETE', "/api/work_orders/12/files/$j->{files}[0]{id}", 'owner1', 'acme');
Test::More::is(Attachments::HTTP->new->get($url)->{status}, 404, 'deleted: no longer served');
--- request
GET /pub/org_acme/work_orders/12/nothing-here.txt
--- error_code: 404
--- response_body_like: "code":"not_found"



=== TEST 9: a private name a crash left after a publish is removed by the collector
--- http_config eval
$::Http . "    attachments_gc_interval 100ms; attachments_gc_grace 1s;\n"
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/13/files', 'owner1', 'acme',
                      ::multipart(['file', 'crash.pdf', 'application/pdf', $::PDF]));
my $id = $j->{files}[0]{id};
my $key = ::psql("SELECT storage_key FROM attachments.files WHERE id = '$id'");
($st) = ::call('POST', "/api/work_orders/13/files/$id/publish", 'owner1', 'acme');
Test::More::is($st, 200, 'published');
# as if the worker had died before removing the private name (the
# collector takes stray names a second old and more)
link("$::Store/public/$key", "$::Store/$key") or die "link: $!";
Test::More::ok(::wait_until(sub { !-e "$::Store/$key" }), 'the collector removes it');
Test::More::is(::psql("SELECT count(*) FROM attachments.stray_names"), '0',
               'and its journal entry');
my (undef, $f) = ::call('GET', "/api/work_orders/13/files/$id", 'owner1', 'acme');
Test::More::is(Attachments::HTTP->new->get($f->{download_url})->{content}, $::PDF,
               'the public file is untouched');
--- request
GET /pub/
--- error_code: 404



=== TEST 10: a public path that is not UTF-8 names no file
--- request eval
["GET /pub/%ff", "GET /pub/abc%c3%28"]
--- error_code eval
[404, 404]
--- response_body_like eval
['"code":"not_found"', '"code":"not_found"']
--- no_error_log
[error]



=== TEST 10b: publishing a file whose blob is gone is 500: no 503 that a retry could cure
--- init
::add_file(id => ::uuid(77), eid => '77', name => 'lost.txt',
           key => 'org_acme/work_orders/77/lost.txt');
--- request eval
"POST /api/work_orders/77/files/" . ::uuid(77) . "/publish"
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 500
--- response_body_like: "code":"internal_error"
--- error_log
attachments: the blob
is missing



=== TEST 11: attachments-fsck finds every row with its blob and every blob with its row
--- init
# the row of TEST 10b lost its blob on purpose
::psql("DELETE FROM attachments.files WHERE id = '" . ::uuid(77) . "'");
Test::More::is(::fsck("main=local:$::Store"), '', 'no finding');
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200



=== TEST 12: a base URL from the request ($http_) is escaped in the JSON of a public URL as of any other
--- no_http2
--- http_config eval
$::Http =~ s{attachments_base_url [^;]*;}{attachments_base_url "http://\$http_x_base";}r
--- init
my $r = Attachments::HTTP->new->get(
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/api/work_orders/7/files/$::F{logo}{id}",
    { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme', 'X-Base' => 'a"b\\c' } });
my $j = eval { JSON::PP->new->decode($r->{content}) };
Test::More::is($r->{status}, 200, 'the public file');
Test::More::like($j && $j->{download_url},
                 qr{^http://a"b\\c/pub/org_acme/work_orders/7/[0-9a-f-]{36}-logo\.png$},
                 'valid JSON, the base as it came');
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT}) or die;
print $s "GET /api/work_orders/7/files/$::F{logo}{id} HTTP/1.0\r\nHost: localhost\r\n"
    . "X-User: owner1\r\nX-Org: acme\r\nX-Base: a\xffb\r\n\r\n";
my $resp = do { local $/; <$s> };
my ($code) = $resp =~ m{^HTTP/1\.\d (\d+)};
my ($body) = $resp =~ m{\r\n\r\n(.*)\z}s;
Test::More::is($code . ' ' . (eval { JSON::PP->new->decode($body)->{error}{code} } // $body),
               '500 internal_error', 'a base that is not UTF-8: an error in JSON, no broken JSON');
--- request
GET /pub/
--- error_code: 404



=== TEST 13: the bytes the application reports count for a publish as for an upload
--- init
::psql("UPDATE attachments.quotas SET max_bytes = 200
         WHERE organization_id = 'initech' AND user_id = ''");
::psql("INSERT INTO attachments.external_usage VALUES ('initech', 'logo', 100)");
my (undef, $list) = ::call('GET', '/api/leads/1/files', 'milton', 'initech');
my ($c) = grep { $_->{file_name} eq 'c.txt' } @{$list->{files}};
my ($st, $j) = ::call('POST', "/api/leads/1/files/$c->{id}/publish", 'milton', 'initech');
Test::More::is("$st $j->{error}{code}", '507 quota_exceeded', '137 + 100 over 200: refused');
::psql("DELETE FROM attachments.external_usage WHERE organization_id = 'initech'");
($st) = ::call('POST', "/api/leads/1/files/$c->{id}/publish", 'milton', 'initech');
Test::More::is($st, 200, 'the logo gone, it fits');
--- request
GET /api/usage
--- more_headers
X-User: milton
X-Org: initech
--- response_body
{"organization":{"id":"initech","used_bytes":137,"limit_bytes":200},"user":{"id":"milton","used_bytes":0,"limit_bytes":null}}
