/**
 * Evaluation of parsed expressions over `DataCursor` trees: paths and axes, predicates, document
 * order, conversions and comparisons (XPath 1.0 sections 2-4). Every node-set it returns is in
 * document order and free of duplicates. Evaluation is kept allocation-light for the shapes YANG
 * uses most: short relative paths from one node, and list steps whose predicates pin every key
 * (`list[key = current()/../ref]`), which are looked up in the list's `Map` instead of scanned.
 */

import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from '../schema.ts';
import { childCursors, cursorsOf, isObject, leafString, type DataCursor } from '../cursor.ts';
import { CONTEXT_DEFAULT_FUNCTIONS, type CmpOp, type PathExpr, type XPathExpr, type XPathStep } from './parser.ts';
import { call } from './functions.ts';

export type XPathValue = boolean | number | string | DataCursor[];

export interface XPathContext {
  schema: Schema;
  root: DataCursor;
  node: DataCursor;
  current: DataCursor;
}

export interface EvalState {
  schema: Schema;
  root: DataCursor;
  current: DataCursor;
  /** Document-order caches, made on first use. */
  memberIndex?: WeakMap<object, Map<string, number>>;
  entryIndex?: WeakMap<object, Map<unknown, number>>;
}

/** Evaluates an expression; node-set results are in document order without duplicates. */
export function evaluateXPath(expr: XPathExpr, ctx: XPathContext): XPathValue {
  const st: EvalState = { schema: ctx.schema, root: ctx.root, current: ctx.current };
  return evaluate(expr, ctx.node, 1, 1, st);
}

export function evaluate(e: XPathExpr, node: DataCursor, pos: number, size: number, st: EvalState): XPathValue {
  switch (e.kind) {
    case 'path':
      return evalPath(e, node, pos, size, st);
    case 'literal':
    case 'number':
      return e.value;
    case 'cmp':
      return compare(e.op, evaluate(e.left, node, pos, size, st), evaluate(e.right, node, pos, size, st));
    case 'and':
      return toBool(evaluate(e.left, node, pos, size, st)) && toBool(evaluate(e.right, node, pos, size, st));
    case 'or':
      return toBool(evaluate(e.left, node, pos, size, st)) || toBool(evaluate(e.right, node, pos, size, st));
    case 'arith': {
      const l = toNum(evaluate(e.left, node, pos, size, st));
      const r = toNum(evaluate(e.right, node, pos, size, st));
      switch (e.op) {
        case '+': return l + r;
        case '-': return l - r;
        case '*': return l * r;
        case 'div': return l / r;
        default: return l % r;
      }
    }
    case 'neg':
      return -toNum(evaluate(e.operand, node, pos, size, st));
    case 'union': {
      const l = nodeSetOf(evaluate(e.left, node, pos, size, st), 'the operands of "|"');
      const r = nodeSetOf(evaluate(e.right, node, pos, size, st), 'the operands of "|"');
      if (l.length === 0) return r;
      if (r.length === 0) return l;
      return sortUnique(l.concat(r), st);
    }
    case 'call':
      return call(e, node, pos, size, st);
  }
}

export function nodeSetOf(v: XPathValue, what: string): DataCursor[] {
  if (!Array.isArray(v)) throw new Error(`XPath: ${what} must be node-sets, got ${typeof v}`);
  return v;
}

// ----- paths -----

