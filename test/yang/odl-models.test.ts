/**
 * OpenDaylight-compatible models in yang/ (network-topology, ovsdb, opendaylight-inventory,
 * flow-node-inventory, odl-interface, itm): bodies written the way OpenDaylight clients write
 * them decode and validate with our codec, and the same documents get the same verdict from
 * yanglint (libyang) over every module in yang/.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { YangError } from '../../src/errors.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, readJson } from '../../src/yang/json.ts';
import { formatPath, parsePath } from '../../src/yang/path.ts';
import type { DataObject, DataValue } from '../../src/yang/schema.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { YANGLINT } from './yanglint.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const yangDir = path.join(root, 'yang');
const schema = await loadSchema(yangDir);
const modules = (await readdir(yangDir)).filter((f) => f.endsWith('.yang')).sort().map((f) => path.join(yangDir, f));

const tmp = await mkdtemp(path.join(os.tmpdir(), 'sextant-odl-models-'));
t.teardown(() => rm(tmp, { recursive: true, force: true }));

type Kind = 'config' | 'data';

/** Decode and validate with our codec; config documents refuse state data. */
function ours(text: string, kind: Kind): DataObject {
  const configOnly = kind === 'config';
  const tree = decodeObject(schema, undefined, readJson(text), '', { configOnly });
  validateTree(schema, tree, { configOnly });
  return tree;
}

/**
 * An operational document is a whole operational datastore, which always holds the YANG
 * library (its content-id and module-set-id are mandatory): add a minimal one.
 */
function operational(text: string): string {
  return JSON.stringify({
    ...JSON.parse(text),
    'ietf-yang-library:yang-library': { 'content-id': '1' },
    'ietf-yang-library:modules-state': { 'module-set-id': '1' },
  });
}

let docNo = 0;
/** Validate with yanglint over every module in yang/. */
async function yanglint(text: string, kind: Kind): Promise<{ ok: boolean; message: string }> {
  const file = path.join(tmp, `doc${++docNo}.json`);
  await writeFile(file, text);
  return new Promise((resolve, reject) => {
    execFile(YANGLINT, ['-p', yangDir, '-t', kind, ...modules, file], (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      const message = (String(stderr) + String(stdout)).trim();
      resolve({ ok: !err && message === '', message });
    });
  });
}

const OVS = 'ovsdb://uuid/6f0ab4a1-3c2e-4d5f-8a9b-0c1d2e3f4a5b';
const BRIDGE = `${OVS}/bridge/br-int`;
/** Instance-identifiers in RFC 7951 form: a module name only where the module changes. */
const OVS_IID = `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='${OVS}']`;
const BRIDGE_IID = `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='${BRIDGE}']`;
/** The same reference as OpenDaylight writes it: every step module-qualified. */
const ODL_OVS_IID =
  `/network-topology:network-topology/network-topology:topology[network-topology:topology-id='ovsdb:1']` +
  `/network-topology:node[network-topology:node-id='${OVS}']`;

