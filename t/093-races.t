# Copyright (C) 2026 The ngx_http_attachments_module authors

# Races: every pair of operations that change one file, fired at once on
# two connections with random delays, many rounds, the collector running
# every 100 ms: after each round attachments-fsck finds nothing, and every
# answer agrees with the final state (2xx: it happened; 4xx: nothing did;
# 5xx only 503 with Retry-After).

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::S3;
use File::Temp qw(tempdir tmpnam);
use Attachments::HTTP;
use JSON::PP;
use POSIX ();
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 16;

our $Store = tempdir('attachments-races.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_STORE} = $Store;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=8;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/ public=/pub/;
    attachments_base_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    attachments_gc_interval 100ms;
    attachments_gc_retention 0;
    attachments_gc_grace 0;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /pub/ {
        attachments_public main;
    }
_EOC_

# an S3 storage behind a slow link: each request arrives a second late, and
# so does its answer
start_s3rver();
our $S3 = tempdir('attachments-races-s3.XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{TEST_NGINX_S3TMP} = $S3;
$ENV{TEST_NGINX_SLOW_PORT} = slow_link($ENV{TEST_NGINX_S3_PORT}, 1);
open my $secret, '>', "$S3/secret" or die $!;
print $secret "S3RVER\n";
close $secret;

our $Cloud = <<'_EOC_';
    attachments_storage cloud s3
        endpoint=http://127.0.0.1:$TEST_NGINX_SLOW_PORT region=us-east-1
        bucket=files access_key=S3RVER secret_env=S3_SECRET
        proxy=/_s3/ temp=$TEST_NGINX_S3TMP;
    attachments_active_storage cloud;
_EOC_

our $CloudLocation = <<'_EOC_';
    location /_s3/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT/;
    }
_EOC_

our @Storages = ("main=local:$Store",
                 "cloud=s3:http://127.0.0.1:$ENV{TEST_NGINX_S3_PORT},us-east-1,"
                 . "files,S3RVER,$S3/secret");

block_defaults(
    http_config => $Http,
    config => $Config,
);

reset_db();
seed_people();

our $Rounds = $ENV{ATTACHMENTS_RACE_ROUNDS} || 8;
our $Base = '/api/work_orders/77/files';

# a request: (status, decoded body, Retry-After)
sub call {
    my ($method, $path, $body, $type) = @_;
    my %h = ('X-User' => 'owner1', 'X-Org' => 'acme');
    $h{'Content-Type'} = $type // "multipart/form-data; boundary=XbOuNdArY7"
        if defined $body;
    my $r = Attachments::HTTP->new(timeout => 20)->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => \%h, defined $body ? (content => $body) : () });
    return ($r->{status}, eval { JSON::PP->new->decode($r->{content}) },
            $r->{headers}{'retry-after'});
}

