// Namespaces: LinuxKit's defaults (new pid and mount, host net/ipc/uts/user), new, host/root and paths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { buildNamespaces } from './namespaces.js';
import { resolveContainerConfig } from './precedence.js';

const ns = (yaml: ContainerFields, label?: ContainerFields) =>
  buildNamespaces(resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label }));

const cases: { name: string; yaml: ContainerFields; label?: ContainerFields; want: unknown }[] = [
  { name: 'default: new pid and mount namespaces only', yaml: {}, want: [{ type: 'pid' }, { type: 'mount' }] },
  { name: 'pid host shares the host pid namespace', yaml: { pid: 'host' }, want: [{ type: 'mount' }] },
  { name: 'pid root shares too', yaml: { pid: 'root' }, want: [{ type: 'mount' }] },
  { name: 'pid new', yaml: { pid: 'new' }, want: [{ type: 'pid' }, { type: 'mount' }] },
  {
    name: 'pid path joins',
    yaml: { pid: '/proc/1/ns/pid' },
    want: [{ type: 'pid', path: '/proc/1/ns/pid' }, { type: 'mount' }],
  },
  {
    name: 'net none makes a new one',
    yaml: { net: 'none' },
    want: [{ type: 'network' }, { type: 'pid' }, { type: 'mount' }],
  },
  { name: 'net new', yaml: { net: 'new' }, want: [{ type: 'network' }, { type: 'pid' }, { type: 'mount' }] },
  { name: 'net host', yaml: { net: 'host' }, want: [{ type: 'pid' }, { type: 'mount' }] },
  {
    name: 'net path',
    yaml: { net: '/run/netns/x' },
    want: [{ type: 'network', path: '/run/netns/x' }, { type: 'pid' }, { type: 'mount' }],
  },
  // NB: `none` means new only for net; for ipc it is taken as a path, as in LinuxKit.
  {
    name: 'ipc none is a path',
    yaml: { ipc: 'none' },
    want: [{ type: 'ipc', path: 'none' }, { type: 'pid' }, { type: 'mount' }],
  },
  {
    name: 'order network, ipc, uts, pid, user, mount',
    yaml: { userns: 'new', uts: 'new', ipc: 'new', net: 'new' },
    want: [{ type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'pid' }, { type: 'user' }, { type: 'mount' }],
  },
  {
    name: 'label value used when YAML leaves it out',
    yaml: {},
    label: { net: 'new' },
    want: [{ type: 'network' }, { type: 'pid' }, { type: 'mount' }],
  },
  {
    name: 'YAML host overrides a label new',
    yaml: { net: 'host' },
    label: { net: 'new' },
    want: [{ type: 'pid' }, { type: 'mount' }],
  },
  { name: 'YAML "" falls through to the label', yaml: { pid: '' }, label: { pid: 'host' }, want: [{ type: 'mount' }] },
];
for (const c of cases) test(c.name, () => assert.deepEqual(ns(c.yaml, c.label), c.want));
