/**
 * NETCONF and RESTCONF are two views of one datastore: what one writes the other reads back with
 * the same values (both sides parsed and compared as values, not as bytes): NETCONF edit-config
 * on running and via the candidate and commit, read through RFC 8040 RESTCONF as JSON and XML;
 * RESTCONF PUT / POST / PATCH / DELETE (and the legacy /restconf/config) read through NETCONF
 * get-config; the candidate following running while RESTCONF writes; and the scale-in rpc called
 * over NETCONF with its effect read over RESTCONF (and the other way round).
 */
import t from 'tap';
import type { Test } from 'tap';
import { resolve } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { childOf, childrenOf, connect, escapeText, parseXml, textOf, type NetconfTestSession, type Reply, type XmlNode } from '../helpers/netconf.ts';

const REPO = resolve(import.meta.dirname, '../..');
const CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const PEOPLE_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:people';
const SCALEIN_NS = 'urn:opendaylight:netvirt:scalein-rpc';
const CLOUDSCALER_NS = 'urn:opendaylight:genius:cloudscaler:rpcs';
const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';

const c = await testController(t, ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

// ----- RESTCONF -----

interface Http {
  status: number;
  text: string;
}

async function http(method: string, path: string, body?: { json?: unknown; xml?: string }, accept = JSON_TYPE): Promise<Http> {
  const headers: Record<string, string> = { authorization: AUTH, accept };
  let payload: string | undefined;
  if (body?.json !== undefined) {
    headers['content-type'] = JSON_TYPE;
    payload = JSON.stringify(body.json);
  } else if (body?.xml !== undefined) {
    headers['content-type'] = XML_TYPE;
    payload = body.xml;
  }
  const res = await fetch(`${c.restconf.url}${path}`, { method, headers, body: payload });
  return { status: res.status, text: await res.text() };
}

async function ok(p: Promise<Http>, what: string, t: Test): Promise<Http> {
  const r = await p;
  t.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${r.status >= 300 ? r.text.slice(0, 300) : ''}`);
  return r;
}

// ----- one shape for every side: id -> { leaf: lexical value } -----

type Entries = Record<string, Record<string, string>>;

function fromJsonList(list: Record<string, unknown>[] | undefined, key: string): Entries {
  const out: Entries = {};
  for (const e of list ?? []) out[String(e[key])] = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
  return out;
}

function fromXmlList(entries: XmlNode[], key: string): Entries {
  const out: Entries = {};
  for (const e of entries) {
    const rec: Record<string, string> = {};
    for (const leaf of e.children) rec[leaf.name] = leaf.text.trim();
    out[rec[key]] = rec;
  }
  return out;
}

/** Cars as RESTCONF JSON shows them ({} when there is no cars container). */
async function restCarsJson(): Promise<Entries> {
  const r = await http('GET', '/rests/data/car:cars');
  if (r.status === 404 || r.status === 409) return {};
  const body = JSON.parse(r.text) as { 'car:cars': { 'car-entry'?: Record<string, unknown>[] } };
  return fromJsonList(body['car:cars']['car-entry'], 'id');
}

/** Cars as RESTCONF XML shows them. */
async function restCarsXml(): Promise<Entries> {
  const r = await http('GET', '/rests/data/car:cars', undefined, XML_TYPE);
  if (r.status === 404 || r.status === 409) return {};
  const root = parseXml(r.text);
  if (root.name !== 'cars' || root.ns !== CAR_NS) throw new Error(`unexpected RESTCONF XML: ${r.text.slice(0, 200)}`);
  return fromXmlList(childrenOf(root, 'car-entry', CAR_NS), 'id');
}

/** Cars in a NETCONF get-config reply. */
function netconfCars(r: Reply): Entries {
  if (!r.data) throw new Error(`no data: ${r.text.slice(0, 300)}`);
  return fromXmlList(childrenOf(childOf(r.data, 'cars', CAR_NS), 'car-entry', CAR_NS), 'id');
}

const getConfig = (ds: 'running' | 'candidate', filter = `<cars xmlns="${CAR_NS}"/>`) =>
  `<get-config><source><${ds}/></source><filter type="subtree">${filter}</filter></get-config>`;

async function netconfRunningCars(s: NetconfTestSession, ds: 'running' | 'candidate' = 'running'): Promise<Entries> {
  return netconfCars(await s.rpc(getConfig(ds)));
}

/** All three readers agree, and hold `expected`. */
async function allAgree(t: Test, s: NetconfTestSession, expected: Entries, what: string): Promise<void> {
  t.same(await netconfRunningCars(s), expected, `${what}: NETCONF get-config`);
  t.same(await restCarsJson(), expected, `${what}: RESTCONF JSON`);
  t.same(await restCarsXml(), expected, `${what}: RESTCONF XML`);
}

const carXml = (e: Record<string, string | number>) =>
  `<car-entry>${Object.entries(e)
    .map(([k, v]) => `<${k}>${escapeText(String(v))}</${k}>`)
    .join('')}</car-entry>`;
const edit = (target: 'running' | 'candidate', config: string, defaultOperation?: string) =>
  `<edit-config><target><${target}/></target>${defaultOperation ? `<default-operation>${defaultOperation}</default-operation>` : ''}<config>${config}</config></edit-config>`;
const str = (e: Record<string, string | number>) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));

const s = await connect(c.netconf.port, { t });

// ----- NETCONF writes, RESTCONF reads -----

const A = { id: 'A', model: 'Dixi & Co <1>', manufacturer: 'BMW', year: 1928, category: 'sedan' };
const B = { id: 'B ü/é', model: 'Panda', year: 2003 };

t.test('edit-config on running is read back through RESTCONF', async (t) => {
  const r = await s.rpc(edit('running', `<cars xmlns="${CAR_NS}">${carXml(A)}${carXml(B)}</cars>`));
  t.ok(r.ok, `edit-config running: ok ${r.errors[0]?.message ?? ''}`);
  await allAgree(t, s, { [A.id]: str(A), [B.id]: str(B) }, 'after the edit');
  const one = await http('GET', `/rests/data/car:cars/car-entry=${encodeURIComponent(B.id)}`);
  t.same(fromJsonList((JSON.parse(one.text) as { 'car:car-entry': Record<string, unknown>[] })['car:car-entry'], 'id'), { [B.id]: str(B) }, 'the entry with a key needing percent-encoding, by its own URL');
  const year = JSON.parse((await http('GET', '/rests/data/car:cars/car-entry=A/year')).text) as Record<string, unknown>;
  t.same(year, { 'car:year': 1928 }, 'a uint32 leaf is a JSON number');
});

t.test('candidate edits are invisible to RESTCONF until commit', async (t) => {
  const C = { id: 'C', model: 'Kaefer', manufacturer: 'VW', year: 1938 };
  t.ok((await s.rpc(edit('candidate', `<cars xmlns="${CAR_NS}">${carXml(C)}${carXml({ id: 'A', year: 1929 })}</cars>`))).ok, 'edit-config candidate: ok');
  const running = { [A.id]: str(A), [B.id]: str(B) };
  t.same(await restCarsJson(), running, 'RESTCONF before commit: running unchanged');
  t.same(await netconfRunningCars(s, 'candidate'), { ...running, A: { ...str(A), year: '1929' }, C: str(C) }, 'NETCONF candidate: running plus the edits');
  t.ok((await s.rpc('<commit/>')).ok, 'commit: ok');
  await allAgree(t, s, { ...running, A: { ...str(A), year: '1929' }, C: str(C) }, 'after commit');
});

t.test('delete through NETCONF is seen by RESTCONF', async (t) => {
  const r = await s.rpc(edit('running', `<cars xmlns="${CAR_NS}"><car-entry xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"><id>C</id></car-entry></cars>`));
  t.ok(r.ok, 'edit-config delete: ok');
  const gone = await http('GET', '/rests/data/car:cars/car-entry=C');
  t.equal(gone.status, 409, 'RESTCONF: car-entry=C is data-missing');
  t.match(gone.text, /data-missing/);
});

