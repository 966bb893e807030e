/**
 * OpenDaylight CSIT's NETCONF MDSAL northbound suite (csit/suites/netconf/MDSAL/northbound.robot)
 * replayed over a raw NETCONF session with a base:1.0 hello (end-of-message framing), in the
 * suite's order, with messages of our own that carry the same operations, element names,
 * namespaces, message-ids and attributes as the suite's .msg files. Replies are compared the way
 * the suite does (whole rpc-reply: attributes and `<ok/>`, or the rpc-error's type, tag and
 * info), and get-config results by the ids and values they hold. The suite with its own .msg
 * files verbatim, error messages compared, is test/csit/netconf-mdsal-northbound.test.ts.
 *
 * Then what the suite does not cover: a DOCTYPE/entity message, RFC 6241's prefixed-attribute
 * example, pipelined requests, chunked framing end to end (base:1.1 hello), bad client hellos,
 * candidate locks between two sessions, kill-session, and broken sessions (garbage chunk header,
 * a message past --netconf-max-message) next to a working one.
 */
import t from 'tap';
import type { Test } from 'tap';
import { resolve } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { BASE_10, BASE_11, NC_BASE, childOf, childrenOf, connect, escapeText, textOf, type NetconfTestSession, type Reply } from '../helpers/netconf.ts';

const REPO = resolve(import.meta.dirname, '../..');
const FLAGS = ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`];

const IT = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it';
const CAR_NS = `${IT}:car`;
const PEOPLE_NS = `${IT}:people`;
const CP_NS = `${IT}:car-people`;
const MONITORING_NS = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring';

// ----- the suite's data, written as builders -----

type Leaves = Record<string, string | number | undefined>;
interface Car extends Leaves {
  id: string;
  model?: string;
  manufacturer?: string;
  year?: number;
  category?: string;
}
interface Person extends Leaves {
  id: string;
  gender?: string;
  age?: number;
}
type Pair = [car: string, person: string];
interface Batch {
  cars: Car[];
  people: Person[];
  owners: Pair[];
}

const leaves = (o: Leaves) =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${escapeText(String(v))}</${k}>`)
    .join('');
const carsXml = (cars: Car[], attrs = '') => `<cars xmlns="${CAR_NS}"${attrs}>${cars.map((c) => `<car-entry>${leaves(c)}</car-entry>`).join('')}</cars>`;
const peopleXml = (people: Person[], attrs = '') => `<people xmlns="${PEOPLE_NS}"${attrs}>${people.map((p) => `<person>${leaves(p)}</person>`).join('')}</people>`;
const ownersXml = (pairs: Pair[], attrs = '') =>
  `<car-people xmlns="${CP_NS}"${attrs}>${pairs.map(([c, p]) => `<car-person><car-id>${c}</car-id><person-id>${p}</person-id></car-person>`).join('')}</car-people>`;
const batchXml = (b: Batch) => carsXml(b.cars) + peopleXml(b.people) + ownersXml(b.owners);

const FIRST: Batch = {
  cars: [{ id: 'TOY001', model: 'Toyota Corolla', manufacturer: 'Toyota', year: 2016, category: 'sedan' }],
  people: [{ id: 'CUST001', age: 32 }],
  owners: [['TOY001', 'CUST001']],
};
const SECOND: Batch = {
  cars: [{ id: 'OLD001', model: 'Skoda MB', manufacturer: 'Skoda Mlada Boleslav', category: 'sedan' }],
  people: [{ id: 'CUST002', gender: 'male', age: 28 }],
  owners: [['OLD001', 'CUST002']],
};
const MULTI_CREATE: Batch = {
  cars: [{ id: 'CAROLD', manufacturer: 'Ford', year: 1950 }],
  people: [{ id: 'CUSTOLD', age: 99 }],
  owners: [['CAROLD', 'CUSTOLD']],
};
const MULTI: Batch[] = [
  {
    cars: [{ id: 'CARYOUNG', model: 'Toyota Prius', manufacturer: 'Toyota', year: 2016, category: 'sedan' }],
    people: [{ id: 'CUSTYOUNG', age: 27 }],
    owners: [['CARYOUNG', 'CUSTYOUNG']],
  },
  {
    cars: [{ id: 'CARMID', model: 'Toyota Aurion', manufacturer: 'Toyota', year: 2006, category: 'sedan' }],
    people: [{ id: 'CUSTMID', age: 40 }],
    owners: [['CARMID', 'CUSTMID']],
  },
  {
    cars: [{ id: 'CAROLD2', model: 'Camry', manufacturer: 'Toyota', year: 1982 }],
    people: [{ id: 'CUSTOLD2', age: 65 }],
    owners: [['CAROLD2', 'CUSTOLD2']],
  },
];
/** Every id the suite writes; none may be in a datastore that should hold no test objects. */
const TEST_IDS = ['TOY001', 'CUST001', 'OLD001', 'CUST002', 'CAROLD', 'CUSTOLD', 'CARYOUNG', 'CUSTYOUNG', 'CARMID', 'CUSTMID', 'CAROLD2', 'CUSTOLD2', 'CUSTBAD', 'test', 'REPLACE'];

// ----- operations -----

const getConfig = (ds: 'running' | 'candidate') => `<get-config><source><${ds}/></source></get-config>`;
const COMMIT = '<commit/>';

