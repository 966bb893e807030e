/**
 * OpenFlow 1.3 flows as they live in the config inventory
 * (`/opendaylight-inventory:nodes/node=openflow:<dpn>/flow-node-inventory:table=<t>/flow=<id>`,
 * OpenDaylight's flow model), built from a compact description, and rendered as the
 * `ovs-ofctl -O OpenFlow13 add-flow` text a switch would be given. The one place that knows the
 * inventory's flow shape: applications describe flows with FlowSpec, the southbound reads the
 * stored JSON back with ofctlFlow.
 *
 * Why this is in src/southbound and not in a plugin, although today only the elections plugin
 * (and the tests that check its flows with `ovs-ofctl`) call it: the config inventory's flow is
 * the contract between every application that programs flows and the OpenFlow southbound that
 * pushes them to switches (issue 19). The rendering is the southbound's half of that contract,
 * and a second application (the VNF manager's port flows) must build flows the same way rather
 * than import elections' code, which plugins may not do.
 */
import { nodes, type Flow } from '../../bindings/opendaylight-inventory.ts';

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
