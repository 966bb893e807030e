/**
 * Tree-wide validation of decoded data (RFC 7950 section 8): mandatory nodes, choice
 * exclusivity, min/max-elements, unique, must, when and leafref. The one schema walk for data.
 *
 * `validateTree` checks a whole tree; `validateChanges` checks only what a commit touched (the
 * changed subtrees in full, their ancestors shallowly, and the constraints elsewhere whose XPath
 * reads a changed node), so the cost follows the change and not the size of the store.
 */
import { YangError } from '../errors.ts';
import { cursorsOf, isObject, leafString, rootCursor, type DataCursor } from './cursor.ts';
import { formatPath, type InstancePath } from './path.ts';
import type { Constraint, DataObject, LeafValue, ResolvedType, Schema, SchemaNode, XPathExpr } from './schema.ts';
import { evaluateXPath, leafrefTargets, referencedSchemaNodes, toBool, type XPathValue } from './xpath/index.ts';

export interface ValidateOptions {
  /** The data is (and may only be) configuration: state nodes do not count and are not checked. */
  configOnly?: boolean;
}

/** Validates a complete tree (a datastore root). Throws the first error found. */
export function validateTree(schema: Schema, root: DataObject, opts: ValidateOptions = {}): void {
  const v = new Validator(schema, root, opts);
  v.object(rootCursor(root), '');
}

/**
 * Validates an operation body (rpc input/output, notification) whose object is `body`. The
 * datastore tree `datastore` (if given) is what absolute paths and leafrefs outside the body see.
 */
export function validateOperationBody(schema: Schema, node: SchemaNode, body: DataObject, path: string, datastore: DataObject = {}): void {
  const v = new Validator(schema, datastore, {});
  v.object({ schema: node, value: body, parent: rootCursor(datastore) }, path);
}

/** Validates what changed between two trees at the given (new-tree) paths. */
export function validateChanges(
  schema: Schema,
  root: DataObject,
  changed: InstancePath[],
  opts: ValidateOptions = {},
  /** True when every change only added data (nothing existed at any changed path before). */
  onlyCreations = false,
  /**
   * The tree before the commit. With it, an ancestor of a changed path that existed before (a list
   * entry a leaf was merged under) does not count as changed: its keys are what they were, so the
   * leafrefs and expressions that read only the list's entries and keys need no re-check.
   */
  before?: DataObject,
): void {
  const v = new Validator(schema, root, opts);
  const shallowDone = new Set<object>();
  const changedSchemas = new Set<SchemaNode>();
  for (const path of changed) {
    const chain = cursorChain(root, path);
    // The deepest existing node on the path is validated in full; its ancestors shallowly.
    const last = chain[chain.length - 1];
    const depth = chain.length - 1;
    // Steps 0..existed-1 of the path were there before the commit.
    const beforeChain = before ? cursorChain(before, path) : undefined;
    const existed = beforeChain ? beforeChain.length - 1 : 0;
    // The node at the path was there before and still is: an update, its identity (a list
    // entry's keys) unchanged, only what is under it may have changed.
    const updated = existed === path.length && depth === path.length;
    const tail = path[path.length - 1]?.schema;
    const was = updated ? beforeChain![existed].value : undefined;
    // An updated container or list entry: only the members that differ from the tree before
    // (unchanged subtrees keep their identity) are checked and count as changed.
    const diffed = updated && path.length > 0 && isObject(was) && isObject(last.value) && (tail.kind === 'container' || tail.kind === 'list');
    if (diffed) {
      v.changedIn(last, was as DataObject, formatPath(path), changedSchemas);
    } else if (depth === path.length && path.length > 0) {
      v.instance(last, formatPath(path));
    } else {
      if (!shallowDone.has(last.value as object)) {
        shallowDone.add(last.value as object);
        v.object(last, formatPath(path.slice(0, depth)), true);
      }
    }
    for (let i = chain.length - 2; i >= 0; i--) {
      const c = chain[i];
      if (shallowDone.has(c.value as object)) continue;
      shallowDone.add(c.value as object);
      v.object(c, formatPath(path.slice(0, i)), true);
      if (c.schema) v.constraints(c, formatPath(path.slice(0, i)));
    }
    path.forEach((s, i) => {
      if (i < existed && (i < path.length - 1 || updated)) return;
      changedSchemas.add(s.schema);
    });
    if (tail && !diffed) {
      const keys = updated && tail.kind === 'list' ? new Set(tail.keys) : undefined;
      for (const d of descendantsOf(tail)) if (!(keys?.has(d.name) && d.parent === tail)) changedSchemas.add(d);
    }
  }
  v.dependents(changedSchemas, onlyCreations);
}

