# Copyright (C) 2026 The ngx_http_attachments_module authors

package Test::Nginx::Socket;

# A small implementation of the part of Test::Nginx::Socket this project's
# suites use, on Debian's Test::Base.  It reads the same block format and
# environment (TEST_NGINX_BINARY, TEST_NGINX_LOAD_MODULES,
# TEST_NGINX_SERVER_PORT, TEST_NGINX_SERVROOT, TEST_NGINX_USE_HTTP2,
# TEST_NGINX_* expansion) and
# counts tests the way the CPAN module does, so a suite runs unchanged under
# either.  make test puts t/lib on @INC only when no Test::Nginx is installed.

use Test::Base -base;

use POSIX qw(WNOHANG);
use IO::Socket::INET;
use IO::Select;
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Basename qw(dirname);
use Time::HiRes qw(sleep time);
use List::Util ();

our $VERSION = '0.01';

our @EXPORT = qw(
    plan run_tests run_test blocks repeat_each no_shuffle no_root_location
    workers master_on master_off log_level timeout server_port html_dir
    server_root env_to_nginx no_long_string add_block_preprocessor
    $ServerPort $ServRoot $ServerPortForClient $NginxBinary
);

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || File::Spec->rel2abs('t/servroot');
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $RepeatEach = 1;
our $Workers = 1;
our $MasterProcess = 'off';
our $NoRootLocation = 0;
our @EnvToNginx;
our @BlockPreprocessors;
# as openresty's "http2" test mode: requests go by curl over h2c
our $UseHttp2 = $ENV{TEST_NGINX_USE_HTTP2};

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;

# as in openresty's: no TEST_NGINX_HTML_DIR of its own, a suite sets it
# ($ENV{TEST_NGINX_HTML_DIR} ||= html_dir();)

my $HtmlDir = "$ServRoot/html";
my $LogDir = "$ServRoot/logs";
my $ConfDir = "$ServRoot/conf";
my $ErrLogFile = "$LogDir/error.log";
my $PidFile = "$LogDir/nginx.pid";
my $Running;

sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub workers { $Workers = shift if @_; $Workers }
sub master_on () { $MasterProcess = 'on' }
sub master_off () { $MasterProcess = 'off' }
sub log_level { $LogLevel = shift if @_; $LogLevel }
sub timeout { $Timeout = shift if @_; $Timeout }
sub server_port { $ServerPort = shift if @_; $ServerPort }
sub html_dir () { $HtmlDir }
sub server_root () { $ServRoot }
our $NoShuffle = 0;
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { }
sub no_root_location () { $NoRootLocation = 1 }
sub env_to_nginx { push @EnvToNginx, @_ }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

sub expand_env ($) {
    my $s = shift;
    return $s unless defined $s && !ref $s;
    $s =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        defined $ENV{$1} ? $ENV{$1}
                         : die "environment variable $1 is not set\n"
    }ge;
    return $s;
}

sub section ($$) {
    my ($block, $name) = @_;
    my $v = $block->$name;
    return ref $v ? $v : expand_env($v);
}

sub write_config ($) {
    my $block = shift;

    my $main = section($block, 'main_config') // '';
    my $http = section($block, 'http_config') // '';
    my $config = section($block, 'config') // '';
    my $modules = '';

    for my $m (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '') {
        $modules .= "load_module $m;\n";
    }

    my $env = join '', map { "env $_;\n" } @EnvToNginx;
    my $listen = $ServerPort;
    $listen .= nginx_version() ge '001025001' ? '; http2 on' : ' http2'
        if use_http2($block);
    my $root = $NoRootLocation ? ''
             : "        location / {\n            root $HtmlDir;\n"
               . "            index index.html index.htm;\n        }\n";

    open my $out, '>', "$ConfDir/nginx.conf" or die "$ConfDir/nginx.conf: $!";
    print $out <<_EOC_;
$modules
worker_processes  $Workers;
daemon on;
master_process $MasterProcess;
error_log $ErrLogFile $LogLevel;
pid       $PidFile;
$env
$main

http {
    access_log $LogDir/access.log;
    default_type text/plain;
    keepalive_timeout  68;
    client_body_temp_path $ServRoot/client_body_temp;
    proxy_temp_path $ServRoot/proxy_temp;
    fastcgi_temp_path $ServRoot/fastcgi_temp;
    uwsgi_temp_path $ServRoot/uwsgi_temp;
    scgi_temp_path $ServRoot/scgi_temp;

$http

    server {
        listen          $listen;
        server_name     'localhost';
        client_max_body_size 30M;

        # Begin test case config...
$config
        # End test case config.

$root    }
}

events {
    accept_mutex off;
    worker_connections  64;
}
_EOC_
    close $out;
}

