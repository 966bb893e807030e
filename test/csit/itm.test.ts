/**
 * CSIT-style suite for genius ITM: transport zones, default-transport-zone, the tunnel mesh and
 * the itm-state OpenDaylight's suites read back. After OpenDaylight integration-test
 * (github.com/opendaylight/integration-test, commit 175a804ae2b4630acba90e364d3bc48b750a04e6,
 * the last one with genius): csit/suites/genius/Configure_ITM.robot, OF_Tunnels.robot and
 * ITM_Vtep_Auto_Tunnel.robot, their keywords in csit/libraries/Genius.robot and Utils.robot, and
 * the bodies of csit/variables/genius/ kept verbatim in test/csit/itm/ (see its README.md).
 *
 * The requests are ODL's: legacy `/restconf/config` and `/restconf/operational` URLs, the
 * session's `Content-Type: application/json` and no Accept of its own (requests then accepts any
 * type), the bodies after Genius.Set Json's substitutions, and each GET checked as the keyword
 * checks it (status, then
 * the texts it must contain). Where the suite runs a Karaf command (`tep:show-state`) or reads
 * `ovs-vsctl show`, this suite reads what those print from: `itm-state:tunnels_state` and the
 * tunnel ports of the config topology (the OVSDB southbound's own suites prove those reach OVS).
 *
 * World: three "tools systems" (computes) as the OVSDB southbound reports them (operational
 * ovsdb:1 topology written through the legacy URL, as CSIT does): an Open_vSwitch node and its
 * br-int with a datapath-id, no local_ip at first. One DPN id is above 2^63.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datapathIdOf } from '../../src/southbound/ovsdb/topology.ts';
import { startSuiteController } from './lib/env.ts';
import { ALLOWED_STATUS_CODES, ALLOWED_DELETE_STATUS_CODES, DELETED_STATUS_CODES, expectError, expectStatus } from './lib/requests.ts';
import { waitUntil } from './lib/wait.ts';

const sc = await startSuiteController(t);
if (sc.external) t.comment('against an external controller: the suite assumes it holds no transport zones but default-transport-zone, and no computes named compute-itm-*');
const s = sc.session;

const CONFIG_API = '/restconf/config';
const OPERATIONAL_API = '/restconf/operational';
const TUNNEL_TRANSPORTZONE = `${CONFIG_API}/itm:transport-zones`;
const DEFAULT_TRANSPORT_ZONE = 'default-transport-zone';
const VXLAN = 'odl-interface:tunnel-type-vxlan';
const OPER_TOPO = `${OPERATIONAL_API}/network-topology:network-topology/topology/ovsdb:1`;
/** The CSIT session's headers (variables/Variables.robot HEADERS); requests then sends its own Accept (any type). */
const HEADERS = { contentType: 'application/json' };
const ACCEPT_XML = { accept: 'application/xml' };
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'itm', name), 'utf8');

const TOOLS = [1, 2, 3];
const DPN_ID_LIST = [0x0000e2a35b7c9d01n, 0x0000e2a35b7c9d02n, 0xfa163e5b7c9d0003n];
const TOOLS_SYSTEM_ALL_IPS = ['10.30.170.11', '10.30.170.12', '10.30.170.13'];
/** Configure_ITM's Build Tools System IPV6 List. */
const TOOLS_SYSTEM_IPV6_LIST = TOOLS.map((_, i) => `fd96:2a25:4ad3:3c7d:0:0:${i}:1000`);
const ovsNode = (n: number) => `ovsdb://uuid/0000itm${n}-0000-4000-8000-000000000000`;
const bridgeNode = (n: number) => `${ovsNode(n)}/bridge/br-int`;
const enc = encodeURIComponent;

/** The compute's OVS as the southbound reports it (local_ip: other_config:local_ip, or none). */
async function reportCompute(n: number, localIp?: string) {
  expectStatus(
    await s.putJson(`${OPER_TOPO}/node/${enc(ovsNode(n))}`, {
      node: [{ 'node-id': ovsNode(n), 'ovsdb:ovs-version': '3.1.0', ...(localIp ? { 'ovsdb:openvswitch-other-configs': [{ 'other-config-key': 'local_ip', 'other-config-value': localIp }] } : {}) }],
    }),
    ALLOWED_STATUS_CODES,
  );
}