/** Cursors from the root down the path, as far as the path exists in the tree. */
export function cursorChain(root: DataObject, path: InstancePath): DataCursor[] {
  const chain: DataCursor[] = [rootCursor(root)];
  let cur = chain[0];
  for (const step of path) {
    const obj = cur.value;
    if (!isObject(obj)) break;
    let v = obj[step.member];
    if (v === undefined) break;
    if (v instanceof Map) {
      if (step.key === undefined) break;
      v = v.get(step.key)!;
      if (v === undefined) break;
    } else if (step.schema.kind === 'leaf-list' && step.key !== undefined) {
      const found = (v as LeafValue[]).find((x) => leafString(x) === step.key);
      if (found === undefined) break;
      v = found;
    }
    cur = { schema: step.schema, value: v, parent: cur };
    chain.push(cur);
  }
  return chain;
}

const descendantsCache = new WeakMap<SchemaNode, SchemaNode[]>();

function descendantsOf(n: SchemaNode): SchemaNode[] {
  let out = descendantsCache.get(n);
  if (out) return out;
  out = [];
  for (const c of n.children) out.push(c, ...descendantsOf(c));
  descendantsCache.set(n, out);
  return out;
}

/** Per schema node, facts the walk needs again and again; computed once per schema. */
interface NodeFacts {
  /** Data children, each once. */
  children: SchemaNode[];
  /** Absent non-presence containers still need their mandatory descendants checked. */
  requiresContent: boolean;
  /** Choices directly or through nested choices under this data node. */
  choices: SchemaNode[];
  hasConstraints: boolean;
}

const factsCache = new WeakMap<SchemaNode, NodeFacts>();
const rootFactsCache = new WeakMap<Schema, NodeFacts>();

function facts(schema: Schema, n: SchemaNode | undefined): NodeFacts {
  if (!n) {
    let f = rootFactsCache.get(schema);
    if (!f) {
      const children = [...schema.roots.values()];
      f = { children, requiresContent: false, choices: [], hasConstraints: false };
      rootFactsCache.set(schema, f);
    }
    return f;
  }
  let f = factsCache.get(n);
  if (f) return f;
  const children = [...new Set(n.dataChildren.values())];
  const choices: SchemaNode[] = [];
  const collect = (x: SchemaNode) => {
    for (const c of x.children) {
      if (c.kind === 'choice') {
        choices.push(c);
        for (const cs of c.children) collect(cs);
      }
    }
  };
  collect(n);
  f = {
    children,
    requiresContent: false,
    choices,
    hasConstraints: n.must.length > 0 || n.when.length > 0 || n.type?.base === 'leafref' || hasLeafref(n.type),
  };
  factsCache.set(n, f);
  f.requiresContent =
    n.kind === 'container' && !n.presence &&
    (children.some((c) => (c.mandatory && !c.case) || (c.minElements > 0 && !c.case) || facts(schema, c).requiresContent) ||
      choices.some((c) => c.mandatory && !c.case));
  return f;
}

function hasLeafref(t: SchemaNode['type']): boolean {
  if (!t) return false;
  if (t.base === 'leafref') return true;
  return (t.union ?? []).some((u) => hasLeafref(u));
}

class Validator {
  private readonly leafrefSets = new Map<XPathExpr, WeakMap<object, Set<string>>>();

  constructor(
    private readonly schema: Schema,
    private readonly root: DataObject,
    private readonly opts: ValidateOptions,
  ) {}

  /** Validates one instance (container, list entry, leaf ...) and everything under it. */
  instance(c: DataCursor, path: string): void {
    const n = c.schema!;
    if (n.kind === 'leaf' || n.kind === 'leaf-list') {
      this.constraints(c, path);
      return;
    }
    if (n.kind === 'list' && c.value instanceof Map) {
      for (const [key, entry] of c.value) this.instance({ schema: n, value: entry, parent: c.parent }, `${path}=${key}`);
      return;
    }
    this.constraints(c, path);
    if (isObject(c.value)) this.object(c, path);
    // The node's own list/leaf-list/choice constraints live in its parent object, which the
    // caller checks (shallowly) once for all the changes under it.
  }

