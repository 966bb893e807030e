/**
 * The YANG compiler: what it resolves (imports, groupings with refine, augments across modules,
 * choice/case, identities, features, leafrefs, defaults) and how it fails (file and line named).
 */
import t from 'tap';
import { join } from 'node:path';
import { loadSchema } from '../../src/yang/compiler.ts';
import { YangCompileError } from '../../src/errors.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';

const BASE = `module base {
  yang-version 1.1;
  namespace "urn:t:base";
  prefix b;
  import ietf-yang-types { prefix yang; }
  feature fancy;
  identity animal;
  identity dog { base animal; }
  typedef percent { type uint8 { range "0..100"; } default 50; }
  grouping named {
    leaf name { type string { length "1..8"; } }
    leaf level { type percent; }
  }
  container top {
    list item {
      key "id";
      leaf id { type uint64; }
      uses named { refine name { mandatory true; } }
      leaf kind { type identityref { base animal; } default dog; }
      leaf counter { type yang:counter32; }
      choice shape {
        default round;
        case round { leaf radius { type decimal64 { fraction-digits 2; } default 1.50; } }
        case square { leaf side { type int32; } }
        leaf shorthand { type string; }
      }
    }
    leaf ref { type leafref { path "../item/id"; } }
    leaf extra { if-feature fancy; type string; }
  }
  rpc ping { input { leaf count { type uint8; default 3; } } output { leaf sent { type uint32; } } }
  notification pinged { leaf count { type uint8; } }
}
`;
const AUG = `module aug {
  yang-version 1.1;
  namespace "urn:t:aug";
  prefix a;
  import base { prefix b; }
  augment "/b:top/b:item" { leaf colour { type string; } }
  augment "/b:top/b:item/b:shape" { case hexagon { leaf corners { type uint8; } } }
}
`;

async function yangDir(t: { teardown(fn: () => void): void }, files: Record<string, string>): Promise<string> {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return dir;
}

t.test('resolves imports, groupings with refine, typedef defaults, augments and choice/case', async (t) => {
  const dir = await yangDir(t, { 'base@2026-01-01.yang': BASE.replace('prefix b;', 'prefix b;\n  revision 2026-01-01;'), 'aug@2026-01-01.yang': AUG.replace('prefix a;', 'prefix a;\n  revision 2026-01-01;') });
  // ietf-yang-types comes from the shipped yang/ directory.
  const schema = await loadSchema([dir, join(import.meta.dirname, '../../yang')]);
  const item = schema.roots.get('base:top')!.dataChildren.get('item')!;
  t.equal(item.kind, 'list');
  t.same(item.keys, ['id']);
  t.equal(item.dataChildren.get('name')!.mandatory, true, 'refine made the grouping leaf mandatory');
  t.equal(item.dataChildren.get('level')!.default, 50, 'the typedef default applies');
  t.equal(item.dataChildren.get('level')!.type!.base, 'uint8');
  t.equal(item.dataChildren.get('kind')!.default, 'base:dog', 'identityref default is module-qualified');
  t.equal(item.dataChildren.get('radius')!.default, '1.5', 'decimal64 default is canonical');
  t.equal(item.dataChildren.get('counter')!.type!.base, 'uint32', 'imported typedef resolves');
  const colour = item.dataChildren.get('aug:colour')!;
  t.equal(colour.module, 'aug', 'augmented node belongs to the augmenting module');
  t.equal(colour.jsonName, 'aug:colour', 'and is module-qualified in JSON');
  const corners = item.dataChildren.get('aug:corners')!;
  t.equal(corners.case!.name, 'hexagon', 'a case added by augment is a case of the choice');
  t.equal(item.dataChildren.get('shorthand')!.case!.name, 'shorthand', 'a shorthand case is implicit');
  const ref = schema.roots.get('base:top')!.dataChildren.get('ref')!;
  t.equal(ref.type!.leafrefTarget, item.dataChildren.get('id'), 'leafref target resolved');
  t.ok(schema.roots.get('base:top')!.dataChildren.get('extra'), 'features are on by default');
  t.ok(schema.rpcs.get('base:ping'));
  t.ok(schema.notifications.get('base:pinged'));
  t.ok(schema.identities.get('base:animal')!.derived.has('base:dog'));
});

