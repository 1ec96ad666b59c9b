# Copyright (C) 2026 The ngx_http_attachments_module authors

# docs/openapi.yaml against the module's real answers: the example
# configuration (conf/nginx.conf, as `make run` serves it) is exercised by
# t/openapi/exercise, every endpoint's success and every error class it can
# reach, PostgreSQL up and then down; t/openapi/validate checks each answer
# against the document and must also refuse doctored copies of them.
# (Plain Test::More: the database is stopped between two runs of the
# exerciser, which the block format cannot express.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;

use Attachments::Own;

my $top = $ENV{TEST_NGINX_TOP} or plan skip_all => 'run through make test';
my $spec = "$top/docs/openapi.yaml";
my $bin = "$top/t/openapi";

# every answer of the exerciser: a full run gives this many
my $expected = 152;

# --- the document itself ---------------------------------------------------

is(system('/usr/bin/python3', '-c', 'import yaml, jsonschema'), 0,
   'Debian\'s python3-yaml and python3-jsonschema are installed')
    or BAIL_OUT('apt-get install python3-yaml python3-jsonschema');

my $out = `$bin/check-spec $spec 2>&1`;
is($?, 0, 'check-spec: docs/openapi.yaml is an OpenAPI 3.1 document')
    or diag $out;

# --- the stack: conf/nginx.conf with its own PostgreSQL ------------------------

