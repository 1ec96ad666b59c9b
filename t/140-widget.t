# Copyright (C) 2026 The ngx_http_attachments_module authors

# The upload widget (html/attachments.js) on its demo page, in a real
# browser: Debian's chromium, headless, driven by playwright-core
# (t/inc/widget.mjs).  A file attached reaches 100% and is listed and
# downloadable; a refused type shows the API's message; a delete waits for
# its confirmation; an upload the network cut off goes on from its last
# whole PATCH when the same file is attached again.  Screenshots go to
# build/test-artefacts/.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
plan tests => 25;

our $Store = tempdir('attachments-widget.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;
chmod 0777, $Store;

our $Artefacts = "$ENV{TEST_NGINX_TOP}/build/test-artefacts";
make_path($Artefacts);

reset_db();
seed_people();

block_defaults(
    http_config => <<'_EOC_',
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_base_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    attachments_allowed_types text/plain image/png;
    client_max_body_size 10m;
    attachments_max_file_size 20m;
_EOC_
    config => $StoreLocation . $ApiLocation . <<'_EOC_',
    location /files/ {
        attachments_download main;
    }

    location /demo/ {
        alias $TEST_NGINX_TOP/html/;
        types {
            text/html html;
            text/javascript js;
        }
    }
_EOC_
);

sub browse {
    my $url = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/demo/demo.html"
            . "?entity_type=work_orders&entity_id=140&user=owner1&org=acme";
    open my $node, '-|', 'node', "$ENV{TEST_NGINX_TOP}/t/inc/widget.mjs", $url,
                         $Artefacts or die "node: $!";
    my $out = join '', <$node>;
    close $node;
    return eval { JSON::PP->new->decode($out) } || { failure => "no JSON: $out" };
}

run_tests();

__DATA__

=== TEST 1: attach, watch, list, download, refuse, delete: as a user in chromium
A browser speaks HTTP/2 only over TLS: this block stays on HTTP/1.1.
--- no_http2
--- init
my $s = ::browse();
Test::More::is($s->{failure}, undef, 'the browser ran the page to the end');
Test::More::is($s->{listed_before}, 0, 'the record had no file');
Test::More::is($s->{progress}, 100, 'the progress bar reached 100');
Test::More::is($s->{state}, '100%', 'and says so');
Test::More::like($s->{upload_class}, qr/\bdone\b/, 'the upload is marked done');
Test::More::is($s->{via}, 'tus', 'resumable, the server offering tus');
Test::More::is($s->{listed}, 1, 'the file is listed with its link');
Test::More::is($s->{size_shown}, '3.0 MB', 'with its size');
Test::More::is($s->{download_status}, 200, 'its link downloads');
Test::More::ok($s->{download_same}, 'the bytes uploaded');
Test::More::like($s->{refused_error},
    qr/^photo\.png: .+ \((type_mismatch|unsupported_type)\)$/,
    "a refused type shows the API's message and code");
Test::More::is($s->{refused_listed}, 0, 'and is not listed');
Test::More::is($s->{after_cancel}, 1, 'a cancelled delete keeps the file');
Test::More::is($s->{after_confirm}, 0, 'a confirmed one removes it');
Test::More::is_deeply($s->{dialogs}, ['Delete report.txt?', 'Delete report.txt?'],
                      'each delete asked first');
Test::More::ok(-s "$::Artefacts/widget-uploaded.png", 'a screenshot was saved');
Test::More::is_deeply([grep { !/status of 415|ERR_CONNECTION_RESET/ }
                       @{ $s->{console} || [] }], [],
                      "no error in the page but the refused upload's 415 and the cut");
Test::More::unlike($s->{cut_class} // '', qr/\bdone\b/, 'the upload cut off is not done');
Test::More::is($s->{cut_listed}, 0, 'nor listed');
Test::More::is_deeply($s->{resume_requests},
    ['POST', 'PATCH 0', 'PATCH 5242880', 'HEAD', 'PATCH 5242880', 'PATCH 10485760'],
    'attached again: one creation, a HEAD, and the PATCHes go on from 5 MB');
Test::More::is($s->{resumed_state}, '100%', 'the resumed upload reached 100%');
Test::More::is($s->{resumed_listed}, 1, 'the file is listed once');
Test::More::is(::psql("SELECT size, (SELECT count(*) FROM attachments.tus_uploads)"
                      . " FROM attachments.files WHERE entity_id = '140'"
                      . " AND deleted_at IS NULL"), 12 * 1024 * 1024 . '|0',
               'one file of 12 MB on the record, no upload left');
--- request
GET /demo/demo.html
--- response_body_like: import \{ mountAttachments \} from './attachments\.js'
