/**
 * Hostile OVSDB peers on the manager port (issue 20), next to a well-behaved switch (a real
 * ovsdb-server) on the same controller (`npm start`'s process, so its memory and event loop are
 * its own): malformed monitor updates (wrong types, non-objects, rows never inserted, rows
 * inserted twice, keys that are no uuid), answers to ids never asked, a flood of a million tiny
 * messages (echo requests never read, update notifications), and a switch reporting 100,000
 * ports (in the monitor's initial reply, and as updates). Each hostile connection is closed, or
 * its data bounded, and its nodes leave the operational topology; after each episode the real
 * switch still has its bridge and external-ids in the topology read through RESTCONF, on the
 * same TCP connection, and a change made on it with ovs-vsctl still appears. A RESTCONF GET is
 * timed while the floods run.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { JsonStreamScanner } from '../../src/southbound/ovsdb/jsonrpc.ts';
import { computesForTest, vsctl } from '../helpers/ovs.ts';
import { readyOf, startMain } from '../helpers/process.ts';
import { waitUntil } from '../csit/lib/wait.ts';

const MAX_ROWS = 10_000;
const MAX_MESSAGE = 4 * 1024 * 1024;
const main = startMain(t, ['--datastore=memory', '--restconf-port=0', '--log-level=info', `--ovsdb-max-rows=${MAX_ROWS}`, `--ovsdb-max-message=${MAX_MESSAGE}`]);
const ready = await readyOf(main);
const RESTCONF = ready.restconf;
const OVSDB_PORT = Number(ready.ovsdb.split(':').pop());
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const pid = main.child.pid!;
const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

type TopologyNode = { 'node-id': string; 'ovsdb:bridge-name'?: string; 'ovsdb:bridge-external-ids'?: { 'bridge-external-id-key': string; 'bridge-external-id-value': string }[]; 'ovsdb:bridge-other-configs'?: { 'bridge-other-config-key': string; 'bridge-other-config-value': string }[]; 'ovsdb:connection-info'?: { 'remote-port'?: number } };

/** The operational ovsdb:1 topology, read through RESTCONF, timed. */
async function topology(): Promise<{ nodes: TopologyNode[]; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${RESTCONF}/rests/data/network-topology:network-topology/topology=ovsdb%3A1?content=nonconfig`, { headers: { authorization: AUTH, accept: 'application/yang-data+json' } });
  const body = (await res.json()) as { 'network-topology:topology'?: { node?: TopologyNode[] }[] };
  if (res.status !== 200) throw new Error(`GET topology: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  return { nodes: body['network-topology:topology']?.[0]?.node ?? [], ms: performance.now() - started };
}
const externalIds = (n: TopologyNode | undefined) => Object.fromEntries((n?.['ovsdb:bridge-external-ids'] ?? []).map((e) => [e['bridge-external-id-key'], e['bridge-external-id-value']]));

// ----- the well-behaved switch -----

const sims = await computesForTest(t, { count: 1, controller: `127.0.0.1:${OVSDB_PORT}`, vms: 1 });
const good = sims.computes[0];
const goodBridge = async () => (await topology()).nodes.find((n) => n['ovsdb:bridge-name'] === 'br-int' && n['node-id'].endsWith('/bridge/br-int'));
const goodSwitch = async () => {
  const bridge = await goodBridge();
  return (await topology()).nodes.find((n) => bridge && bridge['node-id'].startsWith(`${n['node-id']}/bridge/`));
};
await vsctl(good, 'br-set-external-id', 'br-int', 'episode', '0');
await waitUntil(30_000, 100, async () => (externalIds(await goodBridge()).episode === '0' ? true : Promise.reject(new Error('the real switch is not reported yet'))));
const goodPort = (await goodSwitch())?.['ovsdb:connection-info']?.['remote-port'];
let episode = 0;