/** An ovsdb:1 topology as a netvirt deployment writes it to the config datastore. */
const ovsdbConfig = JSON.stringify({
  'network-topology:network-topology': {
    topology: [{
      'topology-id': 'ovsdb:1',
      'topology-types': {},
      node: [
        {
          'node-id': OVS,
          'ovsdb:connection-info': { 'remote-ip': '192.0.2.11', 'remote-port': 6640 },
          'ovsdb:openvswitch-other-configs': [
            { 'other-config-key': 'local_ip', 'other-config-value': '10.0.0.11' },
            { 'other-config-key': 'provider_mappings', 'other-config-value': 'physnet1:br-ex' },
          ],
          'ovsdb:openvswitch-external-ids': [{ 'external-id-key': 'system-id', 'external-id-value': 'compute-1' }],
          'ovsdb:managed-node-entry': [{ 'bridge-ref': BRIDGE_IID }],
        },
        {
          'node-id': BRIDGE,
          'ovsdb:bridge-name': 'br-int',
          'ovsdb:datapath-id': '00:00:00:00:00:00:00:a1',
          'ovsdb:datapath-type': 'ovsdb:datapath-type-system',
          'ovsdb:fail-mode': 'ovsdb:ovsdb-fail-mode-secure',
          'ovsdb:managed-by': OVS_IID,
          'ovsdb:protocol-entry': [{ protocol: 'ovsdb:ovsdb-bridge-protocol-openflow-13' }],
          'ovsdb:controller-entry': [{ target: 'tcp:192.0.2.1:6653' }],
          'ovsdb:bridge-other-configs': [
            { 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': 'compute-1' },
            { 'bridge-other-config-key': 'disable-in-band', 'bridge-other-config-value': 'true' },
          ],
          'ovsdb:bridge-external-ids': [{ 'bridge-external-id-key': 'opendaylight-iid', 'bridge-external-id-value': BRIDGE_IID }],
          'termination-point': [
            {
              'tp-id': 'tun5e1d9f3c2a7',
              'ovsdb:name': 'tun5e1d9f3c2a7',
              'ovsdb:interface-type': 'ovsdb:interface-type-vxlan',
              'ovsdb:options': [
                { option: 'local_ip', value: '10.0.0.11' },
                { option: 'remote_ip', value: '10.0.0.12' },
                { option: 'key', value: 'flow' },
              ],
              'ovsdb:interface-bfd': [{ 'bfd-key': 'enable', 'bfd-value': 'true' }],
            },
            {
              'tp-id': 'tap3f2e1d0c-ba',
              'ovsdb:name': 'tap3f2e1d0c-ba',
              'ovsdb:ofport_request': 7,
              'ovsdb:interface-external-ids': [
                { 'external-id-key': 'iface-id', 'external-id-value': '3f2e1d0c-ba98-4765-8321-0fedcba98765' },
                { 'external-id-key': 'attached-mac', 'external-id-value': 'fa:16:3e:00:00:01' },
              ],
              'ovsdb:port-external-ids': [{ 'external-id-key': 'opendaylight-iid', 'external-id-value': 'x' }],
            },
            {
              'tp-id': 'patch-int',
              'ovsdb:name': 'patch-int',
              'ovsdb:interface-type': 'ovsdb:interface-type-patch',
              'ovsdb:options': [{ option: 'peer', value: 'patch-ext' }],
            },
          ],
        },
      ],
    }],
  },
});

/** What the southbound reports in the operational datastore: state leaves included. */
const ovsdbOperational = JSON.stringify({
  'network-topology:network-topology': {
    topology: [{
      'topology-id': 'ovsdb:1',
      node: [
        {
          'node-id': OVS,
          'ovsdb:connection-info': { 'remote-ip': '192.0.2.11', 'remote-port': 39546, 'local-ip': '192.0.2.1', 'local-port': 6640 },
          'ovsdb:ovs-version': '2.17.9',
          'ovsdb:db-version': '8.3.0',
          'ovsdb:openvswitch-other-configs': [{ 'other-config-key': 'local_ip', 'other-config-value': '10.0.0.11' }],
          'ovsdb:datapath-type-entry': [{ 'datapath-type': 'ovsdb:datapath-type-system' }, { 'datapath-type': 'ovsdb:datapath-type-netdev' }],
          'ovsdb:interface-type-entry': [{ 'interface-type': 'ovsdb:interface-type-vxlan' }, { 'interface-type': 'ovsdb:interface-type-geneve' }],
          'ovsdb:manager-entry': [{ target: 'ptcp:6640', connected: true, number_of_connections: 1 }],
        },
        {
          'node-id': BRIDGE,
          'ovsdb:bridge-name': 'br-int',
          'ovsdb:bridge-uuid': '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
          'ovsdb:datapath-id': '00:00:00:00:00:00:00:a1',
          'ovsdb:controller-entry': [{ target: 'tcp:192.0.2.1:6653', 'is-connected': true, 'controller-uuid': '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d' }],
          'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': 'compute-1' }],
          'termination-point': [{
            'tp-id': 'tun5e1d9f3c2a7',
            'ovsdb:name': 'tun5e1d9f3c2a7',
            'ovsdb:port-uuid': '2b3c4d5e-6f70-4819-9a0b-c1d2e3f4a5b6',
            'ovsdb:interface-uuid': '3c4d5e6f-7081-492a-ab1c-d2e3f4a5b6c7',
            'ovsdb:interface-type': 'ovsdb:interface-type-vxlan',
            'ovsdb:ofport': 2,
            'ovsdb:ifindex': 0,
            'ovsdb:mac-in-use': 'be:ef:00:00:00:02',
            'ovsdb:options': [{ option: 'remote_ip', value: '10.0.0.12' }],
            'ovsdb:interface-bfd-status': [{ 'bfd-status-key': 'state', 'bfd-status-value': 'up' }],
          }],
        },
      ],
      link: [{
        'link-id': 'tun-link-1',
        source: { 'source-node': BRIDGE, 'source-tp': 'tun5e1d9f3c2a7' },
        destination: { 'dest-node': 'ovsdb://uuid/elsewhere/bridge/br-int', 'dest-tp': 'tun-elsewhere' },
      }],
    }],
  },
});

