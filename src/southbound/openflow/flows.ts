/**
 * OpenFlow 1.3 flows as they live in the config inventory
 * (`/opendaylight-inventory:nodes/node=openflow:<dpn>/flow-node-inventory:table=<t>/flow=<id>`,
 * OpenDaylight's flow model), built from a compact description, and rendered as the
 * `ovs-ofctl -O OpenFlow13 add-flow` text a switch would be given, and as the OpenFlow 1.3
 * structures the southbound sends it in (switchFlow). The one place that knows the inventory's
 * flow shape: applications describe flows with FlowSpec, the southbound reads the stored JSON
 * back with switchFlow (and tests with ofctlFlow).
 *
 * Why this is in src/southbound and not in a plugin, although today only the elections plugin
 * (and the tests that check its flows with `ovs-ofctl`) call it: the config inventory's flow is
 * the contract between every application that programs flows and the OpenFlow southbound that
 * pushes them to switches (issue 19). The rendering is the southbound's half of that contract,
 * and a second application (the VNF manager's port flows) must build flows the same way rather
 * than import elections' code, which plugins may not do.
 */
import { isIPv4 } from 'node:net';
import { nodes, type Flow } from '../../bindings/opendaylight-inventory.ts';
import { oxm, OXM, PORT, VID_PRESENT, type Action, type Instruction, type OxmField } from './codec.ts';

export interface Masked {
  value: bigint;
  mask: bigint;
}

/** What a flow matches. IPv4 fields imply the IPv4 EtherType. */
export interface FlowMatch {
  /** OpenFlow port number on the flow's own switch. */
  inPort?: number;
  metadata?: Masked;
  tunnelId?: bigint;
  ethDst?: string;
  ipv4Src?: string;
  ipv4Dst?: string;
}

export type FlowAction = { output: number } | { controller: number } | { setTunnelId: bigint };

/** Instructions, in the order OpenFlow 1.3 executes them. */
export interface FlowInstructions {
  apply?: FlowAction[];
  writeMetadata?: Masked;
  goToTable?: number;
}

export interface FlowSpec {
  table: number;
  /** The name the flow is stored under; unique per table. */
  id: string;
  priority: number;
  cookie: bigint;
  match: FlowMatch;
  instructions: FlowInstructions;
}

/** The inventory's nodes (a generated path). */
export const INVENTORY_NODES = nodes();

export const inventoryNodeId = (dpn: bigint) => `openflow:${dpn}`;
export const inventoryNodePath = (dpn: bigint) => INVENTORY_NODES.node(inventoryNodeId(dpn));
export const flowPath = (dpn: bigint, table: number, id: string) => inventoryNodePath(dpn).table(table).flow(id);

const IPV4_ETHERTYPE = 0x0800;

/** The RFC 7951 JSON of a flow entry, in the canonical form the datastore returns. */
export function flowJson(dpn: bigint, f: FlowSpec): Record<string, unknown> {
  const m = f.match;
  const match: Record<string, unknown> = {};
  if (m.inPort !== undefined) match['in-port'] = `${inventoryNodeId(dpn)}:${m.inPort}`;
  if (m.metadata) match.metadata = { metadata: m.metadata.value.toString(), 'metadata-mask': m.metadata.mask.toString() };
  if (m.tunnelId !== undefined) match.tunnel = { 'tunnel-id': m.tunnelId.toString() };
  const eth: Record<string, unknown> = {};
  if (m.ethDst) eth['ethernet-destination'] = { address: m.ethDst.toLowerCase() };
  if (m.ipv4Src || m.ipv4Dst) eth['ethernet-type'] = { type: IPV4_ETHERTYPE };
  if (Object.keys(eth).length) match['ethernet-match'] = eth;
  if (m.ipv4Src) match['ipv4-source'] = m.ipv4Src;
  if (m.ipv4Dst) match['ipv4-destination'] = m.ipv4Dst;

  const instruction: Record<string, unknown>[] = [];
  const i = f.instructions;
  if (i.apply?.length) {
    instruction.push({ order: instruction.length, 'apply-actions': { action: i.apply.map((a, order) => ({ order, ...actionJson(a) })) } });
  }
  if (i.writeMetadata) {
    instruction.push({
      order: instruction.length,
      'write-metadata': { metadata: i.writeMetadata.value.toString(), 'metadata-mask': i.writeMetadata.mask.toString() },
    });
  }
  if (i.goToTable !== undefined) instruction.push({ order: instruction.length, 'go-to-table': { table_id: i.goToTable } });

  return {
    id: f.id,
    table_id: f.table,
    priority: f.priority,
    cookie: f.cookie.toString(),
    'flow-name': f.id,
    match,
    instructions: { instruction },
  };
}

