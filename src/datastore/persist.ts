/**
 * How a data tree is laid out in a backend. The tree is cut into *units*: every top-level node
 * and every list entry is one key (its api-path), whose value is the node's JSON without the list
 * entries below it (those are units of their own). A commit therefore writes one key per changed
 * entry, like a hand-written batch would, and reading the whole store back is one ordered scan.
 * Entry order of `ordered-by user` lists is kept in the parent unit under `@order:<member>`.
 */
import type { Backend, BackendEntry, BackendOp } from './backends/backend.ts';
import { formatPath, parsePath, PathScanner, type InstancePath, type InstanceStep } from '../yang/path.ts';
import type { DataObject, DataValue, ListValue, Schema, SchemaNode } from '../yang/schema.ts';
import { getAt, isObj, setAt } from './tree.ts';

const ORDER = '@order:';

/** Index of the step whose node is the unit holding the path's target, or -1 for none. */
function unitIndex(path: InstancePath): number {
  for (let i = path.length - 1; i > 0; i--) {
    const s = path[i];
    if (s.schema.kind === 'list' && s.key !== undefined) return i;
  }
  // A whole top-level list is not a unit; its entries are.
  if (path[0].schema.kind === 'list' && path[0].key === undefined) return -1;
  return 0;
}

/** A unit's stored form: the node without the list entries under it. */
function unitValue(node: SchemaNode | undefined, value: DataValue): unknown {
  if (!isObj(value)) return value;
  // Most entries hold only leaves and leaf-lists: they are stored as they are.
  let flat = true;
  for (const k in value) {
    const v = value[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      flat = false;
      break;
    }
  }
  if (flat) return value;
  const out: Record<string, unknown> = {};
  for (const [m, v] of Object.entries(value)) {
    const child = node?.dataChildren.get(m);
    if (v instanceof Map) {
      if (child?.orderedBy === 'user') out[ORDER + m] = [...v.keys()];
      continue;
    }
    out[m] = isObj(v) && child && child.kind === 'container' ? unitValue(child, v) : v;
  }
  return out;
}

/** Every unit strictly below a value (list entries at any depth), by unit key. */
function collectUnits(schema: Schema, node: SchemaNode | undefined, value: DataValue | undefined, path: string, out: Map<string, { node: SchemaNode; value: DataObject }>): void {
  if (value instanceof Map) {
    for (const [k, e] of value) {
      const p = `${path}=${k}`;
      out.set(p, { node: node!, value: e });
      collectUnits(schema, node, e, p, out);
    }
    return;
  }
  if (!isObj(value)) return;
  for (const [m, v] of Object.entries(value)) {
    const child = node ? node.dataChildren.get(m) : schema.roots.get(m);
    if (!child) continue;
    if (v instanceof Map) collectUnits(schema, child, v, `${path}/${m}`, out);
    else if (isObj(v) && child.kind === 'container') collectUnits(schema, child, v, `${path}/${m}`, out);
  }
}

/**
 * The backend ops that take the stored form of `before` to that of `after`, given the paths a
 * commit touched. Units whose object is shared by both trees are unchanged and not rewritten.
 */