export function evalPath(e: PathExpr, node: DataCursor, pos: number, size: number, st: EvalState): DataCursor[] {
  let set: DataCursor[];
  // True while `set` is in document order, duplicate-free and all at one depth.
  let uniform: boolean;
  if (e.filter) {
    set = nodeSetOf(evaluate(e.filter, node, pos, size, st), 'filtered expressions');
    if (e.filterPredicates) set = applyPredicates(set, e.filterPredicates, 0, st);
    uniform = set.length <= 1;
  } else {
    set = [e.absolute ? st.root : node];
    uniform = true;
  }
  const steps = e.steps;
  for (let s = 0; s < steps.length; s++) {
    if (set.length === 0) return set;
    const step = steps[s]!;
    if (set.length === 1) {
      set = stepFrom(set[0]!, step, st);
      uniform = !(step.axis === 'descendant' || step.axis === 'descendant-or-self' || step.axis === 'ancestor' || step.axis === 'ancestor-or-self');
      continue;
    }
    let out: DataCursor[] = [];
    for (const c of set) {
      const r = stepFrom(c, step, st);
      for (const x of r) out.push(x);
    }
    const axis = step.axis;
    if (uniform && (axis === 'child' || axis === 'self')) {
      // children of same-depth nodes in document order are in document order
    } else if (uniform && axis === 'parent') {
      out = dedupAdjacent(out);
    } else {
      out = sortUnique(out, st);
      uniform = uniform && (axis === 'following-sibling' || axis === 'preceding-sibling');
    }
    set = out;
  }
  return set;
}

function dedupAdjacent(nodes: DataCursor[]): DataCursor[] {
  if (nodes.length < 2) return nodes;
  const out = [nodes[0]!];
  for (let i = 1; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (!sameNode(n, out[out.length - 1]!)) out.push(n);
  }
  return out;
}

/** Whether two cursors stand for the same data node. */
function sameNode(a: DataCursor, b: DataCursor): boolean {
  for (;;) {
    if (a === b) return true;
    if (a.schema !== b.schema || a.value !== b.value) return false;
    // Containers and list entries are their own identity.
    if (isObject(a.value)) return true;
    const pa = a.parent;
    const pb = b.parent;
    if (!pa || !pb) return pa === pb;
    a = pa;
    b = pb;
  }
}

/** The nodes one step reaches from one context node, predicates applied, in document order. */
export function stepFrom(c: DataCursor, step: XPathStep, st: EvalState): DataCursor[] {
  switch (step.axis) {
    case 'child':
      return childStep(c, step, st);
    case 'parent': {
      const p = c.parent;
      if (!p || !matches(p, step)) return [];
      return step.predicates.length ? applyPredicates([p], step.predicates, 0, st) : [p];
    }
    case 'self': {
      if (!matches(c, step)) return [];
      return step.predicates.length ? applyPredicates([c], step.predicates, 0, st) : [c];
    }
    case 'descendant':
    case 'descendant-or-self': {
      const out: DataCursor[] = [];
      if (step.axis === 'descendant-or-self' && matches(c, step)) out.push(c);
      collectDescendants(c, step, st, out);
      return step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out;
    }
    case 'ancestor':
    case 'ancestor-or-self': {
      // Reverse axis: proximity order is nearest first.
      const out: DataCursor[] = [];
      for (let a = step.axis === 'ancestor' ? c.parent : c; a; a = a.parent) if (matches(a, step)) out.push(a);
      return reverse(step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out);
    }
    case 'following-sibling':
    case 'preceding-sibling': {
      const p = c.parent;
      if (!p || !c.schema) return [];
      const sibs = childCursors(st.schema, p);
      let at = -1;
      for (let i = 0; i < sibs.length; i++) {
        if (sameNode(sibs[i]!, c)) {
          at = i;
          break;
        }
      }
      if (at < 0) return [];
      const out: DataCursor[] = [];
      if (step.axis === 'following-sibling') {
        for (let i = at + 1; i < sibs.length; i++) if (matches(sibs[i]!, step)) out.push(sibs[i]!);
        return step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out;
      }
      for (let i = at - 1; i >= 0; i--) if (matches(sibs[i]!, step)) out.push(sibs[i]!);
      return reverse(step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out);
    }
  }
}

function reverse(a: DataCursor[]): DataCursor[] {
  return a.length < 2 ? a : a.reverse();
}