# the daemon is not our child: once it exits it may linger as a zombie
# until init reaps it
sub alive ($) {
    my $pid = shift;
    return 0 unless kill 0, $pid;
    open my $in, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$in> // '';
    return $stat !~ /^\d+ \(.*\) Z/;
}

sub stop_nginx () {
    return unless -f $PidFile;
    open my $in, '<', $PidFile or return;
    my $pid = <$in>;
    close $in;
    chomp $pid if defined $pid;
    return unless $pid && $pid =~ /^\d+$/;

    # as openresty's: a graceful stop, so that requests still running (a
    # refused body being discarded) end as they would; TERM only with
    # TEST_NGINX_FAST_SHUTDOWN
    kill $ENV{TEST_NGINX_FAST_SHUTDOWN} ? 'TERM' : 'QUIT', $pid;
    my $deadline = time + $Timeout;
    while (time < $deadline && alive($pid)) {
        sleep 0.01;
    }
    kill 'KILL', $pid if alive($pid);
    unlink $PidFile;
    undef $Running;
}

sub setup_server_root ($) {
    my $block = shift;

    remove_tree($ServRoot);
    make_path($HtmlDir, $LogDir, $ConfDir);

    # as openresty's: ">>> name [mtime]" (so no space in a name; an array
    # of [name, body, mtime] has any name), $TEST_NGINX_* expanded in
    # bodies, absolute names outside the html directory
    if (defined(my $files = $block->user_files)) {
        my @files = ref $files ? @$files : ();
        if (!ref $files) {
            while ($files =~ /^>>> (\S+)(?:[ \t]+(\S.*?))?\n(.*?)(?=^>>> |\z)/gms) {
                push @files, [$1, $3, $2];
            }
        }
        for my $f (@files) {
            my ($name, $body, $mtime) = @$f;
            my $path = $name =~ m{^/} ? $name : "$HtmlDir/$name";
            make_path(dirname($path));
            open my $out, '>', $path or die "$path: $!";
            binmode $out;
            print $out expand_env($body // '');
            close $out;
            system('env', 'TZ=GMT', 'touch', '-t', $mtime, $path) == 0
                or die "touch $path\n"
                if defined $mtime;
        }
    }
}

# starts nginx for the block; returns its exit status (0 when running)
sub start_nginx ($) {
    my $block = shift;

    stop_nginx();
    setup_server_root($block);
    write_config($block);

    # configuration errors are written before error_log is opened
    my $rc = system("$NginxBinary -p $ServRoot/ -c $ConfDir/nginx.conf "
                    . ">>$ErrLogFile 2>&1");
    return $rc if $rc != 0;

    $Running = 1;

    my $deadline = time + $Timeout;
    while (time < $deadline) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $ServerPort,
                                         Proto => 'tcp');
        if ($sock) {
            close $sock;
            return 0;
        }
        sleep 0.01;
    }

    die "nginx did not start listening on port $ServerPort\n";
}

# nginx's version as 00MMMmmmppp, to compare as strings
my $Version;
sub nginx_version () {
    return $Version //= do {
        my ($v) = `$NginxBinary -v 2>&1` =~ m{/(\d+\.\d+\.\d+)};
        sprintf '%03d%03d%03d', split /\./, $v // '0.0.0';
    };
}