export function unitOps(schema: Schema, before: DataObject, after: DataObject, touched: InstancePath[]): BackendOp[] {
  const ops = new Map<string, BackendOp>();
  const put = (key: string, node: SchemaNode | undefined, v: DataValue | undefined) => {
    if (v === undefined) ops.set(key, { type: 'del', key });
    else ops.set(key, { type: 'put', key, value: JSON.stringify(unitValue(node, v)) });
  };
  const putStructural = (key: string, node: SchemaNode, v: DataValue) => {
    if (!ops.has(key)) ops.set(key, { type: 'put', key, value: JSON.stringify(unitValue(node, v)), structural: true });
  };
  for (const path of touched) {
    if (!path.length) {
      // The whole store was replaced.
      const oldUnits = new Map<string, { node: SchemaNode; value: DataObject }>();
      const newUnits = new Map<string, { node: SchemaNode; value: DataObject }>();
      for (const [m, v] of Object.entries(before)) topUnits(schema, m, v, oldUnits, put, true);
      for (const [m, v] of Object.entries(after)) topUnits(schema, m, v, newUnits, put, false);
      diffUnits(oldUnits, newUnits, put);
      continue;
    }
    const oldV = getAt(before, path);
    const newV = getAt(after, path);
    if (oldV === newV) continue;
    const u = unitIndex(path);
    if (u >= 0) {
      const unitPath = path.slice(0, u + 1);
      put(formatPath(unitPath), unitPath[u].schema, u === path.length - 1 ? newV : getAt(after, unitPath));
      // A write below list entries that did not exist creates them too: they get units of their
      // own, so storage (and every replica) holds them as this tree does, and their later removal
      // is a stored deletion rather than one of keys nobody wrote. (Top-level containers are
      // left implied: every writer creating its first entry in one would otherwise collide.)
      if (oldV === undefined) {
        for (let i = u - 1; i > 0; i--) {
          const step = path[i];
          if (step.key === undefined) continue;
          const prefix = path.slice(0, i + 1);
          if (getAt(before, prefix) !== undefined) break;
          const created = getAt(after, prefix);
          if (created !== undefined) putStructural(formatPath(prefix), step.schema, created);
        }
      }
    }
    const last = path[path.length - 1];
    // The parent unit holds the order of a user-ordered list.
    if (last.schema.kind === 'list' && last.schema.orderedBy === 'user' && path.length > 1) {
      const parentPath = path.slice(0, unitIndex(path.slice(0, -1)) + 1);
      if (parentPath.length) put(formatPath(parentPath), parentPath[parentPath.length - 1].schema, getAt(after, parentPath));
    }
    if (last.schema.kind === 'leaf' || last.schema.kind === 'leaf-list') continue;
    const text = formatPath(path);
    const oldUnits = new Map<string, { node: SchemaNode; value: DataObject }>();
    const newUnits = new Map<string, { node: SchemaNode; value: DataObject }>();
    collectUnits(schema, last.schema, oldV, text, oldUnits);
    collectUnits(schema, last.schema, newV, text, newUnits);
    diffUnits(oldUnits, newUnits, put);
  }
  return [...ops.values()];
}

function topUnits(
  schema: Schema,
  member: string,
  v: DataValue,
  units: Map<string, { node: SchemaNode; value: DataObject }>,
  put: (key: string, node: SchemaNode | undefined, v: DataValue | undefined) => void,
  isOld: boolean,
): void {
  const node = schema.roots.get(member);
  const path = `/${member}`;
  if (!(v instanceof Map)) {
    if (isOld) put(path, node, undefined);
    else put(path, node, v);
  }
  collectUnits(schema, node, v, path, units);
}

function diffUnits(
  oldUnits: Map<string, { node: SchemaNode; value: DataObject }>,
  newUnits: Map<string, { node: SchemaNode; value: DataObject }>,
  put: (key: string, node: SchemaNode | undefined, v: DataValue | undefined) => void,
): void {
  for (const [k, n] of newUnits) if (oldUnits.get(k)?.value !== n.value) put(k, n.node, n.value);
  for (const k of oldUnits.keys()) if (!newUnits.has(k)) put(k, undefined, undefined);
}

/**
 * Rebuilds a tree from its stored units (in key order). Units the schema no longer knows are
 * reported through `skip` and left out, so a changed model cannot stop the controller.
 */
export function loadTree(schema: Schema, entries: BackendEntry[], skip: (key: string, why: string) => void): DataObject {
  const loader = new TreeLoader(schema, skip);
  for (const { key, value } of entries) loader.add(key, value);
  return loader.finish();
}

/**
 * A store's tree read back from its backend: by a streamed scan where the backend has one (the
 * scanned rows are dropped chunk by chunk instead of all being held while the tree is built,
 * which is most of the garbage collector's work at a full-store start), else from `list`.
 */