function collectDescendants(c: DataCursor, step: XPathStep, st: EvalState, out: DataCursor[]): void {
  if (!isObject(c.value)) return;
  for (const k of childCursors(st.schema, c)) {
    if (matches(k, step)) out.push(k);
    collectDescendants(k, step, st, out);
  }
}

/** Node test of a step against a cursor (for axes other than the text() child shortcut). */
function matches(c: DataCursor, step: XPathStep): boolean {
  if (step.nodeTest === 'node') return true;
  if (step.nodeTest === 'text') return false;
  const s = c.schema;
  if (!s) return false;
  if (step.name === '*') return step.module === undefined || s.module === step.module;
  return s.name === step.name && (step.module === undefined || s.module === step.module);
}

export function topLevelSchema(schema: Schema, qname: string): SchemaNode | undefined {
  return schema.roots.get(qname) ?? schema.rpcs.get(qname) ?? schema.notifications.get(qname);
}

function childStep(c: DataCursor, step: XPathStep, st: EvalState): DataCursor[] {
  const v = c.value;
  if (step.nodeTest === 'text') {
    // Leaf values are the text of their leaf: text() of a leaf stands for the leaf itself.
    const k = c.schema?.kind;
    if (k !== 'leaf' && k !== 'leaf-list') return [];
    return step.predicates.length ? applyPredicates([c], step.predicates, 0, st) : [c];
  }
  if (!isObject(v)) return [];
  let out: DataCursor[];
  if (step.nodeTest === undefined && step.name !== '*' && step.module !== undefined) {
    const qname = `${step.module}:${step.name}`;
    const cs = c.schema ? c.schema.dataChildren.get(qname) : topLevelSchema(st.schema, qname);
    if (!cs) return [];
    const member = v[cs.jsonName];
    // An absent leaf with a default still exists for XPath (cursorsOf supplies it).
    if (step.predicates.length === 0) return cursorsOf(cs, c);
    if (cs.kind === 'list' && member instanceof Map) {
      const plan = keyPlanFor(step, cs);
      if (plan) {
        const hit = keyLookup(plan, member, c, st);
        if (hit !== undefined) {
          const found: DataCursor[] = hit ? [{ schema: cs, value: hit, parent: c }] : [];
          return step.predicates.length > plan.rhs.length && found.length ? applyPredicates(found, step.predicates, plan.rhs.length, st) : found;
        }
      }
    }
    out = cursorsOf(cs, c);
  } else {
    out = childCursors(st.schema, c);
    if (step.nodeTest !== 'node' && (step.name !== '*' || step.module !== undefined)) out = out.filter((k) => matches(k, step));
  }
  return step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out;
}

function applyPredicates(nodes: DataCursor[], preds: XPathExpr[], from: number, st: EvalState): DataCursor[] {
  for (let p = from; p < preds.length; p++) {
    const pred = preds[p]!;
    const size = nodes.length;
    if (size === 0) return nodes;
    if (pred.kind === 'number') {
      const k = pred.value;
      nodes = Number.isInteger(k) && k >= 1 && k <= size ? [nodes[k - 1]!] : [];
      continue;
    }
    const out: DataCursor[] = [];
    for (let i = 0; i < size; i++) {
      const n = nodes[i]!;
      const v = evaluate(pred, n, i + 1, size, st);
      if (typeof v === 'number' ? v === i + 1 : toBool(v)) out.push(n);
    }
    nodes = out;
  }
  return nodes;
}

// ----- keyed list lookup -----

interface KeyPlan {
  /** Context-independent expression per key, in the list's key order. */
  rhs: XPathExpr[];
  /** Member names of the key leaves in the entries. */
  keyMembers: string[];
}

const keyPlans = new WeakMap<XPathStep, { list: SchemaNode; plan: KeyPlan | null }>();

/**
 * When the first predicates of a step into `list` are `key = expr` (either side), one per key,
 * with `expr` independent of the context node, the entry can be looked up instead of scanned.
 */