# as openresty's: a block goes over HTTP/2 when it says --- http2, or in
# the http2 mode unless it says --- no_http2 or its request cannot (raw or
# pipelined, HTTP/1.0, or a proxy_pass back to the server itself)
sub use_http2 ($) {
    my $block = shift;
    return 0 if defined $block->no_http2;
    return 1 if defined $block->http2;
    return 0 unless $UseHttp2 && defined $block->request;
    return 0 if defined $block->raw_request
                || defined $block->pipelined_requests;
    return 0 if !ref $block->request && $block->request =~ m{HTTP/1\.0};
    for my $s (qw(config user_files http_config)) {
        return 0 if ($block->$s // '')
            =~ /proxy_pass .*:\$(server_port|TEST_NGINX_SERVER_PORT)/;
    }
    return 1;
}

sub build_request ($$$) {
    my ($block, $req, $last) = @_;

    my ($line, $body) = split /\n/, $req, 2;
    $line =~ s/^\s+|\s+$//g;
    $line .= ' HTTP/1.1' unless $line =~ m{ HTTP/\d\.\d$};
    $body //= '';

    my $more = section($block, 'more_headers') // '';
    my %has;
    my $headers = '';
    for my $h (split /\n/, $more) {
        next unless $h =~ /\S/;
        my ($k) = $h =~ /^([^:]+):/;
        $has{lc $k} = 1 if defined $k;
        $headers .= "$h\r\n";
    }

    my $r = "$line\r\n";
    $r .= "Host: localhost\r\n" unless $has{host};
    $r .= "Connection: " . ($last ? 'close' : 'keep-alive') . "\r\n"
        unless $has{connection};
    $r .= $headers;
    $r .= "Content-Length: " . length($body) . "\r\n"
        if length($body) && !$has{'content-length'}
           && !$has{'transfer-encoding'};
    $r .= "\r\n$body";
    return $r;
}

sub send_raw ($$;$) {
    my ($data, $timeout, $delay) = @_;
    my @pieces = ref $data ? @$data : ($data);

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPortForClient,
                                     Proto => 'tcp',
                                     Timeout => $timeout)
        or return (undef, "cannot connect: $!");

    my $sel = IO::Select->new($sock);
    my $deadline = time + $timeout;

    PIECE:
    for my $i (0 .. $#pieces) {
        my $piece = $pieces[$i];
        my $off = 0;
        if ($i > 0 && $delay) {
            sleep $delay;
            $deadline += $delay;
        }
        while ($off < length $piece) {
            return (undef, 'timeout sending')
                unless $sel->can_write($deadline - time);
            my $n = syswrite($sock, $piece, 65536, $off);
            last PIECE unless defined $n;  # the server may answer and close
            $off += $n;
        }
    }

    my $resp = '';
    while (1) {
        my $left = $deadline - time;
        return ($resp, 'timeout') if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        last if !$n;
        $resp .= $buf;
    }

    close $sock;
    return ($resp, undef);
}

