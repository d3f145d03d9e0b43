// Table tests for removing credentials from URLs and registry text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRequest, redactUrl, sanitizeText } from './redact.js';

const cases = [
  {
    name: 'user info is removed',
    input: 'https://user:secret@reg.example/v2/',
    want: 'https://REDACTED@reg.example/v2/',
  },
  {
    name: 'pre-signed query values are redacted',
    input: 'https://s3.example/blob?X-Amz-Signature=abc&X-Amz-Credential=key',
    want: 'https://s3.example/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED',
  },
  {
    name: 'service and scope stay readable',
    input: 'https://auth.example/token?service=reg&scope=repository%3Ax%3Apull',
    want: 'https://auth.example/token?service=reg&scope=repository%3Ax%3Apull',
  },
  {
    name: 'a token parameter is redacted',
    input: 'https://auth.example/token?access_token=t0k3n',
    want: 'https://auth.example/token?access_token=REDACTED',
  },
  {
    name: 'a plain URL is unchanged',
    input: 'http://127.0.0.1:5000/v2/x/y/manifests/1',
    want: 'http://127.0.0.1:5000/v2/x/y/manifests/1',
  },
  { name: 'an invalid URL is not echoed', input: 'not a url with secret', want: '<invalid url>' },
];
for (const c of cases) {
  test(`redactUrl: ${c.name}`, () => {
    assert.equal(redactUrl(c.input), c.want);
    assert.doesNotMatch(redactUrl(c.input), /secret|abc|t0k3n/);
  });
}

test('describeRequest: the registry origin shows only method and path', () => {
  assert.equal(
    describeRequest('GET', 'http://127.0.0.1:5000/v2/x/manifests/1', 'http://127.0.0.1:5000'),
    'GET /v2/x/manifests/1',
  );
});

test('describeRequest: another origin shows the redacted URL', () => {
  assert.equal(
    describeRequest('GET', 'https://cdn.example/b?sig=zzz', 'http://127.0.0.1:5000'),
    'GET https://cdn.example/b?sig=REDACTED',
  );
});

test('sanitizeText: control characters go and long text is cut', () => {
  assert.equal(sanitizeText('a\nb\u001b[31mc'), 'a b [31mc');
  assert.equal(sanitizeText('x'.repeat(300)).length, 200);
});
