/**
 * A small NetVirt world driven over RESTCONF, for the elections and tunnels suites: computes as
 * the OVSDB southbound reports them (operational topology, written through ODL's legacy
 * endpoint as CSIT does), Neutron resources as networking-odl writes them, and readers for what
 * the controller derives (designations, flows, tunnel ports).
 */
import { datapathIdOf } from '../../../src/southbound/ovsdb/topology.ts';
import { waitUntil } from './wait.ts';
import { expectStatus, ALLOWED_STATUS_CODES, ALLOWED_DELETE_STATUS_CODES, type Session } from './requests.ts';

const enc = encodeURIComponent;

/** Deterministic UUIDs: kind 1 network, 2 subnet, 3 port, 4 router, 9 OVS. */
export const uuid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export const ovsNodeId = (n: number) => `ovsdb://uuid/${uuid(9, n)}`;
export const bridgeNodeId = (n: number) => `${ovsNodeId(n)}/bridge/br-int`;
export const computeName = (n: number) => `compute-${n}`;
export const tepIp = (n: number) => `192.168.${Math.floor(n / 250)}.${(n % 250) + 1}`;
export const macOf = (n: number) => `fa:16:3e:${((n >> 16) & 0xff).toString(16).padStart(2, '0')}:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;

export interface VmPort {
  /** Neutron port number (uuid(3, n)). */
  port: number;
  ofport: number;
}

export interface ComputeSpec {
  n: number;
  /** Defaults to n. */
  dpn?: number;
  /** Reported as OVS other_config:local_ip (scale-out joins the default zone). */
  localIp?: string | null;
  vms?: VmPort[];
}

const OPER_TOPO = '/restconf/operational/network-topology:network-topology/topology/ovsdb:1';
const DATA = '/rests/data';

function vmTp(vm: VmPort) {
  const name = `tap${vm.port}`;
  return {
    'tp-id': name,
    'ovsdb:name': name,
    'ovsdb:ofport': vm.ofport,
    'ovsdb:interface-external-ids': [
      { 'external-id-key': 'iface-id', 'external-id-value': uuid(3, vm.port) },
      { 'external-id-key': 'attached-mac', 'external-id-value': macOf(vm.port) },
    ],
  };
}

export class NetVirt {
  constructor(readonly session: Session) {}

  private async put(path: string, body: unknown) {
    return expectStatus(await this.session.putJson(path, body), ALLOWED_STATUS_CODES);
  }

  private async del(path: string) {
    return expectStatus(await this.session.delete(path), ALLOWED_DELETE_STATUS_CODES);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async get(path: string): Promise<any> {
    const r = await this.session.getJson(path);
    return r.status === 200 ? r.json() : undefined;
  }

  /** A compute's OVS as the southbound reports it: the Open_vSwitch node and br-int. */
  async addCompute(c: ComputeSpec): Promise<void> {
    const dpn = c.dpn ?? c.n;
    const localIp = c.localIp === undefined ? tepIp(c.n) : c.localIp;
    await this.put(`${OPER_TOPO}/node/${enc(ovsNodeId(c.n))}`, {
      node: [
        {
          'node-id': ovsNodeId(c.n),
          'ovsdb:ovs-version': '3.1.0',
          ...(localIp ? { 'ovsdb:openvswitch-other-configs': [{ 'other-config-key': 'local_ip', 'other-config-value': localIp }] } : {}),
        },
      ],
    });
    await this.put(`${OPER_TOPO}/node/${enc(bridgeNodeId(c.n))}`, {
      node: [
        {
          'node-id': bridgeNodeId(c.n),
          'ovsdb:bridge-name': 'br-int',
          'ovsdb:datapath-id': datapathIdOf(dpn),
          'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': computeName(c.n) }],
          'termination-point': (c.vms ?? []).map(vmTp),
        },
      ],
    });
  }

  /** The bridge disappears from OVSDB (the compute disconnects). */
  disconnect(n: number) {
    return this.del(`${OPER_TOPO}/node/${enc(bridgeNodeId(n))}`);
  }

  plug(n: number, vm: VmPort) {
    return this.put(`${OPER_TOPO}/node/${enc(bridgeNodeId(n))}/termination-point/tap${vm.port}`, { 'termination-point': [vmTp(vm)] });
  }

  unplug(n: number, port: number) {
    return this.del(`${OPER_TOPO}/node/${enc(bridgeNodeId(n))}/termination-point/tap${port}`);
  }

  network(n: number, vni?: number) {
    return this.put(`${DATA}/neutron:neutron/networks/network=${uuid(1, n)}`, {
      'neutron:network': [
        {
          uuid: uuid(1, n),
          name: `net-${n}`,
          ...(vni !== undefined ? { 'neutron-provider-ext:network-type': 'neutron-provider-ext:network-type-vxlan', 'neutron-provider-ext:segmentation-id': String(vni) } : {}),
        },
      ],
    });
  }

  subnet(n: number, network: number, cidr: string) {
    return this.put(`${DATA}/neutron:neutron/subnets/subnet=${uuid(2, n)}`, {
      'neutron:subnet': [{ uuid: uuid(2, n), 'network-id': uuid(1, network), cidr, 'gateway-ip': cidr.replace(/0\/\d+$/, '1') }],
    });
  }

  /** A Neutron port with one address, owned by a device. */
  private neutronPort(n: number, network: number, subnet: number, ip: string, owner: string, deviceId: string, extra: Record<string, unknown> = {}) {
    return this.put(`${DATA}/neutron:neutron/ports/port=${uuid(3, n)}`, {
      'neutron:port': [
        {
          uuid: uuid(3, n),
          'network-id': uuid(1, network),
          'mac-address': macOf(n),
          'fixed-ips': [{ 'subnet-id': uuid(2, subnet), 'ip-address': ip }],
          'device-owner': owner,
          'device-id': deviceId,
          ...extra,
        },
      ],
    });
  }

  /** A VM's port (compute:nova) on a subnet. */
  port(n: number, network: number, subnet: number, ip: string, host?: string) {
    return this.neutronPort(n, network, subnet, ip, 'compute:nova', uuid(5, n), host ? { 'neutron-binding:host-id': host } : {});
  }

  deletePort(n: number) {
    return this.del(`${DATA}/neutron:neutron/ports/port=${uuid(3, n)}`);
  }

  router(n: number, externalIp?: string, snat = true) {
    return this.put(`${DATA}/neutron:neutron/routers/router=${uuid(4, n)}`, {
      'neutron:router': [
        {
          uuid: uuid(4, n),
          name: `router-${n}`,
          external_gateway_info: {
            'external-network-id': uuid(1, 999),
            'enable-snat': snat,
            ...(externalIp ? { 'external-fixed-ips': [{ 'subnet-id': uuid(2, 999), 'ip-address': externalIp }] } : {}),
          },
        },
      ],
    });
  }

  deleteRouter(n: number) {
    return this.del(`${DATA}/neutron:neutron/routers/router=${uuid(4, n)}`);
  }

  /** The router's leg on a subnet: a port owned by network:router_interface. */
  routerInterface(port: number, router: number, network: number, subnet: number, ip: string) {
    return this.neutronPort(port, network, subnet, ip, 'network:router_interface', uuid(4, router));
  }

  subnetRoute(subnet: number) {
    return this.put(`${DATA}/designated-switch:subnet-routes/subnet-route=${uuid(2, subnet)}`, {
      'designated-switch:subnet-route': [{ 'subnet-id': uuid(2, subnet) }],
    });
  }

  deleteSubnetRoute(subnet: number) {
    return this.del(`${DATA}/designated-switch:subnet-routes/subnet-route=${uuid(2, subnet)}`);
  }

  /** Adds a vtep by hand (an operator's transport zone). */
  vtep(zone: string, dpn: number, ip: string) {
    return this.put(`${DATA}/itm:transport-zones/transport-zone=${enc(zone)}`, {
      'itm:transport-zone': [{ 'zone-name': zone, 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps: [{ 'dpn-id': dpn, 'ip-address': ip }] }],
    });
  }

  deleteVtep(zone: string, dpn: number) {
    return this.del(`${DATA}/itm:transport-zones/transport-zone=${enc(zone)}/vteps=${dpn}`);
  }

  rpc(name: 'scalein-computes-start' | 'scalein-computes-end' | 'scalein-computes-recover', ids: string[]) {
    const leaf = name === 'scalein-computes-recover' ? 'recover-node-ids' : 'scalein-node-ids';
    return this.session.postJson(`/rests/operations/scalein-api:${name}`, { input: { [leaf]: ids } });
  }

  // ---- what the controller derived ------------------------------------------------------------

  async designation(type: 'nat' | 'subnet-route', id: string): Promise<{ 'dpn-id': string; reason: string; candidates?: string[]; 'compute-name'?: string } | undefined> {
    const j = await this.get(`${DATA}/designated-switch:designated-switches/designated-switch=${type},${id}?content=nonconfig`);
    return j?.['designated-switch:designated-switch']?.[0];
  }

  async napt(router: number): Promise<string | undefined> {
    const j = await this.get(`${DATA}/odl-nat:napt-switches/router-to-napt-switch=${uuid(4, router)}?content=config`);
    return j?.['odl-nat:router-to-napt-switch']?.[0]?.['primary-switch-id'];
  }

  /** Every flow in the config inventory, by DPN. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async flows(): Promise<Map<string, Record<string, any>[]>> {
    const j = await this.get(`${DATA}/opendaylight-inventory:nodes?content=config`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = new Map<string, Record<string, any>[]>();
    for (const node of j?.['opendaylight-inventory:nodes']?.node ?? []) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const flows: Record<string, any>[] = [];
      for (const t of node['flow-node-inventory:table'] ?? []) flows.push(...(t.flow ?? []));
      // Sorted: list order depends on how the entries were stored, not on what they are.
      flows.sort((a, b) => a.table_id - b.table_id || String(a.id).localeCompare(String(b.id)));
      out.set(String(node.id).replace('openflow:', ''), flows);
    }
    return out;
  }

  /** Waits until the elections report no pending work and the flows stop changing. */
  async settledFlows(timeoutMs = 15_000) {
    let last = '';
    return waitUntil(timeoutMs, 100, async () => {
      const status = await this.get(`${DATA}/designated-switch:elections-status`);
      const flows = await this.flows();
      const text = JSON.stringify([...flows]);
      const same = text === last;
      last = text;
      if (status?.['designated-switch:elections-status']?.['pending-services'] !== 0 || !same) throw new Error('not settled');
      return flows;
    });
  }

  /** Flow ids on one DPN. */
  async flowIds(dpn: number): Promise<string[]> {
    return ((await this.flows()).get(String(dpn)) ?? []).map((f) => String(f.id)).sort();
  }

  /** Tunnel ports in the config topology on a compute's bridge: name -> options (and `ofport`). */
  async tunnelPorts(n: number): Promise<Map<string, Record<string, string>>> {
    const j = await this.get(`${DATA}/network-topology:network-topology/topology=ovsdb%3A1/node=${enc(bridgeNodeId(n))}?content=config`);
    const out = new Map<string, Record<string, string>>();
    for (const tp of j?.['network-topology:node']?.[0]?.['termination-point'] ?? []) {
      if (!/^tun[0-9a-f]{11}$/.test(tp['tp-id'])) continue;
      const options = Object.fromEntries((tp['ovsdb:options'] ?? []).map((o: { option: string; value: string }) => [o.option, o.value]));
      out.set(tp['tp-id'], { ...options, ofport: String(tp['ovsdb:ofport_request']) });
    }
    return out;
  }

  async configNodeExists(n: number): Promise<boolean> {
    const r = await this.session.getJson(`${DATA}/network-topology:network-topology/topology=ovsdb%3A1/node=${enc(bridgeNodeId(n))}?content=config`);
    return r.status === 200;
  }
}

/**
 * The world of the elections suite (test/csit/elections.test.ts), which the scale-in preview suite
 * reuses:
 *   computes 1..4 report local_ip (they join the default transport zone by themselves)
 *   network 1 (VNI 1001) subnet 1 10.1.0.0/24: VMs on computes 1 and 2; subnet route enabled
 *   network 2 (VNI 1002) subnet 2 10.2.0.0/24: VMs on computes 2 and 3
 *   network 3 (VNI 1003) subnet 3 10.3.0.0/24: a VM on compute 1 only; subnet route enabled
 *   router 1 (SNAT, 172.24.4.10): interfaces on subnets 1 and 2
 */
export async function electionsWorld(nv: NetVirt): Promise<void> {
  await nv.addCompute({ n: 1, vms: [{ port: 101, ofport: 1 }, { port: 301, ofport: 2 }] });
  await nv.addCompute({ n: 2, vms: [{ port: 102, ofport: 1 }, { port: 201, ofport: 2 }] });
  await nv.addCompute({ n: 3, vms: [{ port: 202, ofport: 1 }] });
  await nv.addCompute({ n: 4 });
  await nv.network(1, 1001);
  await nv.network(2, 1002);
  await nv.network(3, 1003);
  await nv.subnet(1, 1, '10.1.0.0/24');
  await nv.subnet(2, 2, '10.2.0.0/24');
  await nv.subnet(3, 3, '10.3.0.0/24');
  await nv.port(101, 1, 1, '10.1.0.11', computeName(1));
  await nv.port(102, 1, 1, '10.1.0.12', computeName(2));
  await nv.port(201, 2, 2, '10.2.0.21', computeName(2));
  await nv.port(202, 2, 2, '10.2.0.22', computeName(3));
  await nv.port(301, 3, 3, '10.3.0.31', computeName(1));
  await nv.router(1, '172.24.4.10');
  await nv.routerInterface(191, 1, 1, 1, '10.1.0.1');
  await nv.routerInterface(192, 1, 2, 2, '10.2.0.1');
  await nv.subnetRoute(1);
  await nv.subnetRoute(3);
}
