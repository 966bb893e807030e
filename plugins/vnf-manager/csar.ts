/**
 * Reader of a VNF package: an ETSI GS NFV-SOL 004 CSAR, which is a zip archive. Pure: bytes in,
 * the entry definitions file's name and the package's text files out; no I/O.
 *
 * The zip reader is a small one on node:zlib because the project carries no zip package. It reads
 * what a VNF package needs and refuses the rest plainly, with bounds an uploaded archive cannot
 * get round: it never trusts a declared size further than the limit, and inflates with
 * maxOutputLength so a small archive that inflates huge fails before it is allocated.
 *
 * Sources of the facts below (read, not copied):
 *  - zip   : PKWARE APPNOTE.TXT, 4.3.7 local file header, 4.3.12 central directory header,
 *            4.3.16 end of central directory record (comment up to 65,535 bytes after it),
 *            4.3.14/4.3.15 zip64 records, 4.4.4 general purpose flags (bit 0 encryption,
 *            bit 3 sizes in a data descriptor: the central directory's sizes are then the ones),
 *            4.4.5 methods (0 stored, 8 deflated).
 *  - SOL004: ETSI GS NFV-SOL 004, "VNF package structure and format" (a CSAR per the TOSCA
 *            Simple Profile in YAML's "TOSCA Cloud Service Archive (CSAR) format"): with a
 *            TOSCA-Metadata directory, its TOSCA.meta file gives TOSCA-Meta-File-Version,
 *            CSAR-Version, Created-By and Entry-Definitions (the path of the main TOSCA
 *            definitions file); without it, the archive root holds exactly one .yaml/.yml file,
 *            which is the entry.
 *  - Tacker: tacker/tests/functional/sol_v2_common/samples/<sample>/contents/TOSCA-Metadata/TOSCA.meta
 *            (the key layout, `Entry-Definitions: Definitions/<x>_top.vnfd.yaml`).
 */
import { crc32, inflateRawSync } from 'node:zlib';

export class CsarError extends Error {
  override readonly name = 'CsarError';
  /** The archive entry the failure is about, when it is about one. */
  readonly entry?: string;
  constructor(message: string, entry?: string) {
    super(message);
    if (entry !== undefined) this.entry = entry;
  }
}

export interface Csar {
  /** Archive path of the main TOSCA definitions file (the VNFD's top file). */
  entry: string;
  /** The package's text files (.yaml, .yml, .meta, .mf), by archive path. */
  files: Map<string, string>;
  /** TOSCA.meta's keys (first occurrence of each); empty when the package has no TOSCA.meta. */
  meta: Record<string, string>;
}

/** Bounds on what one uploaded package may cost. */
export const MAX_ENTRIES = 1000;
export const MAX_TOTAL_UNCOMPRESSED = 64 * 1024 * 1024;

const TOSCA_META = 'TOSCA-Metadata/TOSCA.meta';
const TEXT_FILE = /\.(ya?ml|meta|mf)$/i;

