/**
 * The one tree selection for every encoding: RESTCONF's content, depth, fields and with-defaults
 * (RFC 8040 4.8) and NETCONF get-config's config-only view are applied here to the internal
 * tree, before the JSON or XML encoder writes it, so both encodings answer the same data.
 *
 * content=nonconfig is not a filter: the reader gives the operational datastore as it is, config
 * true nodes included (as OpenDaylight does); only content=config drops nodes (config false).
 */
import { YangError } from '../errors.ts';
import { withDefaults } from './json.ts';
import type { DataObject, DataValue, ListValue, Schema, SchemaNode } from './schema.ts';

/** Child names (local, module prefix dropped) -> what to select below them; empty: everything. */
export type FieldTree = Map<string, FieldTree>;

export interface Selection {
  /** 'config' drops config false nodes; 'all' and 'nonconfig' keep what the datastore holds. */
  content?: 'all' | 'config' | 'nonconfig';
  /** Levels below the start to include (RFC 8040 depth); undefined = unbounded. */
  depth?: number;
  fields?: FieldTree;
  /** report-all: absent leaves with a default are filled in at every level. */
  reportDefaults?: boolean;
}

function badFields(text: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `invalid query parameter fields=${text}` });
}

/** Parses RFC 8040 4.8.3 `fields` (`a/b;c(d;e)`). */
export function parseFields(text: string): FieldTree {
  let i = 0;
  const list = (): FieldTree => {
    const out: FieldTree = new Map();
    for (;;) {
      let cur = out;
      // a/b/c(d;e)
      for (;;) {
        const m = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/.exec(text.slice(i));
        if (!m) throw badFields(text);
        i += m[0].length;
        const name = m[0].includes(':') ? m[0].slice(m[0].indexOf(':') + 1) : m[0];
        let next = cur.get(name);
        if (!next) {
          next = new Map();
          cur.set(name, next);
        }
        cur = next;
        if (text[i] === '/') {
          i++;
          continue;
        }
        if (text[i] === '(') {
          i++;
          const inner = list();
          for (const [k, v] of inner) cur.set(k, v);
          if (text[i++] !== ')') throw badFields(text);
        }
        break;
      }
      if (text[i] === ';') {
        i++;
        continue;
      }
      return out;
    }
  };
  const tree = list();
  if (i !== text.length) throw badFields(text);
  return tree;
}

/** The selected part of the value of `node` (the node a request targets). */
export function selectValue(node: SchemaNode, value: DataValue, sel: Selection): DataValue {
  let v = value;
  if (sel.reportDefaults) v = withDefaultsDeep(node, v);
  if (sel.fields) v = selectFields(node, v, sel.fields);
  return sel.content === 'config' || sel.depth !== undefined ? prune(node, v, sel, 1) : v;
}

/** The selected part of a whole datastore (top-level members, module-qualified). */
export function selectRoot(schema: Schema, root: DataObject, sel: Selection): DataObject {
  const out: DataObject = {};
  for (const [member, v] of Object.entries(root)) {
    const node = schema.roots.get(member);
    if (!node) {
      out[member] = v;
      continue;
    }
    if (sel.content === 'config' && !node.config) continue;
    let sub = sel;
    if (sel.fields) {
      const f = sel.fields.get(node.name);
      if (f === undefined) continue;
      sub = { ...sel, fields: f.size ? f : undefined };
    }
    out[member] = selectValue(node, v, sub);
  }
  return out;
}

/** A copy of a value with defaults filled at every level (with-defaults=report-all). */
export function withDefaultsDeep(node: SchemaNode | undefined, value: DataValue): DataValue {
  if (!node) return value;
  if (value instanceof Map) {
    const out: ListValue = new Map();
    for (const [k, e] of value) out.set(k, withDefaultsDeep(node, e) as DataObject);
    return out;
  }
  if (node.kind === 'leaf' || node.kind === 'leaf-list' || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const filled = withDefaults(node, value as DataObject);
  for (const [m, v] of Object.entries(filled)) {
    const child = node.dataChildren.get(m);
    if (child && (child.kind === 'container' || child.kind === 'list')) filled[m] = withDefaultsDeep(child, v);
  }
  return filled;
}

function selectFields(node: SchemaNode | undefined, value: DataValue, fields: FieldTree): DataValue {
  if (value instanceof Map) {
    const out: ListValue = new Map();
    for (const [k, e] of value) out.set(k, selectFields(node, e, fields) as DataObject);
    return out;
  }
  if (!isObject(value)) return value;
  const out: DataObject = {};
  for (const [m, v] of Object.entries(value)) {
    const child = node?.dataChildren.get(m);
    if (!child) continue;
    const sub = fields.get(child.name);
    // Keys stay so entries can be told apart.
    if (sub === undefined && !(node?.kind === 'list' && node.keys.includes(m))) continue;
    out[m] = sub && sub.size ? selectFields(child, v, sub) : v;
  }
  return out;
}

function isObject(v: DataValue): v is DataObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

function isLeafLike(node: SchemaNode): boolean {
  return node.kind === 'leaf' || node.kind === 'leaf-list' || node.kind === 'anydata' || node.kind === 'anyxml';
}

/**
 * content=config and depth. Depth counts the target as level 1; at the last level a node's leaves
 * are kept and the containers and lists below it are not.
 */
function prune(node: SchemaNode | undefined, value: DataValue, sel: Selection, level: number): DataValue {
  if (value instanceof Map) {
    const out: ListValue = new Map();
    for (const [k, e] of value) out.set(k, pruneObject(node, e, sel, level));
    return out;
  }
  if ((node && isLeafLike(node)) || !isObject(value)) return value;
  return pruneObject(node, value, sel, level);
}

function pruneObject(node: SchemaNode | undefined, obj: DataObject, sel: Selection, level: number): DataObject {
  const out: DataObject = {};
  if (sel.depth !== undefined && level > sel.depth) return out;
  for (const [member, v] of Object.entries(obj)) {
    const child = node?.dataChildren.get(member);
    if (child && sel.content === 'config' && !child.config) continue;
    if (sel.depth !== undefined && level + 1 > sel.depth && child && child.kind !== 'leaf' && child.kind !== 'leaf-list') continue;
    out[member] = prune(child, v, sel, level + 1);
  }
  return out;
}