/** Flows as ODL applications PUT them (64-bit values as strings, for yanglint). */
const inventoryConfig = JSON.stringify({
  'opendaylight-inventory:nodes': {
    node: [{
      id: 'openflow:161',
      'flow-node-inventory:table': [
        {
          id: 0,
          flow: [
            {
              id: '1',
              table_id: 0,
              priority: 10,
              match: { 'ethernet-match': { 'ethernet-type': { type: 2048 } } },
              instructions: { instruction: [{ order: 0, 'go-to-table': { table_id: 17 } }] },
            },
            {
              id: 'tunnel-in',
              table_id: 0,
              priority: 5,
              'flow-name': 'from VXLAN',
              cookie: '134217728',
              cookie_mask: '18446744073709551615',
              'idle-timeout': 0,
              'hard-timeout': 0,
              strict: true,
              flags: 'SEND_FLOW_REM',
              match: { 'in-port': 'openflow:161:2', tunnel: { 'tunnel-id': '5001' } },
              instructions: {
                instruction: [
                  { order: 0, 'write-metadata': { metadata: '1099511627776', 'metadata-mask': '1099511627776' } },
                  { order: 1, 'go-to-table': { table_id: 36 } },
                ],
              },
            },
          ],
        },
        {
          id: 17,
          flow: [
            {
              id: 'acl-tcp-22',
              table_id: 17,
              priority: 100,
              match: {
                metadata: { metadata: '1099511627776', 'metadata-mask': '1099511627776' },
                'ethernet-match': {
                  'ethernet-type': { type: 2048 },
                  'ethernet-source': { address: 'fa:16:3e:00:00:01' },
                  'ethernet-destination': { address: 'fa:16:3e:00:00:02', mask: 'ff:ff:ff:ff:ff:ff' },
                },
                'ip-match': { 'ip-protocol': 6 },
                'ipv4-source': '10.1.0.0/16',
                'ipv4-destination': '10.2.0.5/32',
                'tcp-destination-port': 22,
              },
              instructions: {
                instruction: [{
                  order: 0,
                  'apply-actions': {
                    action: [
                      { order: 0, 'set-field': { tunnel: { 'tunnel-id': '5002' } } },
                      { order: 1, 'push-vlan-action': { 'ethernet-type': 33024 } },
                      { order: 2, 'set-field': { 'vlan-match': { 'vlan-id': { 'vlan-id-present': true, 'vlan-id': 100 } } } },
                      { order: 3, 'output-action': { 'output-node-connector': 'openflow:161:2', 'max-length': 0 } },
                      { order: 4, 'output-action': { 'output-node-connector': 'CONTROLLER', 'max-length': 65535 } },
                    ],
                  },
                }],
              },
            },
            {
              id: 'arp-drop',
              table_id: 17,
              priority: 1,
              match: { 'ethernet-match': { 'ethernet-type': { type: 2054 } }, 'arp-op': 1, 'arp-target-transport-address': '10.2.0.1/32' },
              instructions: { instruction: [{ order: 0, 'apply-actions': { action: [{ order: 0, 'drop-action': {} }] } }] },
            },
            {
              id: 'clear',
              table_id: 17,
              priority: 0,
              instructions: { instruction: [{ order: 0, 'clear-actions': {} }, { order: 1, 'go-to-table': { table_id: 18 } }] },
            },
          ],
        },
      ],
    }],
  },
});

/** A genius transport zone with two VTEPs (dpn-id as an RFC 7951 string). */
const itmConfig = JSON.stringify({
  'itm:transport-zones': {
    'transport-zone': [{
      'zone-name': 'TZA',
      'tunnel-type': 'odl-interface:tunnel-type-vxlan',
      vteps: [
        { 'dpn-id': '161', 'ip-address': '10.0.0.11' },
        { 'dpn-id': '18446744073709551615', 'ip-address': '2001:db8::12', 'option-of-tunnel': true, 'option-tunnel-tos': 'inherit' },
      ],
    }],
  },
});