// APPNOTE signatures and fixed record sizes.
const EOCD_SIG = 0x06054b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const CENTRAL_SIG = 0x02014b50;
const CENTRAL_SIZE = 46;
const LOCAL_SIG = 0x04034b50;
const LOCAL_SIZE = 30;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Read a SOL004 package: find the entry definitions file and decode the package's text files. */
export function readCsar(zip: Buffer): Csar {
  const entries = readZip(zip);
  const files = new Map<string, string>();
  for (const [name, data] of entries) {
    if (TEXT_FILE.test(name)) files.set(name, utf8(data, name));
  }

  const meta = files.get(TOSCA_META);
  if (meta === undefined) {
    if ([...entries.keys()].some((n) => n.startsWith('TOSCA-Metadata/'))) {
      throw new CsarError(`the package has a TOSCA-Metadata directory but no ${TOSCA_META}`);
    }
    // SOL004: without TOSCA-Metadata the one YAML file at the archive root is the entry.
    const roots = [...files.keys()].filter((n) => !n.includes('/') && /\.ya?ml$/i.test(n));
    if (roots.length === 0) throw new CsarError(`the package has no ${TOSCA_META} and no .yaml file at its root, so it names no entry definitions`);
    if (roots.length > 1) {
      throw new CsarError(`the package has no ${TOSCA_META} and ${roots.length} .yaml files at its root (${roots.sort().join(', ')}); without TOSCA.meta there must be exactly one`);
    }
    return { entry: roots[0]!, files, meta: {} };
  }

  const keys = readToscaMeta(meta);
  const named = keys['Entry-Definitions'];
  if (named === undefined || named === '') throw new CsarError(`${TOSCA_META} has no Entry-Definitions`, TOSCA_META);
  // Entry-Definitions is a path from the archive root; tolerate a leading './'.
  const entry = named.replace(/^(\.\/)+/, '');
  if (!safeName(entry)) throw new CsarError(`${TOSCA_META} names Entry-Definitions ${named}, which is not a path inside the package`, TOSCA_META);
  if (!files.has(entry)) {
    const why = entries.has(entry) ? 'which is not a .yaml file' : 'which is not in the package';
    throw new CsarError(`${TOSCA_META} names Entry-Definitions ${named}, ${why}`, TOSCA_META);
  }
  return { entry, files, meta: keys };
}

/**
 * TOSCA.meta's `Key: value` lines. The header keys belong in the first block, but packages in the
 * wild put a blank line inside it (before Entry-Definitions), so every block is read and the
 * first occurrence of a key wins; later blocks (per-artifact Name/Content-Type/Hash of CSAR 1.1)
 * repeat their keys and are not needed here.
 */
function readToscaMeta(text: string): Record<string, string> {
  const keys: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:\s*(.*?)\s*$/.exec(line);
    if (!m) throw new CsarError(`${TOSCA_META} line ${i + 1} is not a 'Name: value' line`, TOSCA_META);
    if (!Object.prototype.hasOwnProperty.call(keys, m[1]!)) keys[m[1]!] = m[2]!;
  });
  return keys;
}