/** After a hostile episode: the real switch kept its state and its connection, and is still followed. */
async function wellBehavedSwitchKeepsItsState(t: Test, what: string): Promise<void> {
  const bridge = await goodBridge();
  t.equal(externalIds(bridge).episode, String(episode), `${what}: the real switch's bridge and external-ids are still in the topology`);
  const dpDesc = bridge?.['ovsdb:bridge-other-configs']?.find((o) => o['bridge-other-config-key'] === 'dp-desc')?.['bridge-other-config-value'];
  t.equal(dpDesc, good.name, `${what}: with its other-config dp-desc`);
  t.equal((await goodSwitch())?.['ovsdb:connection-info']?.['remote-port'], goodPort, `${what}: on the same connection (never dropped)`);
  episode++;
  await vsctl(good, 'br-set-external-id', 'br-int', 'episode', String(episode));
  await waitUntil(15_000, 100, async () => (externalIds(await goodBridge()).episode === String(episode) ? true : Promise.reject(new Error(`episode ${episode} not seen`))));
  t.pass(`${what}: a change made with ovs-vsctl afterwards reaches the topology`);
}

// ----- a scripted switch -----

const uuid = () => randomUUID();

/**
 * A scripted OVSDB server that connects to the manager port as a switch with set-manager does:
 * answers list_dbs, monitor (with its initial rows), echo and transact, then sends what the test
 * tells it to.
 */
class ScriptedSwitch {
  readonly ovs = uuid();
  readonly bridge = uuid();
  readonly port = uuid();
  readonly iface = uuid();
  readonly socket: Socket;
  readonly closed: Promise<void>;
  readonly monitored: Promise<void>;
  /** Answers to our own echo requests (id -> seen). */
  answers = 0;
  private readonly scanner = new JsonStreamScanner(256 * 1024 * 1024);

  constructor(
    t: Test,
    readonly name: string,
    initial?: (s: ScriptedSwitch) => unknown,
    /** A connection the controller made to us (active mode); else we connect to its manager port. */
    accepted?: Socket,
    /** The node-id it is published under: the config node's when the controller dialled it. */
    private readonly configNodeId?: string,
  ) {
    this.socket = accepted ?? connect({ host: '127.0.0.1', port: OVSDB_PORT });
    this.socket.on('error', () => undefined);
    t.teardown(() => this.socket.destroy());
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    let monitored!: () => void;
    this.monitored = new Promise((resolve) => (monitored = resolve));
    this.socket.on('data', (d) => {
      for (const m of this.scanner.push(d) as { method?: string; params?: unknown[]; id?: unknown; result?: unknown }[]) {
        if (m.method === 'list_dbs') this.send({ result: ['Open_vSwitch'], error: null, id: m.id });
        else if (m.method === 'monitor') {
          this.send({ result: initial ? initial(this) : this.rows(), error: null, id: m.id });
          monitored();
        } else if (m.method === 'echo') this.send({ result: m.params, error: null, id: m.id });
        else if (m.method === 'transact') this.send({ result: (m.params ?? []).slice(1).map(() => ({})), error: null, id: m.id });
        else if ('result' in m) this.answers++;
      }
    });
  }

  get nodeId(): string {
    return this.configNodeId ?? `ovsdb://uuid/${this.ovs}`;
  }

  /** Its rows: one bridge (external-id hostile=<name>) with its internal port. */
  rows(): Record<string, unknown> {
    return {
      Open_vSwitch: { [this.ovs]: { new: { bridges: ['uuid', this.bridge], other_config: ['map', []], external_ids: ['map', []], ovs_version: '3.1.0', manager_options: ['set', []] } } },
      Bridge: { [this.bridge]: { new: this.bridgeRow({ hostile: this.name }) } },
      Port: { [this.port]: { new: { name: 'br-hostile', interfaces: ['uuid', this.iface], external_ids: ['map', []] } } },
      Interface: { [this.iface]: { new: { name: 'br-hostile', type: 'internal', options: ['map', []], external_ids: ['map', []], ofport: 65534, ofport_request: ['set', []] } } },
    };
  }

  bridgeRow(ext: Record<string, string>, ports: unknown = ['uuid', this.port]): Record<string, unknown> {
    return { name: 'br-hostile', datapath_id: '00000000000000f1', other_config: ['map', []], external_ids: ['map', Object.entries(ext)], ports, controller: ['set', []], fail_mode: ['set', []], protocols: ['set', []], datapath_type: '', stp_enable: false };
  }