const good: Array<{ name: string; kind: Kind; text: string }> = [
  { name: 'ovsdb:1 topology (config)', kind: 'config', text: ovsdbConfig },
  { name: 'ovsdb:1 topology (operational)', kind: 'data', text: operational(ovsdbOperational) },
  { name: 'inventory node openflow:161 with flows (config)', kind: 'config', text: inventoryConfig },
  { name: 'inventory node openflow:161 with flows (operational)', kind: 'data', text: operational(inventoryConfig) },
  { name: 'transport zone with vteps (config)', kind: 'config', text: itmConfig },
];

for (const doc of good) {
  t.test(`accepted: ${doc.name}`, async (t) => {
    t.doesNotThrow(() => ours(doc.text, doc.kind), 'our codec decodes and validates it');
    const lint = await yanglint(doc.text, doc.kind);
    t.ok(lint.ok, `yanglint accepts it${lint.ok ? '' : `: ${lint.message}`}`);
  });
}

/** A deep copy of a document with one change. */
function edit(text: string, change: (doc: any) => void): string {
  const doc = JSON.parse(text);
  change(doc);
  return JSON.stringify(doc);
}
const bridgeOf = (doc: any) => doc['network-topology:network-topology'].topology[0].node[1];

const bad: Array<{ name: string; kind: Kind; text: string; path: RegExp; lint: RegExp }> = [
  {
    name: 'datapath-id with six octets',
    kind: 'config',
    text: edit(ovsdbConfig, (d) => { bridgeOf(d)['ovsdb:datapath-id'] = '00:00:00:00:00:a1'; }),
    path: /ovsdb:datapath-id$/,
    lint: /Unsatisfied pattern.*ovsdb:datapath-id/,
  },
  {
    name: 'datapath-id as a decimal number',
    kind: 'config',
    text: edit(ovsdbConfig, (d) => { bridgeOf(d)['ovsdb:datapath-id'] = '161'; }),
    path: /ovsdb:datapath-id$/,
    lint: /Unsatisfied pattern.*ovsdb:datapath-id/,
  },
  {
    name: 'unknown interface type',
    kind: 'config',
    text: edit(ovsdbConfig, (d) => { bridgeOf(d)['termination-point'][0]['ovsdb:interface-type'] = 'ovsdb:interface-type-vxlan-nope'; }),
    path: /ovsdb:interface-type$/,
    lint: /identity not found/,
  },
  {
    name: 'interface type from the tunnel-type base',
    kind: 'config',
    text: edit(ovsdbConfig, (d) => { bridgeOf(d)['termination-point'][0]['ovsdb:interface-type'] = 'odl-interface:tunnel-type-vxlan'; }),
    path: /ovsdb:interface-type$/,
    lint: /not derived from the base "ovsdb:interface-type-base"/,
  },
  {
    name: 'state leaf (manager-entry) in a config document',
    kind: 'config',
    text: edit(ovsdbConfig, (d) => { d['network-topology:network-topology'].topology[0].node[0]['ovsdb:manager-entry'] = [{ target: 'ptcp:6640' }]; }),
    path: /ovsdb:manager-entry/,
    lint: /state node "manager-entry"/,
  },
  {
    name: 'vtep with a bad IPv4 address',
    kind: 'config',
    text: edit(itmConfig, (d) => { d['itm:transport-zones']['transport-zone'][0].vteps[0]['ip-address'] = '10.0.0.300'; }),
    path: /ip-address$/,
    lint: /"10\.0\.0\.300"/,
  },
  {
    name: 'transport zone without a tunnel type',
    kind: 'config',
    text: edit(itmConfig, (d) => { delete d['itm:transport-zones']['transport-zone'][0]['tunnel-type']; }),
    path: /transport-zone/,
    lint: /Mandatory node "tunnel-type"/,
  },
  {
    name: 'ethernet-type without its mandatory type',
    kind: 'config',
    text: edit(inventoryConfig, (d) => { d['opendaylight-inventory:nodes'].node[0]['flow-node-inventory:table'][0].flow[0].match['ethernet-match']['ethernet-type'] = {}; }),
    path: /ethernet-type/,
    lint: /Mandatory node "type".*ethernet-type/,
  },
];

