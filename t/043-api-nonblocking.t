# Copyright (C) 2026 The ngx_http_attachments_module authors

# The worker never waits for PostgreSQL: while authorize() sleeps, other
# requests are served; a client that goes away mid-statement leaves a clean
# pool; a full pool queues, then answers 503.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use IO::Socket::INET;
use Attachments::HTTP;
use Time::HiRes qw(time sleep);
use POSIX ();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 136;

use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# outside the server root, which is made afresh for every block
our $Out = File::Temp::tmpnam();
END { unlink $Out }
our $Child;

reset_db();
seed_people();
add_file(id => uuid(1));

# authorize() sleeps 2 s for records named slow*
set_authorize(q{
    IF p_entity_id LIKE 'slow%' THEN
        PERFORM pg_sleep(2);
    END IF;
    RETURN true;
});

# a client in another process: sends one API request and writes
# "<status> <seconds>" to $Out; with $abort_after it hangs up instead
sub start_client {
    my ($path, $abort_after) = @_;
    unlink $Out;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $t0 = time;
        curl_client($path, $abort_after, $t0)
            if Attachments::HTTP::mode() eq 'h2' && Attachments::HTTP::ours(
                   "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/");
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
            or POSIX::_exit(1);
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nX-User: owner1\r\n"
                 . "X-Org: acme\r\nConnection: close\r\n\r\n";
        if ($abort_after) {
            sleep $abort_after;
            close $s;
            POSIX::_exit(0);
        }
        my $resp = CORE::join '', <$s>;
        my ($status) = $resp =~ m{^HTTP/1\.1 (\d+)};
        open my $fh, '>', $Out;
        printf $fh "%s %.2f", $status // 'none', time - $t0;
        close $fh;
        POSIX::_exit(0);
    }
    $Child = $pid;
}

