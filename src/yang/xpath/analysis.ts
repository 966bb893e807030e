/**
 * Static analysis of expressions over the schema, for the compiler and the validator: the schema
 * node a leafref path leads to, and the schema nodes an expression can read (so the validator
 * re-checks a constraint only when something it reads changed).
 */

import type { Schema, SchemaNode } from '../schema.ts';
import { CONTEXT_DEFAULT_FUNCTIONS, type CallExpr, type PathExpr, type XPathExpr, type XPathStep } from './parser.ts';
import { topLevelSchema } from './evaluator.ts';
import { flatTypes } from './leafref.ts';

/** The schema root, as a position for static walks. */
const ROOT = { root: true } as const;
type Pos = SchemaNode | typeof ROOT;

function isRoot(p: Pos): p is typeof ROOT {
  return p === ROOT;
}

/** The data parent as XPath sees it: input/output stand for their operation. */
function schemaParent(n: SchemaNode): Pos {
  let p = n.dataParent;
  if ((n.kind === 'input' || n.kind === 'output') && p) p = p.dataParent;
  return p ?? ROOT;
}

function schemaChild(p: Pos, qname: string, schema: Schema): SchemaNode | undefined {
  if (isRoot(p)) return topLevelSchema(schema, qname);
  const c = p.dataChildren.get(qname);
  if (c) return c;
  if (p.kind === 'rpc' || p.kind === 'action') {
    for (const io of p.children) {
      if (io.kind === 'input' || io.kind === 'output') {
        const x = io.dataChildren.get(qname);
        if (x) return x;
      }
    }
  }
  return undefined;
}

/**
 * The schema node a leafref-style path leads to from `from` (the leaf carrying the path), ignoring
 * predicates; undefined when a step does not exist or the path is not a plain chain of child,
 * parent and self steps (filters such as `deref(..)/..` included).
 */
export function schemaTarget(expr: XPathExpr, from: SchemaNode, schema: Schema): SchemaNode | undefined {
  if (expr.kind !== 'path' || expr.filter) return undefined;
  let p: Pos = expr.absolute ? ROOT : from;
  for (const step of expr.steps) {
    switch (step.axis) {
      case 'child': {
        if (step.nodeTest !== undefined || step.name === '*') return undefined;
        const c = schemaChild(p, `${step.module}:${step.name}`, schema);
        if (!c) return undefined;
        p = c;
        break;
      }
      case 'parent': {
        if (isRoot(p)) return undefined;
        const up = schemaParent(p);
        if (!schemaMatches(up, step)) return undefined;
        p = up;
        break;
      }
      case 'self':
        if (!schemaMatches(p, step)) return undefined;
        break;
      default:
        return undefined;
    }
  }
  return isRoot(p) ? undefined : p;
}

function schemaMatches(p: Pos, step: XPathStep): boolean {
  if (step.nodeTest === 'node') return true;
  if (isRoot(p)) return false;
  if (step.nodeTest === 'text') return p.kind === 'leaf' || p.kind === 'leaf-list';
  if (step.name === '*') return step.module === undefined || p.module === step.module;
  return p.name === step.name && (step.module === undefined || p.module === step.module);
}

class Unresolvable extends Error {}

/**
 * The schema nodes an expression can read, evaluated with `from` as context and current node:
 * every node a child or other forward step can land on (intermediate steps included; not those
 * a parent or self step reaches, whose existence follows from where they were reached from), and
 * for nodes whose string-value is read, their data descendants. Undefined when that cannot be known statically
 * (e.g. `deref()` of an instance-identifier, or the string-value of the whole tree).
 */
export function referencedSchemaNodes(expr: XPathExpr, from: SchemaNode, schema: Schema): Set<SchemaNode> | undefined {
  const out = new Set<SchemaNode>();
  try {
    new RefWalker(schema, from, out).visit(expr, new Set<Pos>([from]), false);
  } catch (e) {
    if (e instanceof Unresolvable) return undefined;
    throw e;
  }
  return out;
}

const EMPTY_POS: ReadonlySet<Pos> = new Set<Pos>();

