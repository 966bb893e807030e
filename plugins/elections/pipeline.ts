/**
 * The OpenFlow 1.3 pipeline Sextant programs (docs/pipeline.md is the reference): which flows a
 * network and each designated service need on which DPN, computed from the inputs alone, so the
 * same inputs always give the same flows (same ids, same cookies).
 *
 *   table 0   classifier: VM port -> network tag in metadata; tunnel key (VNI) -> the same tag
 *   table 17  router MACs of the network -> table 21 (L3); anything else of the network -> 51
 *   table 21  L3 FIB: subnet route (punt on the designated DPN, tunnel to it elsewhere),
 *             SNAT default route (to table 46 on the NAPT switch, tunnel to it elsewhere)
 *   table 46  outbound NAPT on the NAPT switch: punt new sessions to the controller
 *   table 47  inbound NAPT on the NAPT switch: traffic to the router's external address
 *   table 51  L2 destination: local port, remote port over its tunnel
 * (OpenFlow only lets a packet go to a later table, hence the order.)
 */
import type { FlowSpec } from '../../src/southbound/openflow/flows.ts';
import type { Inputs } from './inputs.ts';
import type { ServiceType } from './model.ts';

export const TABLE = { CLASSIFIER: 0, GATEWAY: 17, L3_FIB: 21, OUTBOUND_NAPT: 46, INBOUND_NAPT: 47, L2_DESTINATION: 51 } as const;

/** The network tag lives in the low 24 bits of the metadata (a VNI is 24 bits). */
const TAG_MASK = 0xffffffn;
const PUNT_LENGTH = 65535;

/** Cookie = service code in the top 16 bits, then a 32-bit hash of the service id. */
export const COOKIE_CODE = { net: 0x5e10n, nat: 0x5e20n, 'subnet-route': 0x5e30n } as const;

export function cookieOf(kind: keyof typeof COOKIE_CODE, id: string): bigint {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (COOKIE_CODE[kind] << 48n) | BigInt(h);
}

export type FlowsByDpn = Map<bigint, FlowSpec[]>;

function push(m: FlowsByDpn, dpn: bigint, f: FlowSpec): void {
  let list = m.get(dpn);
  if (!list) m.set(dpn, (list = []));
  list.push(f);
}

/** Flow ids: `<kind>.<service id>.<what>`; the first two parts name the owner. */
export const flowOwner = (flowId: string): string | undefined => {
  const parts = flowId.split('.');
  return parts.length >= 3 && (parts[0] === 'net' || parts[0] === 'nat' || parts[0] === 'subnet-route') ? `${parts[0]}|${parts[1]}` : undefined;
};

/** L2 delivery of one network: local ports, remote ports over tunnels, router MACs to L3. */
export function networkFlows(inputs: Inputs, networkId: string): FlowsByDpn {
  const out: FlowsByDpn = new Map();
  const vni = inputs.networks.get(networkId)?.vni;
  if (vni === undefined) return out; // no VXLAN segment: nothing to tag the network with
  const cookie = cookieOf('net', networkId);
  const tag = { value: vni, mask: TAG_MASK };
  const prefix = `net.${networkId}`;
  const placed: { id: string; mac: string; dpn: bigint; ofport: number }[] = [];
  const gateways: { id: string; mac: string }[] = [];
  for (const pid of inputs.portsByNetwork.get(networkId) ?? []) {
    const p = inputs.ports.get(pid)!;
    if (!p.mac) continue;
    if (p.routerOf) {
      gateways.push({ id: pid, mac: p.mac });
      continue;
    }
    const at = inputs.placement(pid);
    if (at?.ofport !== undefined) placed.push({ id: pid, mac: p.mac, dpn: at.dpn, ofport: at.ofport });
  }
  const dpns = new Set(placed.map((p) => p.dpn));
  for (const dpn of dpns) {
    push(out, dpn, {
      table: TABLE.CLASSIFIER,
      id: `${prefix}.tunnel-in`,
      priority: 50,
      cookie,
      match: { tunnelId: vni },
      instructions: { writeMetadata: tag, goToTable: TABLE.GATEWAY },
    });
    push(out, dpn, {
      table: TABLE.GATEWAY,
      id: `${prefix}.switched`,
      priority: 10,
      cookie,
      match: { metadata: tag },
      instructions: { goToTable: TABLE.L2_DESTINATION },
    });
    for (const g of gateways) {
      push(out, dpn, {
        table: TABLE.GATEWAY,
        id: `${prefix}.gateway.${g.id}`,
        priority: 100,
        cookie,
        match: { metadata: tag, ethDst: g.mac },
        instructions: { goToTable: TABLE.L3_FIB },
      });
    }
    for (const p of placed) {
      if (p.dpn === dpn) {
        push(out, dpn, {
          table: TABLE.CLASSIFIER,
          id: `${prefix}.ingress.${p.id}`,
          priority: 100,
          cookie,
          match: { inPort: p.ofport },
          instructions: { writeMetadata: tag, goToTable: TABLE.GATEWAY },
        });
        push(out, dpn, {
          table: TABLE.L2_DESTINATION,
          id: `${prefix}.local.${p.id}`,
          priority: 100,
          cookie,
          match: { metadata: tag, ethDst: p.mac },
          instructions: { apply: [{ output: p.ofport }] },
        });
        continue;
      }
      const tunnel = inputs.tunnelPort(dpn, p.dpn);
      if (tunnel === undefined) continue;
      push(out, dpn, {
        table: TABLE.L2_DESTINATION,
        id: `${prefix}.remote.${p.id}`,
        priority: 90,
        cookie,
        match: { metadata: tag, ethDst: p.mac },
        instructions: { apply: [{ setTunnelId: vni }, { output: tunnel }] },
      });
    }
  }
  return out;
}

