# Copyright (C) 2026 The ngx_http_attachments_module authors

# conf/nginx.conf and `make run` as a user meets them: start the service in
# a scratch directory, run the curl examples it prints, stop it.  (Plain
# Test::More: this suite drives a whole configuration file, not blocks.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;

my $top = $ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';
my $run = tempdir('attachments-run.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $port = `python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'`;
chomp $port;

$ENV{RUN} = $run;
$ENV{PORT} = $port;

my $out = `$top/tools/service start 2>&1`;
is($?, 0, 'make run starts') or diag $out;

END { system("$top/tools/service stop >/dev/null 2>&1") if $run }

my @examples;
while ($out =~ /^  # (.+)\n  (curl .+)$/mg) {
    push @examples, [$1, $2];
}
is(scalar @examples, 14, 'fourteen curl examples printed');

my %want = map { $_ => $_ } qw(200 201 206 401 403 410);

for my $ex (@examples) {
    my ($label, $cmd) = @$ex;
    my ($code) = $label =~ /\((\d{3})/;
    if ($code) {
        $cmd =~ s/^curl -i/curl -s -o \/dev\/null -w '%{http_code}'/;
        is(`$cmd`, $want{$code}, "example: $label");
    } else {
        my $url = `$cmd`;
        like($url, qr{^/files/org_acme/work_orders/123/welcome\.txt\?X-Expires=\d+&X-Key-Id=k1&X-Type=text%2Fplain&X-Signature=\S{43}\n$},
             "example: $label");
        chomp $url;
        is(`curl -s 'http://127.0.0.1:$port$url'`,
           "Hello from ngx_http_attachments_module\n",
           'the minted URL downloads the demo file');
    }
}

# the API's list answers with a download URL that works
my ($list) = grep { $_->[0] =~ /^the API: list/ } @examples;
(my $cmd = $list->[1]) =~ s/^curl -i/curl -s/;
my $json = `$cmd`;
like($json, qr{"file_name":"welcome\.txt".*"download_url":"http://127\.0\.0\.1:$port/files/org_acme/work_orders/123/welcome\.txt\?},
     'the list has the demo file with an absolute signed URL');
my ($url) = $json =~ /"file_name":"welcome\.txt".*?"download_url":"([^"]+)"/;
is(`curl -s '$url'`, "Hello from ngx_http_attachments_module\n",
   'which downloads the demo file');

# conf/s3-example.conf: nginx -t accepts it as shipped
{
    my $t = tempdir('attachments-s3conf.XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$t/$_" for qw(conf conf/keys logs);
    open my $k, '>', "$t/conf/keys/archive.secret" or die $!;
    print $k "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    close $k;
    open my $c, '>', "$t/conf/nginx.conf" or die $!;
    print $c "load_module $ENV{TEST_NGINX_LOAD_MODULES};\n"
           . "error_log $t/logs/error.log; pid $t/logs/nginx.pid;\n"
           . "events {} http { include $top/conf/s3-example.conf; }\n";
    close $c;
    local $ENV{MINIO_SECRET} = 'minio-secret-key';
    my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $out = `$nginx -t -p $t -c $t/conf/nginx.conf 2>&1`;
    is($?, 0, 'conf/s3-example.conf passes nginx -t') or diag $out;
}

# conf/drive-example.conf: nginx -t accepts it as shipped, but for the
# API's host name, which the machines that run the suites cannot resolve
{
    my $t = tempdir('attachments-driveconf.XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$t/$_" for qw(conf conf/keys logs);
    open my $in, '<', "$top/conf/drive-example.conf" or die $!;
    my $example = do { local $/; <$in> };
    $example =~ s/(cloud-api\.yandex\.net|www\.googleapis\.com|oauth2\.googleapis\.com)/127.0.0.1/g;
    open my $copy, '>', "$t/conf/drive-example.conf" or die $!;
    print $copy $example;
    close $copy;
    open my $k, '>', "$t/conf/keys/yadisk.token" or die $!;
    print $k "y0_AgAAAAAexampleTokenForTheDiskOwner\n";
    close $k;
    system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
           . " -out $t/sa.key 2>/dev/null") == 0 or die "openssl failed\n";
    open my $pem, '<', "$t/sa.key" or die $!;
    open my $sa, '>', "$t/conf/keys/drive-sa.json" or die $!;
    print $sa JSON::PP->new->encode({ type => 'service_account',
        client_email => 'nginx@example.iam.gserviceaccount.com',
        private_key => do { local $/; <$pem> },
        token_uri => 'https://127.0.0.1/token' });
    close $sa;
    open my $c, '>', "$t/conf/nginx.conf" or die $!;
    print $c "load_module $ENV{TEST_NGINX_LOAD_MODULES};\n"
           . "error_log $t/logs/error.log; pid $t/logs/nginx.pid;\n"
           . "events {} http { attachments_database \"dbname=x\"; "
           . "attachments_signing_key k $top/t/data/new.key; "
           . "include $t/conf/drive-example.conf; }\n";
    close $c;
    my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $out = `$nginx -t -p $t -c $t/conf/nginx.conf 2>&1`;
    is($?, 0, 'conf/drive-example.conf passes nginx -t') or diag $out;
}

my $again = `$top/tools/service start 2>&1`;
is($?, 0, 'running make run twice is harmless') or diag $again;

done_testing();