class RefWalker {
  private derefDepth = 0;

  constructor(
    private readonly schema: Schema,
    private readonly current: SchemaNode,
    private readonly out: Set<SchemaNode>,
  ) {}

  /**
   * Visits `e` with the given context positions; returns the positions of a node-set result.
   * `valueUsed`: the result's string/number value may be read (so descendants matter).
   */
  visit(e: XPathExpr, ctx: ReadonlySet<Pos>, valueUsed: boolean): ReadonlySet<Pos> {
    switch (e.kind) {
      case 'literal': case 'number':
        return EMPTY_POS;
      case 'or': case 'and':
        this.visit(e.left, ctx, false);
        this.visit(e.right, ctx, false);
        return EMPTY_POS;
      case 'cmp': case 'arith':
        this.visit(e.left, ctx, true);
        this.visit(e.right, ctx, true);
        return EMPTY_POS;
      case 'neg':
        this.visit(e.operand, ctx, true);
        return EMPTY_POS;
      case 'union': {
        const a = this.visit(e.left, ctx, valueUsed);
        const b = this.visit(e.right, ctx, valueUsed);
        return new Set([...a, ...b]);
      }
      case 'call':
        return this.visitCall(e, ctx, valueUsed);
      case 'path':
        return this.visitPath(e, ctx, valueUsed);
    }
  }

  private visitCall(e: CallExpr, ctx: ReadonlySet<Pos>, valueUsed: boolean): ReadonlySet<Pos> {
    switch (e.name) {
      case 'current': {
        const r = new Set<Pos>([this.current]);
        this.use(r, valueUsed);
        return r;
      }
      case 'count': case 'boolean': case 'not':
        for (const a of e.args) this.visit(a, ctx, false);
        return EMPTY_POS;
      case 'local-name': case 'name': case 'namespace-uri':
        for (const a of e.args) this.visit(a, ctx, false);
        return EMPTY_POS;
      case 'deref': {
        const args = this.visit(e.args[0]!, ctx, true);
        const targets = new Set<Pos>();
        for (const p of args) {
          if (isRoot(p)) throw new Unresolvable();
          for (const t of this.derefTargets(p)) targets.add(t);
        }
        this.use(targets, valueUsed);
        return targets;
      }
      default:
        if (e.args.length === 0 && CONTEXT_DEFAULT_FUNCTIONS.has(e.name)) this.use(ctx, true);
        for (const a of e.args) this.visit(a, ctx, true);
        return EMPTY_POS;
    }
  }

  private derefTargets(p: SchemaNode): SchemaNode[] {
    if (!p.type) return [];
    const out: SchemaNode[] = [];
    for (const t of flatTypes(p.type)) {
      if (t.base === 'instance-identifier') throw new Unresolvable();
      if (t.base !== 'leafref' || !t.leafrefPath) continue;
      const target = t.leafrefTarget ?? schemaTarget(t.leafrefPath, p, this.schema);
      if (!target) throw new Unresolvable();
      out.push(target);
      this.out.add(target);
      // The nodes the leafref path itself reads decide which node deref() returns.
      if (this.derefDepth > 16) throw new Unresolvable();
      this.derefDepth++;
      new RefWalker(this.schema, p, this.out).visit(t.leafrefPath, new Set<Pos>([p]), true);
      this.derefDepth--;
    }
    return out;
  }