// ----- RESTCONF writes, NETCONF reads -----

t.test('RESTCONF PUT / POST / PATCH are read back through NETCONF', async (t) => {
  const D = { id: 'D', model: 'Model T', manufacturer: 'Ford', year: 1908, category: 'touring' };
  const E = { id: 'E', model: '2CV', manufacturer: 'Citroen', year: 1948 };
  await ok(http('PUT', '/rests/data/car:cars', { json: { 'car:cars': { 'car-entry': [D, E] } } }), 'PUT cars (JSON)', t);
  await allAgree(t, s, { D: str(D), E: str(E) }, 'after PUT (the PUT replaced the cars)');

  const F = { id: 'F', model: 'Isetta', manufacturer: 'Iso', year: 1953 };
  await ok(http('POST', '/rests/data/car:cars', { xml: `<car-entry xmlns="${CAR_NS}">${carXml(F).replace(/^<car-entry>|<\/car-entry>$/g, '')}</car-entry>` }), 'POST car-entry F (XML)', t);
  t.same((await netconfRunningCars(s))['F'], str(F), 'NETCONF sees F');

  await ok(http('PATCH', '/rests/data/car:cars/car-entry=D', { json: { 'car:car-entry': [{ id: 'D', model: 'Model A', year: 1927 }] } }), 'PATCH (merge) D', t);
  const D2 = { ...D, model: 'Model A', year: 1927 };
  await allAgree(t, s, { D: str(D2), E: str(E), F: str(F) }, 'after PATCH: changed leaves updated, the others kept');

  await ok(http('PUT', '/restconf/config/people:people', { json: { 'people:people': { person: [{ id: 'P1', gender: 'female', age: 41 }] } } }), 'legacy PUT /restconf/config/people:people', t);
  const people = await s.rpc(getConfig('running', `<people xmlns="${PEOPLE_NS}"/>`));
  const persons = fromXmlList(childrenOf(childOf(people.data, 'people', PEOPLE_NS), 'person', PEOPLE_NS), 'id');
  t.same(persons, { P1: { id: 'P1', gender: 'female', age: '41' } }, 'NETCONF sees the legacy write');
});

