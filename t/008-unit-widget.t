# Copyright (C) 2026 The ngx_http_attachments_module authors

# Unit tests of the upload widget's pure parts (html/attachments.js), under
# node: TAP from t/unit/test_widget.mjs.
use strict;
use warnings;
use FindBin;

exec 'node', "$FindBin::Bin/unit/test_widget.mjs" or die "exec node: $!\n";