async function reportBridge(n: number) {
  expectStatus(
    await s.putJson(`${OPER_TOPO}/node/${enc(bridgeNode(n))}`, {
      node: [
        {
          'node-id': bridgeNode(n),
          'ovsdb:bridge-name': 'br-int',
          'ovsdb:datapath-id': datapathIdOf(DPN_ID_LIST[n - 1]),
          'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': `compute-itm-${n}` }],
        },
      ],
    }),
    ALLOWED_STATUS_CODES,
  );
}

// ---- Genius.robot and Utils.robot keywords ---------------------------------------------------

/** Genius.Set Json (Sodium and above): the tools' DPN ids and addresses into the body. */
function setJson(body: string, ips: string[]): string {
  TOOLS.forEach((_, i) => {
    body = body.replaceAll(`"dpn-id": 10${i}`, `"dpn-id": ${DPN_ID_LIST[i]}`);
    body = body.replaceAll(`"ip-address": "${i + 2}.${i + 2}.${i + 2}.${i + 2}"`, `"ip-address": "${ips[i]}"`);
  });
  return body;
}

/** Utils.Get Data From URI: 200 or fail; the text. */
async function getDataFromUri(uri: string, opts: { accept?: string } = {}) {
  const r = await s.get(uri, opts);
  if (r.status !== 200) throw new Error(`The request failed with code ${r.status}: ${r.describe()}`);
  return r.body;
}

/** Utils.Check For Elements At URI: 200, and every element is in the text. */
async function checkForElementsAtUri(uri: string, elements: (string | bigint)[]) {
  const text = await getDataFromUri(uri);
  for (const e of elements) if (!text.includes(String(e))) throw new Error(`${uri} does not contain ${e}: ${text}`);
  return text;
}

/** Utils.No Content From URI: 404 or 409, else fail. */
async function noContentFromUri(uri: string) {
  const r = await s.get(uri);
  if (r.status !== 404 && r.status !== 409) throw new Error(`The request failed with code ${r.status}: ${r.describe()}`);
}

/** Utils.Remove All Elements At URI And Verify. */
async function removeAllElementsAtUriAndVerify(uri: string) {
  expectStatus(await s.delete(uri), ALLOWED_STATUS_CODES);
  expectStatus(await s.get(uri), DELETED_STATUS_CODES);
}

/**
 * Genius.Get Tunnel: the tunnel interface name between two DPNs, from
 * `itm-state:tunnel-list/internal-tunnel` (default) or `itm-state:dpn-teps-state` (OF_Tunnels).
 */
async function getTunnel(src: bigint, dst: bigint, type: string, configApiType = '') {
  const uri = configApiType === '' ? `${CONFIG_API}/itm-state:tunnel-list/internal-tunnel/${src}/${dst}/${type}/` : `${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${src}/remote-dpns/${dst}/`;
  const r = await s.get(uri);
  if (r.status !== 200) throw new Error(`${uri}: ${r.status} (RESP_CODE is 200)`);
  if (!r.body.includes(String(dst))) throw new Error(`${uri} does not contain ${dst}: ${r.body}`);
  if (configApiType === '' && !r.body.includes(String(src))) throw new Error(`${uri} does not contain ${src}: ${r.body}`);
  if (configApiType === '') {
    const json = r.json<{ 'internal-tunnel': { 'tunnel-interface-names': string[] }[] }>();
    return json['internal-tunnel'][0]['tunnel-interface-names'][0];
  }
  const m = /"tunnel-name":"(tun[\w\d]+)"/.exec(r.body);
  if (!m) throw new Error(`${uri}: no "tunnel-name":"tun..." in ${r.body}`);
  return m[1];
}

/** Genius.Update Dpn id List And Get Tunnels: every ordered pair has its tunnel; name by pair. */
async function updateDpnIdListAndGetTunnels(type: string, configApiType = '', dpns = DPN_ID_LIST) {
  const names = new Map<string, string>();
  for (const src of dpns) for (const dst of dpns) if (src !== dst) names.set(`${src}>${dst}`, await waitUntil(10_000, 100, () => getTunnel(src, dst, type, configApiType)));
  return names;
}