t.test('a disabled feature removes the nodes that depend on it', async (t) => {
  const dir = await yangDir(t, { 'base@2026-01-01.yang': BASE.replace('prefix b;', 'prefix b;\n  revision 2026-01-01;') });
  const schema = await loadSchema([dir, join(import.meta.dirname, '../../yang')], { features: { base: [] } });
  t.notOk(schema.roots.get('base:top')!.dataChildren.get('extra'));
});

const broken: [string, string, number, RegExp][] = [
  ['syntax error', 'module m { namespace "urn:m"; prefix m;\n container c {\n leaf x { type string }\n}\n}', 3, /expected ";" or "\{"/],
  ['unterminated string', 'module m { namespace "urn:m"; prefix m;\n description "never\nends;\n}', 2, /unterminated/],
  ['unknown typedef', 'module m { namespace "urn:m"; prefix m;\n\n leaf x { type nosuch; }\n}', 3, /typedef "nosuch" not found/],
  ['missing import', 'module m { namespace "urn:m"; prefix m;\n import ghost { prefix g; }\n}', 2, /imported module "ghost" not found/],
  ['unknown grouping', 'module m { namespace "urn:m"; prefix m;\n container c {\n  uses nothing;\n }\n}', 3, /grouping "nothing" not found/],
  ['bad augment target', 'module m { namespace "urn:m"; prefix m;\n container c;\n augment "/m:c/m:nope" { leaf y { type string; } }\n}', 3, /augment target .* not found/],
  ['leafref to nowhere', 'module m { namespace "urn:m"; prefix m;\n leaf a { type string; }\n leaf b {\n  type leafref { path "/m:zzz"; }\n }\n}', 4, /leafref path of "b" does not lead to a leaf/],
  ['bad pattern', 'module m { namespace "urn:m"; prefix m;\n leaf a {\n  type string {\n   pattern "[a-";\n  }\n }\n}', 4, /invalid pattern/],
  ['bad default', 'module m { namespace "urn:m"; prefix m;\n leaf a {\n  type uint8;\n  default 300;\n }\n}', 4, /invalid default "300"/],
  ['duplicate node', 'module m { namespace "urn:m"; prefix m;\n container c {\n  leaf a { type string; }\n  leaf a { type string; }\n }\n}', 4, /defined twice/],
  ['unknown statement', 'module m { namespace "urn:m"; prefix m;\n container c {\n  leef a { type string; }\n }\n}', 3, /unknown statement "leef"/],
  ['bad must XPath', 'module m { namespace "urn:m"; prefix m;\n leaf a {\n  type string;\n  must "../b = ";\n }\n}', 4, /XPath/],
  ['config list without key', 'module m { namespace "urn:m"; prefix m;\n list l {\n  leaf a { type string; }\n }\n}', 2, /has no key/],
];

for (const [what, text, line, reason] of broken) {
  t.test(`compile error names file and line: ${what}`, async (t) => {
    const dir = await yangDir(t, { 'm.yang': text });
    const err = await loadSchema(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, YangCompileError);
    const e = err as YangCompileError;
    t.equal(e.file, join(dir, 'm.yang'));
    t.equal(e.line, line, `line ${line}: ${e.message}`);
    t.match(e.reason, reason);
    t.match(e.message, new RegExp(`m\\.yang:${line}: `));
  });
}

t.test('a file named for another module or revision is refused', async (t) => {
  const dir = await yangDir(t, { 'other@2026-01-01.yang': 'module m { namespace "urn:m"; prefix m; revision 2026-01-01; }' });
  await t.rejects(loadSchema(dir), /in a file named for "other"/);
  const dir2 = await yangDir(t, { 'm@2025-01-01.yang': 'module m { namespace "urn:m"; prefix m; revision 2026-01-01; }' });
  await t.rejects(loadSchema(dir2), /file name says revision 2025-01-01/);
});

t.test('every shipped module in yang/ compiles together', async (t) => {
  const schema = await loadSchema(join(import.meta.dirname, '../../yang'));
  t.ok(schema.modules.has('toaster'));
  t.ok(schema.rpcs.has('toaster:make-toast'));
  t.ok(schema.importOnly.has('ietf-yang-types'), 'typedef-only modules are import-only');
});