# start_client's child over HTTP/2: curl, killed to hang up
sub curl_client {
    my ($path, $abort_after, $t0) = @_;
    my $curl = open(my $in, '-|', 'curl', '-s', '--http2-prior-knowledge',
                    '-o', '/dev/null', '-w', '%{http_code}',
                    '-H', 'X-User: owner1', '-H', 'X-Org: acme',
                    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path")
        or POSIX::_exit(1);
    if ($abort_after) {
        sleep $abort_after;
        kill 'KILL', $curl;
        POSIX::_exit(0);
    }
    my $status = <$in>;
    open my $fh, '>', $Out;
    printf $fh "%s %.2f", $status || 'none', time - $t0;
    close $fh;
    POSIX::_exit(0);
}

# until PostgreSQL is inside pg_sleep() for us
sub wait_sleeping {
    for (1 .. 60) {
        return 1 if psql("SELECT count(*) FROM pg_stat_activity
                           WHERE wait_event = 'PgSleep'") > 0;
        sleep 0.05;
    }
    die "authorize() never started sleeping\n";
}

sub client_result {
    waitpid $Child, 0;
    open my $fh, '<', $Out or return 'none';
    return scalar <$fh>;
}

block_defaults(
    http_config => $HttpConfig,
    config => $ApiConfig,
    more_headers => $Owner,
);

run_tests();

__DATA__

=== TEST 1: 50 requests are served while authorize() sleeps 2 s (one worker)
The wait after each request (3 s in all) lets the sleeping request end
before the next block stops this nginx.
--- init
::start_client('/api/work_orders/slow/files');
::wait_sleeping();
--- request eval
[("GET /plain") x 25, ("GET /api/work_orders/123/files/" . ::uuid(1)) x 25]
--- timeout: 1
--- response_body_like eval
[(qr/^plain$/) x 25, (qr/^\{"id":/) x 25]
--- wait: 0.06



=== TEST 2: ...and the sleeping request then got its answer
--- init
my ($status, $took) = split ' ', ::client_result();
Test::More::is($status, 200, 'the slow request succeeded');
Test::More::cmp_ok($took, '>=', 1.9, 'after the sleep');
--- request
GET /plain
--- response_body
plain



=== TEST 3: a client leaving mid-statement: the connection finishes it and is reused
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- init
::start_client('/api/work_orders/slow/files', 0.3);
::wait_sleeping();
::client_result();
--- request
GET /api/work_orders/123/files
--- timeout: 4
--- response_body_like: ^\{"files":\[\{"id":
--- error_log
client prematurely closed connection
--- no_error_log
[alert]
[crit]
connection lost



=== TEST 4: a stopped nginx closes its database connections
--- init
my $left;
for (1 .. 20) {
    $left = ::psql("SELECT count(*) FROM pg_stat_activity
                     WHERE application_name = 'nginx attachments'");
    last if $left == 0;
    Time::HiRes::sleep(0.05);
}
Test::More::is($left, 0, 'no backend of the previous nginx is left');
--- request
GET /plain
--- response_body
plain



=== TEST 5: pool busy and no queue: 503 at once, with Retry-After
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1 queue=0;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- init
::start_client('/api/work_orders/slow/files');
::wait_sleeping();
--- request
GET /api/work_orders/123/files
--- timeout: 1
--- error_code: 503
--- response_headers
Retry-After: 2
Content-Type: application/json
--- response_body
{"error":{"code":"unavailable","message":"the service is unavailable, retry later"}}
--- error_log
attachments: all 1 PostgreSQL connections are busy and 0 queries wait already
--- wait: 2



=== TEST 6: waiting longer than queue_timeout is 503
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1 queue_timeout=300ms;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- init
::client_result();
::start_client('/api/work_orders/slow/files');
::wait_sleeping();
--- request
GET /api/work_orders/123/files
--- timeout: 1
--- error_code: 503
--- error_log
attachments: no PostgreSQL connection became free within 300 ms
--- wait: 2



=== TEST 7: the sleeping requests of TEST 5 and 6 were answered
--- init
Test::More::like(::client_result(), qr/^200 /, 'TEST 6 client answered');
--- request
GET /plain
--- response_body
plain



=== TEST 8: statements are prepared once per connection
Three lists before the request (its log check sees them too), on the one
connection: each statement is prepared the first time it runs there.
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=1;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- init
for (1 .. 3) {
    my $r = Attachments::HTTP->new->get(
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/api/work_orders/123/files",
        { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
    die "list: $r->{status}\n" unless $r->{status} == 200;
}
--- request eval
"GET /api/work_orders/123/files/" . ::uuid(1)
--- grep_error_log eval: qr/attachments pg prepare "\w+"/
--- grep_error_log_out
attachments pg prepare "attachments_authorize"
attachments pg prepare "attachments_list"
attachments pg prepare "attachments_file"



=== TEST 9: a backend killed mid-statement: 503 for its request, the next one works
--- init
::start_client('/api/work_orders/slow/files');
::wait_sleeping();
::psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE wait_event = 'PgSleep' AND application_name = 'nginx attachments'");
my ($status) = split ' ', ::client_result();
Test::More::is($status, 503, 'the request whose connection died');
--- request
GET /api/work_orders/123/files
--- response_body_like: ^\{"files":\[\{"id":
--- error_log
attachments: PostgreSQL connection lost



=== TEST 10: a statement running past timeout= is 503
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2 timeout=500ms;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- request
GET /api/work_orders/slow/files
--- error_code: 503
--- response_headers
Retry-After: 2
--- error_log
attachments: PostgreSQL statement timed out



=== TEST 10b: ...and the next statement is served, on a fresh connection
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2 timeout=500ms;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- init
my $r = Attachments::HTTP->new->get(
    "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/api/work_orders/slow/files",
    { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme' } });
die "slow: $r->{status}\n" unless $r->{status} == 503;
--- request
GET /api/work_orders/123/files
--- error_code: 200
--- error_log
attachments: PostgreSQL statement timed out



=== TEST 11: idle connections are closed after idle_timeout
--- http_config
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2 idle_timeout=200ms;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
--- request
GET /api/work_orders/123/files
--- wait: 0.6
--- grep_error_log: attachments pg idle timeout
--- grep_error_log_out
attachments pg idle timeout
