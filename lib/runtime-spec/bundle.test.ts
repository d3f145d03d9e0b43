// bundlePath: NNN- prefix for onboot and onshutdown, none for services; unsafe names refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { bundlePath } from './bundle.js';

const cases = [
  { section: 'onboot', index: 0, name: 'sysctl', want: 'containers/onboot/000-sysctl' },
  { section: 'onboot', index: 12, name: 'dhcpcd', want: 'containers/onboot/012-dhcpcd' },
  { section: 'onshutdown', index: 0, name: 'shutdown', want: 'containers/onshutdown/000-shutdown' },
  { section: 'services', index: 3, name: 'getty', want: 'containers/services/getty' },
  { section: 'onboot', index: 1000, name: 'x', want: 'containers/onboot/1000-x' },
] as const;
for (const c of cases)
  test(`${c.section}[${c.index}] ${c.name}`, () => assert.equal(bundlePath(c.section, c.index, c.name), c.want));

for (const name of ['', '.', '..', 'a/b']) {
  test(`refuses name ${JSON.stringify(name)}`, () =>
    assert.throws(
      () => bundlePath('services', 0, name),
      (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID'),
    ));
}
test('refuses a negative index as a bug', () =>
  assert.throws(
    () => bundlePath('onboot', -1, 'x'),
    (err) => isLkvolError(err, 'LKVOL_INTERNAL'),
  ));