  /**
   * Validates an updated container or list entry against what it was: its own constraints, its
   * members as a set, and in full only the members that are not the very values they were
   * (containers compared member by member, down to the leaves that changed). Adds the schema
   * nodes that changed to `changed`, for the constraints elsewhere that read them.
   */
  changedIn(c: DataCursor, was: DataObject, path: string, changed: Set<SchemaNode>): void {
    this.constraints(c, path);
    this.object(c, path, true);
    const obj = c.value as DataObject;
    for (const child of facts(this.schema, c.schema).children) {
      if (this.opts.configOnly && !child.config) continue;
      const now = obj[child.jsonName];
      const then = was[child.jsonName];
      if (now === then) continue;
      const childPath = `${path}/${child.jsonName}`;
      if (child.kind === 'container' && isObject(now) && isObject(then)) {
        this.changedIn({ schema: child, value: now, parent: c }, then, childPath, changed);
        continue;
      }
      if (now !== undefined) this.member(child, now, c, childPath);
      changed.add(child);
      for (const d of descendantsOf(child)) changed.add(d);
    }
  }

  /**
   * Validates the members of an object. `shallow`: only the rules that concern the members as a
   * set (mandatory, choice, min/max-elements, unique), not the members' own subtrees.
   */
  object(c: DataCursor, path: string, shallow = false): void {
    const obj = c.value as DataObject;
    const f = facts(this.schema, c.schema);
    const activeCases = new Set<SchemaNode>();
    for (const child of f.children) {
      if (this.opts.configOnly && !child.config) continue;
      const v = obj[child.jsonName];
      if (v === undefined) {
        if (child.case) continue;
        this.absent(child, c, path);
        continue;
      }
      for (let cs: SchemaNode | undefined = child.case; cs; cs = cs.parent?.case) activeCases.add(cs);
      if (child.kind === 'list' || child.kind === 'leaf-list') this.counts(child, v, `${path}/${child.jsonName}`);
      if (child.kind === 'list' && child.unique.length && v instanceof Map) this.unique(child, v, `${path}/${child.jsonName}`);
      if (shallow) continue;
      // Plain leaves without constraints (most of any tree) need nothing more.
      if (child.kind === 'leaf' && !facts(this.schema, child).hasConstraints) continue;
      this.member(child, v, c, `${path}/${child.jsonName}`);
    }
    if (f.choices.length) this.choices(f.choices, obj, activeCases, c, path);
  }

  private member(child: SchemaNode, v: unknown, parent: DataCursor, childPath: string): void {
    const childFacts = facts(this.schema, child);
    if (child.when.length) {
      // A node whose when is false must not exist.
      const probe = cursorsOf(child, parent)[0];
      for (const w of child.when) {
        if (!this.holds(w, w.contextIsParent ? parent : probe, probe)) {
          throw new YangError({
            tag: 'unknown-element',
            appTag: 'when-violation',
            message: w.errorMessage ?? `"${child.name}" is present but its when condition "${w.source}" is false`,
            path: childPath,
          });
        }
      }
    }
    if (child.kind === 'list' && v instanceof Map) {
      for (const [key, entry] of v) {
        const ec: DataCursor = { schema: child, value: entry, parent };
        const ep = `${childPath}=${key}`;
        if (childFacts.hasConstraints) this.mustAndLeafref(ec, ep);
        this.object(ec, ep);
      }
      return;
    }
    if (child.kind === 'leaf-list' && Array.isArray(v)) {
      if (childFacts.hasConstraints) {
        for (const item of v as LeafValue[]) this.mustAndLeafref({ schema: child, value: item, parent }, childPath);
      }
      return;
    }
    const cc: DataCursor = { schema: child, value: v as LeafValue, parent };
    if (childFacts.hasConstraints) this.mustAndLeafref(cc, childPath);
    if (child.kind === 'container' && isObject(v)) this.object(cc, childPath);
  }

