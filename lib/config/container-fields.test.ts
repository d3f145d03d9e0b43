import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knownCapabilities } from './container-fields.js';

test('knownCapabilities: every capability once, at its kernel number (the order `all` expands to)', () => {
  assert.equal(knownCapabilities.length, 41);
  assert.equal(new Set(knownCapabilities).size, knownCapabilities.length);
  // linux/capability.h numbers.
  const numbers: Record<string, number> = {
    CAP_CHOWN: 0,
    CAP_KILL: 5,
    CAP_NET_BIND_SERVICE: 10,
    CAP_SYS_ADMIN: 21,
    CAP_MKNOD: 27,
    CAP_SETFCAP: 31,
    CAP_SYSLOG: 34,
    CAP_AUDIT_READ: 37,
    CAP_BPF: 39,
    CAP_CHECKPOINT_RESTORE: 40,
  };
  for (const [name, number] of Object.entries(numbers)) assert.equal(knownCapabilities.indexOf(name), number, name);
});