t.test('a RESTCONF delete is seen by NETCONF', async (t) => {
  await ok(http('DELETE', '/rests/data/car:cars/car-entry=E'), 'DELETE car-entry=E', t);
  const cars = await netconfRunningCars(s);
  t.same(Object.keys(cars).sort(), ['D', 'F'], 'NETCONF: E is gone');
  await ok(http('DELETE', '/rests/data/people:people'), 'DELETE people', t);
  const r = await s.rpc(getConfig('running', `<people xmlns="${PEOPLE_NS}"/>`));
  t.equal(childOf(r.data, 'people'), undefined, 'NETCONF: no people container');
  const del = await s.rpc(edit('running', `<people xmlns="${PEOPLE_NS}" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"/>`));
  t.equal(del.errors[0]?.tag, 'data-missing', 'NETCONF delete of what RESTCONF deleted: data-missing');
});

t.test('the candidate follows running while RESTCONF writes', async (t) => {
  const G = { id: 'G', model: 'Fiat 500', year: 1957 };
  const H = { id: 'H', model: 'Mini', year: 1959 };
  t.ok((await s.rpc(edit('candidate', `<cars xmlns="${CAR_NS}">${carXml(G)}</cars>`))).ok, 'NETCONF: G into the candidate');
  await ok(http('PUT', '/rests/data/car:cars/car-entry=H', { json: { 'car:car-entry': [H] } }), 'RESTCONF: H into running', t);
  await ok(http('DELETE', '/rests/data/car:cars/car-entry=F'), 'RESTCONF: F out of running', t);
  const cand = await netconfRunningCars(s, 'candidate');
  t.same(Object.keys(cand).sort(), ['D', 'G', 'H'], 'the candidate is the new running plus G');
  t.ok((await s.rpc('<commit/>')).ok, 'commit: ok');
  const after = await restCarsJson();
  t.same(Object.keys(after).sort(), ['D', 'G', 'H'], 'RESTCONF after commit: the commit kept H and did not bring F back');
  t.same(after['G'], str(G), 'G as written');
});

t.test('a NETCONF lock on running holds RESTCONF writes off (RFC 6241 7.5, RFC 8040 1.4)', async (t) => {
  const before = await restCarsJson();
  t.ok((await s.rpc('<lock><target><running/></target></lock>')).ok, 'NETCONF locks running');
  try {
    const put = await http('PUT', '/rests/data/car:cars/car-entry=LOCKED', { json: { 'car:car-entry': [{ id: 'LOCKED' }] } });
    // RFC 6241 7.5: the lock keeps out non-NETCONF writers too; RESTCONF maps lock-denied / in-use to 409.
    t.equal(put.status, 409, `RESTCONF PUT while NETCONF holds the running lock: 409 (got ${put.status} ${put.text.slice(0, 200)})`);
    t.match(put.text, /lock-denied/, 'error-tag lock-denied');
    t.same(await netconfRunningCars(s), before, 'running unchanged');
  } finally {
    t.ok((await s.rpc('<unlock><target><running/></target></unlock>')).ok, 'NETCONF unlocks running');
    await http('DELETE', '/rests/data/car:cars/car-entry=LOCKED');
  }
  const after = await http('PUT', '/rests/data/car:cars/car-entry=UNLOCKED', { json: { 'car:car-entry': [{ id: 'UNLOCKED' }] } });
  t.equal(after.status, 201, 'after the unlock the PUT goes through');
  await ok(http('DELETE', '/rests/data/car:cars/car-entry=UNLOCKED'), 'and is undone', t);
});