function editConfig(o: { config: string; defaultOperation?: string; testOption?: string; configAttrs?: string }): string {
  return (
    '<edit-config><target><candidate/></target>' +
    (o.testOption ? `<test-option>\n  ${o.testOption}\n</test-option>` : '') +
    (o.defaultOperation ? `<default-operation>${o.defaultOperation}</default-operation>` : '') +
    `<config${o.configAttrs ?? ''}>${o.config}</config></edit-config>`
  );
}

/** The suite's "delete" / "remove all": operation remove (prefixed a:) on the three containers under default none. */
const A_BASE = ` xmlns:a="${NC_BASE}"`;
const REMOVE_ALL = editConfig({
  testOption: 'set',
  defaultOperation: 'none',
  configAttrs: A_BASE,
  config: carsXml([], ' a:operation="remove"') + peopleXml([], ' a:operation="remove"') + ownersXml([], ' a:operation="remove"'),
});

// ----- reply checks -----

/** The reply is `<rpc-reply>` in the base namespace with exactly these attributes and a lone `<ok/>`. */
function expectOk(t: Test, r: Reply, attrs: Record<string, string>, what: string): void {
  t.same(r.root.written, { xmlns: NC_BASE, ...attrs }, `${what}: rpc-reply attributes`);
  t.ok(r.root.name === 'rpc-reply' && r.ok && !r.root.children[0].children.length, `${what}: <ok/> (${r.text.slice(0, 300)})`);
}

/** The reply carries one rpc-error with this type, tag (and info), severity error and a message. */
function expectRpcError(t: Test, r: Reply, e: { attrs: Record<string, string>; type: string; tag: string; info?: Record<string, string> }, what: string): void {
  t.same(r.root.written, { xmlns: NC_BASE, ...e.attrs }, `${what}: rpc-reply attributes`);
  t.equal(r.errors.length, 1, `${what}: one rpc-error (${r.text.slice(0, 400)})`);
  const err = r.errors[0];
  if (!err) return;
  t.equal(err.type, e.type, `${what}: error-type`);
  t.equal(err.tag, e.tag, `${what}: error-tag`);
  t.equal(err.severity, 'error', `${what}: error-severity`);
  t.ok(err.message, `${what}: error-message (${err.message})`);
  if (e.info) t.same(err.info, e.info, `${what}: error-info`);
}

interface Inventory {
  cars: Map<string, Record<string, string>>;
  people: Map<string, Record<string, string>>;
  owners: string[];
}

/** What a get-config reply holds of the three test models, by id, with leaf values as text. */
function inventory(r: Reply): Inventory {
  if (!r.data) throw new Error(`no <data> in the reply: ${r.text.slice(0, 400)}`);
  const entries = (container: string, ns: string, list: string, key: string) => {
    const out = new Map<string, Record<string, string>>();
    for (const e of childrenOf(childOf(r.data, container, ns), list, ns)) {
      const rec: Record<string, string> = {};
      for (const leaf of e.children) rec[leaf.name] = leaf.text.trim();
      out.set(rec[key], rec);
    }
    return out;
  };
  const owners = childrenOf(childOf(r.data, 'car-people', CP_NS), 'car-person', CP_NS).map((e) => `${textOf(e, 'car-id')}/${textOf(e, 'person-id')}`);
  return { cars: entries('cars', CAR_NS, 'car-entry', 'id'), people: entries('people', PEOPLE_NS, 'person', 'id'), owners: owners.sort() };
}

const asRecord = (o: Leaves) => Object.fromEntries(Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));

function hasBatch(t: Test, inv: Inventory, b: Batch, what: string): void {
  for (const c of b.cars) t.same(inv.cars.get(c.id), asRecord(c), `${what}: car ${c.id}`);
  for (const p of b.people) t.same(inv.people.get(p.id), asRecord(p), `${what}: person ${p.id}`);
  for (const [c, p] of b.owners) t.ok(inv.owners.includes(`${c}/${p}`), `${what}: car-person ${c}/${p}`);
}

function lacksBatch(t: Test, inv: Inventory, b: Batch, what: string): void {
  const ids = [...b.cars.map((c) => c.id), ...b.people.map((p) => p.id)];
  t.same(
    ids.filter((id) => inv.cars.has(id) || inv.people.has(id)),
    [],
    `${what}: none of ${ids.join(', ')}`,
  );
  const pairs = b.owners.map(([c, p]) => `${c}/${p}`);
  t.same(
    inv.owners.filter((o) => pairs.includes(o)),
    [],
    `${what}: none of car-person ${pairs.join(', ')}`,
  );
}

function noTestObjects(t: Test, inv: Inventory, what: string): void {
  const found = [...inv.cars.keys(), ...inv.people.keys(), ...inv.owners.flatMap((o) => o.split('/'))].filter((id) => TEST_IDS.includes(id));
  t.same(found, [], `${what}: no test objects`);
}

/** The suite's close-session: `<ok/>` with message-id 999, then the server ends the session. */
async function closeSession(t: Test, session: NetconfTestSession): Promise<void> {
  expectOk(t, await session.rpc('<close-session/>', { 'message-id': '999' }), { 'message-id': '999' }, 'close-session');
  await session.waitClosed(5000);
  t.ok(session.closed, 'the server ended the session after its reply');
}

// ----- the suite -----

const c = await testController(t, FLAGS);
const port = c.netconf.port;
let s: NetconfTestSession;

/** Opens a session like the suite's Open_ODL_Netconf_Connection: base:1.0 hello, end-of-message framing. */
async function open(): Promise<NetconfTestSession> {
  return connect(port, { t, hello: [BASE_10] });
}

