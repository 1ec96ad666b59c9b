# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::DB;

# The suites' side door into the test database (the harness exports
# TEST_NGINX_PG_CONNINFO): fixtures, row counts, replacing authorize(), and
# attachments-fsck over what a suite stored.

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes ();

our @EXPORT = qw(psql sql_quote reset_db seed_people add_file add_files
                 count_rows audit_rows set_authorize restore_authorize
                 wait_until fsck);

my $top = $ENV{TEST_NGINX_TOP} || '.';

sub conninfo () {
    $ENV{TEST_NGINX_PG_CONNINFO} or die "TEST_NGINX_PG_CONNINFO is not set\n";
}

# runs SQL, returns psql's unaligned output (rows by "\n", columns by "|")
sub psql ($) {
    my $sql = shift;
    my $conninfo = conninfo();
    open(my $fh, '-|', 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
         $conninfo, '-c', $sql) or die "psql: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh or die "psql failed on: $sql\n";
    $out =~ s/\n+\z//;
    return $out;
}

sub sql_quote ($) {
    my $s = shift;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

# the schema as conf/schema.sql makes it, with no rows of ours
sub reset_db () {
    psql('TRUNCATE attachments.files, attachments.audit_log,
                   attachments.quotas, attachments.memberships,
                   attachments.record_grants, attachments.tus_uploads,
                   attachments.stray_names, attachments.usage_counters,
                   attachments.folder_cache
                   RESTART IDENTITY');
    restore_authorize();
}

sub restore_authorize () {
    local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
    psql('DROP FUNCTION IF EXISTS attachments.authorize(text, text, text, text, text)');
    psql('DROP FUNCTION IF EXISTS attachments.record_label(text, text, text)');
    system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', conninfo(), '-o',
           '/dev/null', '-f', "$top/conf/schema.sql") == 0
        or die "cannot reload conf/schema.sql\n";
}

# replaces the body of attachments.authorize() (plpgsql)
sub set_authorize ($) {
    my $body = shift;
    psql(<<"_SQL_");
CREATE OR REPLACE FUNCTION attachments.authorize(
    p_user text, p_org text, p_entity_type text, p_entity_id text,
    p_action text)
RETURNS boolean LANGUAGE plpgsql AS \$fn\$
BEGIN
$body
END
\$fn\$
_SQL_
}

# acme: one user per role, two users with grants on work_orders/123 only,
# a member with no role permissions; globex: its own owner
sub seed_people () {
    psql(q{INSERT INTO attachments.memberships VALUES
        ('acme', 'owner1', 'owner'), ('acme', 'editor1', 'editor'),
        ('acme', 'viewer1', 'viewer'), ('acme', 'guest_r', 'guest'),
        ('acme', 'guest_u', 'guest'), ('acme', 'guest0', 'guest'),
        ('globex', 'gowner', 'owner');
      INSERT INTO attachments.record_grants VALUES
        ('acme', 'work_orders', '123', 'guest_r', 'read'),
        ('acme', 'work_orders', '123', 'guest_u', 'update')});
}

# inserts one file row (ready unless told) and returns its id; created is
# an SQL expression
my $serial = 0;

sub add_file (%) {
    my %f = (org => 'acme', type => 'work_orders', eid => '123',
             storage => 'main', name => 'a.txt', ext => 'txt',
             content_type => 'text/plain', size => 5, by => 'owner1',
             state => 'ready', tags => '[]', fields => '{}',
             created => 'now()', @_);
    $f{key} //= "org_$f{org}/$f{type}/$f{eid}/" . ++$serial . "-$f{name}";
    return psql(sprintf(
        "INSERT INTO attachments.files (id, lineage_id, organization_id,
             entity_type, entity_id, storage, storage_key, file_name,
             file_ext, content_type, size, sha256, category, tags,
             custom_fields, uploaded_by, state, created_at, updated_at,
             deleted_at)
         VALUES (coalesce(%s::uuid, gen_random_uuid()), gen_random_uuid(),
             %s, %s, %s, %s, %s, %s, %s, %s, %d, %s, %s, %s, %s, %s, %s,
             %s, %s, %s) RETURNING id",
        sql_quote($f{id}),
        map({ sql_quote($_) } @f{qw(org type eid storage key name ext
                                   content_type)}),
        $f{size}, sql_quote($f{sha256} // '0' x 64), sql_quote($f{category}),
        sql_quote($f{tags}), sql_quote($f{fields}), sql_quote($f{by}),
        sql_quote($f{state}), $f{created}, $f{created},
        $f{deleted} ? 'now()' : 'NULL'));
}

# n files created a second apart, newest last; returns ids newest first
sub add_files ($%) {
    my ($n, %f) = @_;
    my @ids;
    for my $i (1 .. $n) {
        unshift @ids, add_file(%f, name => "f$i.txt",
                               created => "timestamptz '2026-01-01 00:00:00Z'"
                                          . " + interval '$i seconds'");
    }
    return @ids;
}

sub count_rows ($;$) {
    my ($table, $where) = @_;
    return psql("SELECT count(*) FROM attachments.$table"
                . (defined $where ? " WHERE $where" : ''));
}

# "action|user|file|bytes" lines, oldest first
sub audit_rows (;$) {
    my $where = shift;
    return psql("SELECT action || '|' || coalesce(user_id, '') || '|'
                        || coalesce(file_id::text, '') || '|'
                        || coalesce(bytes::text, '')
                   FROM attachments.audit_log"
                . (defined $where ? " WHERE $where" : '') . " ORDER BY id");
}

# true once cond() is, polled every 100 ms for up to 5 s (rows that the
# collector changes in the background)
sub wait_until {
    my $cond = shift;

    for (1 .. 50) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.1);
    }

    return 0;
}

# attachments-fsck's findings over the storages given ("main=local:/dir",
# ...), "" when there is none; the database is the suite's (or conninfo)
sub fsck {
    my ($storages, %o) = @_;
    my @cmd = ("$top/tools/attachments-fsck", '--db', $o{conninfo} // conninfo(),
               '--grace', $o{grace} // 0, '--verify',
               map { ('--storage', $_) } ref $storages ? @$storages : $storages);
    open(my $fh, '-|', @cmd) or die "attachments-fsck: $!";
    my $out = join '', <$fh>;
    close $fh;
    return $? >> 8 > 1 ? "attachments-fsck failed: $out" : $out;
}

1;