export async function loadStore(schema: Schema, backend: Backend, skip: (key: string, why: string) => void): Promise<DataObject> {
  if (!backend.scan) return loadTree(schema, await backend.list('/'), skip);
  const loader = new TreeLoader(schema, skip);
  let last = '';
  for await (const chunk of backend.scan('/')) {
    for (const { key, value } of chunk) {
      // The entries of system-ordered lists are created in key order (UTF-16, as list() sorts):
      // a scan in another order (LevelDB's byte order, for rare keys) is read again by list().
      if (key < last) return loadTree(schema, await backend.list('/'), skip);
      last = key;
      loader.add(key, value);
    }
  }
  return loader.finish();
}

/**
 * Builds a tree unit by unit, in key order. Consecutive keys share most of their steps (a flow,
 * then its instructions, then the next flow of the same table): their parsed steps (PathScanner)
 * and the objects they lead to are taken over from the key before, not found again.
 */
class TreeLoader {
  private readonly root: DataObject = {};
  private readonly orders: { list: ListValue; keys: string[] }[] = [];
  private readonly paths: PathScanner;
  /** objs[i]: the object holding step i of the last unit loaded (objs[0] is the root). */
  private readonly objs: DataObject[] = [this.root];
  /** How many of the last unit's steps lead to an object in `objs` (0 after a skipped unit). */
  private depth = 0;

  constructor(
    schema: Schema,
    private readonly skip: (key: string, why: string) => void,
  ) {
    this.paths = new PathScanner(schema);
  }

  add(key: string, value: string): void {
    let path: readonly InstanceStep[];
    let stored: unknown;
    try {
      path = this.paths.parse(key);
      stored = JSON.parse(value);
    } catch (e) {
      this.depth = 0;
      this.skip(key, (e as Error).message);
      return;
    }
    const objs = this.objs;
    let i = Math.min(this.paths.shared, this.depth);
    let obj = objs[i];
    this.depth = i;
    for (; i < path.length; i++) {
      const step = path[i];
      const last = i === path.length - 1;
      if (step.key !== undefined) {
        let map = obj[step.member] as ListValue | undefined;
        if (!(map instanceof Map)) {
          map = new Map();
          obj[step.member] = map;
        }
        let entry = map.get(step.key);
        if (!entry && last && storedAsEntry(step.schema.keys, stored)) {
          // The common case, a new entry stored as it is: the parsed object becomes the entry
          // (no copy made, and half the objects for the young generation to carry over).
          entry = stored as DataObject;
          // The key text is a slice of the unit's key and would keep all of it alive; the stored
          // key leaf, when it is the same text, is a string of its own.
          const keys = step.schema.keys;
          map.set(keys.length === 1 && entry[keys[0]] === step.key ? (entry[keys[0]] as string) : step.key, entry);
          obj = entry;
        } else {
          if (!entry) {
            entry = {};
            for (let j = 0; j < step.schema.keys.length; j++) entry[step.schema.keys[j]] = step.keyValues![j];
            map.set(step.key, entry);
          }
          obj = entry;
          if (last) absorb(obj, stored, this.orders);
        }
      } else if (last) {
        if (isObj(stored)) {
          const target = isObj(obj[step.member]) ? (obj[step.member] as DataObject) : {};
          obj[step.member] = target;
          absorb(target, stored, this.orders);
          obj = target;
        } else {
          obj[step.member] = stored as DataValue;
          // A leaf unit leads to no object: the next key takes over the steps above it only.
          return;
        }
      } else {
        let next = obj[step.member];
        if (!isObj(next)) {
          next = {};
          obj[step.member] = next;
        }
        obj = next;
      }
      objs[i + 1] = obj;
      this.depth = i + 1;
    }
  }

  finish(): DataObject {
    // Entries were created in key order; put user-ordered lists back in their stored order.
    for (const { list, keys } of this.orders) {
      const entries = new Map(list);
      list.clear();
      for (const k of keys) if (entries.has(k)) list.set(k, entries.get(k)!);
      for (const [k, e] of entries) if (!list.has(k)) list.set(k, e);
    }
    return this.root;
  }
}

/**
 * Whether a stored unit is, as it is, the entry absorb would build for it: an object that starts
 * with the list's keys in key order (the entry starts with them) and holds no stored list order.
 */
