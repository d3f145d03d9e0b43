// What the bundle gives undici for node:http2 (make build aliases it to this file). undici's HTTP/2 client
// takes a few protocol constants from node:http2 as it loads, and connects through it only to a server that
// negotiates h2, which lkvol never offers (undici's allowH2 stays off). Loaded at start-up, node:http2 costs
// ~5 ms of every run: under the command's V8 flag, V8 refuses Node's own code cache for it.
// cmd/bundle-shims.test.ts checks these constants against node:http2 and what undici destructures.
'use strict';
module.exports = {
  constants: {
    HTTP2_HEADER_AUTHORITY: ':authority',
    HTTP2_HEADER_METHOD: ':method',
    HTTP2_HEADER_PATH: ':path',
    HTTP2_HEADER_SCHEME: ':scheme',
    HTTP2_HEADER_CONTENT_LENGTH: 'content-length',
    HTTP2_HEADER_EXPECT: 'expect',
    HTTP2_HEADER_STATUS: ':status',
    HTTP2_HEADER_PROTOCOL: ':protocol',
    NGHTTP2_REFUSED_STREAM: 7,
    NGHTTP2_CANCEL: 8,
  },
  connect: (...args) => require('node:http2').connect(...args),
};