interface RoutedSubnet {
  id: string;
  cidr: string;
  vni: bigint;
  prefixLength: number;
}

/** A subnet the pipeline can route: an IPv4 prefix on a network with a VNI. */
function routedSubnet(inputs: Inputs, subnetId: string): RoutedSubnet | undefined {
  const s = inputs.subnets.get(subnetId);
  if (!s?.cidr || !s.networkId || s.cidr.includes(':')) return undefined;
  const vni = inputs.networks.get(s.networkId)?.vni;
  if (vni === undefined) return undefined;
  return { id: subnetId, cidr: s.cidr, vni, prefixLength: Number(s.cidr.split('/')[1] ?? 32) };
}

/**
 * The flows of a designated service. On the designated DPN the service is performed (punt to the
 * controller, NAPT tables); every other DPN with ports of the service sends the traffic to it
 * over the tunnel. No designated DPN (0): no flows, the traffic is dropped by the table miss.
 */
export function serviceFlows(inputs: Inputs, type: ServiceType, id: string, designated: bigint, subnetIds: string[]): FlowsByDpn {
  const out: FlowsByDpn = new Map();
  if (designated === 0n) return out;
  const cookie = cookieOf(type, id);
  const prefix = `${type}.${id}`;
  for (const subnetId of subnetIds) {
    const s = routedSubnet(inputs, subnetId);
    if (!s) continue;
    const tag = { value: s.vni, mask: TAG_MASK };
    const fib =
      type === 'subnet-route'
        ? { id: `${prefix}.fib`, priority: 100 + s.prefixLength, match: { metadata: tag, ipv4Dst: s.cidr } }
        : { id: `${prefix}.fib.${s.id}`, priority: 10, match: { metadata: tag, ipv4Src: s.cidr } };
    const here = new Set(inputs.dpnsWithPortsIn([s.id]));
    here.add(designated);
    for (const dpn of here) {
      if (dpn === designated) {
        push(out, dpn, {
          table: TABLE.L3_FIB,
          ...fib,
          cookie,
          instructions: type === 'subnet-route' ? { apply: [{ controller: PUNT_LENGTH }] } : { goToTable: TABLE.OUTBOUND_NAPT },
        });
        if (type === 'nat') {
          push(out, dpn, {
            table: TABLE.OUTBOUND_NAPT,
            id: `${prefix}.snat.${s.id}`,
            priority: 10,
            cookie,
            match: { metadata: tag, ipv4Src: s.cidr },
            instructions: { apply: [{ controller: PUNT_LENGTH }] },
          });
        }
        continue;
      }
      const tunnel = inputs.tunnelPort(dpn, designated);
      if (tunnel === undefined) continue;
      push(out, dpn, { table: TABLE.L3_FIB, ...fib, cookie, instructions: { apply: [{ setTunnelId: s.vni }, { output: tunnel }] } });
    }
  }
  if (type === 'nat') {
    for (const ip of inputs.routers.get(id)?.externalIps ?? []) {
      push(out, designated, {
        table: TABLE.INBOUND_NAPT,
        id: `${prefix}.dnat.${ip}`,
        priority: 10,
        cookie,
        match: { ipv4Dst: `${ip}/32` },
        instructions: { apply: [{ controller: PUNT_LENGTH }] },
      });
    }
  }
  return out;
}
