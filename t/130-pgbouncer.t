# Copyright (C) 2026 The ngx_http_attachments_module authors

# Behind PgBouncer in transaction mode (2 server connections for 2 workers
# of 8 each): with prepare=off the API, uploads and the collector work
# under concurrency; with named statements, what the pooler breaks is 503
# with Retry-After, never 500.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Digest::SHA ();
use File::Temp qw(tempdir);
use Attachments::HTTP;
use POSIX ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
master_on();
workers(2);
plan tests => 22;

our $Bouncer = tempdir('attachments-pgbouncer.XXXXXX', TMPDIR => 1,
                       CLEANUP => 1);
chmod 0755, $Bouncer;

my $top = $ENV{TEST_NGINX_TOP};
my $start = `bash -c '. "$top/tools/pg.sh"
    pgbouncer_start "$Bouncer" "$ENV{TEST_NGINX_PG_CONNINFO}" 2 >&2
    echo "\$PGBOUNCER_CONNINFO"'`;
die "pgbouncer did not start\n" if $?;
($ENV{TEST_NGINX_PGBOUNCER}) = $start =~ /^(host=.*)$/m;

END {
    system("bash", "-c", ". '$top/tools/pg.sh'; pgbouncer_stop '$Bouncer'")
        if $Bouncer;
}

our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $Store;
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PGBOUNCER" size=8 prepare=off;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
_EOC_

block_defaults(
    http_config => $Http,
    config => $StoreLocation . $ApiLocation
              . "    location /files/ { attachments_download main; }\n"
              . "    location = /plain { return 200 \"plain\\n\"; }\n",
    more_headers => $Owner,
);

reset_db();
seed_people();
add_file(eid => '123', name => 'listed.txt', size => 5,
         sha256 => Digest::SHA::sha256_hex("blob\n"),
         key => blob('org_acme/work_orders/123/listed.txt'));

# a blob in the store that the workers (nobody, under root) may remove
sub blob {
    my $key = shift;
    my $dir = $Store;
    for my $part (split m{/}, $key =~ s{/[^/]+$}{}r) {
        $dir .= "/$part";
        mkdir $dir;
        chmod 0777, $dir;
    }
    open my $f, '>', "$Store/$key" or die "$key: $!";
    print $f "blob\n";
    close $f;
    return $key;
}

# n clients at once, each making m requests; the statuses, counted
sub hammer {
    my ($n, $m, $method, $path, $body) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my $out = "$Bouncer/hammer";
    unlink $out;

    my @pids;
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $http = Attachments::HTTP->new(timeout => 20);
            my $log = '';
            for (1 .. $m) {
                my $r = $http->request($method, "http://127.0.0.1:$port$path", {
                    headers => {
                        'X-User' => 'owner1', 'X-Org' => 'acme',
                        $body ? ('Content-Type'
                                 => 'multipart/form-data; boundary=XbOuNdArY7')
                              : (),
                    },
                    $body ? (content => $body) : (),
                });
                my $ra = $r->{headers}{'retry-after'} // '-';
                $log .= "$r->{status} $ra\n";
            }
            open my $fh, '>>', $out or POSIX::_exit(1);
            print $fh $log;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;

    my (%status, %retry);
    open my $fh, '<', $out or die "$out: $!";
    while (<$fh>) {
        my ($s, $ra) = split;
        $status{$s}++;
        $retry{$s}{$ra}++;
    }
    return (\%status, \%retry);
}

run_tests();

__DATA__

=== TEST 1: 200 lists from 40 clients at once, through 2 server connections: all 200
--- init
my ($st) = ::hammer(40, 5, 'GET', '/api/work_orders/123/files');
Test::More::is_deeply($st, {200 => 200}, 'every list answered 200');
--- request
GET /api/work_orders/123/files
--- response_body_like: "file_name":"listed\.txt"
--- no_error_log
[error]
prepared statement



=== TEST 2: 30 uploads at once: each stored whole, rows and blobs
--- init
my $body = ::multipart(['file', 'up.txt', 'text/plain', "through the pooler\n"]);
my ($st) = ::hammer(30, 1, 'POST', '/api/work_orders/130/files', $body);
Test::More::is_deeply($st, {201 => 30}, 'every upload answered 201');
Test::More::is(::count_rows('files', "entity_id = '130' AND state = 'ready'"),
               30, '30 ready rows');
Test::More::is(scalar(() = ::stored_files("$::Store/org_acme/work_orders/130")
                          =~ /up\.txt/g),
               30, '30 blobs');
Test::More::is(::fsck("main=local:$::Store"), '', 'attachments-fsck finds nothing');
--- request
GET /api/work_orders/130/files?limit=100
--- response_body_like: ^\{"files":\[(?:.*?"file_name":"up\.txt"){30}(?!.*"file_name":"up\.txt")
--- no_error_log
[error]



=== TEST 3: the collector through PgBouncer purges a deleted file and its blob
--- http_config eval
$::Http . "    attachments_gc_interval 100ms; attachments_gc_retention 0; attachments_gc_grace 0;\n"
--- init
# the blob first: the collector may claim the row at once
::add_file(id => ::uuid(131), eid => '131', name => 'gone.txt',
           key => ::blob('org_acme/work_orders/131/gone.txt'), deleted => 1);
Test::More::ok(::wait_until(sub {
    ::count_rows('files', "id = '" . ::uuid(131) . "' AND purged_at IS NOT NULL") == 1
}), 'the row is purged');
Test::More::ok(! -e "$::Store/org_acme/work_orders/131/gone.txt", 'the blob is gone');
--- request
GET /api/work_orders/131/files
--- response_body
{"files":[],"next_cursor":null}
--- no_error_log
[error]



=== TEST 4: named statements through the pooler: what it breaks is 503 with Retry-After, never 500
--- http_config eval
$::Http =~ s/ prepare=off//r
--- init
my ($st, $retry) = ::hammer(40, 5, 'GET', '/api/work_orders/123/files');
Test::More::ok(!$st->{500}, 'no 500')
    or Test::More::diag(Test::More::explain($st));
Test::More::is(($st->{200} // 0) + ($st->{503} // 0), 200,
               'each answered 200 or 503');
Test::More::is_deeply([keys %{ $retry->{503} // { 2 => 1 } }], [2],
                      'every 503 says Retry-After: 2');
Test::More::note("200: " . ($st->{200} // 0) . ", 503: " . ($st->{503} // 0));
--- request
GET /plain
--- error_code: 200
--- error_log
a pooler in transaction mode (PgBouncer) needs "prepare=off" in attachments_database