t.test('an rpc called over RESTCONF notifies a NETCONF subscriber', async (t) => {
  const sub = await connect(c.netconf.port, { t });
  t.ok((await sub.rpc('<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>')).ok, 'create-subscription: ok');
  const r = await http('POST', '/rests/operations/toaster:restock-toaster', { json: { input: { amountOfBreadToStock: 3 } } });
  t.ok(r.status === 200 || r.status === 204, `RESTCONF restock-toaster: ${r.status}`);
  const n = parseXml(await sub.read());
  t.equal(n.name, 'notification', 'a <notification> arrives');
  t.ok(!Number.isNaN(Date.parse(textOf(n, 'eventTime') ?? '')), `with an eventTime (${textOf(n, 'eventTime')})`);
  const body = childOf(n, 'toasterRestocked', 'http://netconfcentral.org/ns/toaster');
  t.equal(textOf(body, 'amountOfBread'), '3', 'toasterRestocked with amountOfBread 3');
  t.ok((await sub.close()).ok, 'close-session');
});

// ----- rpcs -----

const bridge = (n: number) => ({
  'network-topology:node': [
    {
      'node-id': `ovsdb://uuid/nc-${n}/bridge/br-int`,
      'ovsdb:bridge-name': 'br-int',
      'ovsdb:datapath-id': `00:00:00:00:00:00:00:0${n}`,
      'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': `compute-${n}` }],
    },
  ],
});

async function computes(): Promise<Entries> {
  const r = await http('GET', '/rests/data/cloudscaler-rpc:compute-nodes');
  if (r.status !== 200) return {};
  return fromJsonList((JSON.parse(r.text) as { 'cloudscaler-rpc:compute-nodes': { 'compute-node'?: Record<string, unknown>[] } })['cloudscaler-rpc:compute-nodes']['compute-node'], 'compute-name');
}

t.test('scale-in rpc over NETCONF, effect over RESTCONF', async (t) => {
  for (const n of [1, 2]) {
    const id = encodeURIComponent(`ovsdb://uuid/nc-${n}/bridge/br-int`);
    await ok(http('PUT', `/restconf/operational/network-topology:network-topology/topology/ovsdb:1/node/${id}`, { json: bridge(n) }), `bridge of compute-${n} into the operational topology`, t);
  }
  const deadline = Date.now() + 10_000;
  while (Object.keys(await computes()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.same(Object.keys(await computes()).sort(), ['compute-1', 'compute-2'], 'the computes are registered');

  const start = await s.rpc(`<scalein-computes-start xmlns="${SCALEIN_NS}"><scalein-node-ids>compute-1</scalein-node-ids></scalein-computes-start>`);
  t.equal(start.errors.length, 0, `scalein-computes-start: no error ${start.errors[0]?.message ?? ''}`);
  const out = childrenOf(start.root, 'computes', SCALEIN_NS);
  t.same(
    out.map((e) => ({ name: textOf(e, 'compute-name'), dpn: textOf(e, 'dpn-id'), changed: textOf(e, 'changed') })),
    [{ name: 'compute-1', dpn: '1', changed: 'true' }],
    'the output lists compute-1, changed, in the rpc module namespace',
  );
  const after = await computes();
  t.equal(after['compute-1']?.tombstoned, 'true', 'RESTCONF: compute-1 is tombstoned');
  t.equal(after['compute-2']?.tombstoned, 'false', 'RESTCONF: compute-2 is not');

  const nc = await s.rpc(getConfig('running', `<compute-nodes xmlns="${CLOUDSCALER_NS}"/>`));
  const ncNodes = fromXmlList(childrenOf(childOf(nc.data, 'compute-nodes'), 'compute-node'), 'compute-name');
  t.same(ncNodes, after, 'NETCONF get-config shows the same compute-nodes as RESTCONF');

  const bad = await s.rpc(`<scalein-computes-start xmlns="${SCALEIN_NS}"><scalein-node-ids>no-such-compute</scalein-node-ids></scalein-computes-start>`);
  t.equal(bad.errors[0]?.tag, 'invalid-value', `an unknown compute: invalid-value (${bad.errors[0]?.message})`);
  t.match(bad.errors[0]?.message ?? '', /no-such-compute/, 'naming it');
  t.equal((await computes())['compute-2']?.tombstoned, 'false', 'and nothing changed');

  const recover = await http('POST', '/rests/operations/scalein-rpc:scalein-computes-recover', { json: { input: { 'recover-node-ids': ['compute-1'] } } });
  t.equal(recover.status, 200, `RESTCONF recover: ${recover.status}`);
  const back = await s.rpc(getConfig('running', `<compute-nodes xmlns="${CLOUDSCALER_NS}"><compute-node><compute-name>compute-1</compute-name></compute-node></compute-nodes>`));
  const node = childOf(childOf(back.data, 'compute-nodes'), 'compute-node');
  t.equal(textOf(node, 'tombstoned'), 'false', 'NETCONF sees the RESTCONF recover');
});

t.test('close', async (t) => {
  t.ok((await s.close()).ok, 'close-session: ok');
});
