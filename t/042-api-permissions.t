# Copyright (C) 2026 The ngx_http_attachments_module authors

# Permissions: every role and grant against every action, a replaced
# authorize() body, and identity wired from auth_request.

use Test::Nginx::Socket;
use Attachments::Blocks;
use Attachments::DB;
use Attachments::API;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
# blocks build on the database state earlier blocks left
no_shuffle();
plan tests => 91;

block_defaults(
    http_config => $HttpConfig,
    config => $ArgsApiConfig,
);

reset_db();
seed_people();

# one file per user to delete, on work_orders/123
our @Users = qw(owner1 editor1 viewer1 guest_r guest_u guest0 stranger gowner);
our %Victim;
my $n = 10;
$Victim{$_} = add_file(id => uuid($n++), name => "$_.txt") for @Users;
our $F = uuid(1);
add_file(id => $F);

# read (list, get, content) / update (PATCH) / delete, per DESIGN.md §6:
# roles give view/add/change/delete, a grant on the record gives read or
# update (update covers update, upload and delete)
our %Expect = (
    owner1   => [200, 200, 200, 204],
    editor1  => [200, 200, 200, 403],
    viewer1  => [200, 200, 403, 403],
    guest_r  => [200, 200, 403, 403],
    guest_u  => [404, 404, 200, 204],
    guest0   => [404, 404, 404, 404],
    stranger => [404, 404, 404, 404],
    gowner   => [404, 404, 404, 404],   # member of globex, asks as acme
);

sub requests {
    my $user = shift;
    my $q = "as=$user&org=acme";
    return ["GET /api/work_orders/123/files?$q",
            "GET /api/work_orders/123/files/$F?$q",
            "PATCH /api/work_orders/123/files/$F?$q\n{\"tags\":[\"$user\"]}",
            "DELETE /api/work_orders/123/files/$Victim{$user}?$q"];
}

run_tests();

__DATA__

=== TEST 1: owner
--- request eval: ::requests('owner1')
--- error_code eval: $::Expect{owner1}