t.test('Connect_To_ODL_Netconf', async (t) => {
  s = await open();
  t.ok(s.sessionId > 0, `session-id ${s.sessionId}`);
  t.ok(s.serverCapabilities.includes(BASE_10), 'server offers base:1.0');
  t.ok(s.serverCapabilities.includes('urn:ietf:params:netconf:capability:candidate:1.0'), 'server offers :candidate');
  t.ok(
    s.serverCapabilities.some((cap) => cap.startsWith(`${CAR_NS}?module=car`)),
    'server lists the car module',
  );
  t.equal(s.framing, 'eom', 'base:1.0 only: end-of-message framing');
});

t.test('Get_Config_Running', async (t) => {
  const r = await s.rpc(getConfig('running'), { 'message-id': 'empty' });
  t.equal(r.root.written['message-id'], 'empty');
  noTestObjects(t, inventory(r), 'running');
});

t.test('Missing_Message_ID_Attribute', async (t) => {
  s.send(`<rpc xmlns="${NC_BASE}">\n  <get-config>\n    <source>\n      <running/>\n    </source>\n  </get-config>\n</rpc>`);
  const r = await s.readReply();
  expectRpcError(t, r, { attrs: {}, type: 'rpc', tag: 'missing-attribute', info: { 'bad-attribute': 'message-id', 'bad-element': 'rpc' } }, 'missing message-id');
});

t.test('Additional_Attributes_In_Message', async (t) => {
  const r = await s.rpc(getConfig('running'), {
    'message-id': '1',
    attribute: 'something',
    additional: 'otherthing',
    'xmlns:prefix': 'http://www.example.com/my-schema-example.html',
  });
  t.same(
    r.root.written,
    { xmlns: NC_BASE, 'message-id': '1', attribute: 'something', additional: 'otherthing', 'xmlns:prefix': 'http://www.example.com/my-schema-example.html' },
    'every attribute and namespace declaration of <rpc> comes back on <rpc-reply>',
  );
  t.ok(r.data, 'with the data');
});

t.test('Send_Stuff_In_Undefined_Namespace', async (t) => {
  const r = await s.rpc(
    editConfig({
      defaultOperation: 'merge',
      config: '<does-not-exist xmlns="urn:this:is:in:a:nonexistent:namespace"><entry><id>TOY001</id><name>Some Toy</name><year>2016</year><category>toys</category></entry></does-not-exist>',
    }),
    { 'message-id': '2', a: '64' },
  );
  t.ok(r.text.includes('<rpc-error>'), 'the reply holds <rpc-error>');
  t.ok(r.text.includes('urn:this:is:in:a:nonexistent:namespace'), 'and names the namespace');
  t.notOk(/Exception/.test(r.text), 'no exception text');
  t.same(r.root.written, { xmlns: NC_BASE, 'message-id': '2', a: '64' }, 'attributes echoed');
  const after = await s.rpc(getConfig('candidate'), { 'message-id': 'after-bad-ns' });
  t.ok(after.data, 'the session still answers');
  noTestObjects(t, inventory(after), 'the failed edit left nothing in the candidate');
});

t.test('Edit_Config_First_Batch_Merge', async (t) => {
  const r = await s.rpc(editConfig({ defaultOperation: 'merge', config: batchXml(FIRST) }), { 'message-id': '2', a: '64' });
  expectOk(t, r, { 'message-id': '2', a: '64' }, 'merge-1');
});

t.test('Get_Config_Running_To_Confirm_No_Edit_Before_Commit', async (t) => {
  noTestObjects(t, inventory(await s.rpc(getConfig('running'), { 'message-id': 'empty' })), 'running before commit');
});

t.test('Commit_Edit', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '4' }), { 'message-id': '4' }, 'commit');
});

t.test('First_Batch_In_Config_Running_To_Confirm_Edit_After_Commit', async (t) => {
  hasBatch(t, inventory(await s.rpc(getConfig('running'), { 'message-id': '5' })), FIRST, 'running after commit');
});

t.test('Terminate_Connection_Gracefully', async (t) => {
  await closeSession(t, s);
});

t.test('Reconnect_To_ODL_Netconf_After_Graceful_Session_End', async (t) => {
  const before = s.sessionId;
  s = await open();
  t.not(s.sessionId, before, `a new session-id (${s.sessionId})`);
});

t.test('First_Batch_In_Config_Running_After_Reconnect', async (t) => {
  hasBatch(t, inventory(await s.rpc(getConfig('running'), { 'message-id': '5' })), FIRST, 'running after reconnect');
});

t.test('Edit_Config_Create_Shall_Fail_Now', async (t) => {
  const r = await s.rpc(editConfig({ defaultOperation: 'create', config: peopleXml([{ id: 'CUSTBAD', age: 99 }]) }), { 'message-id': '15' });
  expectRpcError(t, r, { attrs: { 'message-id': '15' }, type: 'protocol', tag: 'data-exists' }, 'create of existing people');
  const cand = inventory(await s.rpc(getConfig('candidate'), { 'message-id': 'cand-after-create' }));
  t.notOk(cand.people.has('CUSTBAD'), 'the failed create left nothing in the candidate');
});

t.test('Delete_First_Batch', async (t) => {
  expectOk(t, await s.rpc(REMOVE_ALL, { 'message-id': '6' }), { 'message-id': '6' }, 'remove all');
});

t.test('Get_Config_Running_To_Confirm_No_Delete_Before_Commit', async (t) => {
  hasBatch(t, inventory(await s.rpc(getConfig('running'), { 'message-id': '7' })), FIRST, 'running before commit');
  noTestObjects(t, inventory(await s.rpc(getConfig('candidate'), { 'message-id': '7c' })), 'but the candidate');
});

