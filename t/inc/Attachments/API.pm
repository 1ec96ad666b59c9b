# Copyright (C) 2026 The ngx_http_attachments_module authors

package Attachments::API;

# What the API suites share: an nginx configuration with the API on /api/
# (identity from X-User / X-Org, or from ?as= and &org= where a suite wants
# one identity per request), fixed file ids, and the file object a suite
# expects, as a regex that also checks the signed URL byte for byte against
# the independent signer of Attachments::Sign.

use strict;
use warnings;
use Exporter 'import';
use POSIX qw(strftime);
use Attachments::Sign;

our @EXPORT = qw($HttpConfig $ApiConfig $ArgsApiConfig $ApiLocation
                 $StoreLocation $Owner $Files uuid file_object file_re);

our $HttpConfig = <<'_EOC_';
    attachments_database "$TEST_NGINX_PG_CONNINFO" size=4;
    attachments_signing_key new $TEST_NGINX_TOP/t/data/new.key;
    attachments_base_url http://localhost;
    attachments_storage main local root=$TEST_NGINX_HTML_DIR/store internal=/_store/;
_EOC_

my $common = <<'_EOC_';
    location /files/ {
        attachments_download main;
    }

    location /_store/ {
        internal;
        alias $TEST_NGINX_HTML_DIR/store/;
    }

    location /plain {
        return 200 "plain\n";
    }
_EOC_

our $ApiLocation = <<'_EOC_';
    location /api/ {
        attachments_api;
        attachments_user $http_x_user;
        attachments_org $http_x_org;
    }
_EOC_

our $ApiConfig = $common . $ApiLocation;

# the internal location of suites whose storage is $TEST_NGINX_STORE
our $StoreLocation = <<'_EOC_';
    location /_store/ {
        internal;
        alias $TEST_NGINX_STORE/;
    }
_EOC_

# the identity most requests are made with
our $Owner = "X-User: owner1\nX-Org: acme";

our $ArgsApiConfig = $common . <<'_EOC_';
    location /api/ {
        attachments_api;
        attachments_user $arg_as;
        attachments_org $arg_org;
    }
_EOC_

our $Files = <<'_EOC_';
>>> store/org_acme/work_orders/123/contract.pdf
%PDF-1.4 0123456789 contract body
_EOC_

# uuid(7) is 00000000-0000-4000-8000-000000000007
sub uuid ($) { sprintf '00000000-0000-4000-8000-%012d', shift }

# the fields of a file object as the fixture makes them, overridable
sub file_object (%) {
    return (id => uuid(1), entity_type => 'work_orders', entity_id => '123',
            organization_id => 'acme', file_name => 'contract.pdf',
            file_ext => 'pdf', content_type => 'application/pdf', size => 34,
            sha256 => '0' x 64, category => '"document"',
            tags => '["signed"]', custom_fields => '{"customer_ref":"C-77"}',
            doc_version => 0, visibility => 'private',
            uploaded_by => 'owner1', created_at => '2026-02-01T10:30:00Z',
            updated_at => '2026-02-01T10:30:00Z',
            key => 'org_acme/work_orders/123/contract.pdf', @_);
}

# the JSON text of a file object (category, tags and custom_fields given as
# JSON text); its URL is signed for one hour from about now (suites build
# expectations a little ahead of the request)
sub file_re (%) {
    my %f = file_object(@_);
    my @urls;
    my $now = time;
    for my $expires ($now - 5 + 3600 .. $now + 30 + 3600) {
        my $url = 'http://localhost'
                . signed_url(raw => "/files/$f{key}", kid => 'new',
                             expires => $expires, filename => $f{file_name},
                             type => $f{content_type});
        push @urls, quotemeta(qq{"download_url":"$url","download_url_expires_at":"})
                    . strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $expires) . '"';
    }
    my $obj = join ',',
        (map { qq{"$_":"$f{$_}"} } qw(id entity_type entity_id
                                      organization_id file_name file_ext
                                      content_type)),
        qq{"size":$f{size}}, qq{"sha256":"$f{sha256}"},
        qq{"category":$f{category}}, qq{"tags":$f{tags}},
        qq{"custom_fields":$f{custom_fields}},
        qq{"doc_version":$f{doc_version}},
        (map { qq{"$_":"$f{$_}"} } qw(visibility uploaded_by created_at
                                      updated_at));
    my $re = quotemeta("{$obj,") . '(?:' . join('|', @urls) . ')\}';
    # updated_at => 'NOW': changed by the request itself
    $re =~ s/NOW/\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ/;
    return $re;
}

1;