  send(m: unknown): boolean {
    return this.socket.write(JSON.stringify(m));
  }

  /** An update notification with these table-updates. */
  update(tableUpdates: unknown): boolean {
    return this.send({ method: 'update', params: [null, tableUpdates], id: null });
  }

  /** Whether the controller closed the connection within the time. */
  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }
}

const reported = async (s: ScriptedSwitch) => (await topology()).nodes.some((n) => n['node-id'] === `${s.nodeId}/bridge/br-hostile`);
const hostileExternalIds = async (s: ScriptedSwitch) => externalIds((await topology()).nodes.find((n) => n['node-id'] === `${s.nodeId}/bridge/br-hostile`));

/** A scripted switch, connected, monitored and reported in the topology. */
async function reportedSwitch(t: Test, name: string): Promise<ScriptedSwitch> {
  const s = new ScriptedSwitch(t, name);
  await s.monitored;
  await waitUntil(15_000, 50, async () => ((await reported(s)) ? true : Promise.reject(new Error(`${name} not reported`))));
  return s;
}

t.test('malformed monitor updates close only that connection, and its nodes leave the topology', async (t) => {
  const cases: [string, (s: ScriptedSwitch) => unknown][] = [
    ['a column of the wrong type (bridge name 42)', (s) => ({ Bridge: { [s.bridge]: { old: { name: 'br-hostile' }, new: { ...s.bridgeRow({}), name: 42 } } } })],
    ['a map that is no map', (s) => ({ Bridge: { [s.bridge]: { old: { external_ids: ['map', []] }, new: { ...s.bridgeRow({}), external_ids: ['map', 'x'] } } } })],
    ['a set of uuids holding a string', (s) => ({ Bridge: { [s.bridge]: { old: { ports: ['uuid', s.port] }, new: s.bridgeRow({}, ['set', ['not-a-uuid']]) } } })],
    ['a port with no interface (min 1)', (s) => ({ Port: { [s.port]: { old: { interfaces: ['uuid', s.iface] }, new: { name: 'br-hostile', interfaces: ['set', []], external_ids: ['map', []] } } } })],
    ['table-updates that are a string', () => 'everything'],
    ['table-updates that are an array', () => [1, 2, 3]],
    ['a table-update that is null', () => ({ Bridge: null })],
    ['a row-update that is a number', (s) => ({ Bridge: { [s.bridge]: 7 } })],
    ['"new" that is an array', (s) => ({ Bridge: { [s.bridge]: { old: {}, new: [1, 2] } } })],
    ['a row-update with neither old nor new', (s) => ({ Bridge: { [s.bridge]: {} } })],
    ['a row key that is no uuid', () => ({ Bridge: { 'not-a-uuid': { new: {} } } })],
    ['a modify of a row never inserted', (s) => ({ Bridge: { [uuid()]: { old: { name: 'x' }, new: s.bridgeRow({}) } } })],
    ['a delete of a row never inserted', () => ({ Port: { [uuid()]: { old: { name: 'x' } } } })],
    ['an insert of a row that exists', (s) => ({ Bridge: { [s.bridge]: { new: s.bridgeRow({}) } } })],
  ];
  for (const [what, body] of cases) {
    const s = await reportedSwitch(t, 'malformed');
    s.update(body(s));
    t.ok(await s.closedWithin(10_000), `${what}: the controller closes that connection`);
    await waitUntil(15_000, 50, async () => (!(await reported(s)) ? true : Promise.reject(new Error('still reported'))));
    t.pass(`${what}: its bridge left the topology`);
  }
  const bad = await reportedSwitch(t, 'bad-params');
  bad.send({ method: 'update', params: 'not an array', id: null });
  t.ok(await bad.closedWithin(10_000), 'update params that are not [json-value, table-updates]: closed');
  await wellBehavedSwitchKeepsItsState(t, 'malformed updates');
});

