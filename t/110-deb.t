# Copyright (C) 2026 The ngx_http_attachments_module authors

# make deb: the package installs as Debian's libnginx-mod-* do (the module
# enabled in /etc/nginx/modules-enabled), Debian's nginx loads it from
# there and serves a signed download minted by the packaged
# attachments-sign, and a purge leaves nothing behind.  Root only: it
# installs into the system (and purges what it installed, pass or fail).
use strict;
use warnings;
use File::Temp qw(tempdir);
use Attachments::HTTP;
use IO::Socket::INET;
use Test::More;

my $deb = $ENV{TEST_NGINX_DEB};
my $pkg = 'libnginx-mod-http-attachments';
my $link = '/etc/nginx/modules-enabled/50-mod-http-attachments.conf';
my $so = '/usr/lib/nginx/modules/ngx_http_attachments_module.so';

plan skip_all => 'TEST_NGINX_DEB names no package (make test sets it)'
    unless $deb && -f $deb;
plan skip_all => 'installing a package needs root' if $> != 0;
plan skip_all => "$pkg is installed already: not touching it"
    if `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null` =~ /^install ok installed$/;

my ($installed, $pid_file);

END {
    if ($pid_file && -s $pid_file) {
        kill 'QUIT', `cat $pid_file` + 0;
    }
    system("apt-get purge -y -qq $pkg >/dev/null 2>&1") if $installed;
}

sub run_ok ($$) {
    my ($cmd, $name) = @_;
    my $out = `$cmd 2>&1`;
    ok($? == 0, $name) or diag($out);
    return $out;
}

$deb = "./$deb" unless $deb =~ m{^/};
$installed = 1;
run_ok("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $deb",
       'apt-get installs the package');

like(`dpkg-query -W -f='\${Status}' $pkg`, qr/install ok installed/,
     'dpkg knows it as installed');
ok(-f $so, 'the module is in /usr/lib/nginx/modules');
is(readlink($link),
   '/usr/share/nginx/modules-available/mod-http-attachments.conf',
   'postinst enabled it as Debian enables its modules');
is(`cat $link`, "load_module modules/ngx_http_attachments_module.so;\n",
   'its load_module line');
ok(-x '/usr/bin/attachments-sign' && -x '/usr/bin/attachments-fsck',
   'the tools are installed');
ok(-f "/usr/share/$pkg/schema.sql", 'so is the schema');

# a server with Debian's prefix (load_module's path is relative to it)
my $dir = tempdir('attachments-deb.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/store";
mkdir "$dir/store/org_acme";
open my $f, '>', "$dir/store/org_acme/hello.txt" or die $!;
print $f "hello from the package\n";
close $f;
open $f, '>', "$dir/k1.key" or die $!;
print $f "0123456789abcdef0123456789abcdef\n";
close $f;

my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};
$pid_file = "$dir/nginx.pid";

open $f, '>', "$dir/nginx.conf" or die $!;
print $f <<"_EOC_";
user nobody nogroup;
worker_processes 1;
pid $pid_file;
error_log $dir/error.log info;
include $link;
events {}
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    attachments_signing_key k1 $dir/k1.key;
    attachments_storage main local root=$dir/store internal=/_s/;
    server {
        listen 127.0.0.1:$port;
        location /files/ {
            attachments_download main;
        }
        location /_s/ {
            internal;
            alias $dir/store/;
        }
    }
}
_EOC_
close $f;

run_ok("/usr/sbin/nginx -t -e $dir/error.log -c $dir/nginx.conf",
       'nginx -t accepts a configuration that uses the module');
run_ok("/usr/sbin/nginx -e $dir/error.log -c $dir/nginx.conf",
       'nginx starts with it');

my $url = `/usr/bin/attachments-sign -s $dir/k1.key -i k1 -p /files/ org_acme/hello.txt`;
chomp $url;
my $http = Attachments::HTTP->new(timeout => 5);
my $r;
for (1 .. 50) {
    $r = $http->get("http://127.0.0.1:$port$url");
    last if $r->{status} != 599;
    select undef, undef, undef, 0.1;
}
is($r->{status}, 200, 'a signed download is served');
is($r->{content}, "hello from the package\n", 'with the file');

my $bad = $url;
substr($bad, -1, 1) = substr($url, -1) eq 'A' ? 'B' : 'A';
is($http->get("http://127.0.0.1:$port$bad")->{status}, 403,
   'a tampered one is refused');

system("/usr/sbin/nginx -e $dir/error.log -c $dir/nginx.conf -s quit");
for (1 .. 50) {
    last unless -e $pid_file;
    select undef, undef, undef, 0.1;
}
$pid_file = undef;

run_ok("DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkg",
       'apt-get purges it');
$installed = 0;
ok(!-e $so && !-l $link && !-l "$link.removed",
   'no module and no link left');
ok(!-e '/usr/bin/attachments-sign', 'no tool left');

done_testing();
