// Reading tar streams exactly as Go's archive/tar frames them; lkvol's layers are read only through here.
// Writing: small archives of lkvol's own (writer.ts).
export { TarReader, TarFormatError, type TarHeader, type TarMember } from './reader.js';
export type { HeaderFormat } from './header.js';
export { paxXattrs, type PaxRecords, type PaxXattrs, type Xattr } from './pax.js';
export { packTar, type TarWriteEntry } from './writer.js';