/** Genius.Verify Response Code Of Dpn End Point Config API. */
async function verifyDpnEndPointConfig(dpns = DPN_ID_LIST, opts: { accept?: string } = {}) {
  for (const dpn of dpns) await waitUntil(10_000, 100, () => getDataFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${dpn}/`, opts));
}

interface TunnelState {
  'tunnel-interface-name': string;
  'oper-state': string;
  'src-info': { 'tep-device-id': string; 'tep-ip': string };
  'dst-info': { 'tep-device-id': string; 'tep-ip': string };
  'port-number'?: string;
}

/** What `tep:show-state` prints from: the operational tunnel states (none: []). */
async function tunnelStates(): Promise<TunnelState[]> {
  const r = await s.get(`${OPERATIONAL_API}/itm-state:tunnels_state`);
  if (r.status === 404) return [];
  return expectStatus(r, [200]).json<{ tunnels_state: { 'state-tunnel-list'?: TunnelState[] } }>().tunnels_state['state-tunnel-list'] ?? [];
}

/** Genius.Verify Tunnel Status As Up: n*(n-1) tunnels up. */
async function verifyTunnelStatusAsUp(n: number) {
  await waitUntil(10_000, 100, async () => {
    const up = (await tunnelStates()).filter((e) => e['oper-state'] === 'up').length;
    if (up !== n * (n - 1)) throw new Error(`${up} tunnels up, want ${n * (n - 1)}`);
  });
}

/** Tunnel ports of a compute's bridge in the config topology (what the southbound puts in OVS). */
async function tunnelPorts(n: number): Promise<Map<string, Record<string, string>>> {
  const r = await s.get(`${CONFIG_API}/network-topology:network-topology/topology/ovsdb:1/node/${enc(bridgeNode(n))}`);
  const out = new Map<string, Record<string, string>>();
  if (r.status !== 200) return out;
  for (const tp of r.json<{ node: { 'termination-point'?: Record<string, any>[] }[] }>().node[0]['termination-point'] ?? []) {
    if (!String(tp['tp-id']).startsWith('tun')) continue;
    out.set(tp['tp-id'], { ...Object.fromEntries((tp['ovsdb:options'] ?? []).map((o: { option: string; value: string }) => [o.option, o.value])), ofport: String(tp['ovsdb:ofport_request']) });
  }
  return out;
}

/** Open vSwitch reports every configured tunnel port of these computes (so their state is up). */
async function ovsReportsTunnels(computes: number[]) {
  for (const n of computes) {
    for (const [name, p] of await tunnelPorts(n)) {
      expectStatus(await s.putJson(`${OPER_TOPO}/node/${enc(bridgeNode(n))}/termination-point/${name}`, { 'termination-point': [{ 'tp-id': name, 'ovsdb:name': name, 'ovsdb:ofport': Number(p.ofport) }] }), ALLOWED_STATUS_CODES);
    }
  }
}

/** Genius.Ovs Verification For Each Dpn: each compute tunnels to every other address. */
async function ovsInterfaceVerification(computes: number[], ips: string[]) {
  await waitUntil(10_000, 100, async () => {
    for (const n of computes) {
      const remotes = [...(await tunnelPorts(n)).values()].map((o) => o.remote_ip).sort();
      const want = computes.filter((m) => m !== n).map((m) => ips[m - 1]).sort();
      if (JSON.stringify(remotes) !== JSON.stringify(want)) throw new Error(`compute ${n} tunnels to ${remotes}, want ${want}`);
    }
  });
}

/** genius' tunnel interface name (ItmUtils.getTrunkInterfaceName, UUID.nameUUIDFromBytes). */
function geniusTunnelName(srcDpn: bigint, localIp: string, remoteIp: string): string {
  return `tun${createHash('md5').update(`${srcDpn}::0:${localIp}:${remoteIp}:VXLAN`).digest('hex').slice(0, 11)}`;
}

async function allTunnelsGone() {
  await waitUntil(10_000, 100, async () => {
    for (const n of TOOLS) if ((await tunnelPorts(n)).size) throw new Error(`compute ${n} still has tunnel ports`);
    if ((await tunnelStates()).length) throw new Error('tunnel states left');
  });
}

t.before(async () => {
  for (const n of TOOLS) {
    await reportCompute(n);
    await reportBridge(n);
  }
});

t.teardown(async () => {
  await s.delete(`${CONFIG_API}/itm-config:itm-config`);
  for (const n of TOOLS) {
    await s.delete(`${OPER_TOPO}/node/${enc(bridgeNode(n))}`);
    await s.delete(`${OPER_TOPO}/node/${enc(ovsNode(n))}`);
  }
  for (const zone of ['TZA']) await s.delete(`${TUNNEL_TRANSPORTZONE}/transport-zone/${zone}`);
});

t.test('a fresh controller holds default-transport-zone (genius creates it: def-tz-enabled)', async (t) => {
  const text = await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/`, [DEFAULT_TRANSPORT_ZONE, VXLAN]));
  t.match(JSON.parse(text), { 'transport-zones': { 'transport-zone': [{ 'zone-name': DEFAULT_TRANSPORT_ZONE, 'tunnel-type': VXLAN }] } }, 'GET transport-zones: 200 with default-transport-zone, VXLAN');
});

