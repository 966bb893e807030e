/**
 * OpenFlow 1.3 messages (OpenFlow Switch Specification 1.3.5, ONF TS-023), encoded and decoded.
 * Written here rather than taken from npm: no OpenFlow 1.3 codec on npm is maintained (the few
 * packages named after OpenFlow are 1.0-only or abandoned for a decade), and the subset a
 * controller needs is small.
 *
 * Covered: the header, HELLO (version bitmap), ERROR, ECHO, FEATURES, BARRIER, FLOW_MOD, PACKET_IN,
 * PORT_STATUS, ROLE_REQUEST/REPLY, and MULTIPART PORT_DESC, FLOW and TABLE. Matches are OXM TLVs
 * kept generic (class, field, value, mask) so that a field this module has no name for still
 * round-trips; instructions and actions are those the pipeline uses, and anything else is kept
 * as raw bytes (decoded and re-encoded unchanged, never dropped).
 *
 * Pure: knows nothing of sockets. Every decoder checks lengths against the buffer and throws
 * OfDecodeError, which the connection turns into closing that one switch.
 */

export const OFP_VERSION = 0x04;
export const HEADER_LENGTH = 8;
/** The header's length is 16 bits: no message is longer. */
export const MAX_MESSAGE_LENGTH = 0xffff;

export const MSG = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
} as const;

const MSG_NAME = new Map(Object.entries(MSG).map(([k, v]) => [v as number, k]));
export const messageTypeName = (t: number) => MSG_NAME.get(t) ?? `type ${t}`;

export const FLOW_MOD_COMMAND = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
export const MULTIPART = { DESC: 0, FLOW: 1, AGGREGATE: 2, TABLE: 3, PORT_STATS: 4, PORT_DESC: 13 } as const;
export const MULTIPART_REPLY_MORE = 1;
export const ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;
/** Reserved port numbers (ofp_port_no). */
export const PORT = { MAX: 0xffffff00, IN_PORT: 0xfffffff8, TABLE: 0xfffffff9, NORMAL: 0xfffffffa, FLOOD: 0xfffffffb, ALL: 0xfffffffc, CONTROLLER: 0xfffffffd, LOCAL: 0xfffffffe, ANY: 0xffffffff } as const;
export const GROUP_ANY = 0xffffffff;
export const TABLE_ALL = 0xff;
export const NO_BUFFER = 0xffffffff;
/** ofp_flow_mod_flags */
export const FLOW_FLAG = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 } as const;
/** ofp_port_state bits */
export const PORT_STATE = { LINK_DOWN: 1, BLOCKED: 2, LIVE: 4 } as const;
export const PORT_REASON = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

/** ofp_error_type and, for the ones a controller meets, their codes (for log lines). */
export const ERROR_TYPE = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
} as const;
export const HELLO_FAILED = { INCOMPATIBLE: 0, EPERM: 1 } as const;
export const BAD_REQUEST = { BAD_VERSION: 0, BAD_TYPE: 1, BAD_LEN: 6 } as const;

