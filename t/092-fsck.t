# Copyright (C) 2026 The ngx_http_attachments_module authors

# attachments-fsck: each kind of finding on a storage made wrong on purpose,
# the exit status, and --quarantine.  (Plain Test::More: no nginx needed.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Digest::SHA qw(sha256_hex);

use Attachments::DB;

$ENV{TEST_NGINX_PG_CONNINFO} or plan skip_all => 'run through make test';

my $store = tempdir('attachments-fsck.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $quarantine = tempdir('attachments-quarantine.XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub blob {
    my ($key, $content) = @_;
    my ($dir) = "$store/$key" =~ m{^(.*)/};
    make_path($dir);
    open my $fh, '>', "$store/$key" or die $!;
    print $fh $content;
    close $fh;
}

reset_db();
blob('k/good.txt', 'good');
add_file(key => 'k/good.txt', size => 4, sha256 => sha256_hex('good'), storage => 'fs');
is(fsck('fs=local:' . $store), '', 'a consistent storage: no finding');

add_file(key => 'k/missing.txt', size => 4, storage => 'fs');
add_file(key => 'k/deleted.txt', size => 4, storage => 'fs', deleted => 1);
blob('k/orphan.txt', 'x');
blob('k/short.txt', 'abc');
add_file(key => 'k/short.txt', size => 4, sha256 => sha256_hex('abc'), storage => 'fs');
blob('k/altered.txt', 'same');
add_file(key => 'k/altered.txt', size => 4, sha256 => sha256_hex('diff'), storage => 'fs');
add_file(key => 'k/pending.txt', size => 4, state => 'pending', storage => 'fs',
         created => "now() - interval '2 hours'");
blob('.tmp/00000000-0000-4000-8000-0000000000aa', 'left');
utime time - 7200, time - 7200, "$store/.tmp/00000000-0000-4000-8000-0000000000aa";

my $out = fsck('fs=local:' . $store);
like($out, qr{^missing fs k/missing\.txt}m, 'a ready row without its blob');
like($out, qr{^missing fs k/deleted\.txt}m, 'a deleted, restorable row without its blob');
like($out, qr{^orphan fs k/orphan\.txt$}m, 'a blob without its row');
like($out, qr{^size fs k/short\.txt: 3 bytes}m, 'a size that is not the row\'s');
like($out, qr{^size fs k/altered\.txt: SHA-256}m, 'bytes that are not the row\'s');
like($out, qr{^stale fs k/pending\.txt: pending row}m, 'a pending row past its lease');
like($out, qr{^stale fs \.tmp/00000000-0000-4000-8000-0000000000aa}m,
     'a temporary nobody holds');

system("$ENV{TEST_NGINX_TOP}/tools/attachments-fsck --db '$ENV{TEST_NGINX_PG_CONNINFO}'"
       . " --storage fs=local:$store --grace 0 >/dev/null");
is($? >> 8, 1, 'exit status 1 on findings');

system("$ENV{TEST_NGINX_TOP}/tools/attachments-fsck --db '$ENV{TEST_NGINX_PG_CONNINFO}'"
       . " --storage fs=local:$store --grace 0 --quarantine $quarantine >/dev/null");
ok(!-e "$store/k/orphan.txt" && -e "$quarantine/fs/k/orphan.txt",
   '--quarantine moves the orphan aside');

# the storages and the database as nginx.conf says, an include followed
my $conf = tempdir('attachments-fsckconf.XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $c, '>', "$conf/nginx.conf" or die $!;
print $c "events {}\nhttp {\n    include storages.conf;\n"
       . "    attachments_database \"$ENV{TEST_NGINX_PG_CONNINFO}\" size=2;\n}\n";
close $c;
open $c, '>', "$conf/storages.conf" or die $!;
print $c "attachments_storage fs local root=$store internal=/_s/;  # the files\n";
close $c;
$out = `$ENV{TEST_NGINX_TOP}/tools/attachments-fsck -c $conf/nginx.conf --grace 0`;
like($out, qr{^missing fs k/missing\.txt}m, '-c: the storages of nginx.conf');

# a blob younger than the grace may be an upload under way: not an orphan
blob('k/young.txt', 'y');
unlike(fsck('fs=local:' . $store, grace => 3600), qr{orphan fs k/young\.txt},
       'a young blob without its row yet is left alone');

# a publish links an old blob under its public name before the row says
# so: the name is new though the bytes are old, and must not be taken
blob('k/old.txt', 'o');
utime time - 7200, time - 7200, "$store/k/old.txt";
add_file(key => 'k/old.txt', size => 1, sha256 => sha256_hex('o'), storage => 'fs');
make_path("$store/public/k");
link "$store/k/old.txt", "$store/public/k/old.txt" or die $!;
system("$ENV{TEST_NGINX_TOP}/tools/attachments-fsck --db '$ENV{TEST_NGINX_PG_CONNINFO}'"
       . " --storage fs=local:$store --grace 3600 --quarantine $quarantine >/dev/null");
ok(-e "$store/public/k/old.txt" && !-e "$quarantine/fs/public/k/old.txt",
   'a public name being published is no orphan: the link is new, not the bytes');

# a root that is not there is an error, not a storage of missing files
system("$ENV{TEST_NGINX_TOP}/tools/attachments-fsck --db '$ENV{TEST_NGINX_PG_CONNINFO}'"
       . " --storage fs=local:$store/nowhere >/dev/null 2>&1");
is($? >> 8, 2, 'a missing root: exit status 2');

# a drive is listed through its API (t/170, t/175): one that cannot be
# asked is an error, not a drive of missing files
reset_db();
add_file(key => 'Work Orders/WO-1 1/f.txt', size => 4, storage => 'office');
open $c, '>', "$conf/storages.conf" or die $!;
print $c "attachments_storage fs local root=$store internal=/_s/;\n"
       . "attachments_storage office google_drive credentials=nowhere.json\n"
       . "    proxy=/_gdrive/ token=/_gtoken/ temp=$store;\n";
close $c;
$out = `$ENV{TEST_NGINX_TOP}/tools/attachments-fsck -c $conf/nginx.conf --grace 0 2>&1`;
is($? >> 8, 2, 'a drive that cannot be listed: exit status 2');
like($out, qr{^attachments-fsck: .*\Q$conf\E/nowhere\.json}m, 'the error names what failed');

# a token file of two lines is refused without showing what it holds
open $c, '>', "$conf/yadisk.token" or die $!;
print $c "y0_current\n# old: y0_SECRET\n";
close $c;
$out = `$ENV{TEST_NGINX_TOP}/tools/attachments-fsck --db '$ENV{TEST_NGINX_PG_CONNINFO}' --storage office=yandex_disk:token_file=$conf/yadisk.token 2>&1`;
is($? >> 8, 2, 'a token file of two lines: exit status 2');
unlike($out, qr/y0_/, 'and no token in the message');

reset_db();
done_testing();
