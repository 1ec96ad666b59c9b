# Copyright (C) 2026 The ngx_http_attachments_module authors

# Presigned GET URLs (and, for cases with a "checksum", PUT URLs binding
# the length and SHA-256) made by Debian's botocore for the cases on stdin (one
# JSON object a line), with the clock stopped at each case's "now": the
# reference the module's SigV4 code must match byte for byte.

import datetime
import json
import sys
from unittest import mock

import botocore.session
from botocore.config import Config

session = botocore.session.get_session()

for line in sys.stdin:
    c = json.loads(line)
    client = session.create_client(
        's3', region_name=c['region'], endpoint_url=c['endpoint'],
        aws_access_key_id=c['access_key'],
        aws_secret_access_key=c['secret'],
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': c['style']}))
    params = {'Bucket': c['bucket'], 'Key': c['key']}
    # in GetObject's order, which botocore's URL keeps
    if c.get('cache_control'):
        params['ResponseCacheControl'] = c['cache_control']
    if c.get('disposition'):
        params['ResponseContentDisposition'] = c['disposition']
    if c.get('encoding'):
        params['ResponseContentEncoding'] = c['encoding']
    if c.get('type'):
        params['ResponseContentType'] = c['type']
    method = 'get_object'
    if c.get('checksum'):
        method = 'put_object'
        params['ChecksumSHA256'] = c['checksum']
        params['ContentLength'] = c['length']
    with mock.patch('botocore.auth.datetime') as dt:
        dt.datetime.utcnow.return_value = \
            datetime.datetime.utcfromtimestamp(c['now'])
        print(client.generate_presigned_url(method, Params=params,
                                            ExpiresIn=c['expires']))
