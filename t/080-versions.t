# Copyright (C) 2026 The ngx_http_attachments_module authors

# Document versions: a new version joins its document's lineage with
# doc_version + 1 and inherits its metadata; lists show the newest; every
# version stays downloadable; versions are listed newest first.  (File ids
# are made by the uploads, so the steps run from --- init through a client.)

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use File::Temp qw(tempdir);
use Attachments::HTTP;
use JSON::PP;
use POSIX ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 32;

our $Store = tempdir('attachments-versions.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
_EOC_

our $Config = $StoreLocation . $ApiLocation;

block_defaults(
    http_config => $Http,
    config => $Config,
    more_headers => $Owner,
);

reset_db();
seed_people();

our $Base = '/api/work_orders/5/files';
our %V;

sub call {
    my ($method, $path, $user, $body) = @_;
    my %h = ('X-User' => $user // 'owner1', 'X-Org' => 'acme');
    $h{'Content-Type'} = "multipart/form-data; boundary=XbOuNdArY7" if defined $body;
    my $r = Attachments::HTTP->new->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    my $json = eval { JSON::PP->new->decode($r->{content}) };
    return ($r->{status}, $json, $r->{content});
}

run_tests();

__DATA__

=== TEST 1: a document, then a new version of it
--- init
my ($st, $j) = ::call('POST', $::Base, 'owner1',
    ::multipart(['file', 'plan-v0.pdf', 'application/pdf', $::PDF],
                ['tags', undef, undef, '["plan"]'], ['category', undef, undef, 'drawing']));
Test::More::is($st, 201, 'the document is uploaded');
$::V{0} = $j->{files}[0]{id};
($st, $j) = ::call('POST', "$::Base/$::V{0}/versions", 'editor1',
    ::multipart(['file', 'plan-v1.png', 'image/png', $::PNG]));
Test::More::is($st, 201, 'a new version: 201');
my $v1 = $j->{files}[0];
$::V{1} = $v1->{id};
Test::More::is($v1->{doc_version}, 1, 'doc_version + 1');
Test::More::is_deeply([$v1->{tags}, $v1->{category}, $v1->{uploaded_by}, $v1->{file_name}],
                      [['plan'], 'drawing', 'editor1', 'plan-v1.png'],
                      'metadata inherited, file and uploader its own');
Test::More::is(::psql("SELECT count(DISTINCT lineage_id) FROM attachments.files
                        WHERE id IN ('$::V{0}', '$::V{1}')"), 1, 'one lineage');
Test::More::is(::audit_rows("action = 'version'"),
               "version|editor1|$::V{1}|" . length($::PNG), 'audited as a version');
--- request
GET /api/work_orders/5/files
--- response_body_like: ^\{"files":\[\{[^{}]*"file_name":"plan-v1\.png"(?!.*plan-v0).*\],"next_cursor":null\}$



=== TEST 2: every version listed newest first, from any of them; the old one still downloads
--- init
my ($st, $j) = ::call('GET', "$::Base/$::V{0}/versions");
Test::More::is($st, 200, 'versions listed');
Test::More::is_deeply([map { $_->{doc_version} } @{$j->{files}}], [1, 0], 'newest first');
($st, $j) = ::call('GET', "$::Base/$::V{1}/versions");
Test::More::is_deeply([map { $_->{id} } @{$j->{files}}], [$::V{1}, $::V{0}],
                      'the same from the newer one');
my ($s2, undef, $body) = ::call('GET', "$::Base/$::V{0}/content");
Test::More::is($body, $::PDF, 'version 0 still serves its bytes');
($s2, undef, $body) = ::call('GET', "$::Base/$::V{1}/content");
Test::More::is($body, $::PNG, 'version 1 its own');
--- request
GET /api/work_orders/5/files/00000000-0000-4000-8000-000000000099/versions
--- error_code: 404



=== TEST 3: a version is one file, of a visible document, by someone who may change it
--- init
my ($st, $j) = ::call('POST', "$::Base/$::V{0}/versions", 'owner1',
    ::multipart(['file', 'a.png', undef, $::PNG], ['file', 'b.png', undef, $::PNG]));
Test::More::is($st, 413, 'two files: 413');
Test::More::is($j->{error}{code}, 'too_many_files', 'too_many_files');
($st) = ::call('POST', "/api/work_orders/6/files/$::V{0}/versions", 'owner1',
    ::multipart(['file', 'a.png', undef, $::PNG]));
Test::More::is($st, 404, 'another record: 404');
($st) = ::call('POST', "$::Base/$::V{0}/versions", 'viewer1',
    ::multipart(['file', 'a.png', undef, $::PNG]));
Test::More::is($st, 403, 'a viewer: 403');
Test::More::is(::count_rows('files', "entity_id IN ('5', '6')"), 2, 'no row added');
Test::More::is(::stored_files("$::Store/.tmp"), '', 'no temporary left');
Test::More::is(scalar(() = ::stored_files("$::Store/org_acme/work_orders") =~ /\n/g), 1,
               'two blobs, as before');
--- request
GET /plain
--- config eval
$::Config . 'location /plain { return 200; }'



=== TEST 4: deleting the newest version shows the previous one again
--- init
my ($st) = ::call('DELETE', "$::Base/$::V{1}");
Test::More::is($st, 204, 'version 1 deleted');
my ($s2, $j) = ::call('GET', $::Base);
Test::More::is_deeply([map { $_->{id} } @{$j->{files}}], [$::V{0}], 'the list has version 0');
($s2, $j) = ::call('GET', "$::Base/$::V{0}/versions");
Test::More::is_deeply([map { $_->{id} } @{$j->{files}}], [$::V{0}], 'and so do the versions');
--- request
GET /api/work_orders/5/files/00000000-0000-4000-8000-000000000099
--- error_code: 404



=== TEST 5: new versions sent at once both become versions, one after the other
--- init
my ($st, $j) = ::call('POST', '/api/work_orders/6/files', 'owner1',
                      ::multipart(['file', 'race-v0.pdf', 'application/pdf', $::PDF]));
my $doc = $j->{files}[0]{id};
my @bad;
for my $round (1 .. 3) {
    # inserts wait for the table, then run together
    my $lock = fork // die;
    if ($lock == 0) {
        ::psql("BEGIN; LOCK TABLE attachments.files IN SHARE ROW EXCLUSIVE MODE;"
               . " SELECT pg_sleep(0.8); COMMIT;");
        POSIX::_exit(0);
    }
    select undef, undef, undef, 0.2;
    my @p = map { ::post_async("/api/work_orders/6/files/$doc/versions",
                               ::multipart(['file', "race-$round-$_.pdf", 'application/pdf',
                                            "$::PDF%$round-$_\n"]),
                               'owner1', 'acme') } 1 .. 2;
    my @s = map { ::async_status($_) } @p;
    waitpid $lock, 0;
    push @bad, "round $round: @s" unless "@s" eq '201 201';
}
Test::More::is(join("\n", @bad), '', 'every round: 201 and 201');
Test::More::is(::psql("SELECT string_agg(doc_version::text, ',' ORDER BY doc_version)"
                      . " FROM attachments.files WHERE entity_id = '6'"),
               join(",", 0 .. 6), "versions 0 to 6, none twice");
--- request
GET /api/work_orders/6/files
--- response_body_like: "doc_version":6



=== TEST 6: attachments-fsck finds every row with its blob and every blob with its row
--- init
Test::More::is(::fsck("main=local:$::Store"), '', 'no finding');
--- request
GET /api/work_orders/1/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 200