t.test('Commit_Delete', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '8' }), { 'message-id': '8' }, 'commit');
});

t.test('Get_Config_Running_To_Confirm_Delete_After_Commit', async (t) => {
  const inv = inventory(await s.rpc(getConfig('running'), { 'message-id': 'empty' }));
  noTestObjects(t, inv, 'running after commit');
});

t.test('Commit_No_Transaction', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '10' }), { 'message-id': '10' }, 'commit with nothing to commit');
});

t.test('Edit_Config_Second_Batch_Merge', async (t) => {
  expectOk(t, await s.rpc(editConfig({ defaultOperation: 'merge', config: batchXml(SECOND) }), { 'message-id': '20' }), { 'message-id': '20' }, 'merge-2');
});

t.test('Get_And_Check_Config_Candidate_For_Discard', async (t) => {
  const inv = inventory(await s.rpc(getConfig('candidate'), { 'message-id': '21' }));
  lacksBatch(t, inv, FIRST, 'candidate');
  hasBatch(t, inv, SECOND, 'candidate');
});

t.test('Discard_Changes_Using_Discard_Request', async (t) => {
  expectOk(t, await s.rpc('<discard-changes/>', { 'message-id': '22' }), { 'message-id': '22' }, 'discard-changes');
});

t.test('Get_And_Check_Config_Candidate_To_Confirm_Discard', async (t) => {
  noTestObjects(t, inventory(await s.rpc(getConfig('candidate'), { 'message-id': 'empty' })), 'candidate after discard');
});

t.test('Edit_Config_Multiple_Batch_Merge_Create', async (t) => {
  // The create batch lists people first, then cars, then car-people.
  const config = peopleXml(MULTI_CREATE.people) + carsXml(MULTI_CREATE.cars) + ownersXml(MULTI_CREATE.owners);
  expectOk(t, await s.rpc(editConfig({ defaultOperation: 'create', config }), { 'message-id': '115' }), { 'message-id': '115' }, 'create');
});

for (const [i, id] of [
  [0, '50'],
  [1, '51'],
  [2, '52'],
] as const) {
  t.test(`Edit_Config_Multiple_Batch_Merge_${['Third', 'Fourth', 'Fifth'][i]}`, async (t) => {
    expectOk(t, await s.rpc(editConfig({ defaultOperation: 'merge', config: batchXml(MULTI[i]) }), { 'message-id': id }), { 'message-id': id }, `merge-multiple-${i + 1}`);
  });
}

t.test('Commit_Multiple_Merge', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '53' }), { 'message-id': '53' }, 'commit');
});

async function checkMultiple(t: Test, what: string): Promise<void> {
  const inv = inventory(await s.rpc(getConfig('running'), { 'message-id': '54' }));
  for (const b of [MULTI_CREATE, ...MULTI]) hasBatch(t, inv, b, what);
}

t.test('Multiple_Batch_Data_In_Running_Config', (t) => checkMultiple(t, 'running'));

t.test('Abort_Connection_To_Simulate_Session_Failure', async (t) => {
  const lost = s.sessionId;
  s.abort();
  t.ok(s.closed, 'connection dropped without close-session');
  s = await open();
  t.pass(`Reconnect_To_ODL_Netconf_After_Session_Failure: session ${s.sessionId}`);
  // The server notices the lost transport and drops the session from netconf-state.
  const filter = `<filter type="subtree"><netconf-state xmlns="${MONITORING_NS}"><sessions/></netconf-state></filter>`;
  let ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await s.rpc(`<get>${filter}</get>`);
    ids = childrenOf(childOf(childOf(r.data, 'netconf-state'), 'sessions'), 'session').map((e) => textOf(e, 'session-id') ?? '');
    if (!ids.includes(String(lost))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(ids.includes(String(s.sessionId)), `netconf-state lists the new session (${ids.join(', ')})`);
  t.notOk(ids.includes(String(lost)), `and no longer the aborted session ${lost}`);
});

t.test('Multiple_Batch_Data_In_Running_Config_After_Session_Failure', (t) => checkMultiple(t, 'running after the session failure'));

const TEST_CAR: Car = { id: 'test', model: 'Dixi', manufacturer: 'BMW', year: 1928 };
const TEST_CAR_UPDATED: Car = { id: 'test', model: 'Bentley Speed Six', manufacturer: 'Bentley', year: 1930 };

t.test('Edit_Multiple_Merge_Data', async (t) => {
  expectOk(t, await s.rpc(editConfig({ testOption: 'set', defaultOperation: 'merge', config: carsXml([TEST_CAR]) }), { 'message-id': 'abc' }), { 'message-id': 'abc' }, 'merge test');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '40' }), { 'message-id': '40' }, 'Commit_Multiple_Modules_Merge_Edit');
  const inv = inventory(await s.rpc(getConfig('running'), { 'message-id': '41' }));
  t.same(inv.cars.get('test'), asRecord(TEST_CAR), 'Check_Multiple_Modules_Merge_Edit: car "test" is Dixi / BMW / 1928');
});

