/**
 * A third-party NETCONF client against the server: the npm `node-netconf` package (base:1.0 only,
 * its own ssh2 0.8, requests built and replies parsed with xml2js). Opens a session with a
 * password, reads and writes configuration, calls the toaster's rpcs (an error, then an output)
 * and closes; every assertion is on what node-netconf hands its user.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { testController } from '../helpers/controller.ts';

const REPO = resolve(import.meta.dirname, '../..');
const CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const TOASTER_NS = 'http://netconfcentral.org/ns/toaster';
const MONITORING_NS = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring';

/** The part of node-netconf's Client the test uses (the package ships no types). */
interface NodeNetconfClient {
  sessionID: number | null;
  connected: boolean;
  remoteCapabilities: string[];
  raw: boolean;
  sshConn?: { end(): void };
  open(cb: (err: Error | null) => void): void;
  rpc(request: unknown, cb: (err: Error | null, reply: Parsed) => void): void;
  close(cb?: (err: Error | null, reply: Parsed) => void): void;
  on(event: 'close', fn: () => void): void;
}
// xml2js output with node-netconf's options: '-' and ':' in names become '_', numbers parsed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Parsed = any;

const require = createRequire(import.meta.url);
const netconf = require('node-netconf') as { Client: new (params: Record<string, unknown>) => NodeNetconfClient };

const c = await testController(t, ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);

const client = new netconf.Client({ host: '127.0.0.1', port: c.netconf.port, username: 'admin', password: 'admin' });
client.raw = true;
t.teardown(() => client.sshConn?.end());

/** One rpc; resolves with node-netconf's (error, parsed reply). */
function call(request: unknown): Promise<{ err: Error | null; reply: Parsed }> {
  return new Promise((resolve) => client.rpc(request, (err, reply) => resolve({ err, reply })));
}

/** node-netconf reports an rpc-error as an Error whose message is the parsed reply in JSON. */
function rpcErrorOf(err: Error | null): Parsed {
  if (!err) return undefined;
  return JSON.parse(err.message).rpc_reply?.rpc_error;
}

t.test('open: password login and hello exchange', async (t) => {
  await new Promise<void>((resolve, reject) => client.open((err) => (err ? reject(err) : resolve())));
  t.ok(client.connected, 'connected');
  t.ok(Number(client.sessionID) > 0, `session-id ${client.sessionID}`);
  t.ok(client.remoteCapabilities.includes('urn:ietf:params:netconf:base:1.0'), 'the server hello offers base:1.0');
  t.ok(client.remoteCapabilities.includes('urn:ietf:params:netconf:capability:candidate:1.0'), 'and :candidate');
});

t.test('get-config', async (t) => {
  const { err, reply } = await call({ 'get-config': { source: { running: null } } });
  t.equal(err, null, 'no error');
  t.equal(reply.rpc_reply.$.message_id, 101, 'the reply carries the request message-id');
  t.same(reply.rpc_reply.$.xmlns, 'urn:ietf:params:xml:ns:netconf:base:1.0');
  t.ok('data' in reply.rpc_reply, 'a <data> element (empty datastore)');
});

t.test('edit-config on running, then get-config with a subtree filter', async (t) => {
  const edit = await call({
    'edit-config': {
      target: { running: null },
      config: {
        cars: {
          $: { xmlns: CAR_NS },
          'car-entry': [
            { id: 'NN1', model: 'Trabant', manufacturer: 'Sachsenring', year: 1957 },
            { id: 'NN2', model: 'Wartburg', year: 1966 },
          ],
        },
      },
    },
  });
  t.equal(edit.err, null, 'edit-config: no error');
  t.equal(edit.reply.rpc_reply.ok, true, 'edit-config: <ok/>');

  const { err, reply } = await call({
    'get-config': { source: { running: null }, filter: { $: { type: 'subtree' }, cars: { $: { xmlns: CAR_NS }, 'car-entry': { id: 'NN1' } } } },
  });
  t.equal(err, null, 'get-config: no error');
  const entry = reply.rpc_reply.data.cars.car_entry;
  t.same(entry, { id: 'NN1', model: 'Trabant', manufacturer: 'Sachsenring', year: 1957 }, 'the filter selects NN1 with all its leaves');
  t.equal(reply.rpc_reply.data.cars.$.xmlns, CAR_NS, 'in the car namespace');

  const all = await call({ 'get-config': { source: { running: null }, filter: { $: { type: 'subtree' }, cars: { $: { xmlns: CAR_NS } } } } });
  const entries = all.reply.rpc_reply.data.cars.car_entry as { id: string }[];
  t.same(entries.map((e) => e.id).sort(), ['NN1', 'NN2'], 'both cars without the key match');
});