function actionJson(a: FlowAction): Record<string, unknown> {
  if ('output' in a) return { 'output-action': { 'output-node-connector': String(a.output) } };
  if ('controller' in a) return { 'output-action': { 'output-node-connector': 'CONTROLLER', 'max-length': a.controller } };
  return { 'set-field': { tunnel: { 'tunnel-id': a.setTunnelId.toString() } } };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const hex = (v: string | number) => `0x${BigInt(v).toString(16)}`;

/**
 * A stored flow as `ovs-ofctl -O OpenFlow13 add-flow` text. Covers the match fields and actions
 * the inventory model holds that Sextant programs; anything else is refused, never dropped.
 */
export function ofctlFlow(stored: Flow | Json): string {
  // The stored flow is walked as plain JSON: it refuses, by throwing, what it cannot render.
  const flow = stored as Json;
  const parts: string[] = [`table=${flow.table_id ?? 0}`];
  if (flow.priority !== undefined) parts.push(`priority=${flow.priority}`);
  if (flow.cookie !== undefined) parts.push(`cookie=${hex(flow.cookie)}`);
  const m: Json = flow.match ?? {};
  for (const key of Object.keys(m)) {
    if (!['in-port', 'metadata', 'tunnel', 'ethernet-match', 'ipv4-source', 'ipv4-destination'].includes(key)) {
      throw new Error(`flow ${flow.id}: match field ${key} has no ovs-ofctl rendering here`);
    }
  }
  const eth: Json = m['ethernet-match'] ?? {};
  if (eth['ethernet-type']) parts.push(Number(eth['ethernet-type'].type) === IPV4_ETHERTYPE ? 'ip' : `dl_type=${hex(eth['ethernet-type'].type)}`);
  if (m['in-port'] !== undefined) parts.push(`in_port=${String(m['in-port']).split(':').pop()}`);
  if (m.metadata) parts.push(`metadata=${hex(m.metadata.metadata)}${m.metadata['metadata-mask'] !== undefined ? `/${hex(m.metadata['metadata-mask'])}` : ''}`);
  if (m.tunnel) parts.push(`tun_id=${hex(m.tunnel['tunnel-id'])}${m.tunnel['tunnel-mask'] !== undefined ? `/${hex(m.tunnel['tunnel-mask'])}` : ''}`);
  if (eth['ethernet-destination']) parts.push(`dl_dst=${eth['ethernet-destination'].address}`);
  if (eth['ethernet-source']) parts.push(`dl_src=${eth['ethernet-source'].address}`);
  if (m['ipv4-source']) parts.push(`nw_src=${m['ipv4-source']}`);
  if (m['ipv4-destination']) parts.push(`nw_dst=${m['ipv4-destination']}`);

  const actions: string[] = [];
  const instructions = [...((flow.instructions?.instruction ?? []) as Json[])].sort((a, b) => a.order - b.order);
  for (const ins of instructions) {
    if (ins['apply-actions']) {
      const list = [...((ins['apply-actions'].action ?? []) as Json[])].sort((a, b) => a.order - b.order);
      for (const a of list) actions.push(ofctlAction(flow.id, a));
    } else if (ins['write-metadata']) {
      actions.push(`write_metadata:${hex(ins['write-metadata'].metadata)}/${hex(ins['write-metadata']['metadata-mask'] ?? '18446744073709551615')}`);
    } else if (ins['go-to-table']) {
      actions.push(`goto_table:${ins['go-to-table'].table_id}`);
    } else {
      throw new Error(`flow ${flow.id}: instruction ${Object.keys(ins).filter((k) => k !== 'order').join(',')} has no ovs-ofctl rendering here`);
    }
  }
  return `${parts.join(',')},actions=${actions.length ? actions.join(',') : 'drop'}`;
}

function ofctlAction(id: string, a: Json): string {
  const out = a['output-action'];
  if (out) {
    const port = String(out['output-node-connector']);
    if (port === 'CONTROLLER') return `controller:${out['max-length'] ?? 65535}`;
    return `output:${port.split(':').pop()}`;
  }
  if (a['set-field']?.tunnel) return `set_field:${hex(a['set-field'].tunnel['tunnel-id'])}->tun_id`;
  if (a['drop-action']) return 'drop';
  throw new Error(`flow ${id}: action ${Object.keys(a).filter((k) => k !== 'order').join(',')} has no ovs-ofctl rendering here`);
}


// ---------------------------------------------------------------------------------------------
// The stored flow as OpenFlow 1.3 structures (what the southbound sends in FLOW_MOD).

/** A stored flow, as the switch holds it: what identifies it, and what it does. */
export interface SwitchFlow {
  tableId: number;
  priority: number;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  /** OXM fields in prerequisite order (EtherType before IP fields, IP protocol before ports). */
  match: OxmField[];
  instructions: Instruction[];
}

const IPV6_ETHERTYPE = 0x86dd;
const TCP = 6;
const UDP = 17;
/** OpenDaylight's names for the reserved ports (`output-node-connector`). */
const RESERVED_PORT: Record<string, number> = {
  CONTROLLER: PORT.CONTROLLER,
  IN_PORT: PORT.IN_PORT,
  INPORT: PORT.IN_PORT,
  LOCAL: PORT.LOCAL,
  NORMAL: PORT.NORMAL,
  FLOOD: PORT.FLOOD,
  ALL: PORT.ALL,
  TABLE: PORT.TABLE,
  ANY: PORT.ANY,
};

const macBytes = (mac: string) => Buffer.from(mac.split(/[:-]/).map((h) => parseInt(h, 16)));

function ipPrefix(flowId: string, text: string): { value: Buffer; mask?: Buffer } {
  const [addr, lenText] = text.split('/');
  const v4 = isIPv4(addr);
  const bits = v4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) throw new Error(`flow ${flowId}: bad prefix ${text}`);
  const value = v4 ? Buffer.from(addr.split('.').map(Number)) : ipv6Bytes(addr);
  if (len === bits) return { value };
  const mask = Buffer.alloc(bits / 8);
  for (let i = 0; i < len; i++) mask[i >> 3] |= 0x80 >> (i & 7);
  return { value, mask };
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

/** The match of a stored flow as OXM fields (refusing, by throwing, what it cannot express). */
function matchFields(flowId: string, m: Json): OxmField[] {
  const known = ['in-port', 'metadata', 'tunnel', 'ethernet-match', 'vlan-match', 'ip-match', 'ipv4-source', 'ipv4-destination', 'ipv6-source', 'ipv6-destination', 'tcp-source-port', 'tcp-destination-port', 'udp-source-port', 'udp-destination-port'];
  for (const key of Object.keys(m)) if (!known.includes(key)) throw new Error(`flow ${flowId}: match field ${key} is not programmed by this southbound`);
  const out: OxmField[] = [];
  if (m['in-port'] !== undefined) out.push(oxm(OXM.IN_PORT, portNumber(flowId, m['in-port'])));
  if (m.metadata) out.push(oxm(OXM.METADATA, BigInt(m.metadata.metadata), m.metadata['metadata-mask'] !== undefined ? BigInt(m.metadata['metadata-mask']) : undefined));
  if (m.tunnel) out.push(oxm(OXM.TUNNEL_ID, BigInt(m.tunnel['tunnel-id']), m.tunnel['tunnel-mask'] !== undefined ? BigInt(m.tunnel['tunnel-mask']) : undefined));
  const eth: Json = m['ethernet-match'] ?? {};
  if (eth['ethernet-destination']) out.push(oxm(OXM.ETH_DST, macBytes(eth['ethernet-destination'].address), eth['ethernet-destination'].mask ? macBytes(eth['ethernet-destination'].mask) : undefined));
  if (eth['ethernet-source']) out.push(oxm(OXM.ETH_SRC, macBytes(eth['ethernet-source'].address), eth['ethernet-source'].mask ? macBytes(eth['ethernet-source'].mask) : undefined));
  const v4 = m['ipv4-source'] || m['ipv4-destination'];
  const v6 = m['ipv6-source'] || m['ipv6-destination'];
  const ethType = eth['ethernet-type'] ? Number(eth['ethernet-type'].type) : v4 ? IPV4_ETHERTYPE : v6 ? IPV6_ETHERTYPE : undefined;
  if (ethType !== undefined) out.push(oxm(OXM.ETH_TYPE, ethType));
  const vid = m['vlan-match']?.['vlan-id'];
  if (vid) {
    // OFPVID_PRESENT with no id: any tagged frame; an id: that VLAN; present=false: untagged only.
    if (vid['vlan-id'] !== undefined) out.push(oxm(OXM.VLAN_VID, VID_PRESENT | Number(vid['vlan-id'])));
    else if (vid['vlan-id-present']) out.push(oxm(OXM.VLAN_VID, VID_PRESENT, VID_PRESENT));
    else out.push(oxm(OXM.VLAN_VID, 0));
  }
  const tcp = m['tcp-source-port'] !== undefined || m['tcp-destination-port'] !== undefined;
  const udp = m['udp-source-port'] !== undefined || m['udp-destination-port'] !== undefined;
  const proto = m['ip-match']?.['ip-protocol'] ?? (tcp ? TCP : udp ? UDP : undefined);
  if (proto !== undefined) {
    if (ethType === undefined) out.push(oxm(OXM.ETH_TYPE, IPV4_ETHERTYPE));
    out.push(oxm(OXM.IP_PROTO, Number(proto)));
  }
  for (const [key, field] of [
    ['ipv4-source', OXM.IPV4_SRC],
    ['ipv4-destination', OXM.IPV4_DST],
    ['ipv6-source', OXM.IPV6_SRC],
    ['ipv6-destination', OXM.IPV6_DST],
  ] as const) {
    if (!m[key]) continue;
    const { value, mask } = ipPrefix(flowId, m[key]);
    out.push(oxm(field, value, mask));
  }
  for (const [key, field] of [
    ['tcp-source-port', OXM.TCP_SRC],
    ['tcp-destination-port', OXM.TCP_DST],
    ['udp-source-port', OXM.UDP_SRC],
    ['udp-destination-port', OXM.UDP_DST],
  ] as const) {
    if (m[key] !== undefined) out.push(oxm(field, Number(m[key])));
  }
  return out;
}

/** `openflow:1:5`, `5` or a reserved name, as an OpenFlow port number. */
function portNumber(flowId: string, connector: unknown): number {
  const last = String(connector).split(':').pop()!;
  if (RESERVED_PORT[last] !== undefined) return RESERVED_PORT[last];
  const n = Number(last);
  if (!Number.isInteger(n) || n < 0 || n > PORT.MAX) throw new Error(`flow ${flowId}: ${String(connector)} is not a port`);
  return n;
}

function actionList(flowId: string, list: Json[] | undefined): Action[] {
  const out: Action[] = [];
  for (const a of [...(list ?? [])].sort((x, y) => x.order - y.order)) {
    if (a['output-action']) {
      const port = portNumber(flowId, a['output-action']['output-node-connector']);
      // max_len only means something for the controller port (the bytes punted).
      out.push({ type: 'output', port, maxLen: port === PORT.CONTROLLER ? Number(a['output-action']['max-length'] ?? 0xffff) : 0 });
    } else if (a['controller-action']) out.push({ type: 'output', port: PORT.CONTROLLER, maxLen: Number(a['controller-action']['max-length'] ?? 0xffff) });
    else if (a['group-action']) out.push({ type: 'group', groupId: Number(a['group-action']['group-id']) });
    else if (a['push-vlan-action']) out.push({ type: 'push-vlan', ethertype: Number(a['push-vlan-action']['ethernet-type'] ?? 0x8100) });
    else if (a['pop-vlan-action']) out.push({ type: 'pop-vlan' });
    else if (a['dec-nw-ttl']) out.push({ type: 'dec-nw-ttl' });
    else if (a['set-field']) {
      // A set-field names one field; the EtherType matchFields adds as a prerequisite is no part of it.
      for (const field of matchFields(flowId, a['set-field'])) if (field.field !== OXM.ETH_TYPE) out.push({ type: 'set-field', field });
    } else if (a['drop-action']) continue;
    else throw new Error(`flow ${flowId}: action ${Object.keys(a).filter((k) => k !== 'order').join(',')} is not programmed by this southbound`);
  }
  return out;
}

/**
 * A stored flow as the switch is to hold it. Covers the match fields, instructions and actions
 * the pipeline uses; anything else is refused (thrown), never dropped: a flow half-installed
 * would forward differently from what the inventory says.
 */
export function switchFlow(stored: Flow | Json): SwitchFlow {
  const flow = stored as Json;
  const instructions: Instruction[] = [];
  for (const ins of [...((flow.instructions?.instruction ?? []) as Json[])].sort((a, b) => a.order - b.order)) {
    if (ins['apply-actions']) instructions.push({ type: 'apply-actions', actions: actionList(flow.id, ins['apply-actions'].action) });
    else if (ins['write-actions']) instructions.push({ type: 'write-actions', actions: actionList(flow.id, ins['write-actions'].action) });
    else if (ins['write-metadata']) instructions.push({ type: 'write-metadata', metadata: BigInt(ins['write-metadata'].metadata ?? 0), mask: BigInt(ins['write-metadata']['metadata-mask'] ?? '18446744073709551615') });
    else if (ins['go-to-table']) instructions.push({ type: 'goto-table', tableId: Number(ins['go-to-table'].table_id) });
    else if (ins['clear-actions']) instructions.push({ type: 'clear-actions' });
    else if (ins.meter) instructions.push({ type: 'meter', meterId: Number(ins.meter['meter-id']) });
    else throw new Error(`flow ${flow.id}: instruction ${Object.keys(ins).filter((k) => k !== 'order').join(',')} is not programmed by this southbound`);
  }
  // OpenFlow 1.3 executes instructions in a fixed order (§5.9), whatever order they are listed in.
  const rank: Record<Instruction['type'], number> = { meter: 0, 'apply-actions': 1, 'clear-actions': 2, 'write-actions': 3, 'write-metadata': 4, 'goto-table': 5, raw: 6 };
  instructions.sort((a, b) => rank[a.type] - rank[b.type]);
  return {
    tableId: Number(flow.table_id ?? 0),
    priority: Number(flow.priority ?? 0x8000),
    cookie: BigInt(flow.cookie ?? 0),
    idleTimeout: Number(flow['idle-timeout'] ?? 0),
    hardTimeout: Number(flow['hard-timeout'] ?? 0),
    match: matchFields(flow.id, flow.match ?? {}),
    instructions,
  };
}
