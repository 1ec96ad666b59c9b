# Copyright (C) 2026 The ngx_http_attachments_module authors

# Unit tests of the JSON text of the answers (escaping, jsonb made
# compact): TAP from the binary make builds.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../build/unit-json";
die "$bin is missing: run make unit\n" unless -x $bin;
exec $bin or die "exec $bin: $!\n";
