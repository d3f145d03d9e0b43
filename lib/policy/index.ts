// The host-path bind policy (`--policy FILE`): its file, and checks of the binds of system files and image labels.
export { loadPolicy, parsePolicy, type Policy, type PolicyRule } from './policy.js';
export {
  checkConfigHostPaths,
  checkLabelHostPaths,
  hostBinds,
  policyHint,
  policyViolation,
  type HostBind,
} from './check.js';
export { isUnder, normalizeHostPath } from './paths.js';