=== TEST 2: editor
--- request eval: ::requests('editor1')
--- error_code eval: $::Expect{editor1}
--- response_body_like eval
[qr/^\{"files":/, qr/^\{"id":/, qr/"tags":\["editor1"\]/,
 qr/^\{"error":\{"code":"forbidden","message":"not allowed on the files of this record"\}\}$/]



=== TEST 3: viewer
--- request eval: ::requests('viewer1')
--- error_code eval: $::Expect{viewer1}



=== TEST 4: read grant on the record, no role permission
--- request eval: ::requests('guest_r')
--- error_code eval: $::Expect{guest_r}



=== TEST 5: update grant on the record: may change and delete, not read
--- request eval: ::requests('guest_u')
--- error_code eval: $::Expect{guest_u}



=== TEST 6: a member whose role has no permission sees nothing
--- request eval: ::requests('guest0')
--- error_code eval: $::Expect{guest0}
--- response_body_like eval
[(qr/"code":"not_found"/) x 4]



=== TEST 7: a stranger and another organization's owner see nothing
--- request eval: [@{::requests('stranger')}, @{::requests('gowner')}]
--- error_code eval: [@{$::Expect{stranger}}, @{$::Expect{gowner}}]



=== TEST 8: grants hold on their record only
--- request eval
["GET /api/work_orders/124/files?as=guest_r&org=acme",
 "PATCH /api/work_orders/124/files/$::F?as=guest_u&org=acme\n{}",
 "GET /api/leads/123/files?as=guest_r&org=acme"]
--- error_code eval
[404, 404, 404]



=== TEST 9: exactly the allowed deletes and updates happened
--- init
my %name = map { $::Victim{$_} => $_ } @::Users;
my @deleted = map { $name{$_} } split /\n/,
    ::psql("SELECT id FROM attachments.files WHERE deleted_at IS NOT NULL");
Test::More::is(CORE::join(',', sort @deleted), 'guest_u,owner1', 'deleted by owner and update grant');
Test::More::is(::audit_rows("action = 'update'"),
               "update|owner1|$::F|\nupdate|editor1|$::F|\nupdate|guest_u|$::F|",
               'updated by owner, editor and update grant');
--- request
GET /plain
--- response_body
plain



=== TEST 10: the default authorize() for every role and action, upload included
--- init
my %want = (owner1 => 'tttt', editor1 => 'tttf', viewer1 => 'tfff',
            guest_r => 'tfff', guest_u => 'fttt', guest0 => 'ffff',
            stranger => 'ffff', gowner => 'ffff');
for my $user (@::Users) {
    my $got = ::psql("SELECT string_agg(attachments.authorize('$user', 'acme',
                             'work_orders', '123', a)::text, '' ORDER BY n)
                        FROM unnest(ARRAY['read', 'upload', 'update', 'delete'])
                             WITH ORDINALITY AS t (a, n)");
    $got =~ s/true/t/g;
    $got =~ s/false/f/g;
    Test::More::is($got, $want{$user}, "$user: read, upload, update, delete");
}
--- request
GET /plain
--- response_body
plain



=== TEST 11: identities with SQL metacharacters are parameters like any other
--- init
::psql(q{INSERT INTO attachments.memberships VALUES
           ('ac''me; --', 'o''brien"); DROP TABLE attachments.files; --', 'owner')});
::add_file(org => "ac'me; --", id => ::uuid(90));
--- config eval: $::ApiConfig
--- more_headers
X-User: o'brien"); DROP TABLE attachments.files; --
X-Org: ac'me; --
--- request
GET /api/work_orders/123/files
--- response_body_like eval
qr/^\{"files":\[\{"id":"${\ ::uuid(90)}","entity_type":"work_orders","entity_id":"123","organization_id":"ac'me; --",/



=== TEST 12: ...and the audit row has them verbatim
--- init
Test::More::is(::psql("SELECT organization_id || '|' || user_id FROM attachments.audit_log
                        WHERE organization_id = 'ac''me; --'"),
               q{ac'me; --|o'brien"); DROP TABLE attachments.files; --}, 'audit row');
--- request
GET /plain
--- response_body
plain



=== TEST 13: a replaced authorize() takes effect without a reload
--- init
::set_authorize(q{RETURN p_user = 'root' OR (p_action = 'read' AND p_entity_id = 'public');});
--- request eval
["GET /api/work_orders/123/files?as=root&org=anything",
 "DELETE /api/work_orders/123/files/$::F?as=root&org=acme",
 "GET /api/work_orders/123/files?as=owner1&org=acme",
 "GET /api/work_orders/public/files?as=nobody&org=acme",
 "DELETE /api/work_orders/public/files/$::F?as=nobody&org=acme"]
--- error_code eval
[200, 204, 404, 200, 403]
--- response_body_like eval
['^\{"files":\[\],"next_cursor":null\}$', '^$', 'not_found',
 '^\{"files":\[\],"next_cursor":null\}$', 'forbidden']



=== TEST 14: authorize() failing is a 500 with the reason in the log, not a leak
--- init
::set_authorize(q{RAISE EXCEPTION 'application table missing';});
--- request
GET /api/work_orders/123/files?as=owner1&org=acme
--- error_code: 500
--- response_body
{"error":{"code":"internal_error","message":"the request failed; the error log says why"}}
--- error_log
attachments: statement "attachments_authorize" failed: ERROR: application table missing CONTEXT: PL/pgSQL function



=== TEST 15: identity from auth_request: the API asks after it has run
--- init
::restore_authorize();
--- config
    location /api/ {
        auth_request /_auth;
        auth_request_set $user $upstream_http_x_user;
        auth_request_set $org $upstream_http_x_org;

        attachments_api;
        attachments_user $user;
        attachments_org $org;
    }

    location = /_auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_whoami;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Token $http_x_token;
    }

    location = /_whoami {
        if ($http_x_token != "t-owner") {
            return 401;
        }
        add_header X-User owner1;
        add_header X-Org acme;
        return 204;
    }
--- request eval
["GET /api/work_orders/123/files", "GET /api/work_orders/123/files"]
--- more_headers
X-Token: t-owner
--- error_code eval
[200, 200]
--- response_body_like eval
['^\{"files":\[\{"id":"[^"]+"', '^\{"files":\[\{"id":"[^"]+"']



=== TEST 16: without a token auth_request refuses before the API
--- config
    location /api/ {
        auth_request /_auth;
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }

    location = /_auth {
        return 401;
    }
--- request
GET /api/work_orders/123/files
--- more_headers
X-User: owner1
X-Org: acme
--- error_code: 401
--- response_body_like: 401 Authorization Required



=== TEST 17: usage is for members of the organization only
--- request eval
["GET /api/usage?as=viewer1&org=acme", "GET /api/usage?as=stranger&org=acme",
 "GET /api/usage?as=gowner&org=acme"]
--- error_code eval
[200, 404, 404]
--- response_body_like eval
['^\{"organization":\{"id":"acme","used_bytes":\d+', '"code":"not_found"',
 '"code":"not_found"']



=== TEST 18: running conf/schema.sql again keeps an application's authorize()
--- init
::set_authorize(q{RETURN p_user = 'root';});
local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', $ENV{TEST_NGINX_PG_CONNINFO},
       '-o', '/dev/null', '-f', "$ENV{TEST_NGINX_TOP}/conf/schema.sql") == 0
    or die "schema.sql failed";
--- request eval
["GET /api/work_orders/123/files?as=root&org=acme",
 "GET /api/work_orders/123/files?as=owner1&org=acme"]
--- error_code eval
[200, 404]



=== TEST 19: ...and the default comes back when the function is dropped first
--- init
::restore_authorize();
--- request eval
["GET /api/work_orders/123/files?as=root&org=acme",
 "GET /api/work_orders/123/files?as=owner1&org=acme"]
--- error_code eval
[404, 200]
