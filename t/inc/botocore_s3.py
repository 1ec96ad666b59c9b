# Copyright (C) 2026 The ngx_http_attachments_module authors

# Debian's botocore as the reference S3 client, one JSON request a line on
# stdin, one JSON answer a line on stdout:
#   {"op": "sign", "method", "url", "body_hex", "date", "region",
#    "headers"?: {name: value} signed with the rest,
#    "unsigned"?: true for UNSIGNED-PAYLOAD}
#       -> {"authorization": …}: botocore's SigV4 header signature of that
#          request at that x-amz-date, to compare with what nginx sent
#   {"op": "get", "port", "key"}  (s3rver, bucket "files")
#       -> {"status": …, "body_hex": …}
#   {"op": "put", "port", "key", "body_hex"} -> {"status": 200}

import binascii
import datetime
import json
import sys
from unittest import mock

import botocore.session
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

session = botocore.session.get_session()

for line in sys.stdin:
    c = json.loads(line)
    if c['op'] == 'sign':
        req = AWSRequest(method=c['method'], url=c['url'],
                         data=binascii.unhexlify(c['body_hex']),
                         headers=c.get('headers', {}))
        if c.get('unsigned'):
            # as a client configured with payload_signing_enabled False
            req.context['client_config'] = Config(
                s3={'payload_signing_enabled': False})
        auth = S3SigV4Auth(Credentials(c['access_key'], c['secret']), 's3',
                           c['region'])
        with mock.patch('botocore.auth.datetime') as dt:
            dt.datetime.utcnow.return_value = \
                datetime.datetime.strptime(c['date'], '%Y%m%dT%H%M%SZ')
            auth.add_auth(req)
        print(json.dumps({'authorization': req.headers['Authorization'],
                          'sha256': req.headers['X-Amz-Content-SHA256']}))
        continue
    client = session.create_client(
        's3', region_name='us-east-1',
        endpoint_url='http://127.0.0.1:%s' % c['port'],
        aws_access_key_id='S3RVER', aws_secret_access_key='S3RVER',
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': 'path'}))
    if c['op'] == 'put':
        client.put_object(Bucket='files', Key=c['key'],
                          Body=binascii.unhexlify(c['body_hex']))
        print(json.dumps({'status': 200}))
        continue
    try:
        o = client.get_object(Bucket='files', Key=c['key'])
        print(json.dumps({'status': 200,
                          'body_hex': o['Body'].read().hex()}))
    except ClientError as e:
        print(json.dumps({'status':
                          e.response['ResponseMetadata']['HTTPStatusCode']}))