my $run = tempdir('attachments-openapi.XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{KEEP});
my $port = `python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'`;
chomp $port;

$ENV{RUN} = $run;
$ENV{PORT} = $port;

my $start = `$top/tools/service start 2>&1`;
is($?, 0, 'the example configuration starts') or diag $start;

END { system("$top/tools/service stop >/dev/null 2>&1") if $run }

my ($conninfo) = $start =~ /PostgreSQL: (host=\S.*)$/m;
ok($conninfo, 'its database') or BAIL_OUT('no conninfo in: ' . $start);

my $stack = { dir => $run };     # tools/service keeps its cluster in $run/pg

my @args = ('--port', $port, '--conninfo', $conninfo,
            '--store', "$run/storage", '--key-file', "$run/keys/k1.key");

sub exercise {
    my @phase = @_;
    my $pid = open(my $fh, '-|', "$bin/exercise", @args, @phase)
        // die "exercise: $!";
    my @lines = <$fh>;
    close $fh;
    is($?, 0, 'exercise, the database ' . (@phase ? 'down' : 'up')
              . ': every request answered');
    return @lines;
}

select undef, undef, undef, 0.3;

my @lines = exercise();
db_stop($stack);
my @down = exercise('--phase', 'db-down');
db_start($stack);
push @lines, @down;

cmp_ok(scalar @lines, '>=', $expected, "at least $expected answers");

my $json = JSON::PP->new->utf8->canonical;     # lines: UTF-8 bytes
my $text = JSON::PP->new->canonical;           # bodies: characters
my @r = map { $json->decode($_) } @lines;

my %statuses = map { $_->{status} => 1 } @r;
for my $s (qw(200 201 204 206 304 400 401 403 404 405 409 410 412 413 415
              416 422 500 503 507))
{
    ok($statuses{$s}, "an answer with status $s among them");
}

ok((grep { $_->{status} == 503 && $_->{headers}{'retry-after'} }
     map { $json->decode($_) } @down),
   'the database down: 503 with Retry-After');

# --- every answer is what the document says ----------------------------------------

sub validate {
    my ($lines, @opts) = @_;
    my $file = "$run/lines.jsonl";
    open my $fh, '>', $file or die $!;
    print $fh @$lines;
    close $fh;
    my $out = `$bin/validate $spec @opts < $file 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $res) = validate(\@lines, '--prefix', '/api/=/api/');
is($rc, 0, 'every answer validates') or diag $res;
my ($n) = $res =~ /^ok (\d+) responses$/m;
is($n, scalar @lines, 'the validator counts every answer');
cmp_ok($n // 0, '>=', $expected, "N >= $expected");

# the same answers from a server that mounts the API elsewhere
my @moved = map {
    my %l = %$_;
    $l{path} =~ s{^/api/}{/attachments/v1/};
    $json->encode(\%l) . "\n";
} @r;
($rc, $res) = validate(\@moved, '--prefix', '/attachments/v1/=/api/');
is($rc, 0, '--prefix maps a prefix of the server to the document\'s')
    or diag $res;
($rc, $res) = validate(\@moved);
is($rc, 1, 'and without it the moved paths are no paths of the document');

# --- and the validator can say no --------------------------------------------------------

my $uuid = qr/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

sub one {
    my ($what, $pred) = @_;
    my ($l) = grep { $pred->($_) } @r;
    ok($l, "a real answer: $what") or return;
    return $json->decode($json->encode($l));     # a deep copy
}

sub refused {
    my ($name, $l, $why) = @_;
    return unless $l;
    my ($rc, $out) = validate([$json->encode($l) . "\n"]);
    is($rc, 1, "refused: $name");
    like($out, $why, "because: $name") or diag $out;
}

my $file = one('one file', sub {
    $_[0]{method} eq 'GET' && $_[0]{status} == 200
    && $_[0]{path} =~ m{^/api/\w+/[\w-]+/files/$uuid$}
});
if ($file) {
    my $body = $text->decode($file->{body});
    $body->{storage_key} = 'org_acme/x.pdf';
    $file->{body} = $text->encode($body) . "\n";
}
refused('a file object with an extra property', $file,
        qr/Additional properties are not allowed \('storage_key' was unexpected\)/);

my $list = one('a list', sub {
    $_[0]{method} eq 'GET' && $_[0]{status} == 200
    && $_[0]{path} =~ m{^/api/\w+/[\w-]+/files$} && $_[0]{body} =~ /"id"/
});
if ($list) {
    my $body = $text->decode($list->{body});
    delete $body->{files}[0]{sha256};
    $list->{body} = $text->encode($body) . "\n";
}
refused('a listed file without a required property', $list,
        qr/'sha256' is a required property/);

my $deleted = one('a delete', sub {
    $_[0]{method} eq 'DELETE' && $_[0]{status} == 204
});
$deleted->{status} = 200 if $deleted;
refused('a status the operation does not document', $deleted,
        qr/status 200 is not documented for DELETE /);

my $missing = one('a 404', sub {
    $_[0]{status} == 404 && $_[0]{path} =~ m{^/api/}
    && ($_[0]{body} // '') =~ /"not_found"/
});
$missing->{body} =~ s/"not_found"/"file_missing"/ if $missing;
refused('an unknown error code', $missing, qr/'file_missing' is not one of/);

my $forbidden = one('a 403', sub {
    $_[0]{status} == 403 && $_[0]{path} =~ m{^/api/}
});
$forbidden->{body} =~ s/"forbidden"/"not_found"/ if $forbidden;
refused('a known code this status does not have', $forbidden,
        qr/'forbidden' was expected/);

my $not_allowed = one('a 405 of the API', sub {
    $_[0]{status} == 405 && $_[0]{method} eq 'PUT'
});
delete $not_allowed->{headers}{allow} if $not_allowed;
refused('a 405 without Allow', $not_allowed,
        qr/the required header Allow is missing/);

my $unavailable = one('a 503 of the API', sub {
    $_[0]{status} == 503 && $_[0]{path} =~ m{^/api/}
});
delete $unavailable->{headers}{'retry-after'} if $unavailable;
refused('a 503 without Retry-After', $unavailable,
        qr/the required header Retry-After is missing/);

my $html = one('a 401', sub { $_[0]{status} == 401 });
if ($html) {
    $html->{headers}{'content-type'} = 'text/html';
    $html->{body} = "<html><body>401</body></html>\n";
}
refused('HTML where the document has JSON', $html,
        qr/the response is text\/html, not JSON/);

my $no_content = one('a 204', sub { $_[0]{status} == 204 });
if ($no_content) {
    $no_content->{headers}{'content-type'} = 'application/json';
    $no_content->{body} = "{}\n";
}
refused('JSON where the document has no body', $no_content,
        qr/the response is JSON but the document has no body/);

my $metrics = one('the metrics', sub {
    $_[0]{method} eq 'GET' && $_[0]{status} == 200
    && $_[0]{path} eq '/metrics'
});
$metrics->{body} .= "attachments_uploads_total 1.5\n" if $metrics;
refused('metrics that are not Prometheus text', $metrics,
        qr/do not match/);

done_testing();