t.test('Create and Verify VTEP -No Vlan', async (t) => {
  // Genius.Create Vteps: PUT the zone, status in ALLOWED_STATUS_CODES.
  const put = await s.put(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, setJson(fixture('Itm_creation_no_vlan_sodium_and_above.json'), TOOLS_SYSTEM_ALL_IPS), HEADERS);
  t.ok(ALLOWED_STATUS_CODES.includes(put.status), `PUT transport-zone/TZA: ${put.status}`);
  // Genius.Get ITM: the zone holds every DPN id, every address and its name.
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, [...DPN_ID_LIST, ...TOOLS_SYSTEM_ALL_IPS, 'TZA']));
  t.pass('Get ITM: TZA holds the DPN ids and addresses');
  const names = await updateDpnIdListAndGetTunnels(VXLAN);
  t.equal(names.size, 6, 'tunnel-list/internal-tunnel/<src>/<dst>/<type>: one tunnel per ordered pair');
  TOOLS.forEach((_, i) =>
    TOOLS.forEach((_, j) => {
      if (i !== j) t.equal(names.get(`${DPN_ID_LIST[i]}>${DPN_ID_LIST[j]}`), geniusTunnelName(DPN_ID_LIST[i], TOOLS_SYSTEM_ALL_IPS[i], TOOLS_SYSTEM_ALL_IPS[j]), `tunnel ${i + 1}->${j + 1} has the name genius gives it`);
    }),
  );
  await verifyDpnEndPointConfig();
  t.pass('Verify Response Code Of Dpn Endpointconfig API: DPN-TEPs-info/<dpn> is 200 for each');
  const info = (await s.get(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${DPN_ID_LIST[2]}/`)).json();
  t.same(
    info,
    { 'DPN-TEPs-info': [{ 'DPN-ID': DPN_ID_LIST[2].toString(), 'tunnel-end-points': [{ 'ip-address': TOOLS_SYSTEM_ALL_IPS[2], 'tunnel-type': VXLAN, 'tz-membership': [{ 'zone-name': 'TZA' }], 'interface-name': `${DPN_ID_LIST[2]}::0`, 'option-of-tunnel': false }] }] },
    'DPN-TEPs-info: the tunnel endpoint with its zone and genius interface name (DPN above 2^63 intact)',
  );
  await ovsInterfaceVerification(TOOLS, TOOLS_SYSTEM_ALL_IPS);
  t.pass('Ovs Interface Verification: each compute has a port to every other address');
  const down = await tunnelStates();
  t.equal(down.length, 6, 'tunnels_state: one entry per tunnel');
  t.ok(down.every((e) => e['oper-state'] === 'down'), 'down while OVS reports none of the ports');
  await ovsReportsTunnels(TOOLS);
  await verifyTunnelStatusAsUp(3);
  t.pass('Verify Tunnel Status As Up: 6 tunnels up once OVS reports the ports');
  const one = (await tunnelStates()).find((e) => e['tunnel-interface-name'] === names.get(`${DPN_ID_LIST[0]}>${DPN_ID_LIST[1]}`));
  const port = (await tunnelPorts(1)).get(one!['tunnel-interface-name'])!;
  t.match(one, { 'src-info': { 'tep-device-id': DPN_ID_LIST[0].toString(), 'tep-ip': TOOLS_SYSTEM_ALL_IPS[0] }, 'dst-info': { 'tep-device-id': DPN_ID_LIST[1].toString(), 'tep-ip': TOOLS_SYSTEM_ALL_IPS[1] }, 'port-number': port.ofport }, 'a state names both ends and the OpenFlow port');
  // OF_Tunnels' Get Tunnel on dpn-teps-state: the same names, found by ODL's regex.
  const viaTeps = await updateDpnIdListAndGetTunnels(VXLAN, 'dpn-teps-state');
  t.same([...viaTeps], [...names], 'dpn-teps-state/dpns-teps/<src>/remote-dpns/<dst>: "tunnel-name":"tun..." as in tunnel-list');
});

t.test('Delete and Verify VTEP -No Vlan', async (t) => {
  for (const dpn of DPN_ID_LIST) await removeAllElementsAtUriAndVerify(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA/vteps/${dpn}`);
  t.pass('each vtep: DELETE in ALLOWED_STATUS_CODES, then GET in DELETED_STATUS_CODES');
  await removeAllElementsAtUriAndVerify(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA/`);
  const resp = await getDataFromUri(`${TUNNEL_TRANSPORTZONE}/`);
  t.pass('GET transport-zones after the last user zone is deleted: 200 (default-transport-zone stays)');
  t.notOk(resp.includes('TZA'), 'and it no longer holds TZA');
  await allTunnelsGone();
  t.pass('Check Tunnel Delete On OVS: no tunnel port and no tunnel state left');
  for (const dpn of DPN_ID_LIST) {
    await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${dpn}/`));
    await noContentFromUri(`${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${dpn}/`);
  }
  await noContentFromUri(`${CONFIG_API}/itm-state:tunnel-list/`);
  await noContentFromUri(`${OPERATIONAL_API}/itm-state:tunnels_state`);
  t.pass('dpn-endpoints, dpn-teps-state, tunnel-list and tunnels_state: nothing left (404/409)');
});

