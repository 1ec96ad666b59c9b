# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Drive;

# The drive emulators of the drive suites (no drive service can be reached
# from the test machines): t/inc/yadisk.mjs, written from the Yandex.Disk
# REST API's reference, and t/inc/gdrive.mjs, from Drive API v3's and
# Google's OAuth 2.0 references (with a service account whose RSA key pair
# openssl makes here, and an OAuth client with a refresh token), started
# with node on free ports of 127.0.0.1 and stopped when the suite ends; and
# what a suite asks of them: their request logs, their trees, and their
# controls (failures, background deletes, a lying uploader, a person
# deleting a folder, revoked tokens).

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);
use Attachments::HTTP;
use Attachments::S3 qw(free_port);
use Attachments::Upload qw(multipart);
use Attachments::DB qw(psql);

our @EXPORT = qw(start_yadisk yadisk yadisk_log yadisk_tree
                 start_gdrive gdrive gdrive_log gdrive_tree
                 api upload file_rows);

my @pids;

END { kill 'TERM', @pids if @pids; }

sub start_emulator ($@) {
    my ($script, @args) = @_;
    my $port = free_port();

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        { exec 'node', "$ENV{TEST_NGINX_TOP}/t/inc/$script", $port, @args };
        POSIX::_exit(1);
    }
    push @pids, $pid;

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }

    return $port;
}

# a control or a call of an emulator: [status, decoded body or text]
sub call ($$;$) {
    my ($port, $path, $method) = @_;
    my $r = Attachments::HTTP->new(max_redirect => 0)->request(
        $method || 'GET', "http://127.0.0.1:$port$path");
    my $body = $r->{content};
    $body = eval { JSON::PP->new->decode($body) } // $body
        if ($r->{headers}{'content-type'} // '') =~ /json/;
    return [$r->{status}, $body];
}

sub calls ($) {
    my $text = call(shift, '/_emu/log')->[1];
    return [map { JSON::PP->new->decode($_) } split /\n/, $text];
}

# the Yandex.Disk emulator's port, also as $TEST_NGINX_YADISK_PORT
sub start_yadisk ($) {
    my $token = shift;
    return $ENV{TEST_NGINX_YADISK_PORT} = start_emulator('yadisk.mjs', $token);
}

sub yadisk ($;$) { call($ENV{TEST_NGINX_YADISK_PORT}, $_[0], $_[1]) }

# the calls the emulator took since its last reset: [{method, url, ...}]
sub yadisk_log () { calls($ENV{TEST_NGINX_YADISK_PORT}) }

# every resource: { "disk:/a/b" => {type, size, sha256, ...} }
sub yadisk_tree () { yadisk('/_emu/tree')->[1] }

# The Google Drive emulator's port, also as $TEST_NGINX_GDRIVE_PORT, with
# in $dir: sa.json (a service account's key file whose token_uri is the
# emulator's), client.secret and refresh.token (an OAuth client's)
sub start_gdrive ($) {
    my $dir = shift;
    my $port = free_port();

    system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
           . " -out $dir/sa.key 2>/dev/null") == 0
        and system("openssl pkey -in $dir/sa.key -pubout -out $dir/sa.pub") == 0
        or die "openssl failed\n";

    open my $k, '<', "$dir/sa.key" or die $!;
    my $pem = do { local $/; <$k> };
    open my $sa, '>', "$dir/sa.json" or die $!;
    print $sa JSON::PP->new->canonical->pretty->encode({
        type => 'service_account', project_id => 'attachments-test',
        private_key_id => 'a1b2c3d4', private_key => $pem,
        client_email => 'nginx@attachments-test.iam.gserviceaccount.com',
        client_id => '1234567890', token_uri => "http://127.0.0.1:$port/token" });
    close $sa;

    for (['client.secret', "GOCSPX-emulated-secret\n"],
         ['refresh.token', "1//0emulated-refresh-token\n"]) {
        open my $fh, '>', "$dir/$_->[0]" or die $!;
        print $fh $_->[1];
        close $fh;
    }

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        { exec 'node', "$ENV{TEST_NGINX_TOP}/t/inc/gdrive.mjs", $port,
              "$dir/sa.pub", 'nginx@attachments-test.iam.gserviceaccount.com',
              'client-1.apps.googleusercontent.com', 'GOCSPX-emulated-secret',
              '1//0emulated-refresh-token' };
        POSIX::_exit(1);
    }
    push @pids, $pid;

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }

    return $ENV{TEST_NGINX_GDRIVE_PORT} = $port;
}

sub gdrive ($;$) { call($ENV{TEST_NGINX_GDRIVE_PORT}, $_[0], $_[1]) }
sub gdrive_log () { calls($ENV{TEST_NGINX_GDRIVE_PORT}) }

# every file by its path of names: { "/Work Orders/x" => {id, size, ...} }
sub gdrive_tree () { gdrive('/_emu/tree')->[1] }

# the API of the nginx under test, as owner1 of acme unless headers say
# otherwise: (status, the JSON answer, the whole answer)
sub api {
    my ($method, $path, $body, %h) = @_;
    my $r = Attachments::HTTP->new(timeout => 30, max_redirect => 0)->request(
        $method, "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$path",
        { headers => { 'X-User' => 'owner1', 'X-Org' => 'acme', %h },
          defined $body ? (content => $body) : () });
    my $json = eval { JSON::PP->new->decode($r->{content}) };
    return ($r->{status}, $json, $r);
}

# one file uploaded (multipart) to a files URL
sub upload {
    my ($path, $name, $type, $bytes, %h) = @_;
    return api('POST', $path, multipart(['file', $name, $type, $bytes]),
               'Content-Type' => 'multipart/form-data; boundary=XbOuNdArY7',
               %h);
}

# the rows of files of a record, by its id
sub file_rows ($) {
    return psql("SELECT count(*) FROM attachments.files WHERE entity_id = '$_[0]'");
}

1;