const ERROR_TYPE_NAME = new Map(Object.entries(ERROR_TYPE).map(([k, v]) => [v as number, k]));
const ERROR_CODE_NAMES: Record<number, string[]> = {
  0: ['INCOMPATIBLE', 'EPERM'],
  1: ['BAD_VERSION', 'BAD_TYPE', 'BAD_MULTIPART', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'EPERM', 'BAD_LEN', 'BUFFER_EMPTY', 'BUFFER_UNKNOWN', 'BAD_TABLE_ID', 'IS_SLAVE', 'BAD_PORT', 'BAD_PACKET', 'MULTIPART_BUFFER_OVERFLOW'],
  2: ['BAD_TYPE', 'BAD_LEN', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_OUT_PORT', 'BAD_ARGUMENT', 'EPERM', 'TOO_MANY', 'BAD_QUEUE', 'BAD_OUT_GROUP', 'MATCH_INCONSISTENT', 'UNSUPPORTED_ORDER', 'BAD_TAG', 'BAD_SET_TYPE', 'BAD_SET_LEN', 'BAD_SET_ARGUMENT'],
  3: ['UNKNOWN_INST', 'UNSUP_INST', 'BAD_TABLE_ID', 'UNSUP_METADATA', 'UNSUP_METADATA_MASK', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_LEN', 'EPERM'],
  4: ['BAD_TYPE', 'BAD_LEN', 'BAD_TAG', 'BAD_DL_ADDR_MASK', 'BAD_NW_ADDR_MASK', 'BAD_WILDCARDS', 'BAD_FIELD', 'BAD_VALUE', 'BAD_MASK', 'BAD_PREREQ', 'DUP_FIELD', 'EPERM'],
  5: ['UNKNOWN', 'TABLE_FULL', 'BAD_TABLE_ID', 'OVERLAP', 'EPERM', 'BAD_TIMEOUT', 'BAD_COMMAND', 'BAD_FLAGS'],
  11: ['STALE', 'UNSUP', 'BAD_ROLE'],
};

/** "FLOW_MOD_FAILED/BAD_TABLE_ID" */
export function errorName(type: number, code: number): string {
  return `${ERROR_TYPE_NAME.get(type) ?? `type ${type}`}/${ERROR_CODE_NAMES[type]?.[code] ?? `code ${code}`}`;
}

export class OfDecodeError extends Error {
  override name = 'OfDecodeError';
}

// --------------------------------------------------------------------------------------------
// OXM (§7.2.3)

export const OXM_CLASS_BASIC = 0x8000;
/** OXM_OF_* field numbers of class OPENFLOW_BASIC, with their value lengths. */
export const OXM = {
  IN_PORT: 0,
  IN_PHY_PORT: 1,
  METADATA: 2,
  ETH_DST: 3,
  ETH_SRC: 4,
  ETH_TYPE: 5,
  VLAN_VID: 6,
  VLAN_PCP: 7,
  IP_DSCP: 8,
  IP_ECN: 9,
  IP_PROTO: 10,
  IPV4_SRC: 11,
  IPV4_DST: 12,
  TCP_SRC: 13,
  TCP_DST: 14,
  UDP_SRC: 15,
  UDP_DST: 16,
  ICMPV4_TYPE: 19,
  ICMPV4_CODE: 20,
  ARP_OP: 21,
  IPV6_SRC: 26,
  IPV6_DST: 27,
  TUNNEL_ID: 38,
} as const;
const OXM_LENGTH: Record<number, number> = { 0: 4, 1: 4, 2: 8, 3: 6, 4: 6, 5: 2, 6: 2, 7: 1, 8: 1, 9: 1, 10: 1, 11: 4, 12: 4, 13: 2, 14: 2, 15: 2, 16: 2, 19: 1, 20: 1, 21: 2, 26: 16, 27: 16, 38: 8 };
/** OFPVID_PRESENT: set in VLAN_VID when a VLAN tag is there. */
export const VID_PRESENT = 0x1000;

export interface OxmField {
  cls: number;
  field: number;
  value: Buffer;
  mask?: Buffer;
}

/** An OXM_OF_* field from a number (big-endian, the field's own width). */
export function oxm(field: number, value: bigint | number | Buffer, mask?: bigint | number | Buffer): OxmField {
  const width = OXM_LENGTH[field];
  if (width === undefined && !Buffer.isBuffer(value)) throw new Error(`OXM field ${field}: width unknown`);
  const bytes = (v: bigint | number | Buffer) => (Buffer.isBuffer(v) ? v : uintBytes(BigInt(v), width));
  return canonicalOxm({ cls: OXM_CLASS_BASIC, field, value: bytes(value), mask: mask === undefined ? undefined : bytes(mask) });
}

function uintBytes(v: bigint, width: number): Buffer {
  const b = Buffer.alloc(width);
  for (let i = width - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/**
 * The form a switch reports a field in: value bits outside the mask cleared, an all-ones mask
 * dropped. Matches compare equal only in this form.
 */
export function canonicalOxm(f: OxmField): OxmField {
  if (!f.mask) return f;
  if (f.mask.every((b) => b === 0xff)) return { cls: f.cls, field: f.field, value: f.value };
  const value = Buffer.from(f.value.map((b, i) => b & (f.mask![i] ?? 0)));
  return { cls: f.cls, field: f.field, value, mask: f.mask };
}

function oxmLength(f: OxmField): number {
  return 4 + f.value.length + (f.mask?.length ?? 0);
}

function writeOxm(b: Buffer, at: number, f: OxmField): number {
  b.writeUInt16BE(f.cls, at);
  b[at + 2] = (f.field << 1) | (f.mask ? 1 : 0);
  b[at + 3] = f.value.length + (f.mask?.length ?? 0);
  f.value.copy(b, at + 4);
  f.mask?.copy(b, at + 4 + f.value.length);
  return at + oxmLength(f);
}

function readOxms(b: Buffer, start: number, end: number): OxmField[] {
  const out: OxmField[] = [];
  let at = start;
  while (at < end) {
    if (at + 4 > end) throw new OfDecodeError('OXM header truncated');
    const cls = b.readUInt16BE(at);
    const field = b[at + 2] >> 1;
    const hasMask = (b[at + 2] & 1) === 1;
    const len = b[at + 3];
    if (at + 4 + len > end) throw new OfDecodeError(`OXM field ${field} overruns its match`);
    if (hasMask && len % 2) throw new OfDecodeError(`OXM field ${field}: odd masked length ${len}`);
    const body = b.subarray(at + 4, at + 4 + len);
    const vlen = hasMask ? len / 2 : len;
    out.push(canonicalOxm({ cls, field, value: Buffer.from(body.subarray(0, vlen)), mask: hasMask ? Buffer.from(body.subarray(vlen)) : undefined }));
    at += 4 + len;
  }
  return out;
}

const pad8 = (n: number) => (n + 7) & ~7;

/** ofp_match (OFPMT_OXM): 4 bytes of header, the fields, padded to 8. */
function matchLength(fields: OxmField[]): number {
  return pad8(4 + fields.reduce((s, f) => s + oxmLength(f), 0));
}

function writeMatch(b: Buffer, at: number, fields: OxmField[]): number {
  const len = 4 + fields.reduce((s, f) => s + oxmLength(f), 0);
  b.writeUInt16BE(1, at);
  b.writeUInt16BE(len, at + 2);
  let p = at + 4;
  for (const f of fields) p = writeOxm(b, p, f);
  return at + pad8(len);
}

function readMatch(b: Buffer, at: number, end: number): { fields: OxmField[]; next: number } {
  if (at + 4 > end) throw new OfDecodeError('match header truncated');
  const type = b.readUInt16BE(at);
  const len = b.readUInt16BE(at + 2);
  if (type !== 1) throw new OfDecodeError(`match type ${type} is not OXM`);
  if (len < 4 || at + pad8(len) > end) throw new OfDecodeError(`match length ${len} overruns its message`);
  return { fields: readOxms(b, at + 4, at + len), next: at + pad8(len) };
}

/** The fields sorted, as hex: equal for equal matches whatever order each side wrote them in. */
export function matchKey(fields: OxmField[]): string {
  return fields
    .map((f) => `${f.cls.toString(16)}:${f.field}=${f.value.toString('hex')}${f.mask ? `/${f.mask.toString('hex')}` : ''}`)
    .sort()
    .join(',');
}

// --------------------------------------------------------------------------------------------
// Actions (§7.2.5) and instructions (§7.2.4)

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'group'; groupId: number }
  | { type: 'push-vlan'; ethertype: number }
  | { type: 'pop-vlan' }
  | { type: 'dec-nw-ttl' }
  | { type: 'set-field'; field: OxmField }
  | { type: 'raw'; code: number; body: Buffer };

const ACTION = { OUTPUT: 0, PUSH_VLAN: 17, POP_VLAN: 18, GROUP: 22, DEC_NW_TTL: 24, SET_FIELD: 25 } as const;

function actionLength(a: Action): number {
  switch (a.type) {
    case 'output':
      return 16;
    case 'set-field':
      return pad8(4 + oxmLength(a.field));
    case 'raw':
      return 4 + a.body.length;
    default:
      return 8;
  }
}

function writeAction(b: Buffer, at: number, a: Action): number {
  const len = actionLength(a);
  b.fill(0, at, at + len);
  b.writeUInt16BE(len, at + 2);
  switch (a.type) {
    case 'output':
      b.writeUInt16BE(ACTION.OUTPUT, at);
      b.writeUInt32BE(a.port, at + 4);
      b.writeUInt16BE(a.maxLen, at + 8);
      break;
    case 'group':
      b.writeUInt16BE(ACTION.GROUP, at);
      b.writeUInt32BE(a.groupId, at + 4);
      break;
    case 'push-vlan':
      b.writeUInt16BE(ACTION.PUSH_VLAN, at);
      b.writeUInt16BE(a.ethertype, at + 4);
      break;
    case 'pop-vlan':
      b.writeUInt16BE(ACTION.POP_VLAN, at);
      break;
    case 'dec-nw-ttl':
      b.writeUInt16BE(ACTION.DEC_NW_TTL, at);
      break;
    case 'set-field':
      b.writeUInt16BE(ACTION.SET_FIELD, at);
      writeOxm(b, at + 4, a.field);
      break;
    case 'raw':
      b.writeUInt16BE(a.code, at);
      a.body.copy(b, at + 4);
      break;
  }
  return at + len;
}

function readActions(b: Buffer, start: number, end: number): Action[] {
  const out: Action[] = [];
  let at = start;
  while (at < end) {
    if (at + 4 > end) throw new OfDecodeError('action header truncated');
    const code = b.readUInt16BE(at);
    const len = b.readUInt16BE(at + 2);
    if (len < 8 || len % 8 || at + len > end) throw new OfDecodeError(`action ${code}: bad length ${len}`);
    switch (code) {
      case ACTION.OUTPUT:
        if (len !== 16) throw new OfDecodeError(`output action of length ${len}`);
        out.push({ type: 'output', port: b.readUInt32BE(at + 4), maxLen: b.readUInt16BE(at + 8) });
        break;
      case ACTION.GROUP:
        out.push({ type: 'group', groupId: b.readUInt32BE(at + 4) });
        break;
      case ACTION.PUSH_VLAN:
        out.push({ type: 'push-vlan', ethertype: b.readUInt16BE(at + 4) });
        break;
      case ACTION.POP_VLAN:
        out.push({ type: 'pop-vlan' });
        break;
      case ACTION.DEC_NW_TTL:
        out.push({ type: 'dec-nw-ttl' });
        break;
      case ACTION.SET_FIELD: {
        const [field] = readOxms(b, at + 4, at + 4 + Math.min(len - 4, 4 + b[at + 7]));
        if (!field) throw new OfDecodeError('set-field without a field');
        out.push({ type: 'set-field', field });
        break;
      }
      default:
        out.push({ type: 'raw', code, body: Buffer.from(b.subarray(at + 4, at + len)) });
    }
    at += len;
  }
  return out;
}

export type Instruction =
  | { type: 'goto-table'; tableId: number }
  | { type: 'write-metadata'; metadata: bigint; mask: bigint }
  | { type: 'write-actions'; actions: Action[] }
  | { type: 'apply-actions'; actions: Action[] }
  | { type: 'clear-actions' }
  | { type: 'meter'; meterId: number }
  | { type: 'raw'; code: number; body: Buffer };

const INSTRUCTION = { GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6 } as const;

function instructionLength(i: Instruction): number {
  switch (i.type) {
    case 'write-metadata':
      return 24;
    case 'write-actions':
    case 'apply-actions':
      return 8 + i.actions.reduce((s, a) => s + actionLength(a), 0);
    case 'raw':
      return 4 + i.body.length;
    default:
      return 8;
  }
}

function writeInstruction(b: Buffer, at: number, i: Instruction): number {
  const len = instructionLength(i);
  b.fill(0, at, at + Math.min(len, 8));
  b.writeUInt16BE(len, at + 2);
  switch (i.type) {
    case 'goto-table':
      b.writeUInt16BE(INSTRUCTION.GOTO_TABLE, at);
      b[at + 4] = i.tableId;
      break;
    case 'write-metadata':
      b.writeUInt16BE(INSTRUCTION.WRITE_METADATA, at);
      b.writeBigUInt64BE(i.metadata, at + 8);
      b.writeBigUInt64BE(i.mask, at + 16);
      break;
    case 'write-actions':
    case 'apply-actions': {
      b.writeUInt16BE(i.type === 'write-actions' ? INSTRUCTION.WRITE_ACTIONS : INSTRUCTION.APPLY_ACTIONS, at);
      let p = at + 8;
      for (const a of i.actions) p = writeAction(b, p, a);
      break;
    }
    case 'clear-actions':
      b.writeUInt16BE(INSTRUCTION.CLEAR_ACTIONS, at);
      break;
    case 'meter':
      b.writeUInt16BE(INSTRUCTION.METER, at);
      b.writeUInt32BE(i.meterId, at + 4);
      break;
    case 'raw':
      b.writeUInt16BE(i.code, at);
      i.body.copy(b, at + 4);
      break;
  }
  return at + len;
}

function readInstructions(b: Buffer, start: number, end: number): Instruction[] {
  const out: Instruction[] = [];
  let at = start;
  while (at < end) {
    if (at + 4 > end) throw new OfDecodeError('instruction header truncated');
    const code = b.readUInt16BE(at);
    const len = b.readUInt16BE(at + 2);
    if (len < 8 || len % 8 || at + len > end) throw new OfDecodeError(`instruction ${code}: bad length ${len}`);
    switch (code) {
      case INSTRUCTION.GOTO_TABLE:
        out.push({ type: 'goto-table', tableId: b[at + 4] });
        break;
      case INSTRUCTION.WRITE_METADATA:
        if (len !== 24) throw new OfDecodeError(`write-metadata of length ${len}`);
        out.push({ type: 'write-metadata', metadata: b.readBigUInt64BE(at + 8), mask: b.readBigUInt64BE(at + 16) });
        break;
      case INSTRUCTION.WRITE_ACTIONS:
      case INSTRUCTION.APPLY_ACTIONS:
        out.push({ type: code === INSTRUCTION.WRITE_ACTIONS ? 'write-actions' : 'apply-actions', actions: readActions(b, at + 8, at + len) });
        break;
      case INSTRUCTION.CLEAR_ACTIONS:
        out.push({ type: 'clear-actions' });
        break;
      case INSTRUCTION.METER:
        out.push({ type: 'meter', meterId: b.readUInt32BE(at + 4) });
        break;
      default:
        out.push({ type: 'raw', code, body: Buffer.from(b.subarray(at + 4, at + len)) });
    }
    at += len;
  }
  return out;
}

/** Instructions as comparable text (a flow's behaviour, for "does the switch hold what we want"). */
export function instructionsKey(list: Instruction[]): string {
  const size = list.reduce((s, i) => s + instructionLength(i), 0);
  const b = Buffer.alloc(size);
  let p = 0;
  for (const i of list) p = writeInstruction(b, p, i);
  return b.toString('hex');
}

// --------------------------------------------------------------------------------------------
// Messages

export interface PortDesc {
  portNo: number;
  hwAddr: string;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

export interface FlowMod {
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  command: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  flags: number;
  match: OxmField[];
  instructions: Instruction[];
}

export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: OxmField[];
  instructions: Instruction[];
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface FlowStatsRequest {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: OxmField[];
}

export type Message =
  | { type: 'hello'; xid: number; version: number; versions?: number[] }
  | { type: 'error'; xid: number; errType: number; code: number; data: Buffer }
  | { type: 'echo-request'; xid: number; data: Buffer }
  | { type: 'echo-reply'; xid: number; data: Buffer }
  | { type: 'features-request'; xid: number }
  | { type: 'features-reply'; xid: number; datapathId: bigint; nBuffers: number; nTables: number; auxiliaryId: number; capabilities: number }
  | { type: 'barrier-request'; xid: number }
  | { type: 'barrier-reply'; xid: number }
  | ({ type: 'flow-mod'; xid: number } & FlowMod)
  | { type: 'packet-in'; xid: number; bufferId: number; totalLen: number; reason: number; tableId: number; cookie: bigint; match: OxmField[]; data: Buffer }
  | { type: 'port-status'; xid: number; reason: number; port: PortDesc }
  | { type: 'role-request' | 'role-reply'; xid: number; role: number; generationId: bigint }
  | { type: 'multipart-request'; xid: number; flags: number; body: { kind: 'port-desc' } | { kind: 'table' } | ({ kind: 'flow' } & FlowStatsRequest) }
  | { type: 'multipart-reply'; xid: number; flags: number; body: { kind: 'port-desc'; ports: PortDesc[] } | { kind: 'table'; tables: TableStats[] } | { kind: 'flow'; flows: FlowStats[] } | { kind: 'other'; mpType: number; data: Buffer } }
  | { type: 'other'; xid: number; msgType: number; body: Buffer };

const TYPE_CODE: Record<Exclude<Message['type'], 'other'>, number> = {
  hello: MSG.HELLO,
  error: MSG.ERROR,
  'echo-request': MSG.ECHO_REQUEST,
  'echo-reply': MSG.ECHO_REPLY,
  'features-request': MSG.FEATURES_REQUEST,
  'features-reply': MSG.FEATURES_REPLY,
  'barrier-request': MSG.BARRIER_REQUEST,
  'barrier-reply': MSG.BARRIER_REPLY,
  'flow-mod': MSG.FLOW_MOD,
  'packet-in': MSG.PACKET_IN,
  'port-status': MSG.PORT_STATUS,
  'role-request': MSG.ROLE_REQUEST,
  'role-reply': MSG.ROLE_REPLY,
  'multipart-request': MSG.MULTIPART_REQUEST,
  'multipart-reply': MSG.MULTIPART_REPLY,
};

const PORT_DESC_LENGTH = 64;
const FLOW_STATS_FIXED = 48;
const TABLE_STATS_LENGTH = 24;

function writePort(b: Buffer, at: number, p: PortDesc): void {
  b.fill(0, at, at + PORT_DESC_LENGTH);
  b.writeUInt32BE(p.portNo, at);
  Buffer.from(p.hwAddr.split(':').map((h) => parseInt(h, 16))).copy(b, at + 8);
  b.write(p.name.slice(0, 15), at + 16, 'latin1');
  let q = at + 32;
  for (const v of [p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.currSpeed, p.maxSpeed]) {
    b.writeUInt32BE(v, q);
    q += 4;
  }
}

function readPort(b: Buffer, at: number): PortDesc {
  const nameBytes = b.subarray(at + 16, at + 32);
  const nul = nameBytes.indexOf(0);
  const u = (o: number) => b.readUInt32BE(at + o);
  return {
    portNo: u(0),
    hwAddr: [...b.subarray(at + 8, at + 14)].map((x) => x.toString(16).padStart(2, '0')).join(':'),
    name: nameBytes.subarray(0, nul < 0 ? 16 : nul).toString('latin1'),
    config: u(32),
    state: u(36),
    curr: u(40),
    advertised: u(44),
    supported: u(48),
    peer: u(52),
    currSpeed: u(56),
    maxSpeed: u(60),
  };
}

function bodyLength(m: Message): number {
  switch (m.type) {
    case 'hello':
      return m.versions ? 8 : 0;
    case 'error':
      return 4 + m.data.length;
    case 'echo-request':
    case 'echo-reply':
      return m.data.length;
    case 'features-reply':
      return 24;
    case 'flow-mod':
      return 40 + matchLength(m.match) + m.instructions.reduce((s, i) => s + instructionLength(i), 0);
    case 'packet-in':
      return 16 + matchLength(m.match) + 2 + m.data.length;
    case 'port-status':
      return 8 + PORT_DESC_LENGTH;
    case 'role-request':
    case 'role-reply':
      return 16;
    case 'multipart-request':
      return 8 + (m.body.kind === 'flow' ? 32 + matchLength(m.body.match) : 0);
    case 'multipart-reply': {
      const body = m.body;
      if (body.kind === 'port-desc') return 8 + body.ports.length * PORT_DESC_LENGTH;
      if (body.kind === 'table') return 8 + body.tables.length * TABLE_STATS_LENGTH;
      if (body.kind === 'flow') return 8 + body.flows.reduce((s, f) => s + FLOW_STATS_FIXED + matchLength(f.match) + f.instructions.reduce((t, i) => t + instructionLength(i), 0), 0);
      return 8 + body.data.length;
    }
    case 'other':
      return m.body.length;
    default:
      return 0;
  }
}

/** One message, header included. Throws when it would not fit the 16-bit length. */
export function encode(m: Message): Buffer {
  const length = HEADER_LENGTH + bodyLength(m);
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`${m.type} of ${length} bytes exceeds the OpenFlow message limit (${MAX_MESSAGE_LENGTH})`);
  const b = Buffer.alloc(length);
  b[0] = OFP_VERSION;
  b[1] = m.type === 'other' ? m.msgType : TYPE_CODE[m.type];
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(m.xid >>> 0, 4);
  const at = HEADER_LENGTH;
  switch (m.type) {
    case 'hello':
      if (m.versions) {
        // One element: OFPHET_VERSIONBITMAP, one 32-bit bitmap (bit n = version n).
        b.writeUInt16BE(1, at);
        b.writeUInt16BE(8, at + 2);
        b.writeUInt32BE(m.versions.reduce((s, v) => (s | (1 << v)) >>> 0, 0), at + 4);
      }
      break;
    case 'error':
      b.writeUInt16BE(m.errType, at);
      b.writeUInt16BE(m.code, at + 2);
      m.data.copy(b, at + 4);
      break;
    case 'echo-request':
    case 'echo-reply':
      m.data.copy(b, at);
      break;
    case 'features-reply':
      b.writeBigUInt64BE(m.datapathId, at);
      b.writeUInt32BE(m.nBuffers, at + 8);
      b[at + 12] = m.nTables;
      b[at + 13] = m.auxiliaryId;
      b.writeUInt32BE(m.capabilities, at + 16);
      break;
    case 'flow-mod': {
      b.writeBigUInt64BE(m.cookie, at);
      b.writeBigUInt64BE(m.cookieMask, at + 8);
      b[at + 16] = m.tableId;
      b[at + 17] = m.command;
      b.writeUInt16BE(m.idleTimeout, at + 18);
      b.writeUInt16BE(m.hardTimeout, at + 20);
      b.writeUInt16BE(m.priority, at + 22);
      b.writeUInt32BE(m.bufferId, at + 24);
      b.writeUInt32BE(m.outPort, at + 28);
      b.writeUInt32BE(m.outGroup, at + 32);
      b.writeUInt16BE(m.flags, at + 36);
      let p = writeMatch(b, at + 40, m.match);
      for (const i of m.instructions) p = writeInstruction(b, p, i);
      break;
    }
    case 'packet-in': {
      b.writeUInt32BE(m.bufferId, at);
      b.writeUInt16BE(m.totalLen, at + 4);
      b[at + 6] = m.reason;
      b[at + 7] = m.tableId;
      b.writeBigUInt64BE(m.cookie, at + 8);
      const p = writeMatch(b, at + 16, m.match);
      m.data.copy(b, p + 2);
      break;
    }
    case 'port-status':
      b[at] = m.reason;
      writePort(b, at + 8, m.port);
      break;
    case 'role-request':
    case 'role-reply':
      b.writeUInt32BE(m.role, at);
      b.writeBigUInt64BE(m.generationId, at + 8);
      break;
    case 'multipart-request': {
      const body = m.body;
      b.writeUInt16BE(body.kind === 'flow' ? MULTIPART.FLOW : body.kind === 'table' ? MULTIPART.TABLE : MULTIPART.PORT_DESC, at);
      b.writeUInt16BE(m.flags, at + 2);
      if (body.kind === 'flow') {
        b[at + 8] = body.tableId;
        b.writeUInt32BE(body.outPort, at + 12);
        b.writeUInt32BE(body.outGroup, at + 16);
        b.writeBigUInt64BE(body.cookie, at + 24);
        b.writeBigUInt64BE(body.cookieMask, at + 32);
        writeMatch(b, at + 40, body.match);
      }
      break;
    }
    case 'multipart-reply': {
      const body = m.body;
      b.writeUInt16BE(body.kind === 'flow' ? MULTIPART.FLOW : body.kind === 'table' ? MULTIPART.TABLE : body.kind === 'port-desc' ? MULTIPART.PORT_DESC : body.mpType, at);
      b.writeUInt16BE(m.flags, at + 2);
      let p = at + 8;
      if (body.kind === 'port-desc') {
        for (const port of body.ports) {
          writePort(b, p, port);
          p += PORT_DESC_LENGTH;
        }
      } else if (body.kind === 'table') {
        for (const t of body.tables) {
          b[p] = t.tableId;
          b.writeUInt32BE(t.activeCount, p + 4);
          b.writeBigUInt64BE(t.lookupCount, p + 8);
          b.writeBigUInt64BE(t.matchedCount, p + 16);
          p += TABLE_STATS_LENGTH;
        }
      } else if (body.kind === 'flow') {
        for (const f of body.flows) {
          const len = FLOW_STATS_FIXED + matchLength(f.match) + f.instructions.reduce((t, i) => t + instructionLength(i), 0);
          b.writeUInt16BE(len, p);
          b[p + 2] = f.tableId;
          b.writeUInt32BE(f.durationSec, p + 4);
          b.writeUInt32BE(f.durationNsec, p + 8);
          b.writeUInt16BE(f.priority, p + 12);
          b.writeUInt16BE(f.idleTimeout, p + 14);
          b.writeUInt16BE(f.hardTimeout, p + 16);
          b.writeUInt16BE(f.flags, p + 18);
          b.writeBigUInt64BE(f.cookie, p + 24);
          b.writeBigUInt64BE(f.packetCount, p + 32);
          b.writeBigUInt64BE(f.byteCount, p + 40);
          let q = writeMatch(b, p + 48, f.match);
          for (const i of f.instructions) q = writeInstruction(b, q, i);
          p += len;
        }
      } else body.data.copy(b, p);
      break;
    }
    case 'other':
      m.body.copy(b, at);
      break;
  }
  return b;
}

/** Decodes one whole message (as the framer hands it over: exactly `length` bytes). */
export function decode(b: Buffer): Message {
  if (b.length < HEADER_LENGTH) throw new OfDecodeError(`message of ${b.length} bytes is shorter than the header`);
  const version = b[0];
  const type = b[1];
  const length = b.readUInt16BE(2);
  const xid = b.readUInt32BE(4);
  if (length !== b.length) throw new OfDecodeError(`header says ${length} bytes, message has ${b.length}`);
  const at = HEADER_LENGTH;
  const need = (n: number) => {
    if (length < at + n) throw new OfDecodeError(`${messageTypeName(type)} of ${length} bytes is too short (needs ${at + n})`);
  };
  // HELLO is the one message whose version may differ from ours (that is what it negotiates).
  if (type === MSG.HELLO) {
    let versions: number[] | undefined;
    let p = at;
    while (p + 4 <= length) {
      const elemType = b.readUInt16BE(p);
      const elemLen = b.readUInt16BE(p + 2);
      if (elemLen < 4 || p + elemLen > length) throw new OfDecodeError(`HELLO element of length ${elemLen} overruns the message`);
      if (elemType === 1) {
        versions = [];
        for (let w = 0; w * 4 + 4 < elemLen; w++) {
          const bits = b.readUInt32BE(p + 4 + w * 4);
          for (let bit = 0; bit < 32; bit++) if (bits & (1 << bit)) versions.push(w * 32 + bit);
        }
      }
      p += pad8(elemLen);
    }
    return { type: 'hello', xid, version, versions };
  }
  if (version !== OFP_VERSION) throw new OfDecodeError(`message of version ${version} on an OpenFlow 1.3 connection`);
  switch (type) {
    case MSG.ERROR:
      need(4);
      return { type: 'error', xid, errType: b.readUInt16BE(at), code: b.readUInt16BE(at + 2), data: Buffer.from(b.subarray(at + 4)) };
    case MSG.ECHO_REQUEST:
      return { type: 'echo-request', xid, data: Buffer.from(b.subarray(at)) };
    case MSG.ECHO_REPLY:
      return { type: 'echo-reply', xid, data: Buffer.from(b.subarray(at)) };
    case MSG.FEATURES_REQUEST:
      return { type: 'features-request', xid };
    case MSG.FEATURES_REPLY:
      need(24);
      return { type: 'features-reply', xid, datapathId: b.readBigUInt64BE(at), nBuffers: b.readUInt32BE(at + 8), nTables: b[at + 12], auxiliaryId: b[at + 13], capabilities: b.readUInt32BE(at + 16) };
    case MSG.BARRIER_REQUEST:
      return { type: 'barrier-request', xid };
    case MSG.BARRIER_REPLY:
      return { type: 'barrier-reply', xid };
    case MSG.FLOW_MOD: {
      need(44);
      const { fields, next } = readMatch(b, at + 40, length);
      return {
        type: 'flow-mod',
        xid,
        cookie: b.readBigUInt64BE(at),
        cookieMask: b.readBigUInt64BE(at + 8),
        tableId: b[at + 16],
        command: b[at + 17],
        idleTimeout: b.readUInt16BE(at + 18),
        hardTimeout: b.readUInt16BE(at + 20),
        priority: b.readUInt16BE(at + 22),
        bufferId: b.readUInt32BE(at + 24),
        outPort: b.readUInt32BE(at + 28),
        outGroup: b.readUInt32BE(at + 32),
        flags: b.readUInt16BE(at + 36),
        match: fields,
        instructions: readInstructions(b, next, length),
      };
    }
    case MSG.PACKET_IN: {
      need(20);
      const { fields, next } = readMatch(b, at + 16, length);
      if (next + 2 > length) throw new OfDecodeError('PACKET_IN truncated after its match');
      return { type: 'packet-in', xid, bufferId: b.readUInt32BE(at), totalLen: b.readUInt16BE(at + 4), reason: b[at + 6], tableId: b[at + 7], cookie: b.readBigUInt64BE(at + 8), match: fields, data: Buffer.from(b.subarray(next + 2)) };
    }
    case MSG.PORT_STATUS:
      need(8 + PORT_DESC_LENGTH);
      return { type: 'port-status', xid, reason: b[at], port: readPort(b, at + 8) };
    case MSG.ROLE_REQUEST:
    case MSG.ROLE_REPLY:
      need(16);
      return { type: type === MSG.ROLE_REQUEST ? 'role-request' : 'role-reply', xid, role: b.readUInt32BE(at), generationId: b.readBigUInt64BE(at + 8) };
    case MSG.MULTIPART_REQUEST: {
      need(8);
      const mpType = b.readUInt16BE(at);
      const flags = b.readUInt16BE(at + 2);
      if (mpType === MULTIPART.FLOW) {
        need(44);
        const { fields } = readMatch(b, at + 40, length);
        return { type: 'multipart-request', xid, flags, body: { kind: 'flow', tableId: b[at + 8], outPort: b.readUInt32BE(at + 12), outGroup: b.readUInt32BE(at + 16), cookie: b.readBigUInt64BE(at + 24), cookieMask: b.readBigUInt64BE(at + 32), match: fields } };
      }
      if (mpType === MULTIPART.TABLE) return { type: 'multipart-request', xid, flags, body: { kind: 'table' } };
      if (mpType === MULTIPART.PORT_DESC) return { type: 'multipart-request', xid, flags, body: { kind: 'port-desc' } };
      return { type: 'other', xid, msgType: type, body: Buffer.from(b.subarray(at)) };
    }
    case MSG.MULTIPART_REPLY: {
      need(8);
      const mpType = b.readUInt16BE(at);
      const flags = b.readUInt16BE(at + 2);
      let p = at + 8;
      if (mpType === MULTIPART.PORT_DESC) {
        if ((length - p) % PORT_DESC_LENGTH) throw new OfDecodeError(`PORT_DESC reply body of ${length - p} bytes is not a whole number of ports`);
        const ports: PortDesc[] = [];
        for (; p < length; p += PORT_DESC_LENGTH) ports.push(readPort(b, p));
        return { type: 'multipart-reply', xid, flags, body: { kind: 'port-desc', ports } };
      }
      if (mpType === MULTIPART.TABLE) {
        if ((length - p) % TABLE_STATS_LENGTH) throw new OfDecodeError(`TABLE reply body of ${length - p} bytes is not a whole number of tables`);
        const tables: TableStats[] = [];
        for (; p < length; p += TABLE_STATS_LENGTH) tables.push({ tableId: b[p], activeCount: b.readUInt32BE(p + 4), lookupCount: b.readBigUInt64BE(p + 8), matchedCount: b.readBigUInt64BE(p + 16) });
        return { type: 'multipart-reply', xid, flags, body: { kind: 'table', tables } };
      }
      if (mpType === MULTIPART.FLOW) {
        const flows: FlowStats[] = [];
        while (p < length) {
          if (p + FLOW_STATS_FIXED + 4 > length) throw new OfDecodeError('flow stats entry truncated');
          const len = b.readUInt16BE(p);
          if (len < FLOW_STATS_FIXED + 8 || p + len > length) throw new OfDecodeError(`flow stats entry of length ${len} overruns the reply`);
          const { fields, next } = readMatch(b, p + 48, p + len);
          flows.push({
            tableId: b[p + 2],
            durationSec: b.readUInt32BE(p + 4),
            durationNsec: b.readUInt32BE(p + 8),
            priority: b.readUInt16BE(p + 12),
            idleTimeout: b.readUInt16BE(p + 14),
            hardTimeout: b.readUInt16BE(p + 16),
            flags: b.readUInt16BE(p + 18),
            cookie: b.readBigUInt64BE(p + 24),
            packetCount: b.readBigUInt64BE(p + 32),
            byteCount: b.readBigUInt64BE(p + 40),
            match: fields,
            instructions: readInstructions(b, next, p + len),
          });
          p += len;
        }
        return { type: 'multipart-reply', xid, flags, body: { kind: 'flow', flows } };
      }
      return { type: 'multipart-reply', xid, flags, body: { kind: 'other', mpType, data: Buffer.from(b.subarray(p)) } };
    }
    default:
      return { type: 'other', xid, msgType: type, body: Buffer.from(b.subarray(at)) };
  }
}

/**
 * Splits a byte stream into whole messages. Bounded: at most one partial message is held, and
 * a header whose length is under 8 or over `maxLength` is refused (OfDecodeError) before any of
 * its body is buffered, so a peer cannot make the controller hold more than one message.
 */
export class Framer {
  private pending: Buffer = Buffer.alloc(0);

  /**
   * `checkHeader` sees each header's version and type as soon as they arrive and may refuse
   * them (throw), so that a peer speaking something else entirely (an HTTP client) is refused at
   * once instead of when its "length" worth of bytes has come in.
   */
  constructor(
    private readonly maxLength = MAX_MESSAGE_LENGTH,
    private readonly checkHeader?: (version: number, type: number) => void,
  ) {}

  push(chunk: Buffer): Buffer[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (buf.length >= 4) {
      this.checkHeader?.(buf[0], buf[1]);
      const length = buf.readUInt16BE(2);
      if (length < HEADER_LENGTH) throw new OfDecodeError(`message length ${length} is shorter than the header`);
      if (length > this.maxLength) throw new OfDecodeError(`message length ${length} exceeds the limit of ${this.maxLength}`);
      if (buf.length < length) break;
      out.push(Buffer.from(buf.subarray(0, length)));
      buf = buf.subarray(length);
    }
    this.pending = Buffer.from(buf);
    return out;
  }
}