t.test('Create and Verify VTEP IPv6 - No Vlan, then delete', async (t) => {
  // Configure_ITM's Create Vteps IPv6: Post Log Check on transport-zones, status 204.
  const post = await s.post(`${TUNNEL_TRANSPORTZONE}/`, setJson(fixture('Itm_creation_no_vlan_sodium_and_above.json'), TOOLS_SYSTEM_IPV6_LIST), HEADERS);
  t.equal(post.status, 204, 'POST transport-zones: 204');
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, [...TOOLS_SYSTEM_IPV6_LIST, ...DPN_ID_LIST, 'TZA']));
  t.pass('Get ITM IPV6: the addresses as written');
  await updateDpnIdListAndGetTunnels(VXLAN);
  await verifyDpnEndPointConfig(DPN_ID_LIST, ACCEPT_XML);
  const xml = await getDataFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${DPN_ID_LIST[0]}/`, ACCEPT_XML);
  t.match(xml, /<DPN-TEPs-info xmlns="urn:opendaylight:genius:itm:op">/, 'DPN-TEPs-info in XML (headers=ACCEPT_XML), in the itm-state namespace');
  t.match(xml, new RegExp(`<ip-address>${TOOLS_SYSTEM_IPV6_LIST[0]}</ip-address>`), 'with its IPv6 endpoint');
  await ovsInterfaceVerification(TOOLS, TOOLS_SYSTEM_IPV6_LIST);
  t.pass('OVS Verification Between IPV6');
  for (const dpn of DPN_ID_LIST) await removeAllElementsAtUriAndVerify(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA/vteps/${dpn}`);
  await removeAllElementsAtUriAndVerify(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA/`);
  t.notOk((await getDataFromUri(`${TUNNEL_TRANSPORTZONE}/`)).includes('TZA'), 'deleted; transport-zones still 200');
  await allTunnelsGone();
});

t.test('bad input: refused with 400 and nothing written', async (t) => {
  // The body of streams up to Neon (subnets): no such node in the model since Sodium.
  const old = await s.put(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, setJson(fixture('Itm_creation_no_vlan_below_sodium.json'), TOOLS_SYSTEM_ALL_IPS), HEADERS);
  const e1 = expectError(old, 400, 'unknown-element');
  t.match(e1['error-message'], /subnets/, `the pre-Sodium body with subnets: 400 unknown-element (${e1['error-message']})`);
  const badIp = setJson(fixture('Itm_creation_no_vlan_sodium_and_above.json'), ['10.30.170.11', '10.30.170.300', '10.30.170.13']);
  const e2 = expectError(await s.put(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, badIp, HEADERS), 400, 'invalid-value');
  t.match(e2['error-message'], /10\.30\.170\.300/, `a malformed vtep address: 400 invalid-value (${e2['error-message']})`);
  const badV6 = setJson(fixture('Itm_creation_no_vlan_sodium_and_above.json'), ['fd96:2a25::1::2', TOOLS_SYSTEM_IPV6_LIST[1], TOOLS_SYSTEM_IPV6_LIST[2]]);
  expectError(await s.post(`${TUNNEL_TRANSPORTZONE}/`, badV6, HEADERS), 400, 'invalid-value');
  t.pass('a malformed IPv6 vtep address: 400 invalid-value');
  expectStatus(await s.get(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`), DELETED_STATUS_CODES);
  t.pass('TZA was not written');
  for (const dpn of DPN_ID_LIST) await noContentFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${dpn}/`);
  t.pass('and no DPN-TEPs-info appeared');
  const e3 = expectError(await s.put(`${CONFIG_API}/itm-config:itm-config`, JSON.stringify({ 'itm-config': { 'def-tz-tunnel-type': 'geneve' } }), HEADERS), 400, 'invalid-value');
  t.ok(e3, 'itm-config def-tz-tunnel-type not one genius knows: 400 invalid-value');
  await noContentFromUri(`${CONFIG_API}/itm-config:itm-config`);
  t.pass('itm-config was not written');
});

t.test('auto tunnels: local_ip set in OVS puts the computes in default-transport-zone (OF_Tunnels)', async (t) => {
  // OF Tunnels' OFT Create Vteps using Auto Tunnels: ovs-vsctl set O . other_config:local_ip=<ip>.
  for (const n of TOOLS) await reportCompute(n, TOOLS_SYSTEM_ALL_IPS[n - 1]);
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`, [...DPN_ID_LIST, ...TOOLS_SYSTEM_ALL_IPS, DEFAULT_TRANSPORT_ZONE]));
  t.pass('Get ITM default-transport-zone: every DPN id and address');
  const names = await updateDpnIdListAndGetTunnels(VXLAN, 'dpn-teps-state');
  t.equal(names.size, 6, 'dpn-teps-state names a tunnel for every ordered pair');
  await verifyDpnEndPointConfig();
  await ovsReportsTunnels(TOOLS);
  await verifyTunnelStatusAsUp(3);
  t.pass('every DPN has its DPN-TEPs-info; 6 tunnels up');

  // OFT Delete Vteps using Auto Tunnels on the first compute: ovs-vsctl remove O . other_config local_ip.
  await reportCompute(1);
  await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${DPN_ID_LIST[0]}/`));
  t.pass('OFT Verify Vteps Deleted: its DPN-TEPs-info is gone (404/409)');
  for (const dst of DPN_ID_LIST.slice(1)) {
    const r = await s.get(`${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${DPN_ID_LIST[0]}/remote-dpns/${dst}/`);
    t.ok(DELETED_STATUS_CODES.includes(r.status), `Get Tunnel ${DPN_ID_LIST[0]} -> ${dst} on dpn-teps-state fails (${r.status})`);
  }
  for (const src of DPN_ID_LIST.slice(1)) {
    await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${src}/remote-dpns/${DPN_ID_LIST[0]}/`));
    await getTunnel(src, DPN_ID_LIST.find((d) => d !== src && d !== DPN_ID_LIST[0])!, VXLAN, 'dpn-teps-state');
  }
  t.pass('the others no longer list it in their remote-dpns, and keep each other');
  await verifyTunnelStatusAsUp(2);
  const states = await tunnelStates();
  t.equal(states.length, 2, 'the two others keep the tunnels between them');
  t.notOk(JSON.stringify(states).includes(TOOLS_SYSTEM_ALL_IPS[0]), 'tep:show-state no longer shows its address');
  t.notOk((await getDataFromUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`)).includes(TOOLS_SYSTEM_ALL_IPS[0]), 'nor does default-transport-zone');
});

t.test('default-transport-zone is kept when deleted (genius: "an incorrect usage")', async (t) => {
  // An operator gives the first compute (no local_ip now) a vtep in it by hand.
  const hand = `${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}/vteps/${DPN_ID_LIST[0]}`;
  expectStatus(await s.put(hand, `{"vteps": [{"dpn-id": ${DPN_ID_LIST[0]}, "ip-address": "${TOOLS_SYSTEM_ALL_IPS[0]}"}]}`, HEADERS), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, async () => ((await tunnelStates()).length === 6 ? true : Promise.reject(new Error('mesh not grown'))));
  const ports = async () => JSON.stringify(await Promise.all(TOOLS.map(async (n) => [...(await tunnelPorts(n))].sort())));
  const before = await ports();
  // Genius.Delete All Vteps: DELETE transport-zones, 200.
  const all = await s.delete(`${TUNNEL_TRANSPORTZONE}/`);
  t.equal(all.status, 200, 'DELETE transport-zones: 200, as genius answers');
  await checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/`, [DEFAULT_TRANSPORT_ZONE, ...DPN_ID_LIST]);
  t.pass('default-transport-zone is still there with all its vteps, the one given by hand too');
  const one = await s.delete(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`);
  t.equal(one.status, 200, 'DELETE transport-zone/default-transport-zone: 200');
  await checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`, DPN_ID_LIST);
  t.pass('still there, whole');
  t.equal(await ports(), before, 'its tunnel ports stay as they were (same names, same OpenFlow ports)');
  // Deleted, and gone for good. Not checked at once as Utils does: in cluster mode the leader's
  // scale-out once put the vtep back from a view that still had the compute's local_ip (seen in
  // one fresh-clone run of test/cluster/csit-itm; a race to find, noted in issue 17's note), so
  // the check waits for it to be gone and for its tunnels to leave, which a vtep kept would fail.
  expectStatus(await s.delete(hand), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, async () => noContentFromUri(hand).then(() => true));
  await waitUntil(10_000, 100, async () => ((await tunnelStates()).length === 2 ? true : Promise.reject(new Error('tunnels to the first compute left'))));
  await noContentFromUri(hand);
});

