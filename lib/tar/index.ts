// Reading tar streams exactly as Go's archive/tar frames them; lkvol's layers are read only through here.
// Writing: the archives lkvol makes (writer.ts): tar output, LinuxKit's container changes.
export { TarReader, TarFormatError, type TarHeader, type TarMember } from './reader.js';
export { isRegularTypeflag, typeflags, type HeaderFormat } from './header.js';
export { paxXattrs, type PaxRecords, type PaxXattrs, type Xattr } from './pax.js';
export { createTarWriter, packTar, type TarWriteEntry, type TarWriteHeader, type TarWriter } from './writer.js';
