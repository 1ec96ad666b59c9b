# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::Own;

# A private PostgreSQL cluster and a private nginx, for the suites that stop
# or kill them between requests (which the block format cannot express):
# the cluster gets the schema and user u1 as owner of acme; nginx serves the
# API on /api/ and downloads on /files/.  Both are stopped at exit.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use Attachments::HTTP qw(mode);

our @EXPORT = qw(own_stack db_stop db_start);

my $top = $ENV{TEST_NGINX_TOP} || '.';
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES}
             || "$top/build/ngx_http_attachments_module.so";
my @stacks;

sub sh {
    my $out = `bash -c '. "$top/tools/pg.sh"; $_[0]' 2>&1`;
    die $out if $?;
    return $out;
}

# own_stack(name => ..., database => conninfo parameters, http => directives,
#           listen => parameters of the listen directive, such as http2)
sub own_stack {
    my %o = @_;
    my $dir = tempdir("attachments-$o{name}.XXXXXX", TMPDIR => 1,
                      CLEANUP => !$ENV{KEEP});
    my $s = { dir => $dir };

    chmod 0755, $dir;
    push @stacks, $s;

    ($s->{conninfo}) = sh(qq{pg_start "$dir/pg" "$top/conf/schema.sql" >&2;}
                          . q{ echo "$PG_CONNINFO"}) =~ /^(host=.*)$/m;
    ($s->{port}) = sh('free_port') =~ /(\d+)/;

    system('psql', '-X', '-q', $s->{conninfo}, '-c',
           "INSERT INTO attachments.memberships VALUES ('acme', 'u1', 'owner')")
        == 0 or die "seed failed\n";

    mkdir "$dir/$_" for qw(logs store);
    chmod 0777, "$dir/store";

    my $database = $o{database} // '';
    my $http = $o{http} // '';
    # the run's protocol unless the suite says which
    my $listen = $o{listen} // (mode() eq 'h2' ? 'http2' : '');
    my $server = '';
    $Attachments::HTTP::Ours{$s->{port}} = 1 unless defined $o{listen};

    # nginx 1.25.1 made http2 a directive of its own, and warns about the
    # listen parameter
    if ($listen =~ /\bhttp2\b/ && `$nginx -v 2>&1` =~ m{nginx/(\d+)\.(\d+)\.(\d+)}
        && sprintf('%03d%03d%03d', $1, $2, $3) ge '001025001')
    {
        $listen =~ s/\bhttp2\b//;
        $server = 'http2 on;';
    }

    open my $conf, '>', "$dir/nginx.conf" or die $!;
    print $conf <<"_EOC_";
load_module $module;
worker_processes 1;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    attachments_database "$s->{conninfo}" $database;
    attachments_signing_key k1 $top/t/data/new.key;
    attachments_storage main local root=$dir/store internal=/_s/;
$http
    server {
        listen 127.0.0.1:$s->{port} $listen;
        $server
        location /files/ { attachments_download main; }
        location /api/ {
            attachments_api;
            attachments_user \$http_x_user;
            attachments_org \$http_x_org;
        }
    }
}
_EOC_
    close $conf;

    system($nginx, '-p', $dir, '-c', "$dir/nginx.conf") == 0
        or die "nginx failed\n";
    $s->{nginx} = 1;

    return $s;
}

sub db_stop { sh(qq{pg_stop "$_[0]{dir}/pg"}) }
sub db_start { sh(qq{pg_start "$_[0]{dir}/pg" "$top/conf/schema.sql"}) }

END {
    for my $s (reverse @stacks) {
        system("$nginx -p $s->{dir} -c $s->{dir}/nginx.conf -s stop 2>/dev/null")
            if $s->{nginx};
        eval { sh(qq{pg_stop "$s->{dir}/pg"}) } if -d "$s->{dir}/pg";
    }
}

1;
