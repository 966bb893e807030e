/**
 * The one tree selection for every encoding and both northbounds: RESTCONF's content, depth,
 * fields and with-defaults (RFC 8040 4.8), NETCONF get-config's config-only view and NETCONF's
 * subtree filter (RFC 6241 section 6) are applied here to the internal tree, before the JSON or
 * XML encoder writes it, so every encoding answers the same data.
 *
 * `fields` and the subtree filter share one model, the SelectionTree: per level, the members to
 * keep whole or to descend into and (subtree filters only) content-match conditions on leaf
 * children. parseFields + compileFields build one from `fields`, the NETCONF filter module builds
 * one from the filter's XML, and selectTree applies either. The data are immutable snapshots: the
 * walk shares what it keeps whole and builds fresh objects for what it narrows.
 *
 * content=nonconfig is not a filter: the reader gives the operational datastore as it is, config
 * true nodes included (as OpenDaylight does); only content=config drops nodes (config false).
 */
import { YangError } from '../errors.ts';
import { withDefaults } from './json.ts';
import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from './schema.ts';
import { lexicalOf } from './types.ts';

/** Parsed `fields`: child names (local, module prefix dropped) -> what below them; empty: everything. */
export type FieldTree = Map<string, FieldTree>;

/**
 * What to select of one instance (the datastore root, a container, a list entry, a notification)
 * and, through `members`, below it.
 */
export interface SelectionTree {
  /** Conditions on leaf children: an instance is kept only if every one holds (RFC 6241 6.2.5). */
  matches: ContentMatch[];
  /**
   * The members returned, in request order; a member named more than once gets the union of what
   * each names. Undefined: no member was named, so a matching instance is returned whole (the
   * root excepted: an empty filter selects nothing). Empty: the names resolved to no schema node.
   */
  members?: MemberSelection[];
}

export interface MemberSelection {
  node: SchemaNode;
  /** What to keep below the member; undefined: the member whole (a selection node, a `fields` leaf). */
  below?: SelectionTree;
}

/**
 * A content-match node: one of `leaves` (a name without a namespace may stand for leaves of
 * several modules; none: the condition cannot hold) has `value`. A leaf-list matches by any of its
 * values, and only those are returned; an identityref matches with or without its prefix.
 */
export interface ContentMatch {
  leaves: SchemaNode[];
  value: string;
}

/**
 * What becomes of a container or list entry below which nothing is selected: a subtree filter
 * leaves it out, as it does not match (RFC 6241 6.2.5); `fields` selects by name, not by content,
 * so it stays, with its list keys (RFC 8040 4.8.3).
 */
export type Unselected = 'omit' | 'keep';

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
  // 'keep' always gives a value: nothing is left out for want of a match.
  if (sel.fields) v = selectTree(node, v, compileFields(node, sel.fields), 'keep')!;
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

/** The selection tree `fields` stands for below `node`: names match in any module. */
export function compileFields(node: SchemaNode, fields: FieldTree): SelectionTree {
  const members: MemberSelection[] = [];
  for (const [name, below] of fields) {
    // dataChildren holds a node of the parent's module under its name and its qualified name.
    for (const child of new Set(node.dataChildren.values())) {
      if (child.name === name) members.push({ node: child, below: below.size ? compileFields(child, below) : undefined });
    }
  }
  return { matches: [], members };
}

/**
 * The part of `value` (of `node`; undefined: the datastore root) that `tree` selects, or
 * undefined when nothing is (only with 'omit'). A list's entries are narrowed one by one and
 * keep their keys in the data; members keep the data's order, whatever the request's.
 */
export function selectTree(node: SchemaNode | undefined, value: DataObject, tree: SelectionTree, unselected: Unselected): DataObject | undefined;
export function selectTree(node: SchemaNode | undefined, value: DataValue, tree: SelectionTree, unselected: Unselected): DataValue | undefined;
export function selectTree(node: SchemaNode | undefined, value: DataValue, tree: SelectionTree, unselected: Unselected): DataValue | undefined {
  if (value instanceof Map) {
    const out: ListValue = new Map();
    for (const [key, entry] of value) {
      const selected = selectInstance(node, entry, tree, unselected);
      if (selected) out.set(key, selected);
    }
    return out.size || unselected === 'keep' ? out : undefined;
  }
  return isObject(value) ? selectInstance(node, value, tree, unselected) : value;
}

function selectInstance(node: SchemaNode | undefined, obj: DataObject, tree: SelectionTree, unselected: Unselected): DataObject | undefined {
  const out: DataObject = {};
  for (const match of tree.matches) if (!contentMatch(obj, match, out)) return undefined;
  if (!tree.members) return node ? obj : out;
  let selected = false;
  for (const [child, belows] of byMember(tree.members)) {
    const v = obj[child.jsonName];
    if (v === undefined) continue;
    let kept: DataValue | undefined;
    if (belows.includes(undefined)) kept = v;
    else if (v instanceof Map && belows.length > 1) kept = selectEntries(child, v, belows as SelectionTree[], unselected);
    else {
      for (const below of belows as SelectionTree[]) {
        const one = selectTree(child, v, below, unselected);
        if (one !== undefined) kept = kept === undefined ? one : union(v, kept, one);
      }
    }
    if (kept === undefined) continue;
    out[child.jsonName] = kept;
    selected = true;
  }
  if (!selected && unselected === 'omit') return undefined;
  // Keys stay so entries can be told apart.
  if (node?.kind === 'list') for (const k of node.keys) if (obj[k] !== undefined) out[k] = obj[k];
  const ordered: DataObject = {};
  for (const m of Object.keys(obj)) if (out[m] !== undefined) ordered[m] = out[m];
  return ordered;
}

