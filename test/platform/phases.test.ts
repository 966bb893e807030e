/**
 * Commit phases seen by clients: a plugin's veto is the error a RESTCONF or NETCONF client gets,
 * in that protocol's terms, and nothing is written; a plugin callback that throws fails that
 * commit with operation-failed naming the plugin, and the controller keeps serving.
 */
import t from 'tap';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testController } from '../helpers/controller.ts';
import { connect } from '../helpers/netconf.ts';
import { NetVirt, bridgeNodeId, computeName } from '../csit/lib/netvirt.ts';
import { Session } from '../csit/lib/requests.ts';
import { waitUntil } from '../csit/lib/wait.ts';

const ITM_NS = 'urn:opendaylight:genius:itm';
const ZONE = '/rests/data/itm:transport-zones/transport-zone=tz-dup';
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

async function http(base: string, method: string, path: string, json?: unknown) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: AUTH, accept: 'application/yang-data+json', ...(json ? { 'content-type': 'application/yang-data+json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as { errors?: { error: Record<string, string>[] } } & Record<string, unknown>) : undefined };
}

const zone = (ips: string[]) => ({
  'itm:transport-zone': [{ 'zone-name': 'tz-dup', 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps: ips.map((ip, i) => ({ 'dpn-id': String(i + 1), 'ip-address': ip })) }],
});

t.test("tunnels refuses a zone with one TEP address twice: the client gets the plugin's error, nothing is written", async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const base = c.restconf.url;
  const r = await http(base, 'PUT', ZONE, zone(['192.0.2.1', '192.0.2.1']));
  t.equal(r.status, 400, 'RESTCONF: 400');
  t.match(r.json?.errors?.error[0], {
    'error-tag': 'invalid-value',
    'error-app-tag': 'duplicate-tep',
    'error-message': 'transport zone tz-dup: DPNs 1 and 2 have the same TEP address 192.0.2.1',
  });
  t.equal((await http(base, 'GET', ZONE)).status, 409, 'nothing was written (data-missing)');

  const s = await connect(c.netconf.port, { t });
  const reply = await s.rpc(
    `<edit-config><target><running/></target><config><transport-zones xmlns="${ITM_NS}"><transport-zone><zone-name>tz-dup</zone-name>` +
      `<tunnel-type xmlns:odlif="urn:opendaylight:genius:interfacemanager">odlif:tunnel-type-vxlan</tunnel-type>` +
      `<vteps><dpn-id>1</dpn-id><ip-address>192.0.2.7</ip-address></vteps><vteps><dpn-id>2</dpn-id><ip-address>192.0.2.7</ip-address></vteps>` +
      `</transport-zone></transport-zones></config></edit-config>`,
  );
  t.match(reply.errors, [{ tag: 'invalid-value', appTag: 'duplicate-tep', message: /DPNs 1 and 2 have the same TEP address 192\.0\.2\.7/ }], 'NETCONF: the same error as an rpc-error');
  const read = await s.rpc(`<get-config><source><running/></source><filter type="subtree"><transport-zones xmlns="${ITM_NS}"/></filter></get-config>`);
  // default-transport-zone is there from the start (tunnels keeps it); tz-dup must not be.
  t.notMatch(read.text, /tz-dup/, 'nothing was written');

  t.equal((await http(base, 'PUT', ZONE, zone(['192.0.2.1', '192.0.2.2']))).status, 201, 'distinct addresses are accepted');
  t.equal((await http(base, 'PATCH', ZONE, { 'itm:transport-zone': [{ 'zone-name': 'tz-dup', vteps: [{ 'dpn-id': '3', 'ip-address': '192.0.2.2' }] }] })).status, 400, 'a merge that adds a duplicate is refused too');
  t.equal((await http(base, 'GET', `${ZONE}/vteps=3`)).status, 409, 'and not written');
});

t.test('a plugin callback that throws fails the commit with operation-failed naming the plugin; the controller keeps serving', async (t) => {
  const plugins = writeFiles(tempDir(t), {
    'clumsy/index.ts': `export default {
      name: 'clumsy',
      yang: ['sextant-fixture'],
      phases: [{ store: 'config', path: '/sextant-fixture:registry/host=*', validate(changes) {
        for (const c of changes) if (c.after?.address === 'boom') c.after.missing.field = 1;
      } }],
    };`,
    'package.json': '{"type": "module"}',
  });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory']);
  const base = c.restconf.url;
  const host = '/rests/data/sextant-fixture:registry/host=h1';
  const r = await http(base, 'PUT', host, { 'sextant-fixture:host': [{ name: 'h1', address: 'boom' }] });
  t.equal(r.status, 500);
  t.match(r.json?.errors?.error[0], { 'error-tag': 'operation-failed', 'error-message': /plugin "clumsy" failed in validate on \/sextant-fixture:registry\/host=\*: / });
  t.equal((await http(base, 'GET', host)).status, 409, 'nothing written');
  t.equal((await http(base, 'PUT', host, { 'sextant-fixture:host': [{ name: 'h1', address: 'fine' }] })).status, 201, 'the next commit goes through');
  t.match((await http(base, 'GET', host)).json, { 'sextant-fixture:host': [{ name: 'h1', address: 'fine' }] });
});

t.test("cloudscaler: a compute's tombstone written by any client brings its bridge's external-id in the same commit", async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const nv = new NetVirt(new Session(c.restconf.url));
  await nv.addCompute({ n: 1 });
  const entry = `/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`;
  await waitUntil(5000, 10, async () => {
    if ((await http(c.restconf.url, 'GET', entry)).status !== 200) throw new Error('not registered yet');
  });
  await c.data.settled();
  const before = c.data.revision('config');
  const bridge = `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(bridgeNodeId(1))}`;
  t.equal(c.data.read('config', `${bridge}/ovsdb:bridge-external-ids=tombstoned`), undefined, 'registration alone adds no external-id');
  t.equal((await http(c.restconf.url, 'PATCH', entry, { 'cloudscaler-rpc:compute-node': [{ 'compute-name': computeName(1), tombstoned: true }] })).status, 200);
  t.equal(c.data.revision('config'), before + 1, 'one commit');
  t.match(c.data.read('config', `${bridge}/ovsdb:bridge-external-ids=tombstoned`), { 'bridge-external-id-value': 'true' }, 'holding the bridge external-id');
  t.equal((await http(c.restconf.url, 'PATCH', entry, { 'cloudscaler-rpc:compute-node': [{ 'compute-name': computeName(1), tombstoned: false }] })).status, 200);
  t.match(c.data.read('config', `${bridge}/ovsdb:bridge-external-ids=tombstoned`), { 'bridge-external-id-value': 'false' }, 'and un-tombstoning clears it');
});