t.test('tables and columns never asked for are ignored (not stored); the connection stays and is followed', async (t) => {
  const s = await reportedSwitch(t, 'extra');
  s.update({ Evil_Table: { [uuid()]: { new: { anything: ['map', [['a', 'b']]] } } }, Bridge: { [s.bridge]: { old: { external_ids: ['map', []] }, new: { ...s.bridgeRow({ hostile: 'extra', step: '1' }), evil_column: 'x'.repeat(1000) } } } });
  await waitUntil(15_000, 50, async () => ((await hostileExternalIds(s)).step === '1' ? true : Promise.reject(new Error('step 1 not seen'))));
  t.pass('the known part of the update is applied');
  const node = (await topology()).nodes.find((n) => n['node-id'] === `${s.nodeId}/bridge/br-hostile`);
  t.notMatch(JSON.stringify(node), /evil|Evil/, 'nothing of the unknown table or column is published');
  t.notOk(await s.closedWithin(300), 'the connection stays open');
  s.socket.destroy();
  await wellBehavedSwitchKeepsItsState(t, 'unknown tables and columns');
});

t.test('answers to ids never asked close only that connection', async (t) => {
  const s = await reportedSwitch(t, 'answers');
  for (let i = 0; i < 1000; i++) s.send({ result: [], error: null, id: 1_000_000 + i });
  t.ok(await s.closedWithin(10_000), 'an echo answer to an id never asked: closed');
  const e = await reportedSwitch(t, 'errors');
  e.send({ result: null, error: 'boom', id: 'a string id' });
  t.ok(await e.closedWithin(10_000), 'an error answer to a string id: closed');
  await waitUntil(15_000, 50, async () => (!(await reported(s)) && !(await reported(e)) ? true : Promise.reject(new Error('still reported'))));
  t.pass('their bridges left the topology');
  await wellBehavedSwitchKeepsItsState(t, 'answers to nothing');
});

/** Times RESTCONF GETs of the topology back to back while `during` runs. */
async function timedGetsDuring<T>(during: Promise<T>): Promise<{ result: T; gets: number; maxMs: number }> {
  let done = false;
  let gets = 0;
  let maxMs = 0;
  const poll = (async () => {
    while (!done) {
      const { ms } = await topology();
      gets++;
      maxMs = Math.max(maxMs, ms);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await during;
    done = true;
    await poll; // the GET in flight counts too
    return { result, gets, maxMs };
  } finally {
    done = true;
    await poll;
  }
}

t.test('a million echo requests never read: the controller stops reading (memory bounded), then answers every one in order', async (t) => {
  const N = 1_000_000;
  const s = await reportedSwitch(t, 'echo-flood');
  const rssBefore = rssMiB();
  s.socket.pause(); // the flood's answers are not read
  const writes: string[] = [];
  for (let at = 0; at < N; at += 1000) {
    const chunk: string[] = [];
    for (let i = at; i < at + 1000; i++) chunk.push(`{"method":"echo","params":[],"id":${i}}`);
    writes.push(chunk.join(''));
  }
  const total = writes.reduce((n, w) => n + w.length, 0);
  let rssHeld = rssBefore;
  const flood = timedGetsDuring(
    (async () => {
      for (const w of writes) s.socket.write(w);
      // While nothing is read, the controller holds at most a socket's worth of answers and
      // stops reading. (Without that, its answers piled up here: about 10 MiB a second, 40 MiB
      // within these 5 s on this machine.)
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        rssHeld = Math.max(rssHeld, rssMiB());
      }
    })(),
  );
  const { gets, maxMs } = await flood;
  t.ok(gets > 0, `RESTCONF GETs were served during the flood (${gets}, the slowest ${maxMs.toFixed(0)} ms)`);
  t.ok(rssHeld - rssBefore < 24, `the controller's memory stays bounded while ${(total / 1024 / 1024).toFixed(0)} MiB of requests wait (RSS ${rssBefore.toFixed(0)} MiB, at most ${rssHeld.toFixed(0)} MiB)`);
  // Read again: every echo is answered, in order. (Answers found by their text, which is faster
  // than parsing a million of them; the controller's own probes carry no "error".)
  let answered = 0;
  let inOrder = true;
  let carry = '';
  s.socket.removeAllListeners('data');
  s.socket.setEncoding('utf8');
  const all = new Promise<void>((resolve) =>
    s.socket.on('data', (d: string) => {
      const text = carry + d;
      const end = text.lastIndexOf('}') + 1;
      carry = text.slice(end);
      for (const m of text.slice(0, end).matchAll(/"error":null,"id":(\d+)\}/g)) {
        if (Number(m[1]) !== answered) inOrder = false;
        if (++answered === N) resolve();
      }
    }),
  );
  s.socket.resume();
  await Promise.race([all, new Promise((r) => setTimeout(r, 30_000))]);
  t.equal(answered, N, 'every echo request is answered once the peer reads');
  t.ok(inOrder, 'in the order asked');
  t.notOk(await s.closedWithin(100), 'and the connection stays');
  s.socket.destroy();
  console.log(JSON.stringify({ edge: 'ovsdb', case: `${N} echo requests not read`, rssBeforeMiB: Math.round(rssBefore), rssHeldMiB: Math.round(rssHeld), restconfGets: gets, restconfMaxMs: Math.round(maxMs) }));
  await wellBehavedSwitchKeepsItsState(t, 'echo flood');
});