t.test('modules under import-only/ lend their definitions but implement no data, rpc, notification or augment', async (t) => {
  // The shape of OpenDaylight's opendaylight-flow-types: a protocol-message container with a
  // keyless config list (RFC 7950 7.8.2 forbids it) next to the grouping the inventory uses.
  const dir = await yangDir(t, {
    'user@2026-01-01.yang': 'module user {\n namespace "urn:user";\n prefix u;\n revision 2026-01-01;\n import types { prefix t; }\n container flows {\n  list flow {\n   key id;\n   leaf id { type t:flow-id; }\n   uses t:flow;\n  }\n }\n}\n',
    'import-only/types@2026-01-01.yang': 'module types {\n namespace "urn:types";\n prefix t;\n revision 2026-01-01;\n identity kind;\n typedef flow-id { type string { length "1..8"; } }\n grouping flow { leaf priority { type uint16; } }\n container flow-message {\n  list message { uses flow; }\n }\n rpc add-flow;\n notification flow-added;\n augment "/u:flows/u:flow" { leaf extra { type string; } }\n}\n',
  });
  const schema = await loadSchema(dir);
  const flow = schema.roots.get('user:flows')!.dataChildren.get('flow')!;
  t.equal(flow.dataChildren.get('id')!.type!.name, 'flow-id', 'the import-only typedef resolves');
  t.equal(flow.dataChildren.get('priority')?.module, 'user', 'the import-only grouping lands in the user namespace');
  t.notOk(flow.dataChildren.get('types:extra') ?? flow.dataChildren.get('extra'), 'an import-only module augments nothing');
  t.notOk(schema.roots.has('types:flow-message'), 'its containers are not data (its keyless config list is never compiled)');
  t.notOk(schema.rpcs.has('types:add-flow'), 'its rpcs are not served');
  t.notOk(schema.notifications.has('types:flow-added'), 'its notifications are not served');
  t.ok(schema.identities.has('types:kind'), 'its identities exist');
  t.ok(schema.importOnly.has('types') && !schema.importOnly.has('user'), 'the YANG library lists it as import-only');
  t.ok(schema.modules.get('types')!.text.includes('flow-message'), 'its text is kept, to be served as its schema');

  const bad = await yangDir(t, {
    'user@2026-01-01.yang': 'module user {\n namespace "urn:user";\n prefix u;\n revision 2026-01-01;\n import types { prefix t; }\n augment "/t:box" {\n  leaf x { type string; }\n }\n}\n',
    'import-only/types@2026-01-01.yang': 'module types { namespace "urn:types"; prefix t; revision 2026-01-01; container box; }\n',
  });
  await t.rejects(loadSchema(bad), /user@2026-01-01\.yang:6: augment target "\/t:box" is in import-only module "types"/, 'an implemented module cannot augment an import-only one');
});

t.test('a submodule included by its module contributes nodes and typedefs in the module namespace', async (t) => {
  const dir = await yangDir(t, {
    'main@2026-01-01.yang': 'module main {\n namespace "urn:main";\n prefix m;\n revision 2026-01-01;\n include part;\n container box { leaf size { type part-size; } }\n}\n',
    'part@2026-01-01.yang': 'submodule part {\n belongs-to main { prefix m; }\n revision 2026-01-01;\n typedef part-size { type uint8 { range "1..9"; } }\n container lid { leaf open { type boolean; } }\n}\n',
  });
  const schema = await loadSchema(dir);
  t.equal(schema.roots.get('main:lid')?.module, 'main', 'the submodule node belongs to the module');
  t.equal(schema.roots.get('main:box')!.dataChildren.get('size')!.type!.base, 'uint8', 'the submodule typedef resolves from the module');
  t.same(schema.modules.get('main')!.submodules.map((s) => s.name), ['part']);
  const stray = await yangDir(t, { 'part@2026-01-01.yang': 'submodule part {\n belongs-to main { prefix m; }\n revision 2026-01-01;\n}\n', 'main@2026-01-01.yang': 'module main {\n namespace "urn:main";\n prefix m;\n revision 2026-01-01;\n include nothere;\n}\n' });
  await t.rejects(loadSchema(stray), /main@2026-01-01\.yang:5: included submodule "nothere" not found/);
});