t.test('Update_Multiple_Modules_Merge', async (t) => {
  expectOk(t, await s.rpc(editConfig({ testOption: 'set', defaultOperation: 'merge', config: carsXml([TEST_CAR_UPDATED]) }), { 'message-id': '42' }), { 'message-id': '42' }, 'merge update');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '43' }), { 'message-id': '43' }, 'Commit_Multiple_Modules_Merge_Update');
  const r = await s.rpc(getConfig('running'), { 'message-id': '44' });
  const inv = inventory(r);
  t.same(inv.cars.get('test'), asRecord(TEST_CAR_UPDATED), 'Check_Multiple_Modules_Merge_Update: car "test" is Bentley Speed Six / Bentley / 1930');
  for (const old of ['Dixi', 'BMW', '1928']) t.notOk([...inv.cars.values()].some((c) => Object.values(c).includes(old)), `no car holds "${old}" any more`);
});

t.test('Replace_Multiple_Modules_Merge', async (t) => {
  const config = carsXml([{ id: 'REPLACE', model: 'Panda', manufacturer: 'FIAT', year: 2003 }]) + ownersXml([['REPLACE', 'CUSTYOUNG']]);
  expectOk(t, await s.rpc(editConfig({ testOption: 'set', defaultOperation: 'replace', config }), { 'message-id': '70' }), { 'message-id': '70' }, 'replace');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '71' }), { 'message-id': '71' }, 'Commit_Multiple_Modules_Merge_Replace');
  const inv = inventory(await s.rpc(getConfig('running'), { 'message-id': '72' }));
  t.same([...inv.cars.keys()], ['REPLACE'], 'Check_Multiple_Modules_Merge_Replace: cars hold REPLACE only');
  t.same(inv.cars.get('REPLACE'), { id: 'REPLACE', model: 'Panda', manufacturer: 'FIAT', year: '2003' }, 'REPLACE is a 2003 FIAT Panda');
  t.same(inv.owners, ['REPLACE/CUSTYOUNG'], 'car-people hold REPLACE/CUSTYOUNG only');
  t.same([...inv.people.keys()].sort(), ['CUSTMID', 'CUSTOLD', 'CUSTOLD2', 'CUSTYOUNG'], 'people were not in the replace: untouched');
});

t.test('Remove_Test_Data', async (t) => {
  expectOk(t, await s.rpc(REMOVE_ALL, { 'message-id': '6' }), { 'message-id': '6' }, 'remove all');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '8' }), { 'message-id': '8' }, 'Commit_Test_Data_Removal');
  noTestObjects(t, inventory(await s.rpc(getConfig('running'), { 'message-id': 'empty' })), 'running after removal');
});

t.test('Connector_Simplified_Pattern', async (t) => {
  const replace = editConfig({ defaultOperation: 'none', config: carsXml([{ id: 'connector' }], `${A_BASE} a:operation="replace"`) });
  expectOk(t, await s.rpc(replace, { 'message-id': 'm-1', a: '64' }), { 'message-id': 'm-1', a: '64' }, 'none-replace');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '4' }), { 'message-id': '4' }, 'commit-edit');
  t.same([...inventory(await s.rpc(getConfig('running'))).cars.keys()], ['connector'], 'running holds car "connector"');
  expectOk(t, await s.rpc(REMOVE_ALL, { 'message-id': '6' }), { 'message-id': '6' }, 'delete');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '4' }), { 'message-id': '4' }, 'commit-edit');
  t.equal(inventory(await s.rpc(getConfig('running'))).cars.size, 0, 'and then no car');
});

t.test('Test_Bug_7791', async (t) => {
  const emptyCars = editConfig({ defaultOperation: 'none', config: carsXml([], `${A_BASE} a:operation="replace"`) });
  expectOk(t, await s.rpc(emptyCars, { 'message-id': 'm-2', a: '64' }), { 'message-id': 'm-2', a: '64' }, 'bug7791-1: replace cars by an empty cars');
  const entry = editConfig({
    defaultOperation: 'none',
    config: `<cars xmlns="${CAR_NS}"><car-entry${A_BASE} a:operation="replace"><id>bug7791</id></car-entry></cars>`,
  });
  expectOk(t, await s.rpc(entry, { 'message-id': 'm-3', a: '64' }), { 'message-id': 'm-3', a: '64' }, 'bug7791-2: replace one car-entry under default none');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '4' }), { 'message-id': '4' }, 'commit-edit');
  t.same([...inventory(await s.rpc(getConfig('running'))).cars.keys()], ['bug7791'], 'running holds car "bug7791"');
  expectOk(t, await s.rpc(REMOVE_ALL, { 'message-id': '6' }), { 'message-id': '6' }, 'delete');
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '4' }), { 'message-id': '4' }, 'commit-edit');
});

t.test('Delete_Not_Existing_Element', async (t) => {
  const del = editConfig({ testOption: 'set', defaultOperation: 'none', configAttrs: A_BASE, config: carsXml([], ' a:operation="delete"') });
  expectRpcError(t, await s.rpc(del, { 'message-id': '6' }), { attrs: { 'message-id': '6' }, type: 'protocol', tag: 'data-missing' }, 'delete of missing cars');
});

t.test('Commit_Delete_Not_Existing_Module', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '10' }), { 'message-id': '10' }, 'commit');
});

t.test('Remove_Not_Existing_Module', async (t) => {
  const rm = editConfig({ testOption: 'set', defaultOperation: 'none', configAttrs: A_BASE, config: carsXml([], ' a:operation="remove"') });
  expectOk(t, await s.rpc(rm, { 'message-id': '6' }), { 'message-id': '6' }, 'remove of missing cars is silently ignored');
});

t.test('Commit_Remove_Not_Existing_Module', async (t) => {
  expectOk(t, await s.rpc(COMMIT, { 'message-id': '88' }), { 'message-id': '88' }, 'commit');
});