t.test('a flood of tiny update notifications: applied, published coalesced, the last one wins', async (t) => {
  // A quarter of the echo flood's million: each is applied to the replica (the echo test shows the
  // million; this one the publishing behind updates, within the file's time budget).
  const N = 250_000;
  const s = await reportedSwitch(t, 'update-flood');
  const rssBefore = rssMiB();
  const parts: string[] = [];
  // Each modifies the bridge's external-ids (old: the columns that changed, new: the row).
  for (let i = 1; i <= N; i++) parts.push(`{"method":"update","params":[null,{"Bridge":{"${s.bridge}":{"old":{"external_ids":["map",[]]},"new":{"external_ids":["map",[["n","${i}"]]]}}}}],"id":null}`);
  const { gets, maxMs } = await timedGetsDuring(
    (async () => {
      s.socket.write(parts.join(''));
      await waitUntil(60_000, 100, async () => ((await hostileExternalIds(s)).n === String(N) ? true : Promise.reject(new Error('the last update is not published yet'))));
    })(),
  );
  t.pass(`the last of ${N} updates is what the topology shows`);
  t.ok(gets > 0, `RESTCONF GETs were served during the flood (${gets}, the slowest ${maxMs.toFixed(0)} ms)`);
  t.notOk(await s.closedWithin(100), 'the connection stays (well-formed, only many)');
  const rssAfter = rssMiB();
  s.socket.destroy();
  console.log(JSON.stringify({ edge: 'ovsdb', case: `${N} update notifications`, rssBeforeMiB: Math.round(rssBefore), rssAfterMiB: Math.round(rssAfter), restconfGets: gets, restconfMaxMs: Math.round(maxMs) }));
  await wellBehavedSwitchKeepsItsState(t, 'update flood');
});

/** Rows of `n` ports (Port and Interface) on the scripted bridge. */
function ports(n: number): { Port: Record<string, unknown>; Interface: Record<string, unknown>; refs: unknown[] } {
  const Port: Record<string, unknown> = {};
  const Interface: Record<string, unknown> = {};
  const refs: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const p = uuid();
    const f = uuid();
    Port[p] = { new: { name: `p${i}`, interfaces: ['uuid', f], external_ids: ['map', []] } };
    Interface[f] = { new: { name: `p${i}`, type: '', options: ['map', []], external_ids: ['map', []], ofport: i + 1, ofport_request: ['set', []] } };
    refs.push(['uuid', p]);
  }
  return { Port, Interface, refs };
}