for (const doc of bad) {
  t.test(`rejected: ${doc.name}`, async (t) => {
    try {
      ours(doc.text, doc.kind);
      t.fail('our codec should refuse it');
    } catch (e) {
      t.ok(e instanceof YangError, `our codec refuses it with a YangError (${(e as Error).message})`);
      if (e instanceof YangError) t.match(e.path ?? '', doc.path, 'error path points at the bad node');
    }
    const lint = await yanglint(doc.text, doc.kind);
    t.notOk(lint.ok, 'yanglint refuses it too');
    t.match(lint.message, doc.lint, 'yanglint names the same problem');
  });
}

t.test('OpenDaylight writes instance-identifiers with every step qualified; our codec takes them', async (t) => {
  // libyang refuses this form ("Duplicate prefix"): RFC 7951 qualifies a step only where the
  // module changes. OpenDaylight's own JSON codec writes and accepts it, so Sextant must too.
  const text = edit(ovsdbConfig, (d) => { bridgeOf(d)['ovsdb:managed-by'] = ODL_OVS_IID; });
  t.doesNotThrow(() => ours(text, 'config'));
});

t.test('OpenDaylight clients send uint64 as JSON numbers; our codec takes them', async (t) => {
  const text = edit(itmConfig, (d) => { d['itm:transport-zones']['transport-zone'][0].vteps[0]['dpn-id'] = 161; });
  const tree = ours(text, 'config');
  const entry = lookup(tree, '/itm:transport-zones/transport-zone=TZA/vteps=161');
  t.ok(entry, 'vtep 161 is stored under its canonical key');
  const flows = edit(inventoryConfig, (d) => {
    const flow = d['opendaylight-inventory:nodes'].node[0]['flow-node-inventory:table'][0].flow[1];
    flow.cookie = 134217728;
    flow.match.tunnel['tunnel-id'] = 5001;
  });
  t.doesNotThrow(() => ours(flows, 'config'), 'cookie and tunnel-id as numbers');
});

/** Walks a decoded tree along an RFC 8040 path; undefined when an entry is missing. */
function lookup(tree: DataObject, apiPath: string): DataValue | undefined {
  let cur: DataValue | undefined = tree;
  for (const step of parsePath(schema, apiPath)) {
    if (cur === undefined || cur instanceof Map || Array.isArray(cur) || typeof cur !== 'object') return undefined;
    cur = (cur as DataObject)[step.member];
    if (step.key !== undefined) cur = cur instanceof Map ? cur.get(step.key) : undefined;
  }
  return cur;
}

t.test('RFC 8040 data paths of the map entries ODL applications use', async (t) => {
  const ovsCfg = ours(ovsdbConfig, 'config');
  const enc = encodeURIComponent;
  const topo = '/network-topology:network-topology/topology=ovsdb%3A1';
  const bridge = `${topo}/node=${enc(BRIDGE)}`;
  const paths: Array<[string, DataObject, string]> = [
    ['bridge external-ids entry', ovsCfg, `${bridge}/ovsdb:bridge-external-ids=opendaylight-iid`],
    ['bridge other-config entry', ovsCfg, `${bridge}/ovsdb:bridge-other-configs=dp-desc`],
    ['TP interface-external-ids entry', ovsCfg, `${bridge}/termination-point=tap3f2e1d0c-ba/ovsdb:interface-external-ids=iface-id`],
    ['TP options entry', ovsCfg, `${bridge}/termination-point=tun5e1d9f3c2a7/ovsdb:options=remote_ip`],
    ['OVS node other-config entry', ovsCfg, `${topo}/node=${enc(OVS)}/ovsdb:openvswitch-other-configs=local_ip`],
    ['inventory flow', ours(inventoryConfig, 'config'), '/opendaylight-inventory:nodes/node=openflow%3A161/flow-node-inventory:table=0/flow=1'],
    ['transport-zone vteps entry', ours(itmConfig, 'config'), '/itm:transport-zones/transport-zone=TZA/vteps=161'],
  ];
  for (const [what, tree, p] of paths) {
    t.equal(formatPath(parsePath(schema, p)), p, `${what}: ${p} resolves and formats back the same`);
    t.ok(lookup(tree, p), `${what}: the document has an entry there`);
  }
});
