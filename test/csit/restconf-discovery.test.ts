/**
 * CSIT: finding the RESTCONF root (RFC 8040 section 3.1, `/.well-known/host-meta`) and the
 * loaded modules (`ietf-yang-library:modules-state`).
 */
import t from 'tap';
import { startSuiteController } from './lib/env.ts';
import { FX, FX_NS, TOASTER_NS, step } from './lib/fixture.ts';
import { expectStatus, getAsJsonAndCompare, getAsXmlAndCompare } from './lib/requests.ts';
import { childText, childrenNamed, parseXml } from './lib/xml.ts';

const sc = await startSuiteController(t);
const s = sc.session;

t.test('/.well-known/host-meta points at /rests', async (t) => {
  await step(t, 'XRD with <Link rel="restconf" href="/rests"/>', () =>
    getAsXmlAndCompare('discovery/host-meta', {}, { accept: 'application/xrd+xml, application/xml;q=0.9, */*;q=0.1' }),
  );
  await step(t, 'host-meta.json', () => getAsJsonAndCompare('discovery/host-meta-json', {}, { accept: 'application/json' }));
});

interface ModuleEntry {
  name: string;
  revision: string;
  namespace: string;
  'conformance-type'?: string;
}

t.test('modules-state lists the loaded modules', async (t) => {
  const res = expectStatus(await s.getJson('/rests/data/ietf-yang-library:modules-state'), [200]);
  const doc = res.json<Record<string, { 'module-set-id'?: string; module?: ModuleEntry[] }>>();
  const state = doc['ietf-yang-library:modules-state'];
  t.ok(state, 'ietf-yang-library:modules-state');
  t.type(state?.['module-set-id'], 'string', 'module-set-id');
  const mods = new Map((state?.module ?? []).map((m) => [m.name, m]));
  t.match(mods.get(FX), { revision: '2026-11-22', namespace: FX_NS }, `${FX}@2026-11-22`);
  t.match(mods.get('toaster'), { revision: '2009-11-20', namespace: TOASTER_NS }, 'toaster@2009-11-20');
  t.match(mods.get('ietf-yang-library'), { revision: '2019-01-04' }, 'ietf-yang-library itself');
  t.match(mods.get('ietf-inet-types'), { revision: '2013-07-15' }, 'imported ietf-inet-types');
  t.equal(mods.get(FX)?.['conformance-type'], 'implement', `${FX} is implemented`);

  const one = expectStatus(await s.getJson(`/rests/data/ietf-yang-library:modules-state/module=${FX},2026-11-22`), [200]);
  const entry = one.json<Record<string, ModuleEntry[]>>()['ietf-yang-library:module']?.[0];
  t.match(entry, { name: FX, revision: '2026-11-22', namespace: FX_NS }, 'one module by its keys');

  const xml = expectStatus(await s.getXml('/rests/data/ietf-yang-library:modules-state'), [200]);
  const root = parseXml(xml.body);
  t.equal(root.ns, 'urn:ietf:params:xml:ns:yang:ietf-yang-library', 'XML namespace');
  const names = childrenNamed(root, 'module').map((m) => childText(m, 'name'));
  t.ok(names.includes(FX) && names.includes('toaster'), 'XML lists the same modules');
  t.equal(names.length, mods.size, 'as many modules in XML as in JSON');
});