function utf8(data: Buffer, name: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new CsarError(`${name} in the package is not UTF-8 text`, name);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A relative path that stays inside the archive: no absolute path, drive, backslash or `..`. */
function safeName(name: string): boolean {
  if (name === '' || name.includes('\\') || name.includes('\0')) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split('/').some((seg) => seg === '..');
}

// ---------------------------------------------------------------------------------------------
// Zip

/** Every file entry of the archive (directories left out), checked and inflated, in archive order. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const eocd = findEndOfCentralDirectory(zip);
  if (eocd < 0) throw new CsarError('the package is not a zip archive');
  if (eocd >= ZIP64_LOCATOR_SIZE && zip.readUInt32LE(eocd - ZIP64_LOCATOR_SIZE) === ZIP64_LOCATOR_SIG) {
    throw new CsarError('the package is a zip64 archive, which is not supported');
  }
  const disk = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const onDisk = zip.readUInt16LE(eocd + 8);
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new CsarError('the package is a zip64 archive, which is not supported');
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw new CsarError('the package is a multi-part zip archive, which is not supported');
  if (count > MAX_ENTRIES) throw new CsarError(`the package has ${count} entries; at most ${MAX_ENTRIES} are accepted`);
  if (cdOffset + cdSize > eocd) throw new CsarError('the package is truncated or corrupt: its central directory lies outside the archive');

  const central = readCentralDirectory(zip, cdOffset, cdSize, count);
  let total = 0;
  for (const e of central) {
    total += e.size;
    if (total > MAX_TOTAL_UNCOMPRESSED) {
      throw new CsarError(`the package inflates to more than ${MAX_TOTAL_UNCOMPRESSED / (1024 * 1024)} MiB (at ${e.name}); larger packages are not accepted`, e.name);
    }
  }
  const out = new Map<string, Buffer>();
  for (const e of central) {
    const data = readEntry(zip, e);
    if (!e.name.endsWith('/')) out.set(e.name, data);
  }
  return out;
}

/** Offset of the EOCD record, searched backwards past a comment of up to 65,535 bytes; -1 if none. */
function findEndOfCentralDirectory(zip: Buffer): number {
  const last = zip.length - EOCD_SIZE;
  const first = Math.max(0, last - 0xffff);
  for (let at = last; at >= first; at--) {
    // The comment length must reach exactly to the end: a signature inside the comment is not it.
    if (zip.readUInt32LE(at) === EOCD_SIG && at + EOCD_SIZE + zip.readUInt16LE(at + 20) === zip.length) return at;
  }
  return -1;
}

function readCentralDirectory(zip: Buffer, offset: number, size: number, count: number): CentralEntry[] {
  const end = offset + size;
  const entries: CentralEntry[] = [];
  const seen = new Set<string>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > end || zip.readUInt32LE(at) !== CENTRAL_SIG) {
      throw new CsarError(`the package is corrupt: central directory entry ${i + 1} of ${count} is missing or damaged`);
    }
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const next = at + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > end) throw new CsarError(`the package is corrupt: central directory entry ${i + 1} of ${count} runs past the directory`);
    // Read as UTF-8 whether or not flag bit 11 says so: without it the name is CP437, which
    // agrees with UTF-8 on the ASCII paths packages use.
    const name = zip.toString('utf8', at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLen);
    at = next;

    if (!safeName(name)) throw new CsarError(`the package has an entry named '${name}', which is not a relative path inside the package (absolute, with a backslash or with '..')`, name);
    if (seen.has(name)) throw new CsarError(`the package has two entries named ${name}`, name);
    seen.add(name);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) throw new CsarError(`${name} in the package is encrypted, which is not supported`, name);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      throw new CsarError(`${name} in the package has zip64 sizes, which are not supported`, name);
    }
    if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
      throw new CsarError(`${name} in the package is compressed with zip method ${method}; only stored (0) and deflated (8) are supported`, name);
    }
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
  }
  return entries;
}

function readEntry(zip: Buffer, e: CentralEntry): Buffer {
  const at = e.localOffset;
  if (at + LOCAL_SIZE > zip.length || zip.readUInt32LE(at) !== LOCAL_SIG) {
    throw new CsarError(`the package is truncated or corrupt: the local header of ${e.name} is missing`, e.name);
  }
  const dataStart = at + LOCAL_SIZE + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const dataEnd = dataStart + e.compressedSize;
  if (dataEnd > zip.length) throw new CsarError(`the package is truncated: the data of ${e.name} runs past the end of the archive`, e.name);
  const raw = zip.subarray(dataStart, dataEnd);

  let data: Buffer;
  if (e.method === METHOD_STORED) {
    if (e.compressedSize !== e.size) throw new CsarError(`the package is corrupt: ${e.name} is stored but declares ${e.compressedSize} bytes stored and ${e.size} bytes of content`, e.name);
    data = raw;
  } else {
    try {
      // One byte more than declared, so "inflates to more than declared" is told apart from a
      // stream that ends exactly at the limit; never more, so a bomb is refused unallocated.
      data = inflateRawSync(raw, { maxOutputLength: e.size + 1 });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new CsarError(`${e.name} in the package inflates to more than the ${e.size} bytes it declares`, e.name);
      }
      throw new CsarError(`${e.name} in the package is not valid deflate data (${(err as Error).message})`, e.name);
    }
    if (data.length !== e.size) throw new CsarError(`${e.name} in the package inflates to ${data.length} bytes but declares ${e.size}`, e.name);
  }
  if (crc32(data) >>> 0 !== e.crc) throw new CsarError(`${e.name} in the package fails its CRC-32 check (corrupt)`, e.name);
  return data;
}
