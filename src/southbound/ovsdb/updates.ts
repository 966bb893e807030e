/**
 * What an OVSDB session monitors (RFC 7047 4.1.5), with each column's type as vswitch.ovsschema
 * declares it, and the check every <table-updates> a switch sends (the monitor's initial reply and
 * each `update` notification) passes before any of it reaches the replica: well-formed JSON of the
 * right shape (4.1.6), values of the column's type (5.1), rows inserted once and modified or
 * deleted only once inserted, and no more rows than the bound. A switch that sends anything else
 * is no conforming OVSDB server, or its replica here no longer matches its database: the session
 * is closed, as OVS's own IDL forces a reconnect and a fresh monitor on an inconsistent update,
 * and a well-behaved switch that comes back gets a clean replica. Nothing of a refused update is
 * applied. Tables and columns we did not ask for are ignored (not stored: they cannot grow the
 * replica).
 */

type Atom = 'string' | 'integer' | 'boolean' | 'uuid';
interface ColumnType {
  key: Atom;
  /** Present for a map column. */
  value?: Atom;
  min: 0 | 1;
  max: 1 | 'unlimited';
}

const one = (key: Atom): ColumnType => ({ key, min: 1, max: 1 });
const optional = (key: Atom): ColumnType => ({ key, min: 0, max: 1 });
const setOf = (key: Atom, min: 0 | 1 = 0): ColumnType => ({ key, min, max: 'unlimited' });
const mapOf = (key: Atom, value: Atom): ColumnType => ({ key, value, min: 0, max: 'unlimited' });
const strings = mapOf('string', 'string');

/** The monitored tables and columns, typed as in Open vSwitch's vswitch.ovsschema. */
export const MONITORED: Record<string, Record<string, ColumnType>> = {
  Open_vSwitch: { bridges: setOf('uuid'), other_config: strings, external_ids: strings, ovs_version: optional('string'), manager_options: setOf('uuid') },
  Bridge: {
    name: one('string'),
    datapath_id: optional('string'),
    other_config: strings,
    external_ids: strings,
    ports: setOf('uuid'),
    controller: setOf('uuid'),
    fail_mode: optional('string'),
    protocols: setOf('string'),
    datapath_type: one('string'),
    stp_enable: one('boolean'),
  },
  Port: { name: one('string'), interfaces: setOf('uuid', 1), external_ids: strings },
  Interface: { name: one('string'), type: one('string'), options: strings, external_ids: strings, ofport: optional('integer'), ofport_request: optional('integer') },
  Controller: { target: one('string'), is_connected: one('boolean') },
  QoS: { type: one('string'), queues: mapOf('integer', 'uuid'), other_config: strings, external_ids: strings },
  Queue: { dscp: optional('integer'), other_config: strings, external_ids: strings },
};

/** The monitor request's <monitor-requests>. */
export const MONITOR = Object.fromEntries(Object.entries(MONITORED).map(([table, columns]) => [table, { columns: Object.keys(columns) }]));

export type Row = Record<string, unknown>;
export type Replica = Map<string, Map<string, Row>>;

/** One row's change, checked: the row after it (undefined: deleted). */
export interface RowChange {
  table: string;
  uuid: string;
  row: Row | undefined;
}

export class UpdateError extends Error {
  override name = 'UpdateError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60);

function isAtom(v: unknown, type: Atom): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isSafeInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'uuid':
      return Array.isArray(v) && v.length === 2 && v[0] === 'uuid' && typeof v[1] === 'string' && UUID.test(v[1]);
  }
}

/** Why `v` is not a value of the column's type (RFC 7047 5.1), or undefined when it is. */
function typeError(v: unknown, type: ColumnType): string | undefined {
  if (type.value) {
    if (!Array.isArray(v) || v.length !== 2 || v[0] !== 'map' || !Array.isArray(v[1])) return `expected a map, got ${shown(v)}`;
    const bad = (v[1] as unknown[]).find((p) => !Array.isArray(p) || p.length !== 2 || !isAtom(p[0], type.key) || !isAtom(p[1], type.value!));
    return bad === undefined ? undefined : `expected a map of ${type.key} to ${type.value}, got the pair ${shown(bad)}`;
  }
  let members: unknown[];
  if (Array.isArray(v) && v[0] === 'set') {
    if (v.length !== 2 || !Array.isArray(v[1])) return `expected a set, got ${shown(v)}`;
    members = v[1] as unknown[];
  } else members = [v]; // a single atom stands for a one-element set
  const bad = members.find((m) => !isAtom(m, type.key));
  if (bad !== undefined) return `expected ${type.max === 1 ? 'a' : 'a set of'} ${type.key}, got ${shown(bad)}`;
  if (members.length < type.min || (type.max === 1 && members.length > 1)) return `expected ${type.min}${type.max === 1 ? ' to 1' : ' or more'} values, got ${members.length}`;
  return undefined;
}

/** The monitored columns of a row update's "old" or "new", type-checked; others dropped. */
function columnsOf(table: string, uuid: string, which: string, v: unknown): Row {
  if (!isObject(v)) throw new UpdateError(`${table} row ${uuid}: "${which}" is not an object (${shown(v)})`);
  const types = MONITORED[table];
  const row: Row = {};
  for (const [column, value] of Object.entries(v)) {
    const type = types[column];
    if (!type) continue;
    const why = typeError(value, type);
    if (why) throw new UpdateError(`${table} row ${uuid} column ${column}: ${why}`);
    row[column] = value;
  }
  return row;
}

/**
 * Checks a <table-updates> against the replica and returns its row changes, to be applied in
 * order; throws UpdateError (naming the table, row and column) when any part is malformed or
 * inconsistent, or when the replica would hold more than `maxRows` rows.
 */
export function checkTableUpdates(updates: unknown, replica: Replica, rowsNow: number, maxRows: number): RowChange[] {
  if (!isObject(updates)) throw new UpdateError(`table-updates is not an object (${shown(updates)})`);
  const out: RowChange[] = [];
  let rows = rowsNow;
  for (const [table, rowUpdates] of Object.entries(updates)) {
    const t = replica.get(table);
    if (!t || !MONITORED[table]) continue;
    if (!isObject(rowUpdates)) throw new UpdateError(`table-update of ${table} is not an object (${shown(rowUpdates)})`);
    for (const [uuid, change] of Object.entries(rowUpdates)) {
      if (!UUID.test(uuid)) throw new UpdateError(`${table}: row key ${shown(uuid)} is not a uuid`);
      if (!isObject(change)) throw new UpdateError(`${table} row ${uuid}: row-update is not an object (${shown(change)})`);
      const had = t.get(uuid);
      const hasOld = 'old' in change;
      const hasNew = 'new' in change;
      if (hasOld) columnsOf(table, uuid, 'old', change.old);
      if (!hasOld && !hasNew) throw new UpdateError(`${table} row ${uuid}: row-update has neither "old" nor "new"`);
      if (!hasNew) {
        if (!had) throw new UpdateError(`${table} row ${uuid}: deleted, but was never inserted`);
        out.push({ table, uuid, row: undefined });
        rows--;
        continue;
      }
      const next = columnsOf(table, uuid, 'new', change.new);
      if (hasOld && !had) throw new UpdateError(`${table} row ${uuid}: modified, but was never inserted`);
      if (!hasOld && had) throw new UpdateError(`${table} row ${uuid}: inserted again`);
      if (!had && ++rows > maxRows) throw new UpdateError(`the switch reports more than ${maxRows} rows (--ovsdb-max-rows)`);
      out.push({ table, uuid, row: had ? { ...had, ...next } : next });
    }
  }
  return out;
}