function keyPlanFor(step: XPathStep, list: SchemaNode): KeyPlan | null {
  const cached = keyPlans.get(step);
  if (cached && cached.list === list) return cached.plan;
  const plan = makeKeyPlan(step, list);
  keyPlans.set(step, { list, plan });
  return plan;
}

function makeKeyPlan(step: XPathStep, list: SchemaNode): KeyPlan | null {
  const keys = list.keys;
  if (keys.length === 0 || step.predicates.length < keys.length) return null;
  const rhs: (XPathExpr | undefined)[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const pred = step.predicates[i]!;
    if (pred.kind !== 'cmp' || pred.op !== '=') return null;
    let k = keyIndexOf(pred.left, list);
    let other = pred.right;
    if (k < 0) {
      k = keyIndexOf(pred.right, list);
      other = pred.left;
    }
    if (k < 0 || rhs[k] !== undefined || !contextFree(other)) return null;
    rhs[k] = other;
  }
  const keyMembers: string[] = [];
  for (const k of keys) {
    const leaf = list.dataChildren.get(k);
    if (!leaf) return null;
    keyMembers.push(leaf.jsonName);
  }
  return { rhs: rhs as XPathExpr[], keyMembers };
}

/** Index in `list.keys` of a path `key` (optionally `./key`), or -1. */
function keyIndexOf(e: XPathExpr, list: SchemaNode): number {
  if (e.kind !== 'path' || e.absolute || e.filter) return -1;
  const steps = e.steps;
  let i = 0;
  while (i < steps.length - 1 && isDotStep(steps[i]!)) i++;
  if (i !== steps.length - 1) return -1;
  const s = steps[i]!;
  if (s.axis !== 'child' || s.nodeTest !== undefined || s.predicates.length || s.module !== list.module) return -1;
  return list.keys.indexOf(s.name);
}

function isDotStep(s: XPathStep): boolean {
  return s.axis === 'self' && s.nodeTest === 'node' && s.predicates.length === 0;
}

const contextFreeCache = new WeakMap<object, boolean>();

/** Whether an expression's value does not depend on the context node, position or size. */
function contextFree(e: XPathExpr): boolean {
  const c = contextFreeCache.get(e);
  if (c !== undefined) return c;
  let r: boolean;
  switch (e.kind) {
    case 'literal': case 'number':
      r = true;
      break;
    case 'or': case 'and': case 'cmp': case 'arith': case 'union':
      r = contextFree(e.left) && contextFree(e.right);
      break;
    case 'neg':
      r = contextFree(e.operand);
      break;
    case 'call':
      if (e.name === 'position' || e.name === 'last') r = false;
      else if (e.args.length === 0 && CONTEXT_DEFAULT_FUNCTIONS.has(e.name)) r = false;
      else r = e.args.every(contextFree);
      break;
    case 'path':
      // Predicates have their own context; only the start of the path matters.
      r = e.filter ? contextFree(e.filter) : e.absolute;
      break;
  }
  contextFreeCache.set(e, r);
  return r;
}

export const UNRESERVED = /^[A-Za-z0-9._~-]*$/;

/**
 * The entry the plan pins: the entry, `null` when there is certainly none, or `undefined` when
 * the lookup cannot decide (the caller scans instead).
 */
function keyLookup(plan: KeyPlan, map: ListValue, c: DataCursor, st: EvalState): DataObject | null | undefined {
  const n = plan.rhs.length;
  let key = '';
  let plain = true;
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = evaluate(plan.rhs[i]!, c, 1, 1, st);
    let s: string;
    if (Array.isArray(v)) {
      if (v.length === 0) return null;
      if (v.length > 1) return undefined;
      s = nodeString(v[0]!);
    } else if (typeof v === 'string') {
      s = v;
    } else {
      return undefined;
    }
    if (plain && !UNRESERVED.test(s)) plain = false;
    values.push(s);
    key = i === 0 ? s : `${key},${s}`;
  }
  const entry = map.get(key);
  if (entry) {
    for (let i = 0; i < n; i++) {
      const kv = entry[plan.keyMembers[i]!];
      if (kv === undefined || leafString(kv as LeafValue) !== values[i]) return undefined;
    }
    return entry;
  }
  // Values made of unreserved characters are their own key encoding; others might be encoded.
  return plain ? null : undefined;
}