t.test('rpcs: an rpc-error, then an output', async (t) => {
  const empty = await call({ 'make-toast': { $: { xmlns: TOASTER_NS }, toasterDoneness: 1 } });
  t.equal(empty.reply, null, 'no reply object for an rpc-error');
  const e = rpcErrorOf(empty.err);
  t.equal(e?.error_tag, 'resource-denied', 'make-toast without bread: resource-denied');
  t.equal(e?.error_type, 'application', 'error-type application');
  t.equal(e?.error_message?._, 'the toaster is out of bread', 'with the toaster\'s message');

  const restock = await call({ 'restock-toaster': { $: { xmlns: TOASTER_NS }, amountOfBreadToStock: 2 } });
  t.equal(restock.reply?.rpc_reply.ok, true, 'restock-toaster: <ok/>');

  const toast = await call({ 'make-toast': { $: { xmlns: TOASTER_NS }, toasterDoneness: 1 } });
  t.equal(toast.err, null, 'make-toast: no error');
  const id = toast.reply.rpc_reply.toast_id;
  t.equal(id?.$?.xmlns, TOASTER_NS, 'the output leaf in the toaster namespace');
  t.ok(Number.isInteger(id?._) && id._ > 0, `toast-id ${id?._}`);

  const state = await call({ get: { filter: { $: { type: 'subtree' }, toaster: { $: { xmlns: TOASTER_NS } } } } });
  t.equal(state.reply.rpc_reply.data.toaster.amountOfBreadInStock, 1, 'get: one slice of bread left in the operational toaster state');

  const unknown = await call({ 'no-such-rpc': { $: { xmlns: 'urn:example:nothing' } } });
  t.equal(rpcErrorOf(unknown.err)?.error_tag, 'unknown-namespace', 'an rpc in an unknown namespace: unknown-namespace');
});

t.test('the session is listed in netconf-state', async (t) => {
  const { reply } = await call({ get: { filter: { $: { type: 'subtree' }, 'netconf-state': { $: { xmlns: MONITORING_NS }, sessions: null } } } });
  const sessions = [reply.rpc_reply.data.netconf_state.sessions.session].flat();
  const mine = sessions.find((s: { session_id: number }) => s.session_id === client.sessionID);
  t.ok(mine, 'one entry is this session');
  t.equal(mine?.username, 'admin', 'with its user');
  // An identityref: prefix:name, the prefix declared on the element.
  const [prefix, identity] = String(mine?.transport?._).split(':');
  t.equal(identity, 'netconf-ssh', 'over netconf-ssh');
  t.equal(mine?.transport?.$?.[`xmlns_${prefix}`], MONITORING_NS, 'an identity of ietf-netconf-monitoring');
  t.ok(mine?.in_rpcs >= 8, `in-rpcs counted (${mine?.in_rpcs})`);
});

t.test('close', async (t) => {
  const closed = new Promise<void>((resolve) => client.on('close', resolve));
  const { err, reply } = await new Promise<{ err: Error | null; reply: Parsed }>((resolve) => client.close((err, reply) => resolve({ err, reply })));
  t.equal(err, null, 'close-session: no error');
  t.equal(reply.rpc_reply.ok, true, 'close-session: <ok/>');
  await closed;
  t.notOk(client.connected, 'the channel closed');
});
