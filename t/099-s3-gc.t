# Copyright (C) 2026 The ngx_http_attachments_module authors

# The collector and S3: blobs of deleted files and of uploads left pending
# are DELETEd by the module's own client (no request to make a subrequest
# from), signed as botocore signs, over HTTP and over HTTPS with the
# endpoint's certificate verified; an endpoint that cannot be reached or
# trusted keeps the rows for the next run.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::S3;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 34;

my $port = start_s3rver();
our $S3Port = $port;
$ENV{TEST_NGINX_S3REC_PORT} = free_port();
$ENV{TEST_NGINX_S3TLS_PORT} = free_port();
$ENV{TEST_NGINX_DOWN_PORT} = free_port();         # nobody listens there

our $Dir = tempdir('attachments-s3gc.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_S3DIR} = $Dir;
for my $name (qw(good other)) {
    system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
           . " -addext subjectAltName=DNS:localhost -keyout $Dir/$name.key"
           . " -out $Dir/$name.crt 2>/dev/null") == 0 or die "openssl failed\n";
}

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_S3DIR internal=/_s/;
    attachments_storage cloud s3
        endpoint=http://127.0.0.1:$TEST_NGINX_S3REC_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET;
    attachments_gc_interval 200ms;
    attachments_gc_retention 0;
    attachments_gc_grace 0;

    # the recording step in front of s3rver, and a TLS one
    log_format s3 '$request_method $request_uri|$http_host|$http_x_amz_date|'
                  '$http_x_amz_content_sha256|$http_authorization|$status';

    server {
        listen 127.0.0.1:$TEST_NGINX_S3REC_PORT;
        access_log $TEST_NGINX_S3DIR/s3.log s3;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_S3TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_S3DIR/good.crt;
        ssl_certificate_key $TEST_NGINX_S3DIR/good.key;
        access_log $TEST_NGINX_S3DIR/s3tls.log s3;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            proxy_set_header Host $http_host;
        }
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => "location /plain { return 200 \"plain\\n\"; }",
    request => 'GET /plain',
    response_body => "plain\n",
);