t.test('Close_Session', (t) => closeSession(t, s));

// ----- beyond the suite -----

t.test('a DOCTYPE with entities is refused, not expanded', async (t) => {
  const a = await open();
  const filter = (id: string) => `<filter type="subtree"><cars xmlns="${CAR_NS}"><car-entry><id>${id}</id></car-entry></cars></filter>`;
  a.send(
    `<?xml version="1.0"?><!DOCTYPE rpc [<!ENTITY secret "EXPANDED-ENTITY">]>` +
      `<rpc xmlns="${NC_BASE}" message-id="dtd"><get-config><source><running/></source>${filter('&secret;')}</get-config></rpc>`,
  );
  let r = await a.readReply();
  t.equal(r.errors[0]?.tag, 'malformed-message', `malformed-message (${r.errors[0]?.message})`);
  t.equal(r.errors[0]?.type, 'rpc', 'error-type rpc');
  t.notOk(r.text.includes('EXPANDED-ENTITY'), 'the entity was not expanded into the reply');

  const lol = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
  const started = Date.now();
  a.send(`<!DOCTYPE rpc [${lol}]><rpc xmlns="${NC_BASE}" message-id="lol"><get-config><source><running/></source>${filter('&l9;')}</get-config></rpc>`);
  r = await a.readReply();
  t.equal(r.errors[0]?.tag, 'malformed-message', 'billion laughs: malformed-message');
  t.ok(r.text.length < 2000 && Date.now() - started < 5000, `answered at once, small (${r.text.length} chars)`);

  r = await a.rpc(getConfig('running'));
  t.ok(r.data, 'the session goes on');
  t.ok((await a.close()).ok, 'close-session');
});

t.test('RFC 6241 4.2: prefixed attributes of <rpc> come back with their namespace', async (t) => {
  const a = await open();
  const r = await a.rpc(getConfig('running'), { 'message-id': '101', 'xmlns:ex': 'http://example.net/content/1.0', 'ex:user-id': 'fred' });
  t.same(r.root.written, { xmlns: NC_BASE, 'message-id': '101', 'xmlns:ex': 'http://example.net/content/1.0', 'ex:user-id': 'fred' }, 'xmlns:ex and ex:user-id echoed');
  const odd = await a.rpc(getConfig('running'), { 'message-id': `a&b<c"d'e` });
  t.equal(odd.root.written['message-id'], `a&b<c"d'e`, 'a message-id with XML special characters comes back escaped and intact');
  a.send(`<nc:rpc xmlns:nc="${NC_BASE}" message-id="prefixed"><nc:get-config><nc:source><nc:running/></nc:source></nc:get-config></nc:rpc>`);
  const pre = await a.readReply();
  t.ok(pre.data && pre.root.written['message-id'] === 'prefixed', 'an rpc in prefixed form is answered');
  t.ok((await a.close()).ok, 'close-session');
});

t.test('rpc parameters without a namespace are taken as NETCONF\'s; in a foreign namespace refused', async (t) => {
  const a = await open();
  const car = (id: string) => carsXml([{ id, model: 'Bare' }]);
  // A prefixed rpc whose parameters (target, datastore, config) carry no namespace at all.
  a.send(`<nc:rpc xmlns:nc="${NC_BASE}" message-id="bare-1"><nc:edit-config><target><candidate/></target><default-operation>merge</default-operation><config>${car('BARE1')}</config></nc:edit-config></nc:rpc>`);
  expectOk(t, await a.readReply(), { 'message-id': 'bare-1', 'xmlns:nc': NC_BASE }, 'prefixed edit-config, unqualified parameters');
  // The default namespace undeclared on <config> (xmlns=""), the base one bound to a prefix only.
  a.send(`<rpc xmlns="${NC_BASE}" message-id="bare-2"><edit-config><target><candidate/></target><config xmlns="" xmlns:xc="${NC_BASE}">${carsXml([{ id: 'BARE1' }], ' xc:operation="merge"')}${car('BARE2')}</config></edit-config></rpc>`);
  expectOk(t, await a.readReply(), { 'message-id': 'bare-2' }, '<config xmlns="">');
  a.send(`<nc:rpc xmlns:nc="${NC_BASE}" message-id="bare-3"><nc:get-config><source><candidate/></source><filter type="subtree"><cars xmlns="${CAR_NS}"/></filter></nc:get-config></nc:rpc>`);
  const read = await a.readReply();
  t.same([...inventory(read).cars.keys()].sort(), ['BARE1', 'BARE2'], 'an unqualified <source> and <filter> read the candidate, filtered to the cars');
  t.equal(inventory(read).people.size, 0, 'the filter applied: no people in the reply');

  const refused = async (what: string, op: string, element: string) => {
    a.send(`<rpc xmlns="${NC_BASE}" message-id="foreign">${op}</rpc>`);
    expectRpcError(t, await a.readReply(), { attrs: { 'message-id': 'foreign' }, type: 'protocol', tag: 'unknown-namespace', info: { 'bad-element': element, 'bad-namespace': 'urn:example:foreign' } }, what);
  };
  await refused('<config> in a foreign namespace', `<edit-config><target><candidate/></target><config xmlns="urn:example:foreign">${car('FOREIGN1')}</config></edit-config>`, 'config');
  await refused('<target> in a foreign namespace', `<edit-config><target xmlns="urn:example:foreign"><candidate/></target><config>${car('FOREIGN2')}</config></edit-config>`, 'target');
  await refused('<candidate/> in a foreign namespace', `<edit-config><target><candidate xmlns="urn:example:foreign"/></target><config>${car('FOREIGN3')}</config></edit-config>`, 'candidate');
  await refused('<filter> in a foreign namespace', `<get-config><source><running/></source><filter xmlns="urn:example:foreign"><cars xmlns="${CAR_NS}"/></filter></get-config>`, 'filter');
  const cand = inventory(await a.rpc(getConfig('candidate')));
  t.same([...cand.cars.keys()].filter((id) => id.startsWith('FOREIGN')), [], 'no refused edit reached the candidate');
  expectOk(t, await a.rpc('<discard-changes/>', { 'message-id': 'd' }), { 'message-id': 'd' }, 'discard');
  t.ok((await a.close()).ok, 'close-session');
});