  /** A member that is not there: was it required? */
  private absent(child: SchemaNode, parent: DataCursor, parentPath: string): void {
    if (!child.mandatory && child.minElements === 0 && !facts(this.schema, child).requiresContent) return;
    const childPath = `${parentPath}/${child.jsonName}`;
    // Not required when its own when condition is false.
    for (const w of child.when) {
      if (!this.holds(w, parent, parent)) return;
    }
    if (child.kind === 'container') {
      // A non-presence container exists implicitly; its required content must be there.
      this.object({ schema: child, value: {}, parent }, childPath, true);
      return;
    }
    if (child.minElements > 0) {
      throw new YangError({ tag: 'operation-failed', appTag: 'too-few-elements', message: `"${child.name}" needs at least ${child.minElements} element(s), has 0`, path: childPath });
    }
    throw new YangError({ tag: 'missing-element', type: 'protocol', message: `mandatory "${child.name}" is missing`, path: childPath, info: { 'bad-element': child.name } });
  }

  private counts(child: SchemaNode, v: unknown, path: string): void {
    const n = v instanceof Map ? v.size : Array.isArray(v) ? v.length : 1;
    if (n < child.minElements) {
      throw new YangError({ tag: 'operation-failed', appTag: 'too-few-elements', message: `"${child.name}" needs at least ${child.minElements} element(s), has ${n}`, path });
    }
    if (n > child.maxElements) {
      throw new YangError({ tag: 'operation-failed', appTag: 'too-many-elements', message: `"${child.name}" allows at most ${child.maxElements} element(s), has ${n}`, path });
    }
  }

  private unique(list: SchemaNode, entries: Map<string, DataObject>, path: string): void {
    for (const u of list.unique) {
      const seen = new Map<string, string>();
      for (const [key, entry] of entries) {
        const parts: string[] = [];
        let complete = true;
        for (const steps of u) {
          const val = descendantValue(list, entry, steps);
          if (val === undefined) {
            complete = false;
            break;
          }
          parts.push(leafString(val));
        }
        if (!complete) continue;
        const sig = JSON.stringify(parts);
        const other = seen.get(sig);
        if (other !== undefined) {
          throw new YangError({
            tag: 'operation-failed',
            appTag: 'data-not-unique',
            message: `entries ${other} and ${key} of "${list.name}" share the unique values (${u.map((s) => s.map((q) => q.split(':')[1]).join('/')).join(' ')})`,
            path: `${path}=${key}`,
          });
        }
        seen.set(sig, key);
      }
    }
  }

  private choices(choices: SchemaNode[], obj: DataObject, active: Set<SchemaNode>, c: DataCursor, path: string): void {
    for (const ch of choices) {
      // A nested choice counts only when its enclosing case is the one in effect.
      if (ch.case && !active.has(ch.case)) continue;
      const on = ch.children.filter((cs) => active.has(cs));
      if (on.length > 1) {
        throw new YangError({ tag: 'invalid-value', appTag: 'multiple-cases', message: `choice "${ch.name}" has data from more than one case (${on.map((x) => x.name).join(', ')})`, path });
      }
      let inEffect = on[0];
      if (!inEffect) {
        if (ch.mandatory) {
          throw new YangError({ tag: 'data-missing', appTag: 'missing-choice', message: `mandatory choice "${ch.name}" has no case`, path, info: { 'missing-choice': ch.name } });
        }
        inEffect = ch.children.find((cs) => cs.name === ch.defaultCase)!;
        if (!inEffect) continue;
        continue; // the default case's mandatory nodes are not required when no case is given
      }
      for (const n of dataNodesOfCase(inEffect)) {
        if (obj[n.jsonName] === undefined && n.case === inEffect) this.absent(n, c, path);
      }
    }
  }

  /** must, when and leafref of one node instance (its subtree is not visited). */
  constraints(c: DataCursor, path: string): void {
    const n = c.schema!;
    if (c.parent && n.when.length) {
      for (const w of n.when) {
        if (!this.holds(w, w.contextIsParent ? c.parent : c, c)) {
          throw new YangError({ tag: 'unknown-element', appTag: 'when-violation', message: w.errorMessage ?? `"${n.name}" is present but its when condition "${w.source}" is false`, path });
        }
      }
    }
    this.mustAndLeafref(c, path);
  }

  private mustAndLeafref(c: DataCursor, path: string): void {
    const n = c.schema!;
    for (const m of n.must) {
      if (!this.holds(m, c, c)) {
        throw new YangError({
          tag: 'operation-failed',
          appTag: m.errorAppTag ?? 'must-violation',
          message: m.errorMessage ?? `must condition "${m.source}" of "${n.name}" is not satisfied`,
          path,
        });
      }
    }
    if (n.type && (n.kind === 'leaf' || n.kind === 'leaf-list') && hasLeafref(n.type)) this.leafref(c, n, path);
  }

