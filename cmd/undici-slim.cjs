// What lkvol takes from undici, for the bundle (make build aliases `undici` to this file). undici's
// index.js loads every feature it has (fetch, WebSocket, cookies, mocks, caches, interceptors), and
// through them Node's own fetch, http2 and dns: ~30 ms and ~9 MB of every start. lkvol needs the two
// dispatchers, its connector (lib/registry/dispatcher.ts makes TLS sockets with it) and Dispatcher.request, which
// index.js adds to every dispatcher as done here.
'use strict';
const Dispatcher = require('../node_modules/undici/lib/dispatcher/dispatcher');
const api = require('../node_modules/undici/lib/api');

Object.assign(Dispatcher.prototype, api);

module.exports = {
  Agent: require('../node_modules/undici/lib/dispatcher/agent'),
  EnvHttpProxyAgent: require('../node_modules/undici/lib/dispatcher/env-http-proxy-agent'),
  buildConnector: require('../node_modules/undici/lib/core/connect'),
};