// ----- document order -----

export function sortUnique(nodes: DataCursor[], st: EvalState): DataCursor[] {
  if (nodes.length < 2) return nodes;
  const keyed = nodes.map((n) => ({ n, k: orderKey(n, st) }));
  keyed.sort((a, b) => compareKeys(a.k, b.k));
  const out: DataCursor[] = [keyed[0]!.n];
  for (let i = 1; i < keyed.length; i++) {
    if (compareKeys(keyed[i - 1]!.k, keyed[i]!.k) !== 0) out.push(keyed[i]!.n);
  }
  return out;
}

function compareKeys(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Position of a node from the root: (member index, entry index) per level. */
function orderKey(c: DataCursor, st: EvalState): number[] {
  const rev: number[] = [];
  for (let x = c; x.parent; x = x.parent) {
    const p = x.parent;
    const pv = p.value;
    const s = x.schema;
    if (!s || !isObject(pv)) {
      rev.push(0, 0);
      continue;
    }
    const members = (st.memberIndex ??= new WeakMap());
    let mi = members.get(pv);
    if (!mi) {
      mi = new Map();
      let i = 0;
      for (const k of Object.keys(pv)) mi.set(k, i++);
      members.set(pv, mi);
    }
    const m = mi.get(s.jsonName) ?? -1;
    const member = pv[s.jsonName];
    let e = 0;
    if (member instanceof Map || (s.kind === 'leaf-list' && Array.isArray(member))) {
      const entries = (st.entryIndex ??= new WeakMap());
      let ei = entries.get(member);
      if (!ei) {
        ei = new Map();
        let i = 0;
        for (const v of member instanceof Map ? member.values() : (member as LeafValue[])) {
          if (!ei.has(v)) ei.set(v, i);
          i++;
        }
        entries.set(member, ei);
      }
      e = ei.get(x.value) ?? -1;
    }
    rev.push(e, m);
  }
  return rev.reverse();
}

// ----- conversions -----

/** XPath boolean() of a value (used by must/when checks too). */
export function toBool(v: XPathValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return v.length > 0;
}

export function toNum(v: XPathValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return strToNum(v);
  return v.length ? nodeNumber(v[0]!) : NaN;
}

export function toStr(v: XPathValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return numToStr(v);
  return v.length ? nodeString(v[0]!) : '';
}

const NUMBER_RE = /^[ \t\r\n]*-?(\d+(\.\d*)?|\.\d+)[ \t\r\n]*$/;

function strToNum(s: string): number {
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

export function nodeNumber(c: DataCursor): number {
  const v = c.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return strToNum(v);
  return strToNum(nodeString(c));
}

/** XPath number-to-string: no exponent, integers without a decimal point. */
function numToStr(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return '0';
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2]! + (m[3] ?? '');
  const point = m[2]!.length + Number(m[4]);
  let body: string;
  if (point <= 0) body = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) body = digits + '0'.repeat(point - digits.length);
  else body = digits.slice(0, point) + '.' + digits.slice(point);
  return m[1]! + body;
}

/**
 * String-value of a node: a leaf's canonical text, or for inner nodes the concatenated text of
 * all descendant leaves in document order (members are held in document order).
 */
export function nodeString(c: DataCursor): string {
  const v = c.value;
  if (typeof v === 'string') return v;
  const k = c.schema?.kind;
  if (k === 'leaf' || k === 'leaf-list') return leafString(v as LeafValue);
  return rawString(v);
}