t.test('a switch reporting 100,000 ports is closed: in its initial reply (the message bound) and as updates (the row bound)', async (t) => {
  const many = ports(100_000);
  const rssBefore = rssMiB();
  const big = new ScriptedSwitch(t, 'big-initial', (s) => {
    const rows = s.rows() as Record<string, Record<string, unknown>>;
    return { ...rows, Bridge: { [s.bridge]: { new: s.bridgeRow({ hostile: 'big' }, ['set', [['uuid', s.port], ...many.refs]]) } }, Port: { ...rows.Port, ...many.Port }, Interface: { ...rows.Interface, ...many.Interface } };
  });
  const { result: closed, gets, maxMs } = await timedGetsDuring(big.closedWithin(30_000));
  t.ok(closed, `an initial reply with 100,000 ports (over --ovsdb-max-message=${MAX_MESSAGE}) closes the connection`);
  t.notOk(await reported(big), 'nothing of it is published');

  // The same ports in updates of 1,000 each, all under the message bound: the row bound stops it.
  const grow = await reportedSwitch(t, 'big-updates');
  const keys = Object.keys(many.Port);
  let sent = 0;
  const growing = (async () => {
    for (let at = 0; at < keys.length && !grow.socket.destroyed; at += 1000) {
      const batch = keys.slice(at, at + 1000);
      const portRows = Object.fromEntries(batch.map((k) => [k, many.Port[k]]));
      const ifaceRows = Object.fromEntries(batch.map((k) => (many.Port[k] as { new: { interfaces: [string, string] } }).new.interfaces[1]).map((f) => [f, many.Interface[f]]));
      if (!grow.update({ Port: portRows, Interface: ifaceRows })) await Promise.race([new Promise((r) => grow.socket.once('drain', r)), grow.closed]);
      sent += batch.length;
    }
    return grow.closedWithin(30_000);
  })();
  const grown = await timedGetsDuring(growing);
  t.ok(grown.result, `ports sent as updates close the connection once the switch holds more than --ovsdb-max-rows=${MAX_ROWS} rows (after ${sent} ports sent)`);
  t.ok(sent < 100_000 || grow.socket.destroyed, 'before all 100,000 were taken');
  await waitUntil(15_000, 50, async () => (!(await reported(grow)) ? true : Promise.reject(new Error('still reported'))));
  t.pass('what it had published leaves the topology');
  const rssAfter = rssMiB();
  console.log(JSON.stringify({ edge: 'ovsdb', case: '100,000 ports', initialRestconfGets: gets, initialRestconfMaxMs: Math.round(maxMs), updatesRestconfGets: grown.gets, updatesRestconfMaxMs: Math.round(grown.maxMs), rssBeforeMiB: Math.round(rssBefore), rssAfterMiB: Math.round(rssAfter) }));
  await wellBehavedSwitchKeepsItsState(t, '100,000 ports');
});

t.test('a switch the controller dials (connection-info) that sends a malformed update: closed, dialled again with backoff', async (t) => {
  const dialled: ScriptedSwitch[] = [];
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const nodeId = `ovsdb://127.0.0.1:${port}`;
  server.on('connection', (socket) => {
    const s = new ScriptedSwitch(t, 'dialled', undefined, socket, nodeId);
    dialled.push(s);
  });
  const nodeUrl = `${RESTCONF}/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeId)}`;
  const put = await fetch(nodeUrl, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'network-topology:node': [{ 'node-id': nodeId, 'ovsdb:connection-info': { 'remote-ip': '127.0.0.1', 'remote-port': port } }] }),
  });
  t.equal(put.status, 201, 'a config node names the scripted switch');
  await waitUntil(15_000, 50, async () => (dialled[0] && (await reported(dialled[0])) ? true : Promise.reject(new Error('not dialled'))));
  t.pass('the controller dials it and publishes its bridge under the config node-id');
  dialled[0].update({ Bridge: { [dialled[0].bridge]: { old: { name: 'br-hostile' }, new: { ...dialled[0].bridgeRow({}), name: ['set', [1, 2]] } } } });
  t.ok(await dialled[0].closedWithin(10_000), 'the malformed update closes that connection');
  await waitUntil(20_000, 50, () => (dialled.length >= 2 ? true : Promise.reject(new Error('not dialled again'))));
  t.pass('and the controller dials again (a clean monitor, a fresh replica)');
  await waitUntil(15_000, 50, async () => ((await reported(dialled[1])) ? true : Promise.reject(new Error('not reported again'))));
  t.pass('the switch is reported again from the new connection');
  const del = await fetch(nodeUrl, { method: 'DELETE', headers: { authorization: AUTH } });
  t.equal(del.status, 204, 'the config node is deleted');
  t.ok(await dialled[dialled.length - 1].closedWithin(10_000), 'and the controller lets go of the switch');
  await wellBehavedSwitchKeepsItsState(t, 'a dialled hostile switch');
});