t.test('pipelined requests are answered in order', async (t) => {
  const a = await open();
  const msgs = ['p1', 'p2', 'p3'].map((id, i) => `<rpc xmlns="${NC_BASE}" message-id="${id}">${i === 1 ? COMMIT : getConfig('running')}</rpc>]]>]]>`);
  a.sendRaw(msgs.join(''));
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await a.readReply()).root.written['message-id']);
  t.same(ids, ['p1', 'p2', 'p3'], 'three messages in one write: three replies in order');
  t.ok((await a.close()).ok, 'close-session');
});

t.test('base:1.1 on both sides: chunked framing end to end', async (t) => {
  const a = await connect(port, { t, hello: [BASE_10, BASE_11] });
  t.equal(a.framing, 'chunked', 'chunked after the hellos');
  const body = Buffer.from(`<rpc xmlns="${NC_BASE}" message-id="chunks">${editConfig({ config: carsXml([{ id: 'ü€', model: 'Ærø' }]) })}</rpc>`);
  const cut = body.indexOf(Buffer.from('€')) + 1;
  // Three chunks, the second ending inside the three bytes of '€', each in its own write.
  for (const part of [body.subarray(0, 10), body.subarray(10, cut), body.subarray(cut)]) a.sendRaw(Buffer.concat([Buffer.from(`\n#${part.length}\n`), part]));
  a.sendRaw('\n##\n');
  expectOk(t, await a.readReply(), { 'message-id': 'chunks' }, 'a message in three chunks');
  const cand = inventory(await a.rpc(getConfig('candidate')));
  t.same(cand.cars.get('ü€'), { id: 'ü€', model: 'Ærø' }, 'multi-byte characters cut across chunks arrive whole');
  expectOk(t, await a.rpc('<discard-changes/>', { 'message-id': 'd' }), { 'message-id': 'd' }, 'discard');
  t.ok((await a.close()).ok, 'close-session (chunked)');
});

t.test('a bad client hello ends the session', async (t) => {
  const stats = async () => {
    const a = await open();
    const r = await a.rpc(`<get><filter type="subtree"><netconf-state xmlns="${MONITORING_NS}"><statistics/></netconf-state></filter></get>`);
    await a.close();
    return Number(textOf(childOf(childOf(r.data, 'netconf-state'), 'statistics'), 'in-bad-hellos'));
  };
  const before = await stats();
  const cases: [string, string][] = [
    ['no base capability', `<hello xmlns="${NC_BASE}"><capabilities><capability>urn:example:nothing</capability></capabilities></hello>`],
    ['a session-id in the client hello', `<hello xmlns="${NC_BASE}"><capabilities><capability>${BASE_10}</capability></capabilities><session-id>4</session-id></hello>`],
    ['an rpc instead of a hello', `<rpc xmlns="${NC_BASE}" message-id="1">${getConfig('running')}</rpc>`],
  ];
  for (const [what, hello] of cases) {
    const a = await connect(port, { t, hello: false });
    a.sendRaw(`${hello}]]>]]>`);
    await a.waitClosed(5000).then(
      () => t.pass(`${what}: the server closes the session`),
      (e: Error) => t.fail(`${what}: ${e.message}`),
    );
  }
  t.equal(await stats(), before + cases.length, 'netconf-state counts them as in-bad-hellos');
});