sub object { (botocore({ op => 'get', port => $port, key => shift }))[0]{status} }
sub put { botocore({ op => 'put', port => $port, key => $_[0],
                     body_hex => unpack('H*', $_[1] // 'blob') }) }

# Test::Nginx's nginx runs without a master process, and such an nginx
# exits at once when stopped: a batch its collector had claimed stays
# claimed for ten minutes, as after a crash (docs/lifecycle.md).  Blocks
# that follow a collector's failing runs take such claims back.
sub unclaim {
    ::psql("UPDATE attachments.files SET gc_claimed_at = NULL"
           . " WHERE gc_claimed_at IS NOT NULL RETURNING 1");
}

sub purged ($) {
    ::psql("SELECT purged_at IS NOT NULL FROM attachments.files WHERE id = '$_[0]'")
}

reset_db();
seed_people();

our ($Kept, $Gone, $Pending, $Missing, $Stuck) = map { uuid($_) } 1 .. 5;
our %Key = map { $_ => "org_acme/work_orders/1/$_.txt" } qw(kept gone pending missing stuck);

put($Key{$_}) for qw(kept gone pending);
add_file(id => $Kept, eid => '1', storage => 'cloud', key => $Key{kept}, size => 4,
         sha256 => sha256_hex('blob'));
add_file(id => $Gone, eid => '1', storage => 'cloud', key => $Key{gone}, deleted => 1);
add_file(id => $Pending, eid => '1', storage => 'cloud', key => $Key{pending},
         state => 'pending');
add_file(id => $Missing, eid => '1', storage => 'cloud', key => $Key{missing},
         deleted => 1);

run_tests();

__DATA__

=== TEST 1: deleted and pending objects are DELETEd, signed as botocore signs
--- init
Test::More::ok(::wait_until(sub { ::purged($::Gone) eq 't' && ::purged($::Missing) eq 't' }),
               'the deleted rows are purged');
Test::More::is(::object($::Key{gone}), 404, 'the deleted file\'s object is gone');
Test::More::is(::object($::Key{pending}), 404, 'the pending upload\'s object is gone');
Test::More::is(::object($::Key{kept}), 200, 'the live object stays');
Test::More::is(::count_rows('files', "id = '$::Pending'"), 0, 'the pending row is removed');
Test::More::is(::purged($::Kept), 'f', 'the live row stays');
open my $fh, '<', "$::Dir/s3.log" or die $!;
my @del = map { chomp; [ split /\|/ ] } grep { /^DELETE / } <$fh>;
Test::More::is(join(' ', sort map { $_->[0] =~ m{/(\w+)\.txt$} } @del),
               'gone missing pending', 'one DELETE each');
for my $d (@del) {
    my ($line, $host, $date, $sha, $auth, $status) = @$d;
    my ($uri) = $line =~ /^DELETE (\S+)/;
    Test::More::is($status, 204, "$uri: 204");
    my ($want) = ::botocore({ op => 'sign', method => 'DELETE',
        url => "http://$host$uri", body_hex => '', date => $date,
        region => 'us-east-1', access_key => 'S3RVER', secret => 'S3RVER' });
    Test::More::is($auth, $want->{authorization},
                   "$uri: Authorization byte for byte botocore's");
}
--- wait: 0.3



=== TEST 2: an endpoint that cannot be reached keeps the row, retried at every run
--- init
::put($::Key{stuck});
::add_file(id => $::Stuck, eid => '2', storage => 'cloud', key => $::Key{stuck},
           deleted => 1);
--- http_config eval
$::Http =~ s/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_S3REC_PORT/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_DOWN_PORT/r
--- wait: 1
--- error_log eval
[qr/attachments: connect\(\) to 127\.0\.0\.1:\d+ failed/,
 qr/attachments: DELETE "org_acme\/work_orders\/1\/stuck\.txt" in s3 storage "cloud": 502/,
 qr/attachments gc: the blob of file 0+-0+-4000-8000-0+5 stays; the row waits for the next run/]
--- grep_error_log eval: qr/DELETE "org_acme\/work_orders\/1\/stuck\.txt" in s3 storage "cloud": 502/
--- grep_error_log_out eval: qr/\A(?:DELETE [^\n]+: 502\n){2,}\z/



=== TEST 3: an HTTPS endpoint whose certificate is not trusted keeps the row
--- init
::unclaim();
Test::More::is(::purged($::Stuck), 'f', 'not purged while S3 was down');
--- http_config eval
$::Http =~ s/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_S3REC_PORT/endpoint=https:\/\/localhost:\$TEST_NGINX_S3TLS_PORT ca=\$TEST_NGINX_S3DIR\/other.crt/r
--- wait: 3
--- error_log eval
[qr/attachments: s3 storage "cloud": certificate verify error/,
 qr/attachments gc: the blob of file 0+-0+-4000-8000-0+5 stays/]



=== TEST 4: over HTTPS with the endpoint's certificate trusted, the object goes
--- init
::unclaim();
Test::More::ok(::wait_until(sub { ::purged($::Stuck) eq 't' }), 'purged over HTTPS');
Test::More::is(::object($::Key{stuck}), 404, 'its object is gone');
open my $fh, '<', "$::Dir/s3tls.log" or die $!;
Test::More::like(join('', <$fh>), qr{^DELETE /files/org_acme/work_orders/1/stuck\.txt\|localhost:\d+\|.*\|204$}m,
                 'the DELETE went through TLS, with the host signed as connected to');
--- http_config eval
$::Http =~ s/endpoint=http:\/\/127.0.0.1:\$TEST_NGINX_S3REC_PORT/endpoint=https:\/\/localhost:\$TEST_NGINX_S3TLS_PORT ca=\$TEST_NGINX_S3DIR\/good.crt/r



=== TEST 5: attachments-fsck finds every live row with its object and no object without one
--- init
open my $fh, '>', "$::Dir/s3.secret" or die $!;
print $fh "S3RVER\n";
close $fh;
Test::More::is(::fsck(["cloud=s3:http://127.0.0.1:$::S3Port,us-east-1,files,"
             . "S3RVER,$::Dir/s3.secret"]), '', 'no finding');