# requests at once from other processes, each after a random delay
sub at_once {
    my @pids;
    for my $req (@_) {
        my $out = tmpnam();
        my $pid = fork // die;
        if ($pid == 0) {
            Time::HiRes::sleep(rand 0.03);
            my ($st, $j, $retry) = call(@$req);
            open my $fh, '>', $out;
            print $fh JSON::PP->new->encode([$st, $j, $retry]);
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, [$pid, $out];
    }
    return map {
        waitpid $_->[0], 0;
        open my $fh, '<', $_->[1];
        my $r = JSON::PP->new->decode(join '', <$fh>);
        unlink $_->[1];
        $r;
    } @pids;
}

sub upload {
    my ($name) = @_;
    my ($st, $j) = call('POST', $Base, multipart(['file', $name, 'application/pdf',
                                                  "$PDF%$name\n"]));
    die "upload $name: $st" unless $st == 201;
    return $j->{files}[0];
}

sub visible { (call('GET', "$Base/$_[0]"))[0] == 200 }

# no 5xx but a 503 with Retry-After
sub sane {
    my $r = shift;
    return $r->[0] < 500 || ($r->[0] == 503 && $r->[2]);
}

sub clean {
    my $out;
    wait_until(sub { ($out = fsck(\@Storages)) eq '' });
    return $out;
}

# runs the rounds; each returns what is wrong with it, or ''
sub rounds {
    my ($what, $round) = @_;
    my @bad;
    for my $i (1 .. $Rounds) {
        my $wrong = $round->($i);
        my $fsck = clean();
        push @bad, "round $i: $wrong" if $wrong;
        push @bad, "round $i: fsck: $fsck" if $fsck;
    }
    Test::More::is(join("\n", @bad), '', "$what: $Rounds rounds");
}

run_tests();

__DATA__

=== TEST 1: publish and publish
--- init
::rounds('publish x publish', sub {
    my $f = ::upload("pp$_[0].pdf");
    my @r = ::at_once(['POST', "$::Base/$f->{id}/publish"], ['POST', "$::Base/$f->{id}/publish"]);
    my (undef, $now) = ::call('GET', "$::Base/$f->{id}");
    return "answers $r[0][0] $r[1][0], $now->{visibility}"
        unless $r[0][0] == 200 && $r[1][0] == 200 && $now->{visibility} eq 'public';
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 2: publish and delete
--- init
::rounds('publish x delete', sub {
    my $f = ::upload("pd$_[0].pdf");
    my @r = ::at_once(['POST', "$::Base/$f->{id}/publish"], ['DELETE', "$::Base/$f->{id}"]);
    return "answers $r[0][0] $r[1][0]" unless ::sane($r[0]) && ::sane($r[1]);
    return "delete answered $r[1][0]" unless $r[1][0] == 204;
    return 'still visible after a 204' if ::visible($f->{id});
    return "publish answered $r[0][0]" unless $r[0][0] =~ /^(200|404|409)$/;
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 3: delete and a new version
--- init
::rounds('delete x version', sub {
    my $f = ::upload("dv$_[0].pdf");
    my @r = ::at_once(['DELETE', "$::Base/$f->{id}"],
                      ['POST', "$::Base/$f->{id}/versions",
                       ::multipart(['file', "dv$_[0]-1.pdf", 'application/pdf', "$::PDF%v1\n"])]);
    return "answers $r[0][0] $r[1][0]" unless ::sane($r[0]) && ::sane($r[1]);
    return "delete answered $r[0][0]" unless $r[0][0] == 204;
    if ($r[1][0] == 201) {
        my $v = $r[1][1]{files}[0]{id};
        return 'a version answered 201 is not visible' unless ::visible($v);
    } elsif ($r[1][0] != 404) {
        return "version answered $r[1][0]";
    }
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 4: a new version and a new version
--- init
::rounds('version x version', sub {
    my $f = ::upload("vv$_[0].pdf");
    my @r = ::at_once(map { ['POST', "$::Base/$f->{id}/versions",
                             ::multipart(['file', "vv$_[0]-$_.pdf", 'application/pdf',
                                          "$::PDF%$_\n"])] } 1 .. 2);
    return "answers $r[0][0] $r[1][0]" unless $r[0][0] == 201 && $r[1][0] == 201;
    my %n = map { $_->[1]{files}[0]{doc_version} => 1 } @r;
    return 'one version number twice' unless keys %n == 2;
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 5: an update and a delete
--- init
::rounds('patch x delete', sub {
    my $f = ::upload("ud$_[0].pdf");
    my @r = ::at_once(['PATCH', "$::Base/$f->{id}", '{"tags":["x"]}', 'application/json'],
                      ['DELETE', "$::Base/$f->{id}"]);
    return "answers $r[0][0] $r[1][0]" unless ::sane($r[0]) && ::sane($r[1]);
    return "patch $r[0][0], delete $r[1][0]"
        unless $r[0][0] =~ /^(200|404)$/ && $r[1][0] == 204;
    return 'still visible after a 204' if ::visible($f->{id});
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 6: publish, delete and the collector purging at once
--- init
::rounds('publish x delete x collector', sub {
    my $f = ::upload("pc$_[0].pdf");
    my @r = ::at_once(['POST', "$::Base/$f->{id}/publish"],
                      ['DELETE', "$::Base/$f->{id}"]);
    Time::HiRes::sleep(0.25);    # the collector purges the deleted file
    return "answers $r[0][0] $r[1][0]" unless ::sane($r[0]) && ::sane($r[1]);
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 7: uploads while the collector runs with no grace
--- init
::rounds('upload x collector', sub {
    my @r = ::at_once(map { ['POST', $::Base,
                             ::multipart(['file', "uc$_[0]-$_.pdf", 'application/pdf',
                                          "$::PDF%$_\n" . ('z' x 200000)])] } 1 .. 3);
    my @st = map { $_->[0] } @r;
    return "answers @st" unless "@st" eq '201 201 201';
    for (@r) {
        return 'an upload answered 201 is not visible' unless ::visible($_->[1]{files}[0]{id});
    }
    return '';
});
--- request
GET /pub/
--- error_code: 404



=== TEST 8: S3 uploads over a slow link while the collector runs with no grace
Each PUT takes two seconds, twenty collector runs: the pending rows are
the upload's while it lasts, and every 201 is a ready row with its object.
--- http_config eval
$::Http . $::Cloud
--- config eval
$::Config . $::CloudLocation
--- init
local $::Rounds = 3;
::rounds('S3 upload x collector', sub {
    my $t0 = Time::HiRes::time();
    my @r = ::at_once(map { ['POST', $::Base,
                             ::multipart(['file', "s3c$_[0]-$_.pdf", 'application/pdf',
                                          "$::PDF%$_\n" . ('z' x 100000)])] } 1 .. 3);
    my @st = map { $_->[0] } @r;
    return "answers @st" unless "@st" eq '201 201 201';
    return 'the link was not slow' if Time::HiRes::time() - $t0 < 2;
    for (@r) {
        my $f = $_->[1]{files}[0];
        return 'an upload answered 201 is not visible' unless ::visible($f->{id});
        my $storage = ::psql("SELECT storage FROM attachments.files WHERE id = '$f->{id}'");
        return "stored in $storage" unless $storage eq 'cloud';
    }
    return '';
});
--- request
GET /pub/
--- error_code: 404