  private visitPath(e: PathExpr, ctx: ReadonlySet<Pos>, valueUsed: boolean): ReadonlySet<Pos> {
    let set: ReadonlySet<Pos>;
    if (e.filter) {
      set = this.visit(e.filter, ctx, valueUsed && e.steps.length === 0);
      if (e.filterPredicates) for (const p of e.filterPredicates) this.visit(p, set, true);
    } else if (e.absolute) {
      set = new Set<Pos>([ROOT]);
    } else {
      set = ctx;
    }
    // Forward: the positions each step can reach, and from where.
    const steps = e.steps;
    const levels: Map<Pos, Set<Pos>>[] = [];
    for (const step of steps) {
      const level = new Map<Pos, Set<Pos>>();
      for (const p of set) {
        const reached = new Set<Pos>();
        this.stepPositions(p, step, reached);
        for (const r of reached) {
          let from = level.get(r);
          if (!from) level.set(r, (from = new Set()));
          from.add(p);
        }
      }
      levels.push(level);
      set = new Set(level.keys());
    }
    // Backward: only positions on the way to a result are read (so `//x` is not everything).
    let alive: ReadonlySet<Pos> = set;
    for (let k = steps.length - 1; k >= 0; k--) {
      // A node reached by a parent or self step exists whenever the node it was reached from
      // does (an instance has exactly one parent): what decides the result is already recorded
      // for that node. So `../../x` from a leaf does not read the leaf's ancestors, and a change
      // under an ancestor (a sibling merged into the same list entry) does not re-check it.
      const axis = steps[k]!.axis;
      if (axis !== 'parent' && axis !== 'self') for (const p of alive) if (!isRoot(p)) this.out.add(p);
      for (const pred of steps[k]!.predicates) this.visit(pred, alive, true);
      const prev = new Set<Pos>();
      for (const p of alive) for (const q of levels[k]!.get(p)!) prev.add(q);
      alive = prev;
    }
    this.use(set, valueUsed);
    return set;
  }

  /** Records that the values of nodes at these positions are read. */
  private use(set: ReadonlySet<Pos>, valueUsed: boolean): void {
    for (const p of set) {
      if (isRoot(p)) {
        if (valueUsed) throw new Unresolvable();
        continue;
      }
      this.out.add(p);
      if (valueUsed && p.kind !== 'leaf' && p.kind !== 'leaf-list') this.addDescendants(p);
    }
  }

  private addDescendants(p: SchemaNode): void {
    for (const c of new Set(p.dataChildren.values())) {
      if (this.out.has(c) && c.dataChildren.size === 0) continue;
      this.out.add(c);
      this.addDescendants(c);
    }
  }

  private stepPositions(p: Pos, step: XPathStep, out: Set<Pos>): void {
    switch (step.axis) {
      case 'child':
        if (step.nodeTest === 'text') {
          if (!isRoot(p) && (p.kind === 'leaf' || p.kind === 'leaf-list')) out.add(p);
        } else if (step.nodeTest === undefined && step.name !== '*' && step.module !== undefined) {
          const c = schemaChild(p, `${step.module}:${step.name}`, this.schema);
          if (c) out.add(c);
        } else {
          for (const c of this.childrenOf(p)) if (schemaMatches(c, step)) out.add(c);
        }
        return;
      case 'parent':
        if (!isRoot(p)) {
          const up = schemaParent(p);
          if (schemaMatches(up, step)) out.add(up);
        }
        return;
      case 'self':
        if (schemaMatches(p, step)) out.add(p);
        return;
      case 'descendant-or-self':
        if (schemaMatches(p, step)) out.add(p);
        this.descendants(p, step, out);
        return;
      case 'descendant':
        this.descendants(p, step, out);
        return;
      case 'ancestor':
      case 'ancestor-or-self': {
        let a: Pos | undefined = step.axis === 'ancestor' ? (isRoot(p) ? undefined : schemaParent(p)) : p;
        while (a) {
          if (schemaMatches(a, step)) out.add(a);
          a = isRoot(a) ? undefined : schemaParent(a);
        }
        return;
      }
      case 'following-sibling':
      case 'preceding-sibling':
        if (!isRoot(p)) for (const c of this.childrenOf(schemaParent(p))) if (schemaMatches(c, step)) out.add(c);
        return;
    }
  }

  private childrenOf(p: Pos): Iterable<SchemaNode> {
    if (isRoot(p)) return this.schema.roots.values();
    return new Set(p.dataChildren.values());
  }

  private descendants(p: Pos, step: XPathStep, out: Set<Pos>): void {
    for (const c of this.childrenOf(p)) {
      if (schemaMatches(c, step)) out.add(c);
      this.descendants(c, step, out);
    }
  }
}
