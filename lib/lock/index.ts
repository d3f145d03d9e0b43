// lkvol.lock: the file format (reading, writing, where it lives). Pinning and resolving live in lib/build/lock.ts.
export { formatLock, lockFileName, lockPathFor, parseLock, type Lock, type LockEntry } from './file.js';
