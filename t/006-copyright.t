# Copyright (C) 2026 The ngx_http_attachments_module authors

# Every source file says whose it is; LICENSE says on what terms.
use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
my $note = 'Copyright (C) 2026 The ngx_http_attachments_module authors';

my @files = grep { !m{^docs/|\.md$|^package|^t/data/|^t/fuzz/corpus/|^conf/.*\.conf$|^LICENSE$|^\.gitignore$} }
            split /\n/, `cd $top && git ls-files 2>/dev/null`;

plan skip_all => 'not a git checkout' unless @files;

ok(-f "$top/LICENSE", 'LICENSE is there');
like(do { local (@ARGV, $/) = "$top/LICENSE"; <> },
     qr/\A\Q$note\E\n.*Redistribution and use in source and binary forms/s,
     'BSD-2-Clause, the authors named');

for my $f (@files) {
    open my $fh, '<', "$top/$f" or die "$f: $!";
    my @head = grep { defined } map { scalar <$fh> } 1 .. 4;
    ok((grep { index($_, $note) >= 0 } @head), "$f carries the copyright line");
}

done_testing();