# as openresty's in the http2 mode: the request built as for HTTP/1.1,
# sent by curl with its headers (but Connection) and body; curl -i's output
sub send_curl ($$) {
    my ($req, $timeout) = @_;

    my ($head, $body) = split /\r\n\r\n/, $req, 2;
    my ($line, @headers) = split /\r\n/, $head;
    my ($method, $uri) = $line =~ /^\s*(\S+)\s+(\S+)/;

    my @cmd = ('curl', '-i', '-sS', '--http2-prior-knowledge',
               '-H', 'User-Agent:', '-H', 'Accept:', '-H', 'Host:',
               '--connect-timeout', $timeout, '--max-time', $timeout);
    push @cmd, $method eq 'HEAD' ? '-I' : $method eq 'GET' ? () : ('-X', $method);
    push @cmd, map { ('-H', $_) } grep { !/^Connection\s*:/i } @headers;
    if (length($body // '')) {
        push @cmd, '-H', 'Content-Type: '
            unless grep { /^Content-Type\s*:/i } @headers;
        my $file = "$HtmlDir/curl.data.bin";
        open my $out, '>', $file or die "$file: $!";
        binmode $out;
        print $out $body;
        close $out;
        push @cmd, '--data-binary', "\@$file";
    }
    push @cmd, "http://127.0.0.1:$ServerPortForClient$uri";

    # nginx resets a stream it answered before its body was all sent
    # (NO_ERROR, RFC 9113 8.1); curl 7.88 may then drop the answer and exit
    # with 92 (curl/curl#22984), on a busy machine one time in two.  The
    # request was not carried out (nginx read no body of it): it is sent
    # again, a few times.
    my ($resp, $rc);
    for my $try (1 .. 8) {
        select undef, undef, undef, 0.05 * $try if $try > 1;
        open my $in, '-|', @cmd or return (undef, "cannot run curl: $!");
        binmode $in;
        $resp = do { local $/; <$in> };
        close $in;
        $rc = $? >> 8;
        last unless $rc == 92 && !length($resp // '');
    }
    return ($resp, $rc ? "curl exited with $rc" : undef);
}

# splits a byte stream of responses into [code, {headers}, body] triples
sub parse_responses ($$) {
    my ($raw, $head_only) = @_;
    my @res;

    while (length $raw) {
        my $i = index $raw, "\r\n\r\n";
        last if $i < 0;
        my $head = substr $raw, 0, $i;
        $raw = substr $raw, $i + 4;

        my ($status, @lines) = split /\r\n/, $head;
        my ($code) = $status =~ m{^HTTP/\d(?:\.\d)? (\d{3})};
        my %h;
        for (@lines) {
            my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
            $h{lc $k} = defined $h{lc $k} ? "$h{lc $k}, $v" : $v;
        }

        my $body = '';
        if ($head_only || $code =~ /^(1|204|304)/) {
            # no body
        } elsif (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            while ($raw =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
                my $len = hex $1;
                $body .= substr $raw, 0, $len;
                $raw = substr $raw, $len;
                $raw =~ s/^\r\n//;
                last if $len == 0;
            }
        } elsif (defined $h{'content-length'}) {
            $body = substr $raw, 0, $h{'content-length'};
            $raw = substr $raw, $h{'content-length'};
        } else {
            $body = $raw;
            $raw = '';
        }

        push @res, [$code, \%h, $body];
    }

    return @res;
}

sub error_log_since ($) {
    my $pos = shift;
    open my $in, '<', $ErrLogFile or return '';
    seek $in, $pos, 0;
    local $/;
    my $s = <$in> // '';
    close $in;
    return $s;
}

sub nth ($$) {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub check_patterns ($$$$) {
    my ($name, $log, $patterns, $want) = @_;
    my @p = ref $patterns eq 'ARRAY' ? @$patterns
          : ref $patterns eq 'Regexp' ? ($patterns)
          : grep { /\S/ } split /\n/, $patterns;

    for my $p (@p) {
        my $found = ref $p eq 'Regexp' ? $log =~ $p : index($log, $p) >= 0;
        if ($want) {
            Test::More::ok($found, "$name - pattern \"$p\" should match a line in "
                       . "error.log");
        } else {
            Test::More::ok(!$found, "$name - pattern \"$p\" should not match any line "
                        . "in error.log");
        }
    }
}

# every match of grep_error_log (a regex, or a literal string), one per
# line, against grep_error_log_out (a string, or a regex to match)
sub grep_error_log ($$$$) {
    my ($block, $name, $log, $i) = @_;
    my $pat = $block->grep_error_log;
    unless (ref $pat) {
        $pat =~ s/\n+\z//;
        $pat = qr/\Q$pat\E/;
    }
    my $out = '';
    for my $line (split /\n/, $log) {
        $out .= "$&\n" if $line =~ /$pat/;
    }
    my $want = nth($block->grep_error_log_out, $i) // '';
    if (ref $want eq 'Regexp') {
        Test::More::like($out, $want, "$name - grep_error_log_out");
    } else {
        Test::More::is($out, $want, "$name - grep_error_log_out");
    }
}

sub check_response ($$$$) {
    my ($block, $name, $res, $i) = @_;
    my ($code, $h, $body) = $res ? @$res : (undef, {}, undef);

    my $want = nth($block->error_code, $i) // 200;
    $want =~ s/\s+$//;
    Test::More::is($code, $want, "$name - status code ok");

    # as openresty's: response_headers_like only without response_headers
    for my $kind (defined $block->response_headers ? 'response_headers'
                                                   : 'response_headers_like')
    {
        my $spec = nth(section($block, $kind), $i);
        next unless defined $spec;
        for my $line (split /\n/, $spec) {
            next unless $line =~ /\S/;
            if ($line =~ /^\s*!\s*([^:\s]+)/) {
                Test::More::ok(!defined $h->{lc $1}, "$name - header $1 not present");
                next;
            }
            my ($k, $v) = $line =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/ or next;
            if ($kind eq 'response_headers') {
                Test::More::is($h->{lc $k} // '', $v, "$name - header $k ok");
            } else {
                # anchored at both ends, as openresty's is
                Test::More::like($h->{lc $k} // '', qr/^$v$/, "$name - header $k like ok");
            }
        }
    }

    my $expected = nth($block->response_body, $i);
    if (defined $expected) {
        Test::More::is($body, $expected, "$name - response_body - response is expected");
    }

    # as openresty's: response_body_like (or else _unlike) only without
    # response_body
    my $like = defined $block->response_body
             ? undef : nth($block->response_body_like, $i);
    my $unlike = defined $block->response_body || defined $like
               ? undef : nth($block->response_body_unlike, $i);
    if (defined $like) {
        Test::More::like($body // '', ref $like ? $like : qr/$like/s,
             "$name - response_body_like - response is expected");
    } elsif (defined $unlike) {
        Test::More::unlike($body // '', ref $unlike ? $unlike : qr/$unlike/s,
             "$name - response_body_unlike - response is expected");
    }
}

sub run_test ($) {
    my $block = shift;
    my $name = $block->name;

    $_->($block) for @BlockPreprocessors;

    local $Timeout = $block->timeout // $Timeout;
    $Timeout =~ s/s$//;

    my $rc = start_nginx($block);

    if (defined $block->must_die) {
        Test::More::isnt($rc, 0, "$name - die as expected");
        check_patterns($name, error_log_since(0), $block->error_log, 1)
            if defined $block->error_log;
        check_patterns($name, error_log_since(0), $block->no_error_log, 0)
            if defined $block->no_error_log;
        return;
    }

    if ($rc != 0) {
        my $log = error_log_since(0);
        Test::More::BAIL_OUT("$name - cannot start nginx:\n$log");
    }

    # as openresty's: the first check sees the log from nginx's start, with
    # what init caused; later ones what came after the one before
    my $pos = 0;

    if (defined $block->init) {
        eval $block->init;
        die "$name - init failed: $@" if $@;
    }

    for my $rep (1 .. $RepeatEach) {
        if (defined $block->pipelined_requests) {
            my $reqs = $block->pipelined_requests;
            my $raw = '';
            for my $k (0 .. $#$reqs) {
                $raw .= build_request($block, expand_env($reqs->[$k]),
                                      $k == $#$reqs);
            }
            my ($resp, $err) = send_raw($raw, $Timeout);
            my @res = parse_responses($resp // '', 0);
            for my $k (0 .. $#$reqs) {
                check_response($block, $name, $res[$k], $k);
                check_log($block, $name, \$pos, $rep - 1);
            }

        } else {
            my $req = defined $block->raw_request ? $block->raw_request
                    : $block->request;
            die "$name - no request\n" unless defined $req;
            # as openresty's: an array of requests is several requests, an
            # array raw_request the pieces of one (raw_request_middle_delay
            # seconds apart)
            my @reqs = ref $req eq 'ARRAY' && !defined $block->raw_request
                     ? @$req : ($req);

            for my $k (0 .. $#reqs) {
                my $r = ref $reqs[$k] ? [map { expand_env($_) } @{$reqs[$k]}]
                                      : expand_env($reqs[$k]);
                my $data = defined $block->raw_request ? $r
                         : build_request($block, $r, 1);
                my ($resp, $err) = use_http2($block)
                    ? send_curl($data, $Timeout)
                    : send_raw($data, $Timeout,
                               $block->raw_request_middle_delay);
                Test::More::diag("$name - $err") if $err && !defined $block->abort;
                unless (defined $block->ignore_response) {
                    my ($res) = parse_responses($resp // '',
                        (ref $r ? $r->[0] : $r) =~ /^\s*HEAD\b/);
                    check_response($block, $name, $res, $k);
                }
                check_log($block, $name, \$pos, $rep - 1);
            }
        }
    }
}

# as openresty's: after each request, the log lines written since the last
# check (the first check of a block also sees its start and init) must
# have every error_log pattern and no no_error_log one; grep_error_log_out
# may be an array, one per repetition
sub check_log ($$$$) {
    my ($block, $name, $pos, $rep) = @_;

    # wait: after every request, as openresty's
    sleep($block->wait) if $block->wait;

    return unless defined $block->error_log || defined $block->no_error_log
                  || defined $block->grep_error_log;

    # what is logged in the log phase comes after the response
    sleep(0.05);

    my $log = error_log_since($$pos);
    $$pos += length $log;

    check_patterns($name, $log, $block->error_log, 1)
        if defined $block->error_log;
    check_patterns($name, $log, $block->no_error_log, 0)
        if defined $block->no_error_log;
    grep_error_log($block, $name, $log, $rep)
        if defined $block->grep_error_log;
}

# as openresty's: blocks run in a random order unless the suite says
# no_shuffle() (or TEST_NGINX_NO_SHUFFLE is set)
sub run_tests () {
    my @blocks = blocks();
    @blocks = List::Util::shuffle(@blocks)
        unless $NoShuffle || $ENV{TEST_NGINX_NO_SHUFFLE};

    for my $block (@blocks) {
        run_test($block);
    }
    stop_nginx();
}

END {
    stop_nginx() if $Running;
}

package Test::Nginx::Socket::Filter;
use base 'Test::Base::Filter';

1;