t.test('a candidate lock refuses other sessions their candidate edits', async (t) => {
  const a = await open();
  const b = await open();
  expectOk(t, await a.rpc('<lock><target><candidate/></target></lock>', { 'message-id': 'lock' }), { 'message-id': 'lock' }, 'A locks the candidate');
  const edit = editConfig({ defaultOperation: 'merge', config: carsXml([{ id: 'LOCKED' }]) });
  const denied = await b.rpc(edit, { 'message-id': 'b-edit' });
  expectRpcError(t, denied, { attrs: { 'message-id': 'b-edit' }, type: 'protocol', tag: 'lock-denied', info: { 'session-id': String(a.sessionId) } }, 'B edit-config on candidate');
  const lockB = await b.rpc('<lock><target><candidate/></target></lock>', { 'message-id': 'b-lock' });
  expectRpcError(t, lockB, { attrs: { 'message-id': 'b-lock' }, type: 'protocol', tag: 'lock-denied', info: { 'session-id': String(a.sessionId) } }, 'B lock');
  const commitB = await b.rpc(COMMIT, { 'message-id': 'b-commit' });
  t.equal(commitB.errors[0]?.tag, 'lock-denied', 'B commit: lock-denied');
  const discardB = await b.rpc('<discard-changes/>', { 'message-id': 'b-discard' });
  t.equal(discardB.errors[0]?.tag, 'lock-denied', 'B discard-changes: lock-denied');
  expectOk(t, await a.rpc(edit, { 'message-id': 'a-edit' }), { 'message-id': 'a-edit' }, 'A, the holder, may edit');
  t.ok(inventory(await b.rpc(getConfig('candidate'))).cars.has('LOCKED'), 'B reads the shared candidate with A\'s edit');
  expectRpcError(t, await b.rpc('<unlock><target><candidate/></target></unlock>', { 'message-id': 'b-unlock' }), { attrs: { 'message-id': 'b-unlock' }, type: 'protocol', tag: 'lock-denied', info: { 'session-id': String(a.sessionId) } }, 'B cannot unlock A\'s lock');
  expectOk(t, await a.rpc('<discard-changes/>', { 'message-id': 'a-discard' }), { 'message-id': 'a-discard' }, 'A discards');
  expectOk(t, await a.rpc('<unlock><target><candidate/></target></unlock>', { 'message-id': 'a-unlock' }), { 'message-id': 'a-unlock' }, 'A unlocks');
  expectOk(t, await b.rpc(edit, { 'message-id': 'b-edit2' }), { 'message-id': 'b-edit2' }, 'then B may edit the candidate');
  expectOk(t, await b.rpc('<discard-changes/>', { 'message-id': 'b-discard2' }), { 'message-id': 'b-discard2' }, 'B discards');
  await a.close();
  await b.close();
});

t.test('kill-session ends another session and releases its candidate lock', async (t) => {
  const a = await open();
  const b = await open();
  expectOk(t, await a.rpc('<lock><target><candidate/></target></lock>', { 'message-id': 'lock' }), { 'message-id': 'lock' }, 'A locks the candidate');
  expectOk(t, await a.rpc(editConfig({ config: carsXml([{ id: 'KILLED' }]) }), { 'message-id': 'edit' }), { 'message-id': 'edit' }, 'A edits it');
  const killed = await b.rpc(`<kill-session><session-id>${a.sessionId}</session-id></kill-session>`, { 'message-id': 'kill' });
  expectOk(t, killed, { 'message-id': 'kill' }, `B kills session ${a.sessionId}`);
  await a.waitClosed(5000);
  t.ok(a.closed, "A's session is closed by the server");
  t.notOk(inventory(await b.rpc(getConfig('candidate'))).cars.has('KILLED'), "A's uncommitted candidate changes are discarded with its lock (RFC 6241 7.5)");
  expectOk(t, await b.rpc('<lock><target><candidate/></target></lock>', { 'message-id': 'b-lock' }), { 'message-id': 'b-lock' }, 'B can lock the candidate now');
  expectOk(t, await b.rpc('<unlock><target><candidate/></target></unlock>', { 'message-id': 'b-unlock' }), { 'message-id': 'b-unlock' }, 'and unlock it');
  const self = await b.rpc(`<kill-session><session-id>${b.sessionId}</session-id></kill-session>`, { 'message-id': 'self' });
  t.equal(self.errors[0]?.tag, 'invalid-value', 'a session cannot kill itself');
  const none = await b.rpc('<kill-session><session-id>99999</session-id></kill-session>', { 'message-id': 'none' });
  t.equal(none.errors[0]?.tag, 'invalid-value', 'nor a session that does not exist');
  await b.close();
});

t.test('a broken session is closed; the other keeps working', async (t) => {
  const small = await testController(t, [...FLAGS, '--netconf-max-message=65536']);
  const open2 = (hello: string[]) => connect(small.netconf.port, { t, hello });
  const good = await open2([BASE_10]);
  const chunked = await open2([BASE_10, BASE_11]);
  const big = await open2([BASE_10]);
  t.equal(chunked.framing, 'chunked', 'base:1.1 on both sides: chunked framing');
  t.ok((await chunked.rpc(getConfig('running'))).data, 'the chunked session works');

  // The good session is in the middle of a message while the others break.
  const msg = `<rpc xmlns="${NC_BASE}" message-id="split">${getConfig('running')}</rpc>]]>]]>`;
  good.sendRaw(msg.slice(0, 40));

  chunked.sendRaw('\n#abc\n<rpc/>\n##\n');
  const bad = await chunked.readReply();
  t.equal(bad.errors[0]?.tag, 'malformed-message', `garbage chunk header: malformed-message (${bad.errors[0]?.message})`);
  await chunked.waitClosed(5000);
  t.ok(chunked.closed, 'and that session is closed');

  big.sendRaw(`<rpc xmlns="${NC_BASE}" message-id="big"><get-config><source><running/></source></get-config><!-- ${'x'.repeat(70_000)} -->`);
  const tooBig = await big.readReply();
  t.equal(tooBig.errors[0]?.tag, 'too-big', `a message past --netconf-max-message: too-big (${tooBig.errors[0]?.message})`);
  await big.waitClosed(5000);
  t.ok(big.closed, 'and that session is closed');

  good.sendRaw(msg.slice(40));
  const r = await good.readReply();
  t.equal(r.root.written['message-id'], 'split', 'the good session gets the reply to the message it sent across the others\' failures');
  t.ok(r.data, 'with data');
  const near = await good.rpc(`${getConfig('running')}<!-- ${'y'.repeat(60_000)} -->`);
  t.ok(near.data, 'a 60 KB message (under the limit) is still read and answered');
  expectOk(t, await good.rpc('<commit/>', { 'message-id': 'still' }), { 'message-id': 'still' }, 'the good session still works');
  await good.close();
});