  private leafref(c: DataCursor, n: SchemaNode, path: string): void {
    const lr = leafrefType(n);
    if (!lr || !lr.leafrefPath || lr.requireInstance === false) return;
    const value = leafString(c.value as LeafValue);
    // A leafref to the key of a list is a lookup in that list; any other is checked against
    // the set of values its path selects, computed once per anchor.
    const found = pointsAtListKey(lr)
      ? leafrefTargets(lr.leafrefPath, this.ctx(c, c), value).length > 0
      : this.targets(lr.leafrefPath, c).has(value);
    if (!found) {
      throw new YangError({
        tag: 'data-missing',
        appTag: 'instance-required',
        message: `"${n.name}" refers to "${value}", which does not exist (${(lr.leafrefPath as unknown as { source?: string }).source ?? 'leafref'})`,
        path,
      });
    }
  }

  /**
   * The set of values a leafref may take at a cursor. A path made of `..` steps then child steps
   * yields the same set for every leaf under one ancestor, so the set is cached per ancestor.
   */
  private targets(expr: XPathExpr, c: DataCursor): Set<string> {
    const ups = simpleUps(expr);
    if (ups === undefined) return this.valueSet(evaluateXPath(expr, this.ctx(c, c)));
    let anchor: DataCursor | null = c;
    for (let i = 0; i < ups && anchor; i++) anchor = anchor.parent;
    const anchorObj = (anchor ?? rootCursor(this.root)).value as object;
    let byAnchor = this.leafrefSets.get(expr);
    if (!byAnchor) {
      byAnchor = new WeakMap();
      this.leafrefSets.set(expr, byAnchor);
    }
    let set = byAnchor.get(anchorObj);
    if (!set) {
      set = this.valueSet(evaluateXPath(expr, this.ctx(c, c)));
      byAnchor.set(anchorObj, set);
    }
    return set;
  }

  private valueSet(v: XPathValue): Set<string> {
    const out = new Set<string>();
    if (Array.isArray(v)) for (const n of v) out.add(leafString(n.value as LeafValue));
    return out;
  }

  private ctx(node: DataCursor, current: DataCursor) {
    return { schema: this.schema, root: rootOf(node) ?? rootCursor(this.root), node, current };
  }

  private holds(k: Constraint, node: DataCursor, current: DataCursor): boolean {
    return toBool(evaluateXPath(k.expr, this.ctx(node, current)));
  }

  /**
   * Re-checks, everywhere in the tree, the constraints whose expressions read one of the changed
   * schema nodes (a leafref to a deleted entry, a count() over a list that grew).
   */
  dependents(changed: Set<SchemaNode>, onlyCreations: boolean): void {
    const index = dependentIndex(this.schema);
    const holders = new Set<SchemaNode>();
    const collect = (m: Map<SchemaNode, SchemaNode[]>) => {
      for (const s of changed) for (const h of m.get(s) ?? []) holders.add(h);
      for (const h of m.get(UNKNOWN) ?? []) holders.add(h);
    };
    collect(index.expressions);
    // Adding data never takes a leafref's target away: only updates and deletions can.
    if (!onlyCreations) collect(index.leafrefs);
    for (const h of holders) {
      if (this.opts.configOnly && !h.config) continue;
      for (const inst of instancesOf(this.root, h)) this.constraints(inst.cursor, inst.path);
    }
  }
}

const UNKNOWN = { name: '#unknown' } as SchemaNode;

interface DependentIndex {
  /** Schema node -> nodes whose must/when read it. */
  expressions: Map<SchemaNode, SchemaNode[]>;
  /** Schema node -> leaves whose leafref path reads it. */
  leafrefs: Map<SchemaNode, SchemaNode[]>;
}

const dependentIndexCache = new WeakMap<Schema, DependentIndex>();