/** The member selections grouped by the member they name (a subtree filter may name one many times). */
function byMember(members: MemberSelection[]): Map<SchemaNode, (SelectionTree | undefined)[]> {
  const out = new Map<SchemaNode, (SelectionTree | undefined)[]>();
  for (const { node, below } of members) {
    const list = out.get(node);
    if (list) list.push(below);
    else out.set(node, [below]);
  }
  return out;
}

/**
 * Several selections of one list (a subtree filter naming many entries, each by a content match:
 * `<topology><topology-id>t1</topology-id></topology>` repeated). Trying each selection on every
 * entry cost selections x entries; instead each selection is indexed by the value its first
 * single-leaf content match wants, and an entry is tried only with the selections that can match
 * it (by its value of that leaf, with contentMatch's identity leniency), plus those with no such
 * match. The result is what selecting with each and taking the union gives.
 */
function selectEntries(list: SchemaNode, entries: ListValue, belows: SelectionTree[], unselected: Unselected): ListValue | undefined {
  // Per pivot leaf: wanted value -> selections, and (identities) the name after the prefix -> selections.
  const pivots = new Map<string, { exact: Map<string, SelectionTree[]>; name: Map<string, SelectionTree[]> }>();
  const always: SelectionTree[] = [];
  const add = (m: Map<string, SelectionTree[]>, k: string, b: SelectionTree) => {
    const l = m.get(k);
    if (l) l.push(b);
    else m.set(k, [b]);
  };
  for (const below of belows) {
    const pivot = below.matches.find((m) => m.leaves.length === 1 && m.leaves[0].kind === 'leaf');
    if (!pivot) {
      always.push(below);
      continue;
    }
    const leaf = pivot.leaves[0].jsonName;
    let index = pivots.get(leaf);
    if (!index) pivots.set(leaf, (index = { exact: new Map(), name: new Map() }));
    add(index.exact, pivot.value, below);
    if (pivot.value.includes(':')) add(index.name, pivot.value.split(':')[1], below);
  }
  const out: ListValue = new Map();
  for (const [key, entry] of entries) {
    const candidates = new Set<SelectionTree>(always);
    for (const [leaf, index] of pivots) {
      const v = entry[leaf] as LeafValue | undefined;
      if (v === undefined) continue;
      for (const b of index.exact.get(lexicalOf(v)) ?? []) candidates.add(b);
      // sameIdentity: a prefixed value matches its name alone, or the same name under any prefix.
      if (typeof v === 'string' && v.includes(':')) {
        const name = v.split(':')[1];
        for (const b of index.exact.get(name) ?? []) candidates.add(b);
        for (const b of index.name.get(name) ?? []) candidates.add(b);
      }
    }
    let kept: DataObject | undefined;
    for (const below of candidates) {
      const one = selectInstance(list, entry, below, unselected);
      if (one) kept = kept ? (union(entry, kept, one) as DataObject) : one;
    }
    if (kept) out.set(key, kept);
  }
  return out.size || unselected === 'keep' ? out : undefined;
}

/**
 * The union of two selections `a` and `b` of one data value (a member named twice in a filter), in
 * the data's order; what either takes whole is the data itself, shared.
 */
function union(data: DataValue, a: DataValue, b: DataValue): DataValue {
  if (a === data || b === data) return data;
  if (data instanceof Map && a instanceof Map && b instanceof Map) {
    const out: ListValue = new Map();
    for (const [key, entry] of data) {
      const inA = a.get(key);
      const inB = b.get(key);
      if (inA && inB) out.set(key, union(entry, inA, inB) as DataObject);
      else if (inA ?? inB) out.set(key, (inA ?? inB)!);
    }
    return out;
  }
  if (Array.isArray(data) && Array.isArray(a) && Array.isArray(b)) {
    const taken = new Set([...a, ...b].map((x) => lexicalOf(x as LeafValue)));
    return (data as LeafValue[]).filter((x) => taken.has(lexicalOf(x)));
  }
  if (isObject(data) && isObject(a) && isObject(b)) {
    const out: DataObject = {};
    for (const [m, v] of Object.entries(data)) {
      const inA = a[m];
      const inB = b[m];
      if (inA !== undefined && inB !== undefined) out[m] = union(v, inA, inB);
      else if (inA !== undefined || inB !== undefined) out[m] = (inA ?? inB)!;
    }
    return out;
  }
  return a;
}

/** Whether `obj` meets `match`; the matching values are put in `out`. */
function contentMatch(obj: DataObject, match: ContentMatch, out: DataObject): boolean {
  let ok = false;
  for (const leaf of match.leaves) {
    const v = obj[leaf.jsonName];
    if (v === undefined) continue;
    if (leaf.kind === 'leaf-list') {
      const hits = (v as LeafValue[]).filter((x) => lexicalOf(x) === match.value);
      if (hits.length) {
        out[leaf.jsonName] = hits;
        ok = true;
      }
    } else if (lexicalOf(v as LeafValue) === match.value || sameIdentity(v as LeafValue, match.value)) {
      out[leaf.jsonName] = v;
      ok = true;
    }
  }
  return ok;
}

/** An identityref matches by its name with or without a prefix. */
function sameIdentity(v: LeafValue, want: string): boolean {
  return typeof v === 'string' && v.includes(':') && (v.split(':')[1] === want || v.split(':')[1] === want.split(':')[1]);
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
