/**
 * SOL004 CSAR reading (plugins/vnf-manager/csar.ts): stored and deflated entries, an archive
 * comment, an archive written by Python's zipfile, the entry definitions with and without
 * TOSCA.meta, and every refusal: not a zip, truncation, bad CRC, a zip bomb, oversize, path
 * traversal, unsupported methods and flags, too many entries.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { readCsar, CsarError, MAX_ENTRIES } from '../../plugins/vnf-manager/csar.ts';
import { zip, type ZipEntry } from '../helpers/zip.ts';

const META = 'TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Sextant tests\nEntry-Definitions: Definitions/top.vnfd.yaml\n';
const TOP = 'tosca_definitions_version: tosca_simple_yaml_1_2\n';

function refuses(t: Test, pkg: Buffer, message: string) {
  let err: unknown;
  try {
    readCsar(pkg);
  } catch (e) {
    err = e;
  }
  if (!(err instanceof CsarError)) return t.fail(`expected a CsarError '${message}', got ${err === undefined ? 'success' : String(err)}`);
  t.equal(err.message, message);
}

t.test('stored and deflated entries, a comment, TOSCA.meta names the entry', async (t) => {
  const image = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01]);
  const pkg = zip(
    [
      { name: 'TOSCA-Metadata/', data: '', method: 0 },
      { name: 'TOSCA-Metadata/TOSCA.meta', data: META, method: 0 },
      { name: 'Definitions/top.vnfd.yaml', data: TOP, method: 8 },
      { name: 'Definitions/types.yaml', data: '\ufeffnode_types: {}\n', method: 8 },
      { name: 'Files/images/disk.img', data: image, method: 0 },
      { name: 'manifest.mf', data: 'metadata:\n', method: 8 },
    ],
    { comment: 'a comment with PK\x05\x06 inside it' },
  );
  const csar = readCsar(pkg);
  t.equal(csar.entry, 'Definitions/top.vnfd.yaml');
  t.same([...csar.files.keys()], ['TOSCA-Metadata/TOSCA.meta', 'Definitions/top.vnfd.yaml', 'Definitions/types.yaml', 'manifest.mf'], 'text files only, directories and images left out');
  t.equal(csar.files.get('Definitions/top.vnfd.yaml'), TOP);
  t.equal(csar.files.get('Definitions/types.yaml'), 'node_types: {}\n', 'a BOM is dropped');
  t.same(csar.meta, { 'TOSCA-Meta-File-Version': '1.0', 'CSAR-Version': '1.1', 'Created-By': 'Sextant tests', 'Entry-Definitions': 'Definitions/top.vnfd.yaml' });
});

t.test('an archive written by Python zipfile (deflated, data descriptors off, extra fields)', async (t) => {
  const script = [
    'import io, sys, zipfile',
    'b = io.BytesIO()',
    'with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:',
    '    z.writestr("TOSCA-Metadata/TOSCA.meta", sys.argv[1])',
    '    z.writestr("Definitions/top.vnfd.yaml", sys.argv[2])',
    '    z.writestr(zipfile.ZipInfo("Scripts/run.sh"), "#!/bin/sh\\n", zipfile.ZIP_STORED)',
    '    z.comment = b"made by zipfile"',
    'sys.stdout.buffer.write(b.getvalue())',
  ].join('\n');
  const pkg = execFileSync('/usr/bin/python3', ['-c', script, META, TOP]);
  const csar = readCsar(pkg);
  t.equal(csar.entry, 'Definitions/top.vnfd.yaml');
  t.equal(csar.files.get('Definitions/top.vnfd.yaml'), TOP);
  t.equal(csar.files.size, 2);
});

t.test('TOSCA.meta variants', async (t) => {
  const pkg = (meta: string) => zip([{ name: 'TOSCA-Metadata/TOSCA.meta', data: meta }, { name: 'Definitions/top.vnfd.yaml', data: TOP }]);
  t.equal(readCsar(pkg('Entry-Definitions: Definitions/top.vnfd.yaml\n')).entry, 'Definitions/top.vnfd.yaml', 'Entry-Definitions alone is enough');
  t.equal(
    readCsar(pkg('TOSCA-Meta-File-Version: 1.0\r\nCSAR-Version: 1.1\r\n\r\nEntry-Definitions: ./Definitions/top.vnfd.yaml\r\n\r\nName: Files/a.img\r\nContent-Type: x\r\n')).entry,
    'Definitions/top.vnfd.yaml',
    'CRLF, a blank line inside the header, a ./ prefix, artifact blocks',
  );
  refuses(t, pkg('TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\n'), 'TOSCA-Metadata/TOSCA.meta has no Entry-Definitions');
  refuses(t, pkg('TOSCA-Meta-File-Version: 1.0\nthis is not a key\n'), "TOSCA-Metadata/TOSCA.meta line 2 is not a 'Name: value' line");
  refuses(t, pkg('Entry-Definitions: Definitions/a.yaml\n'), 'TOSCA-Metadata/TOSCA.meta names Entry-Definitions Definitions/a.yaml, which is not in the package');
  refuses(t, pkg('Entry-Definitions: ../top.vnfd.yaml\n'), 'TOSCA-Metadata/TOSCA.meta names Entry-Definitions ../top.vnfd.yaml, which is not a path inside the package');
  refuses(
    t,
    zip([{ name: 'TOSCA-Metadata/TOSCA.meta', data: 'Entry-Definitions: Files/a.img\n' }, { name: 'Files/a.img', data: 'x' }]),
    'TOSCA-Metadata/TOSCA.meta names Entry-Definitions Files/a.img, which is not a .yaml file',
  );
  refuses(t, zip([{ name: 'TOSCA-Metadata/other.meta', data: 'x: y\n' }, { name: 'top.yaml', data: TOP }]), 'the package has a TOSCA-Metadata directory but no TOSCA-Metadata/TOSCA.meta');
});

t.test('without TOSCA.meta: the one root YAML file is the entry', async (t) => {
  const csar = readCsar(zip([{ name: 'vnfd.yml', data: TOP }, { name: 'Definitions/types.yaml', data: 'a: 1\n' }, { name: 'README.txt', data: 'x' }]));
  t.equal(csar.entry, 'vnfd.yml');
  t.same(csar.meta, {});
  refuses(t, zip([{ name: 'b.yaml', data: TOP }, { name: 'a.yml', data: TOP }]), 'the package has no TOSCA-Metadata/TOSCA.meta and 2 .yaml files at its root (a.yml, b.yaml); without TOSCA.meta there must be exactly one');
  refuses(t, zip([{ name: 'Definitions/a.yaml', data: TOP }]), 'the package has no TOSCA-Metadata/TOSCA.meta and no .yaml file at its root, so it names no entry definitions');
});

t.test('not a zip, truncated, corrupt', async (t) => {
  refuses(t, Buffer.alloc(0), 'the package is not a zip archive');
  refuses(t, Buffer.from('tosca_definitions_version: tosca_simple_yaml_1_2\n'.repeat(10)), 'the package is not a zip archive');
  const good = zip([{ name: 'vnfd.yaml', data: TOP.repeat(20) }]);
  refuses(t, good.subarray(0, good.length - 5), 'the package is not a zip archive');
  // The end record survives but the front of the archive is cut away.
  const cut = Buffer.concat([good.subarray(0, 10), good.subarray(good.length - 22 - 46 - 'vnfd.yaml'.length)]);
  refuses(t, cut, 'the package is truncated or corrupt: its central directory lies outside the archive');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, compressedSize: 5000 }]), 'the package is truncated: the data of vnfd.yaml runs past the end of the archive');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, crc: 0x12345678 }]), 'vnfd.yaml in the package fails its CRC-32 check (corrupt)');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, method: 0, crc: 0 }]), 'vnfd.yaml in the package fails its CRC-32 check (corrupt)');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, size: TOP.length + 10 }]), `vnfd.yaml in the package inflates to ${TOP.length} bytes but declares ${TOP.length + 10}`);
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, method: 0, size: 3 }]), `the package is corrupt: vnfd.yaml is stored but declares ${TOP.length} bytes stored and 3 bytes of content`);
  const notDeflate: ZipEntry = { name: 'vnfd.yaml', data: TOP, method: 0 };
  const pkg = zip([notDeflate]);
  pkg.writeUInt16LE(8, 8); // the local header's method is not read; the central directory's is
  const cdMethod = pkg.length - 22 - 46 - 'vnfd.yaml'.length + 10;
  pkg.writeUInt16LE(8, cdMethod);
  t.throws(() => readCsar(pkg), /^vnfd\.yaml in the package is not valid deflate data/);
  refuses(t, zip([{ name: 'a.yaml', data: TOP }, { name: 'a.yaml', data: TOP }]), 'the package has two entries named a.yaml');
});

t.test('a zip bomb is refused without inflating it', async (t) => {
  // 256 MiB of zeros deflates to about 256 KiB; it declares 1,000 bytes.
  const bomb = deflateRawSync(Buffer.alloc(256 * 1024 * 1024));
  const pkg = zip([{ name: 'vnfd.yaml', data: bomb, method: 0 }]);
  const cd = pkg.length - 22 - 46 - 'vnfd.yaml'.length;
  pkg.writeUInt16LE(8, cd + 10); // method: deflated
  pkg.writeUInt32LE(1000, cd + 24); // declared size
  const before = process.memoryUsage().arrayBuffers;
  refuses(t, pkg, 'vnfd.yaml in the package inflates to more than the 1000 bytes it declares');
  t.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'no large buffer was kept');

  // Declared honestly, but past the package limit: refused before anything is inflated.
  const big = zip([{ name: 'a.img', data: 'x', method: 0, size: 40 * 1024 * 1024, compressedSize: 1 }, { name: 'b.img', data: 'x', method: 0, size: 30 * 1024 * 1024, compressedSize: 1 }]);
  refuses(t, big, 'the package inflates to more than 64 MiB (at b.img); larger packages are not accepted');
});

t.test('entry names that leave the package are refused', async (t) => {
  for (const name of ['../evil.yaml', 'Definitions/../../evil.yaml', '/etc/passwd', 'C:/evil.yaml', 'Definitions\\evil.yaml']) {
    refuses(t, zip([{ name, data: TOP }]), `the package has an entry named '${name}', which is not a relative path inside the package (absolute, with a backslash or with '..')`);
  }
});

t.test('unsupported zip features and too many entries', async (t) => {
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, method: 12 }]), 'vnfd.yaml in the package is compressed with zip method 12; only stored (0) and deflated (8) are supported');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, flags: 0x0001 }]), 'vnfd.yaml in the package is encrypted, which is not supported');
  refuses(t, zip([{ name: 'vnfd.yaml', data: TOP, size: 0xffffffff }]), 'vnfd.yaml in the package has zip64 sizes, which are not supported');
  const many = Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => ({ name: `Files/f${i}.txt`, data: '', method: 0 }));
  refuses(t, zip(many), 'the package has 1001 entries; at most 1000 are accepted');
  refuses(t, zip([{ name: 'vnfd.yaml', data: Buffer.from([0xc3, 0x28]) }]), 'vnfd.yaml in the package is not UTF-8 text');
});
