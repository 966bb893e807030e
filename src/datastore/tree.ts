/**
 * Copy-on-write edits of internal data trees. A tree is never changed in place once published:
 * an edit copies the objects and maps on the path it walks and shares everything else, so a
 * snapshot stays valid for as long as a reader holds it and unchanged subtrees keep their
 * identity (the persistence layer uses that to skip them).
 */
import { YangError } from '../errors.ts';
import { leafString } from '../yang/cursor.ts';
import { formatPath, keyString, type InstancePath, type InstanceStep } from '../yang/path.ts';
import type { DataObject, DataValue, LeafValue, ListValue, SchemaNode } from '../yang/schema.ts';
import { ListMap } from './list-map.ts';

export function isObj(v: unknown): v is DataObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** The value at a path: an object, a list (Map) when the last step has no key, a leaf value... */
export function getAt(root: DataObject, path: InstancePath): DataValue | undefined {
  let cur: DataValue | undefined = root;
  for (const step of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[step.member];
    if (cur === undefined) return undefined;
    if (step.key !== undefined) {
      if (cur instanceof Map) cur = cur.get(step.key);
      else if (Array.isArray(cur)) cur = (cur as LeafValue[]).find((v) => leafString(v) === step.key);
      else return undefined;
      if (cur === undefined) return undefined;
    }
  }
  return cur;
}

/**
 * Returns a new root where the node at `path` is `value` (or removed when `value` is undefined).
 * Missing ancestors are created; a list entry on the way gets its key leaves from the path.
 * Containers and lists left empty by a removal are pruned (non-presence containers only).
 *
 * `owned` holds the objects and maps a transaction has already copied for itself: those are not
 * shared with any published tree, so they are changed in place instead of copied again. That
 * keeps a transaction of many edits in one large list linear instead of quadratic.
 */
export function setAt(root: DataObject, path: InstancePath, value: DataValue | undefined, owned?: WeakSet<object>, found?: Found): DataObject {
  if (!path.length) {
    if (value !== undefined && !isObj(value)) throw new Error('the root must be an object');
    if (found) found.existed = true;
    return (value as DataObject) ?? {};
  }
  return setIn(root, path, 0, value, owned, found) ?? {};
}

/** Filled by setAt: whether the node at the path was there before the edit (seen on the way). */
export interface Found {
  existed: boolean;
}

function setIn(obj: DataObject | undefined, path: InstancePath, i: number, value: DataValue | undefined, owned?: WeakSet<object>, found?: Found): DataObject | undefined {
  const step = path[i];
  const last = i === path.length - 1;
  const base: DataObject = obj ?? {};
  const current = base[step.member];
  let next: DataValue | undefined;
  if (step.key === undefined) {
    if (last && found) found.existed = current !== undefined;
    next = last ? value : setIn(isObj(current) ? current : undefined, path, i + 1, value, owned, found);
  } else if (step.schema.kind === 'leaf-list') {
    const had = Array.isArray(current) ? (current as LeafValue[]) : [];
    const arr = had.filter((v) => leafString(v) !== step.key);
    if (found) found.existed = arr.length !== had.length;
    if (value !== undefined) arr.push(value as LeafValue);
    next = arr.length ? arr : undefined;
  } else {
    let map: ListMap;
    if (current instanceof ListMap && owned?.has(current)) map = current;
    else {
      map = ListMap.over(current instanceof Map ? current : undefined);
      owned?.add(map);
    }
    const entry = map.get(step.key);
    if (last && found) found.existed = entry !== undefined;
    let newEntry: DataObject | undefined;
    if (last) newEntry = value as DataObject | undefined;
    else newEntry = setIn(entry ?? keyObject(step.schema, step.keyValues), path, i + 1, value, owned, found);
    if (newEntry === undefined) map.delete(step.key);
    else {
      if (last && !isObj(newEntry)) throw new YangError({ tag: 'invalid-value', message: `a list entry must be an object`, path: formatPath(path) });
      // The lookup above already told whether the key is there: each lookup of a missing key
      // walks every overlay of the list, so it is not asked twice.
      map.setSeen(step.key, newEntry, entry !== undefined);
    }
    next = map.size ? map : undefined;
  }
  // Unchanged, or changed in place inside a map this transaction owns (whose holder it owns too).
  if (next === current) return obj;
  let out: DataObject;
  if (obj !== undefined && owned?.has(obj)) out = obj;
  else {
    out = { ...base };
    owned?.add(out);
  }
  if (next === undefined) delete out[step.member];
  else out[step.member] = next;
  // Prune a non-presence container emptied by a removal (never the list entry or the root).
  if (value === undefined && i > 0 && !Object.keys(out).length) {
    const holder = path[i - 1];
    if (holder.schema.kind === 'container' && !holder.schema.presence) return undefined;
  }
  return out;
}

function keyObject(list: SchemaNode, keyValues: LeafValue[] | undefined): DataObject {
  const o: DataObject = {};
  list.keys.forEach((k, i) => {
    if (keyValues?.[i] !== undefined) o[k] = keyValues[i];
  });
  return o;
}

/**
 * NETCONF/RESTCONF merge of `incoming` into `existing` (both values of the same schema node):
 * objects merge member by member, lists entry by entry, leaf-lists add missing values, leaves
 * are replaced. Unchanged parts keep their identity.
 */
export function mergeValue(node: SchemaNode | undefined, existing: DataValue | undefined, incoming: DataValue): DataValue {
  if (existing === undefined) return incoming;
  if (incoming instanceof Map && existing instanceof Map) {
    const out: ListValue = ListMap.over(existing);
    for (const [k, e] of incoming) out.set(k, out.has(k) ? (mergeValue(node, out.get(k), e) as DataObject) : e);
    return out;
  }
  if (isObj(incoming) && isObj(existing) && node?.kind !== 'leaf' && node?.kind !== 'anydata' && node?.kind !== 'anyxml') {
    const out: DataObject = { ...existing };
    for (const [m, v] of Object.entries(incoming)) {
      const child = node ? node.dataChildren.get(m) : undefined;
      out[m] = mergeValue(child, existing[m], v);
    }
    return out;
  }
  if (node?.kind === 'leaf-list' && Array.isArray(existing) && Array.isArray(incoming)) {
    const have = new Set((existing as LeafValue[]).map(leafString));
    const add = (incoming as LeafValue[]).filter((v) => !have.has(leafString(v)));
    return add.length ? [...(existing as LeafValue[]), ...add] : existing;
  }
  return incoming;
}

/** Refuses a list entry whose key leaves differ from the keys in the path it is written at. */
export function checkEntryKeys(step: InstanceStep, entry: DataObject, pathText: string): DataObject {
  const actual = keyString(step.schema, entry);
  if (actual !== step.key) {
    throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `the key values in the data (${actual}) differ from those in the path (${step.key})`, path: pathText });
  }
  return entry;
}

/** Structural equality of two internal values (Maps compared entry by entry, in order). */
export function sameValue(a: DataValue | undefined, b: DataValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!sameValue(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x as DataValue, b[i] as DataValue));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}