t.test('itm-config def-tz-enabled false removes default-transport-zone; true brings it back', async (t) => {
  expectStatus(await s.put(`${CONFIG_API}/itm-config:itm-config`, JSON.stringify({ 'itm-config': { 'def-tz-enabled': false } }), HEADERS), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, () => noContentFromUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`));
  t.pass('disabled: default-transport-zone is removed');
  await allTunnelsGone();
  await noContentFromUri(`${OPERATIONAL_API}/itm-state:tunnels_state`);
  for (const dpn of DPN_ID_LIST) await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${dpn}/`));
  t.pass('its tunnels and itm-state go with it (tunnels_state 404, as OF_Tunnels checks)');
  expectStatus(await s.put(`${CONFIG_API}/itm-config:itm-config`, JSON.stringify({ 'itm-config': { 'def-tz-enabled': true, 'def-tz-tunnel-type': 'VXLAN' } }), HEADERS), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`, [VXLAN, DPN_ID_LIST[1], DPN_ID_LIST[2], TOOLS_SYSTEM_ALL_IPS[1], TOOLS_SYSTEM_ALL_IPS[2]]));
  t.notOk((await getDataFromUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`)).includes(TOOLS_SYSTEM_ALL_IPS[0]), 'enabled again: back, with the computes that report local_ip only');
  await updateDpnIdListAndGetTunnels(VXLAN, 'dpn-teps-state', DPN_ID_LIST.slice(1));
  t.pass('and their tunnels');
  // genius sets the zone's type from def-tz-tunnel-type (TepCommandHelper.configureTunnelType).
  expectStatus(await s.put(`${CONFIG_API}/itm-config:itm-config`, JSON.stringify({ 'itm-config': { 'def-tz-tunnel-type': 'gre' } }), HEADERS), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`, ['odl-interface:tunnel-type-gre', DPN_ID_LIST[1], DPN_ID_LIST[2]]));
  await waitUntil(10_000, 100, () => noContentFromUri(`${OPERATIONAL_API}/itm-state:tunnels_state`));
  t.pass('def-tz-tunnel-type gre: the zone becomes GRE, keeps its vteps, and its VXLAN tunnels go (only VXLAN is meshed)');
  expectStatus(await s.delete(`${CONFIG_API}/itm-config:itm-config`), ALLOWED_STATUS_CODES);
  await waitUntil(10_000, 100, () => checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/${DEFAULT_TRANSPORT_ZONE}`, [VXLAN]));
  await updateDpnIdListAndGetTunnels(VXLAN, 'dpn-teps-state', DPN_ID_LIST.slice(1));
  t.pass('itm-config deleted: the defaults again (enabled, VXLAN), and the tunnels are back');
});