function storedAsEntry(keys: string[], stored: unknown): boolean {
  if (!isObj(stored as DataValue)) return false;
  let i = 0;
  for (const m in stored as DataObject) {
    if (i < keys.length) {
      if (m !== keys[i]) return false;
      i++;
    } else if (m.startsWith(ORDER)) return false;
  }
  return i === keys.length;
}

function absorb(target: DataObject, stored: unknown, orders: { list: ListValue; keys: string[] }[]): void {
  if (!isObj(stored as DataValue)) return;
  for (const [m, v] of Object.entries(stored as Record<string, unknown>)) {
    if (m.startsWith(ORDER)) {
      const member = m.slice(ORDER.length);
      let list = target[member] as ListValue | undefined;
      if (!(list instanceof Map)) {
        list = new Map();
        target[member] = list;
      }
      orders.push({ list, keys: v as string[] });
      continue;
    }
    if (isObj(v as DataValue) && isObj(target[m])) absorb(target[m] as DataObject, v, orders);
    else target[m] = v as DataValue;
  }
}

/**
 * Applies another writer's stored units to a tree (copy-on-write: `root` is not changed), as a
 * replica following a shared backend does. A put replaces the unit's own content and keeps the
 * list entries below it (they are units of their own, changed by their own ops); a del removes
 * the node with everything below it. Returns the new tree and the paths of the units it touched
 * (what listeners are told). Units the schema does not know are skipped and reported.
 */
export function applyUnitOps(schema: Schema, root: DataObject, ops: BackendOp[], skip: (key: string, why: string) => void): { root: DataObject; touched: InstancePath[] } {
  let out = root;
  const owned = new WeakSet<object>();
  const touched: InstancePath[] = [];
  // Deletions first, then puts in key order (a parent's key is a prefix of its children's, so a
  // new entry's parent comes first): a put then carries over only the entries that remain, and a
  // container the commit rewrote is not pruned away by the removal of its last entry afterwards.
  const byKey = (a: BackendOp, b: BackendOp) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const ordered = [...ops.filter((o) => o.type === 'del').sort(byKey), ...ops.filter((o) => o.type === 'put').sort(byKey)];
  for (const op of ordered) {
    let path: InstancePath;
    let stored: unknown;
    try {
      path = parsePath(schema, op.key);
      stored = op.type === 'put' ? JSON.parse(op.value) : undefined;
    } catch (e) {
      skip(op.key, (e as Error).message);
      continue;
    }
    const existing = getAt(out, path);
    // A writer deletes a subtree unit by unit; once an ancestor is gone its descendants are too,
    // and setting them to nothing would rebuild the path down to them (keys only).
    if (op.type === 'del' && existing === undefined) continue;
    const value = op.type === 'del' ? undefined : rebuildUnit(stored, existing);
    out = setAt(out, path, value, owned);
    touched.push(path);
  }
  return { root: out, touched };
}

/**
 * A unit's node from its stored form, with the list entries the old node held below it. Walks by
 * the data, not the schema: containers inside choices and cases hold lists too.
 */
function rebuildUnit(stored: unknown, existing: DataValue | undefined): DataValue {
  if (!isObj(stored as DataValue)) return stored as DataValue;
  const old = isObj(existing) ? existing : undefined;
  const out: DataObject = {};
  const orders = new Map<string, string[]>();
  for (const [m, v] of Object.entries(stored as Record<string, unknown>)) {
    if (m.startsWith(ORDER)) orders.set(m.slice(ORDER.length), v as string[]);
    else out[m] = isObj(v as DataValue) ? rebuildUnit(v, old?.[m]) : (v as DataValue);
  }
  for (const [m, v] of Object.entries(old ?? {})) {
    if (!(v instanceof Map)) continue;
    const order = orders.get(m);
    if (!order) {
      out[m] = v;
      continue;
    }
    // A user-ordered list: the parent unit says the order of its entries.
    const sorted: ListValue = new Map();
    for (const k of order) if (v.has(k)) sorted.set(k, v.get(k)!);
    for (const [k, e] of v) if (!sorted.has(k)) sorted.set(k, e);
    out[m] = sorted;
  }
  return out;
}