/** Concatenated text of a value with no schema to guide (anydata content). */
function rawString(v: DataValue | undefined | null): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Map) {
    let out = '';
    for (const e of v.values()) out += rawString(e);
    return out;
  }
  if (Array.isArray(v)) {
    let out = '';
    for (const e of v as (LeafValue | null)[]) out += rawString(e as DataValue | null);
    return out;
  }
  let out = '';
  for (const e of Object.values(v)) out += rawString(e);
  return out;
}

// ----- comparison (XPath 1.0 section 3.4) -----

function compare(op: CmpOp, l: XPathValue, r: XPathValue): boolean {
  const la = Array.isArray(l);
  const ra = Array.isArray(r);
  if (la && ra) return compareSets(op, l, r);
  if (la || ra) {
    const set = (la ? l : r) as DataCursor[];
    const other = la ? r : l;
    const o = la ? op : flip(op);
    if (typeof other === 'boolean') return compareAtoms(o, set.length > 0, other);
    if (typeof other === 'number') {
      for (const n of set) if (numCompare(o, nodeNumber(n), other)) return true;
      return false;
    }
    const s = other as string;
    if (o === '=') {
      for (const n of set) if (nodeString(n) === s) return true;
      return false;
    }
    if (o === '!=') {
      for (const n of set) if (nodeString(n) !== s) return true;
      return false;
    }
    const num = strToNum(s);
    for (const n of set) if (numCompare(o, nodeNumber(n), num)) return true;
    return false;
  }
  return compareAtoms(op, l, r);
}

function flip(op: CmpOp): CmpOp {
  switch (op) {
    case '<': return '>';
    case '<=': return '>=';
    case '>': return '<';
    case '>=': return '<=';
    default: return op;
  }
}

function compareAtoms(op: CmpOp, l: boolean | number | string, r: boolean | number | string): boolean {
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (typeof l === 'boolean' || typeof r === 'boolean') eq = toBool(l) === toBool(r);
    else if (typeof l === 'number' || typeof r === 'number') eq = toNum(l) === toNum(r);
    else eq = l === r;
    return op === '=' ? eq : !eq;
  }
  return numCompare(op, toNum(l), toNum(r));
}

function numCompare(op: CmpOp, a: number, b: number): boolean {
  switch (op) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
  }
}

function compareSets(op: CmpOp, l: DataCursor[], r: DataCursor[]): boolean {
  if (l.length === 0 || r.length === 0) return false;
  if (op === '=') {
    if (l.length * r.length <= 64) {
      for (const a of l) {
        const s = nodeString(a);
        for (const b of r) if (nodeString(b) === s) return true;
      }
      return false;
    }
    const [small, big] = l.length <= r.length ? [l, r] : [r, l];
    const seen = new Set<string>();
    for (const a of small) seen.add(nodeString(a));
    for (const b of big) if (seen.has(nodeString(b))) return true;
    return false;
  }
  if (op === '!=') {
    // Some pair differs unless both sides hold one and the same string.
    const first = nodeString(l[0]!);
    for (const a of l) if (nodeString(a) !== first) return true;
    for (const b of r) if (nodeString(b) !== first) return true;
    return false;
  }
  // Relational: exists a, b with num(a) op num(b) -> compare extremes.
  let lmin = Infinity, lmax = -Infinity, rmin = Infinity, rmax = -Infinity;
  let lAny = false, rAny = false;
  for (const a of l) {
    const x = nodeNumber(a);
    if (Number.isNaN(x)) continue;
    lAny = true;
    if (x < lmin) lmin = x;
    if (x > lmax) lmax = x;
  }
  for (const b of r) {
    const x = nodeNumber(b);
    if (Number.isNaN(x)) continue;
    rAny = true;
    if (x < rmin) rmin = x;
    if (x > rmax) rmax = x;
  }
  if (!lAny || !rAny) return false;
  return op === '<' || op === '<=' ? numCompare(op, lmin, rmax) : numCompare(op, lmax, rmin);
}