t.test('Itm_Auto_Tunnel_Create.json: a zone with no vteps', async (t) => {
  // ITM_Vtep_Auto_Tunnel: Utils.Post Elements To URI From File on transport-zones.
  const post = await s.post(TUNNEL_TRANSPORTZONE, fixture('Itm_Auto_Tunnel_Create.json'), HEADERS);
  t.ok(ALLOWED_STATUS_CODES.includes(post.status), `POST: ${post.status}`);
  await checkForElementsAtUri(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`, ['TZA', VXLAN]);
  expectError(await s.post(TUNNEL_TRANSPORTZONE, fixture('Itm_Auto_Tunnel_Create.json'), HEADERS), 409, 'data-exists');
  t.pass('posting it again: 409 data-exists');
  await removeAllElementsAtUriAndVerify(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA/`);
});

t.test('scale-in end removes the compute from itm-state', async (t) => {
  const victim = DPN_ID_LIST[2];
  const other = DPN_ID_LIST[1];
  await waitUntil(10_000, 100, () => getTunnel(other, victim, VXLAN));
  for (const rpc of ['scalein-computes-start', 'scalein-computes-end']) {
    const r = await s.postJson(`/rests/operations/scalein-api:${rpc}`, { input: { 'scalein-node-ids': ['compute-itm-3'] } });
    t.ok([200, 204].includes(r.status), `${rpc}: ${r.status} ${r.body}`);
  }
  await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:dpn-endpoints/DPN-TEPs-info/${victim}/`));
  t.pass('its DPN-TEPs-info is gone');
  await waitUntil(10_000, 100, () => noContentFromUri(`${CONFIG_API}/itm-state:tunnel-list/internal-tunnel/${other}/${victim}/${VXLAN}/`));
  await noContentFromUri(`${CONFIG_API}/itm-state:tunnel-list/internal-tunnel/${victim}/${other}/${VXLAN}/`);
  await noContentFromUri(`${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${victim}/`);
  await noContentFromUri(`${CONFIG_API}/itm-state:dpn-teps-state/dpns-teps/${other}/`);
  t.pass('and every internal tunnel to or from it, its dpns-teps, and the remaining one has no remote left');
  await waitUntil(10_000, 100, () => noContentFromUri(`${OPERATIONAL_API}/itm-state:tunnels_state`));
  t.pass('the last compute has no tunnel left: tunnels_state 404');
  await verifyDpnEndPointConfig([other]);
  t.pass('the remaining compute keeps its DPN-TEPs-info');
  // The OVS of the removed compute still reports its bridge: it is not this suite's any more.
  await s.delete(`${OPER_TOPO}/node/${enc(bridgeNode(3))}`);
  expectStatus(await s.delete(`${TUNNEL_TRANSPORTZONE}/transport-zone/TZA`), ALLOWED_DELETE_STATUS_CODES);
});