/** Which constraint holders read which schema nodes; computed once per schema. */
function dependentIndex(schema: Schema): DependentIndex {
  let index = dependentIndexCache.get(schema);
  if (index) return index;
  const built: DependentIndex = { expressions: new Map(), leafrefs: new Map() };
  const add = (m: Map<SchemaNode, SchemaNode[]>, s: SchemaNode, h: SchemaNode) => {
    const l = m.get(s) ?? [];
    if (!l.includes(h)) l.push(h);
    m.set(s, l);
  };
  const record = (m: Map<SchemaNode, SchemaNode[]>, e: XPathExpr, n: SchemaNode) => {
    const refs = referencedSchemaNodes(e, n, schema);
    if (!refs) add(m, UNKNOWN, n);
    else for (const r of refs) if (r !== n) add(m, r, n);
  };
  const visit = (n: SchemaNode) => {
    for (const k of [...n.must, ...n.when]) record(built.expressions, k.expr, n);
    const lr = leafrefType(n);
    if (lr?.leafrefPath && lr.requireInstance !== false) record(built.leafrefs, lr.leafrefPath, n);
    for (const c of n.children) visit(c);
  };
  for (const r of schema.roots.values()) visit(r);
  dependentIndexCache.set(schema, built);
  return built;
}

function leafrefType(n: SchemaNode): ResolvedType | undefined {
  const t = n.type;
  if (!t) return undefined;
  return t.base === 'leafref' ? t : t.union?.find((u) => u.base === 'leafref');
}

/** True when a leafref's target is the single key of a list, reached by plain child steps. */
function pointsAtListKey(t: ResolvedType): boolean {
  const target = t.leafrefTarget;
  const list = target?.dataParent;
  const p = t.leafrefPath;
  if (!target || !list || list.kind !== 'list' || list.keys.length !== 1 || list.keys[0] !== target.name) return false;
  if (!p || p.kind !== 'path' || p.filter || p.steps.length < 2) return false;
  return p.steps.slice(-2).every((s) => s.axis === 'child' && !s.predicates.length);
}

function rootOf(c: DataCursor): DataCursor | undefined {
  let cur: DataCursor = c;
  while (cur.parent) cur = cur.parent;
  return cur.schema ? undefined : cur;
}

/** Every instance of a schema node in a tree, with cursor and path. */
function instancesOf(root: DataObject, target: SchemaNode): { cursor: DataCursor; path: string }[] {
  const chain: SchemaNode[] = [];
  for (let n: SchemaNode | undefined = target; n; n = n.dataParent) chain.unshift(n);
  let level: { cursor: DataCursor; path: string }[] = [{ cursor: rootCursor(root), path: '' }];
  for (const n of chain) {
    const next: typeof level = [];
    for (const { cursor, path } of level) {
      const obj = cursor.value;
      if (!isObject(obj)) continue;
      const v = obj[n.jsonName];
      if (v === undefined) continue;
      const p = `${path}/${n.jsonName}`;
      if (v instanceof Map) for (const [k, e] of v) next.push({ cursor: { schema: n, value: e, parent: cursor }, path: `${p}=${k}` });
      else if (n.kind === 'leaf-list' && Array.isArray(v)) for (const e of v as LeafValue[]) next.push({ cursor: { schema: n, value: e, parent: cursor }, path: p });
      else next.push({ cursor: { schema: n, value: v as LeafValue, parent: cursor }, path: p });
    }
    level = next;
  }
  return level;
}

/** Number of leading `..` steps if the path is `..`* then child steps without predicates. */
function simpleUps(expr: XPathExpr): number | undefined {
  if (expr.kind !== 'path' || expr.absolute === undefined || expr.filter) return undefined;
  let ups = 0;
  let seenChild = false;
  for (const s of expr.steps) {
    if (s.predicates.length) return undefined;
    if (s.axis === 'parent') {
      if (seenChild) return undefined;
      ups++;
    } else if (s.axis === 'child') seenChild = true;
    else return undefined;
  }
  // Absolute paths: the same set for the whole tree, anchored at the root.
  return expr.absolute ? Number.MAX_SAFE_INTEGER : ups;
}

function dataNodesOfCase(cs: SchemaNode): SchemaNode[] {
  const out: SchemaNode[] = [];
  for (const c of cs.children) {
    if (c.kind === 'choice') continue;
    out.push(c);
  }
  return out;
}

function descendantValue(list: SchemaNode, entry: DataObject, steps: string[]): LeafValue | undefined {
  let node: SchemaNode | undefined = list;
  let v: unknown = entry;
  for (const q of steps) {
    node = node?.dataChildren.get(q);
    if (!node || !isObject(v)) return undefined;
    v = (v as DataObject)[node.jsonName];
    if (v === undefined) return node.kind === 'leaf' ? node.default : undefined;
  }
  return v as LeafValue;
}
