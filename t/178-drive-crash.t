# Copyright (C) 2026 The ngx_http_attachments_module authors

# A worker killed (SIGKILL) while a drive holds back its answer to the
# bytes: the file is on the drive, its row still pending.  The key of a
# drive file is known before its bytes go, so the collector of the worker
# the master starts again finds the file, deletes it, and removes the row:
# nothing is left on the drive, in the database, in the temporary area or
# in the organization's usage.  For yandex_disk and google_drive, against
# their emulators (t/inc/yadisk.mjs, t/inc/gdrive.mjs).

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;
use Attachments::Upload;
use Attachments::Drive;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
# a worker killed is started again by the master
master_on();
plan tests => 19;

our $Token = 'y0_AgAAAAB-emulated-token';
our $Tmp = tempdir('attachments-drivecrash.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $Store = tempdir('attachments-store.XXXXXX', TMPDIR => 1, CLEANUP => 1);
# the workers (nobody, under root) write there
chmod 0777, $Tmp, $Store;
$ENV{TEST_NGINX_DCTMP} = $Tmp;
$ENV{TEST_NGINX_STORE} = $Store;
start_yadisk($Token);
start_gdrive($Tmp);
open my $fh, '>', "$Tmp/token" or die $!;
print $fh "$Token\n";
close $fh;

our $Http = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=2;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_storage main local root=$TEST_NGINX_STORE internal=/_store/;
    attachments_storage disk yandex_disk
        token_file=$TEST_NGINX_DCTMP/token root=disk:/CRM
        endpoint=http://127.0.0.1:$TEST_NGINX_YADISK_PORT
        proxy=/_yadisk/ upload=/_yadisk_upload/ temp=$TEST_NGINX_DCTMP;
    attachments_storage drive google_drive
        credentials=$TEST_NGINX_DCTMP/sa.json
        endpoint=http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT
        proxy=/_gdrive/ token=/_gtoken/ temp=$TEST_NGINX_DCTMP;
    attachments_active_storage disk;
    attachments_route work_orders "Work Orders/WO-$attachments_entity_id $attachments_record_name";
    attachments_gc_interval 200ms;
    attachments_gc_retention 0;
    attachments_gc_grace 1s;
_EOC_

our $Config = $StoreLocation . $ApiLocation . <<'_EOC_';
    location /_yadisk/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_YADISK_PORT/;
    }

    location /_yadisk_upload/ {
        internal;
        proxy_pass $attachments_storage_url;
    }

    location /_gdrive/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT/;
    }

    location /_gtoken/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GDRIVE_PORT/;
    }

    location /plain {
        return 200 "plain\n";
    }
_EOC_

block_defaults(
    http_config => $Http,
    config => $Config,
    request => 'GET /plain',
    response_body => "plain\n",
);

reset_db();
seed_people();

# an upload of one file to a work order, from another process
sub upload_async {
    post_async("/api/work_orders/$_[0]/files",
               multipart(['file', 'crash.txt', 'text/plain', "crash\n"]),
               'owner1', 'acme');
}

sub kill_worker {
    open my $in, '<', server_root() . '/logs/nginx.pid' or die $!;
    chomp(my $master = <$in>);
    my @workers = split ' ', `pgrep -P $master`;
    kill 'KILL', @workers;
    return scalar @workers;
}

# a pending row's lease (a minute, renewed while its upload works) ends
# only a minute after a crash: the collector waits for it, then the grace.
# The suite makes that minute pass.
sub lease_over {
    my $id = shift;
    sleep 1.5;
    my $leased = psql("SELECT state FROM attachments.files WHERE entity_id = '$id'"
                      . " AND lease_until > now()");
    psql("UPDATE attachments.files SET lease_until = now() - interval '1 second'"
         . " WHERE entity_id = '$id'");
    return $leased;
}

# what a crash may leave: the record's rows, temporaries, usage
sub left {
    my $id = shift;
    return join ' ', file_rows($id), stored_files("$Tmp/.tmp") eq '' ? 'no-temporary' : 'temporary',
        join '/', map { $_->{used_bytes} } @{ (api('GET', '/api/usage'))[1] }{qw(organization user)};
}

# an upload to record $id killed as the drive (its emulator's control
# call, its files' paths) holds back its answer; then all that is left
sub crash {
    my ($control, $files, $id) = @_;
    $control->('/_emu/hold?ms=6000', 'POST');
    my $pid = upload_async($id);
    Test::More::ok(wait_until(sub { @{ $files->() } == 1 }), 'the file is on the drive, its answer held back');
    Test::More::is(psql("SELECT state FROM attachments.files WHERE entity_id = '$id'"), 'pending', 'its row is pending');
    Test::More::is(kill_worker(), 1, 'the worker is killed');
    Test::More::unlike(async_status($pid), qr/^2/, 'the client has no 2xx');
    $control->('/_emu/hold?ms=0', 'POST');
    Test::More::is(lease_over($id), 'pending', 'the row stays while its lease lasts');
    Test::More::ok(wait_until(sub { left($id) eq '0 no-temporary 0/0' }), 'no row, no temporary, no usage')
        or Test::More::diag(left($id));
    Test::More::is_deeply($files->(), [], 'nor the file on the drive');
}

run_tests();

__DATA__

=== TEST 1: yandex_disk: the worker killed as the disk holds its answer; the collector deletes the file and the row
--- init
::crash(\&::yadisk, sub { my $t = ::yadisk_tree(); [grep { m{^disk:/CRM/Work Orders/WO-61 61/[0-9a-f-]{36}-crash\.txt$} } keys %$t] }, 61);
Test::More::ok((grep { $_->{method} eq 'DELETE' && $_->{url} =~ /WO-61.*permanently=true/ && $_->{status} == 204 } @{ ::yadisk_log() }),
               'deleted permanently by the collector');



=== TEST 2: google_drive: the same; the collector finds the file by its name and deletes it
--- http_config eval
$::Http =~ s/active_storage disk/active_storage drive/r
--- init
::crash(\&::gdrive, sub { my $t = ::gdrive_tree(); [grep { m{^/Work Orders/WO-62 62/[0-9a-f-]{36}-crash\.txt$} } keys %$t] }, 62);
