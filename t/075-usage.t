# Copyright (C) 2026 The ngx_http_attachments_module authors

# Usage kept as counters (DESIGN.md, section 6): every change of a file or
# of the application's external usage moves them in its own transaction;
# the reconciliation query finds drift, attachments-fsck reports it,
# usage_reconcile() repairs it; concurrent writers keep them exact and
# never deadlock.  (Plain Test::More against the suite's database.)

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);

use Attachments::DB;

$ENV{TEST_NGINX_PG_CONNINFO} or plan skip_all => 'run through make test';

my $store = tempdir('attachments-usage.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# "org:user=bytes" of every counter, sorted; what the rows say must match
sub counters {
    return join ' ', split /\n/,
        psql("SELECT organization_id || ':' || user_id || '=' || used_bytes
                FROM attachments.usage_counters WHERE used_bytes <> 0
               ORDER BY 1");
}

sub no_drift {
    is(psql('SELECT count(*) FROM attachments.usage_drift'), 0,
       "$_[0]: the counters are what the rows add up to");
}

reset_db();
is(counters(), '', 'no files, no usage');

my $a = add_file(size => 100, by => 'u1');
my $b = add_file(size => 50, by => 'u1');
psql("UPDATE attachments.files SET visibility = 'public' WHERE id = '$b'");
add_file(size => 7, by => 'u2', org => 'globex');
is(counters(), 'acme:=150 acme:u1=100 globex:=7 globex:u2=7',
   'an organization counts all its files, a user their private ones');
no_drift('inserts');

my $p = add_file(size => 30, by => 'u1', state => 'pending');
is(counters(), 'acme:=150 acme:u1=100 globex:=7 globex:u2=7',
   'a pending upload counts nothing');
psql("UPDATE attachments.files SET state = 'ready' WHERE id = '$p'");
is(counters(), 'acme:=180 acme:u1=130 globex:=7 globex:u2=7',
   'it counts once ready');

psql("UPDATE attachments.files SET deleted_at = now() WHERE id = '$p'");
is(counters(), 'acme:=150 acme:u1=100 globex:=7 globex:u2=7',
   'a deleted file stops counting');
psql("UPDATE attachments.files SET deleted_at = NULL WHERE id = '$p'");
is(counters(), 'acme:=180 acme:u1=130 globex:=7 globex:u2=7',
   'a restored one counts again');

psql("UPDATE attachments.files SET visibility = 'public' WHERE id = '$a'");
is(counters(), 'acme:=180 acme:u1=30 globex:=7 globex:u2=7',
   'a published file leaves its uploader\'s usage, not the organization\'s');

psql("UPDATE attachments.files SET tags = '[\"x\"]', updated_at = now()
       WHERE id = '$p'");
is(counters(), 'acme:=180 acme:u1=30 globex:=7 globex:u2=7',
   'a metadata update changes nothing');

psql("UPDATE attachments.files SET deleted_at = now() WHERE id = '$p'");
psql("UPDATE attachments.files SET purged_at = now() WHERE id = '$p'");
psql("DELETE FROM attachments.files WHERE id = '$b'");
is(counters(), 'acme:=100 globex:=7 globex:u2=7',
   'a purge counts nothing more; a row removed takes its bytes along')
    or diag psql('SELECT * FROM attachments.usage_counters');
no_drift('updates and deletes');

psql("INSERT INTO attachments.external_usage VALUES ('acme', 'logo', 4000)");
psql("INSERT INTO attachments.external_usage VALUES ('acme', 'avatar:u1', 900)");
like(counters(), qr/^acme:=5000 (?!.*acme:u1=[1-9])/,
     'the application\'s bytes count for the organization, an avatar not for its owner');
psql("UPDATE attachments.external_usage SET bytes = 1000 WHERE item = 'logo'");
psql("DELETE FROM attachments.external_usage WHERE item = 'avatar:u1'");
like(counters(), qr/^acme:=1100 /, 'and follow their updates and removals');
no_drift('external usage');

# drift: a change made with the triggers off
psql('ALTER TABLE attachments.files DISABLE TRIGGER files_usage');
psql("UPDATE attachments.files SET size = 160 WHERE id = '$a'");
psql('ALTER TABLE attachments.files ENABLE TRIGGER files_usage');

is(psql('SELECT organization_id || user_id || counted_bytes || used_bytes
           FROM attachments.usage_drift'),
   'acme11001160', 'the reconciliation query finds the drift');
like(fsck("main=local:$store"),
     qr/^usage organization acme: counted 1100 bytes, the rows say 1160 /m,
     'attachments-fsck reports it');
is(psql('SELECT attachments.usage_reconcile()'), 1, 'reconcile repairs one counter');
no_drift('after the repair');
unlike(fsck("main=local:$store"), qr/^usage/m, 'and fsck has nothing more to say');

psql('TRUNCATE attachments.files');
is(counters(), 'acme:=1000', 'TRUNCATE leaves the external bytes alone');

# an upload finishing while the application adds its own bytes waits for
# them: the quota check never reads a counter about to grow
psql('TRUNCATE attachments.files, attachments.external_usage');
psql("INSERT INTO attachments.quotas VALUES ('acme', '', 3000)");
add_file(size => 2000, by => 'u1');
my $late = add_file(size => 1000, by => 'u1', state => 'pending');
my $t0 = time;
system(qq{psql -X -q -o /dev/null "$ENV{TEST_NGINX_PG_CONNINFO}" -c "BEGIN;
    INSERT INTO attachments.external_usage VALUES ('acme', 'logo', 500);
    SELECT pg_sleep(1.5); COMMIT;" &});
select undef, undef, undef, 0.5;
is(psql("SELECT attachments.finish_upload(ARRAY['$late']::uuid[], 'acme',
                                           'u1', 'r1', '127.0.0.1')"),
   'organization', 'the upload waited for the logo and does not fit with it');
cmp_ok(time - $t0, '>=', 1, 'it waited');
is(counters(), 'acme:=2500 acme:u1=2000', 'the logo counted, the upload not');
is(psql("SELECT state FROM attachments.files WHERE id = '$late'"), 'pending',
   'nothing became ready');
psql('DELETE FROM attachments.quotas');
no_drift('after the quota race');

# reconcile while an upload finishes behind the application's transaction:
# both take the rows before the counters, so neither is cancelled
psql('TRUNCATE attachments.files, attachments.external_usage');
my $next = add_file(size => 10, by => 'u1', state => 'pending');
my $dir0 = tempdir('attachments-order.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $conn = $ENV{TEST_NGINX_PG_CONNINFO};
system(qq{psql -X -q -o /dev/null "$conn" -c "BEGIN;
    INSERT INTO attachments.external_usage VALUES ('acme', 'logo', 5);
    SELECT pg_sleep(1.5); COMMIT;" &});
select undef, undef, undef, 0.3;
system(qq{psql -X -A -t "$conn" -c "SELECT attachments.finish_upload(
    ARRAY['$next']::uuid[], 'acme', 'u1', 'r2', '127.0.0.1')" > $dir0/finish 2>&1 &});
select undef, undef, undef, 0.3;
my $rec = `psql -X -A -t "$conn" -c "SELECT attachments.usage_reconcile()" 2>&1`;
select undef, undef, undef, 0.5;
unlike($rec, qr/deadlock/, 'usage_reconcile() waited, it was not cancelled');
is(`cat $dir0/finish`, "ok\n", 'and the upload finished');
no_drift('after reconcile met an upload');

# concurrent writers: uploads, deletes, restores and publishes of one
# organization by three users, from eight connections at once
reset_db();
psql('TRUNCATE attachments.external_usage');
my $dir = tempdir('attachments-pgbench.XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $s, '>', "$dir/mix.sql" or die $!;
print $s <<'SQL';
\set u random(1, 3)
\set n random(1, 1000)
BEGIN;
INSERT INTO attachments.files (lineage_id, organization_id, entity_type,
        entity_id, storage, storage_key, file_name, content_type, size,
        uploaded_by, state)
    VALUES (gen_random_uuid(), 'acme', 'work_orders', '1', 'main',
            'k/' || gen_random_uuid(), 'f', 'text/plain', :n, 'u' || :u,
            CASE WHEN :n % 3 = 0 THEN 'pending' ELSE 'ready' END);
UPDATE attachments.files SET state = 'ready'
 WHERE id = (SELECT id FROM attachments.files WHERE state = 'pending'
              ORDER BY random() LIMIT 1);
UPDATE attachments.files
   SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END
 WHERE id = (SELECT id FROM attachments.files ORDER BY random() LIMIT 1);
UPDATE attachments.files
   SET visibility = CASE visibility WHEN 'private' THEN 'public'
                                    ELSE 'private' END
 WHERE id = (SELECT id FROM attachments.files ORDER BY random() LIMIT 1);
COMMIT;
SQL
close $s;

my $out = `pgbench -n -c 8 -j 2 -t 150 -f $dir/mix.sql "$ENV{TEST_NGINX_PG_CONNINFO}" 2>&1`;
is($? >> 8, 0, 'eight writers, 1,200 transactions: none failed (no deadlock)')
    or diag $out;
cmp_ok(psql('SELECT count(*) FROM attachments.files'), '==', 1200, 'every row there');
no_drift('after the concurrent writers');
cmp_ok(psql("SELECT used_bytes FROM attachments.usage_counters
              WHERE organization_id = 'acme' AND user_id = ''"), '>', 0,
       'and they did count');

reset_db();
done_testing();
