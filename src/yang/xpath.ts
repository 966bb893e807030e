/**
 * The XPath 1.0 dialect of YANG (RFC 7950 sections 6.4, 9.9 and 10): parser, evaluator over
 * `DataCursor` trees, and the static helpers the compiler and validator need (leafref target
 * resolution, the schema nodes an expression reads).
 *
 * Names in expressions are resolved at parse time: every name test carries the module its prefix
 * stands for (unprefixed names take the context module), so evaluation compares module names only.
 * The identity literal of `derived-from()`/`derived-from-or-self()` is likewise rewritten to
 * `module:identity` at parse time.
 *
 * Every node-set the evaluator returns is in document order and free of duplicates. Evaluation is
 * kept allocation-light for the shapes YANG uses most: short relative paths from one node, and
 * list steps whose predicates pin every key (`list[key = current()/../ref]`), which are looked up
 * in the list's `Map` instead of scanned.
 */

import type { DataObject, DataValue, LeafValue, ListValue, ResolvedType, Schema, SchemaNode, XPathExpr, XPathStep } from './schema.ts';
import { childCursors, cursorsOf, isObject, leafString, type DataCursor } from './cursor.ts';

export type XPathValue = boolean | number | string | DataCursor[];

export interface XPathContext {
  schema: Schema;
  root: DataCursor;
  node: DataCursor;
  current: DataCursor;
}

type Axis = XPathStep['axis'];
type PathExpr = Extract<XPathExpr, { kind: 'path' }>;
type CallExpr = Extract<XPathExpr, { kind: 'call' }>;
type CmpOp = Extract<XPathExpr, { kind: 'cmp' }>['op'];

// =====================================================================================
// Lexer
// =====================================================================================

type TokKind = 'num' | 'lit' | 'name' | 'func' | 'nodetype' | 'axis' | 'op' | 'punct' | 'eof';

interface Token {
  kind: TokKind;
  /** Operator or punctuation text, literal value, number text, or the local name. */
  value: string;
  prefix?: string;
  pos: number;
}

const AXES: ReadonlySet<string> = new Set<Axis>([
  'child', 'parent', 'self', 'descendant', 'descendant-or-self', 'ancestor', 'ancestor-or-self',
  'following-sibling', 'preceding-sibling',
]);
const UNSUPPORTED_AXES = new Set(['attribute', 'namespace', 'following', 'preceding']);
const NODE_TYPES = new Set(['node', 'text', 'comment', 'processing-instruction']);
const OPERATOR_NAMES = new Set(['and', 'or', 'mod', 'div']);

const NAME_START = /[\p{L}_]/u;
const NAME_CHAR = /[\p{L}\p{N}\p{Mn}\p{Mc}_.\-\u00B7]/u;

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

class XPathSyntaxError extends Error {
  constructor(text: string, pos: number, message: string) {
    super(`XPath error at position ${pos + 1} in "${text}": ${message}`);
    this.name = 'XPathSyntaxError';
  }
}

function tokenize(text: string): Token[] {
  const toks: Token[] = [];
  const n = text.length;
  let i = 0;
  const fail = (pos: number, msg: string): never => {
    throw new XPathSyntaxError(text, pos, msg);
  };
  // XPath 1.0 section 3.7: after an operand, `*` is multiplication and a name is an operator name.
  const afterOperand = (): boolean => {
    const p = toks[toks.length - 1];
    if (!p || p.kind === 'op') return false;
    if (p.kind === 'punct') return p.value === ')' || p.value === ']' || p.value === '.' || p.value === '..';
    return p.kind === 'num' || p.kind === 'lit' || p.kind === 'name';
  };
  const readName = (): string => {
    const s = i;
    i++;
    while (i < n && NAME_CHAR.test(text[i]!)) i++;
    return text.slice(s, i);
  };
  const nextNonWs = (from: number): number => {
    let j = from;
    while (j < n && isWs(text[j])) j++;
    return j;
  };

  while (true) {
    while (i < n && isWs(text[i])) i++;
    if (i >= n) break;
    const c = text[i]!;
    const pos = i;
    switch (c) {
      case '(': case ')': case '[': case ']': case ',': case '@':
        toks.push({ kind: 'punct', value: c, pos });
        i++;
        continue;
      case '.':
        if (text[i + 1] === '.') {
          toks.push({ kind: 'punct', value: '..', pos });
          i += 2;
          continue;
        }
        if (isDigit(text[i + 1])) break; // a number such as .5
        toks.push({ kind: 'punct', value: '.', pos });
        i++;
        continue;
      case '"': case "'": {
        const end = text.indexOf(c, i + 1);
        if (end < 0) fail(pos, 'unterminated string literal');
        toks.push({ kind: 'lit', value: text.slice(i + 1, end), pos });
        i = end + 1;
        continue;
      }
      case ':':
        if (text[i + 1] === ':') {
          toks.push({ kind: 'punct', value: '::', pos });
          i += 2;
          continue;
        }
        fail(pos, 'unexpected ":"');
        break;
      case '/':
        if (text[i + 1] === '/') {
          toks.push({ kind: 'op', value: '//', pos });
          i += 2;
        } else {
          toks.push({ kind: 'op', value: '/', pos });
          i++;
        }
        continue;
      case '|': case '+': case '=': case '-':
        toks.push({ kind: 'op', value: c, pos });
        i++;
        continue;
      case '!':
        if (text[i + 1] !== '=') fail(pos, 'expected "!="');
        toks.push({ kind: 'op', value: '!=', pos });
        i += 2;
        continue;
      case '<': case '>':
        if (text[i + 1] === '=') {
          toks.push({ kind: 'op', value: c + '=', pos });
          i += 2;
        } else {
          toks.push({ kind: 'op', value: c, pos });
          i++;
        }
        continue;
      case '*':
        if (afterOperand()) toks.push({ kind: 'op', value: '*', pos });
        else toks.push({ kind: 'name', value: '*', pos });
        i++;
        continue;
      case '$':
        fail(pos, 'variable references are not supported in YANG XPath');
        break;
    }
    if (isDigit(c) || c === '.') {
      const m = /^(\d+(\.\d*)?|\.\d+)/.exec(text.slice(i))!;
      toks.push({ kind: 'num', value: m[0], pos });
      i += m[0].length;
      continue;
    }
    if (!NAME_START.test(c)) fail(pos, `unexpected character "${c}"`);
    const first = readName();
    if (afterOperand()) {
      if (!OPERATOR_NAMES.has(first)) fail(pos, `expected an operator, found "${first}"`);
      toks.push({ kind: 'op', value: first, pos });
      continue;
    }
    // QName or prefix:* (no whitespace around the colon); `a::b` is an axis.
    let prefix: string | undefined;
    let local = first;
    if (text[i] === ':' && text[i + 1] !== ':') {
      if (text[i + 1] === '*') {
        toks.push({ kind: 'name', value: '*', prefix: first, pos });
        i += 2;
        continue;
      }
      if (i + 1 < n && NAME_START.test(text[i + 1]!)) {
        i++;
        prefix = first;
        local = readName();
      } else {
        fail(i, 'expected a name or "*" after ":"');
      }
    }
    const j = nextNonWs(i);
    if (text[j] === '(') {
      if (prefix === undefined && NODE_TYPES.has(local)) toks.push({ kind: 'nodetype', value: local, pos });
      else toks.push({ kind: 'func', value: local, prefix, pos });
    } else if (text[j] === ':' && text[j + 1] === ':' && prefix === undefined) {
      toks.push({ kind: 'axis', value: local, pos });
    } else {
      toks.push({ kind: 'name', value: local, prefix, pos });
    }
  }
  toks.push({ kind: 'eof', value: '', pos: n });
  return toks;
}

// =====================================================================================
// Parser
// =====================================================================================

/** Function name -> [min args, max args]. */
const FUNCTIONS = new Map<string, [number, number]>(Object.entries({
  last: [0, 0],
  position: [0, 0],
  count: [1, 1],
  'local-name': [0, 1],
  'namespace-uri': [0, 1],
  name: [0, 1],
  string: [0, 1],
  concat: [2, Infinity],
  'starts-with': [2, 2],
  contains: [2, 2],
  'substring-before': [2, 2],
  'substring-after': [2, 2],
  substring: [2, 3],
  'string-length': [0, 1],
  'normalize-space': [0, 1],
  translate: [3, 3],
  boolean: [1, 1],
  not: [1, 1],
  true: [0, 0],
  false: [0, 0],
  lang: [1, 1],
  number: [0, 1],
  sum: [1, 1],
  floor: [1, 1],
  ceiling: [1, 1],
  round: [1, 1],
  current: [0, 0],
  deref: [1, 1],
  'derived-from': [2, 2],
  'derived-from-or-self': [2, 2],
  'enum-value': [1, 1],
  'bit-is-set': [2, 2],
  're-match': [2, 2],
}) as [string, [number, number]][]);

/** Functions that read the context node when called without arguments. */
const CONTEXT_DEFAULT_FUNCTIONS = new Set(['local-name', 'namespace-uri', 'name', 'string', 'string-length', 'normalize-space', 'number']);

/**
 * Parses a YANG XPath expression. Prefixes are resolved through `resolvePrefix` to module names;
 * unprefixed names belong to `contextModule`. Throws an `Error` naming the position on syntax
 * errors, unknown prefixes and unknown functions.
 */
export function parseXPath(text: string, resolvePrefix: (prefix: string) => string | undefined, contextModule: string): XPathExpr {
  const p = new Parser(text, tokenize(text), resolvePrefix, contextModule);
  return p.parseTop();
}

class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly toks: Token[],
    private readonly resolvePrefix: (prefix: string) => string | undefined,
    private readonly contextModule: string,
  ) {}

  parseTop(): XPathExpr {
    if (this.peek().kind === 'eof') this.fail(this.peek(), 'empty expression');
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, `unexpected ${describe(t)}`);
    return e;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    return this.toks[this.i++]!;
  }

  private isOp(value: string): boolean {
    const t = this.toks[this.i]!;
    return t.kind === 'op' && t.value === value;
  }

  private isPunct(value: string): boolean {
    const t = this.toks[this.i]!;
    return t.kind === 'punct' && t.value === value;
  }

  private expectPunct(value: string): void {
    const t = this.peek();
    if (t.kind !== 'punct' || t.value !== value) this.fail(t, `expected "${value}", found ${describe(t)}`);
    this.i++;
  }

  private fail(t: Token, msg: string): never {
    throw new XPathSyntaxError(this.text, t.pos, msg);
  }

  private parseOr(): XPathExpr {
    let left = this.parseAnd();
    while (this.isOp('or')) {
      this.i++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): XPathExpr {
    let left = this.parseEquality();
    while (this.isOp('and')) {
      this.i++;
      left = { kind: 'and', left, right: this.parseEquality() };
    }
    return left;
  }

  private parseEquality(): XPathExpr {
    let left = this.parseRelational();
    while (this.isOp('=') || this.isOp('!=')) {
      const op = this.next().value as CmpOp;
      left = { kind: 'cmp', op, left, right: this.parseRelational() };
    }
    return left;
  }

  private parseRelational(): XPathExpr {
    let left = this.parseAdditive();
    while (this.isOp('<') || this.isOp('<=') || this.isOp('>') || this.isOp('>=')) {
      const op = this.next().value as CmpOp;
      left = { kind: 'cmp', op, left, right: this.parseAdditive() };
    }
    return left;
  }

  private parseAdditive(): XPathExpr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().value as '+' | '-';
      left = { kind: 'arith', op, left, right: this.parseMultiplicative() };
    }
    return left;
  }

  private parseMultiplicative(): XPathExpr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('div') || this.isOp('mod')) {
      const op = this.next().value as '*' | 'div' | 'mod';
      left = { kind: 'arith', op, left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): XPathExpr {
    if (this.isOp('-')) {
      this.i++;
      return { kind: 'neg', operand: this.parseUnary() };
    }
    return this.parseUnion();
  }

  private parseUnion(): XPathExpr {
    let left = this.parsePathExpr();
    while (this.isOp('|')) {
      this.i++;
      left = { kind: 'union', left, right: this.parsePathExpr() };
    }
    return left;
  }

  private parsePathExpr(): XPathExpr {
    const t = this.peek();
    if (t.kind === 'num' || t.kind === 'lit' || t.kind === 'func' || (t.kind === 'punct' && t.value === '(')) {
      const primary = this.parsePrimary();
      const preds = this.parsePredicates();
      if (this.isOp('/') || this.isOp('//')) {
        const steps: XPathStep[] = [];
        while (this.isOp('/') || this.isOp('//')) this.parseStepsAfterSlash(steps);
        const e: PathExpr = { kind: 'path', absolute: false, steps, filter: primary };
        if (preds.length) e.filterPredicates = preds;
        return e;
      }
      if (preds.length) return { kind: 'path', absolute: false, steps: [], filter: primary, filterPredicates: preds };
      return primary;
    }
    return this.parseLocationPath();
  }

  private parsePrimary(): XPathExpr {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { kind: 'number', value: Number(t.value) };
      case 'lit':
        return { kind: 'literal', value: t.value };
      case 'func':
        return this.parseCall(t);
      default: {
        // '('
        const e = this.parseOr();
        this.expectPunct(')');
        return e;
      }
    }
  }

  private parseCall(t: Token): XPathExpr {
    const name = t.prefix !== undefined ? `${t.prefix}:${t.value}` : t.value;
    const arity = t.prefix === undefined ? FUNCTIONS.get(t.value) : undefined;
    if (!arity) this.fail(t, `unknown function "${name}()"`);
    this.expectPunct('(');
    const args: XPathExpr[] = [];
    if (!this.isPunct(')')) {
      args.push(this.parseOr());
      while (this.isPunct(',')) {
        this.i++;
        args.push(this.parseOr());
      }
    }
    this.expectPunct(')');
    if (args.length < arity[0] || args.length > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} to ${arity[1]}`;
      this.fail(t, `${name}() takes ${want} argument${arity[1] === 1 ? '' : 's'}, got ${args.length}`);
    }
    if ((name === 'derived-from' || name === 'derived-from-or-self') && args[1]!.kind === 'literal') {
      args[1] = { kind: 'literal', value: this.resolveIdentity(args[1].value, t) };
    }
    return { kind: 'call', name, args };
  }

  /** `pfx:ident` or `ident` -> `module:ident`. */
  private resolveIdentity(text: string, at: Token): string {
    const s = text.trim();
    const colon = s.indexOf(':');
    if (colon < 0) return `${this.contextModule}:${s}`;
    const prefix = s.slice(0, colon);
    const module = this.resolvePrefix(prefix);
    if (module === undefined) this.fail(at, `unknown prefix "${prefix}" in identity "${s}"`);
    return `${module}:${s.slice(colon + 1)}`;
  }

  private parsePredicates(): XPathExpr[] {
    const preds: XPathExpr[] = [];
    while (this.isPunct('[')) {
      this.i++;
      preds.push(this.parseOr());
      this.expectPunct(']');
    }
    return preds;
  }

  private parseLocationPath(): XPathExpr {
    const t = this.peek();
    const steps: XPathStep[] = [];
    if (t.kind === 'op' && t.value === '/') {
      this.i++;
      if (this.canStartStep()) this.parseRelative(steps);
      return { kind: 'path', absolute: true, steps };
    }
    if (t.kind === 'op' && t.value === '//') {
      this.i++;
      steps.push(descendantOrSelfStep());
      this.parseRelative(steps);
      return { kind: 'path', absolute: true, steps };
    }
    if (!this.canStartStep()) this.fail(t, t.kind === 'eof' ? 'unexpected end of expression' : `unexpected ${describe(t)}`);
    this.parseRelative(steps);
    return { kind: 'path', absolute: false, steps };
  }

  private canStartStep(): boolean {
    const t = this.peek();
    switch (t.kind) {
      case 'name': case 'axis': case 'nodetype':
        return true;
      case 'punct':
        return t.value === '.' || t.value === '..' || t.value === '@';
      default:
        return false;
    }
  }

  private parseRelative(steps: XPathStep[]): void {
    steps.push(this.parseStep());
    while (this.isOp('/') || this.isOp('//')) this.parseStepsAfterSlash(steps);
  }

  /** Consumes `/` or `//` and the following step. */
  private parseStepsAfterSlash(steps: XPathStep[]): void {
    const slash = this.next();
    if (slash.value === '//') steps.push(descendantOrSelfStep());
    if (!this.canStartStep()) {
      const t = this.peek();
      this.fail(t, `expected a location step after "${slash.value}", found ${describe(t)}`);
    }
    steps.push(this.parseStep());
  }

  private parseStep(): XPathStep {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === '.') {
      this.i++;
      return { axis: 'self', name: '*', nodeTest: 'node', predicates: [] };
    }
    if (t.kind === 'punct' && t.value === '..') {
      this.i++;
      return { axis: 'parent', name: '*', nodeTest: 'node', predicates: [] };
    }
    if (t.kind === 'punct' && t.value === '@') this.fail(t, 'the attribute axis is not supported in YANG XPath');
    let axis: Axis = 'child';
    if (t.kind === 'axis') {
      if (UNSUPPORTED_AXES.has(t.value)) this.fail(t, `the ${t.value} axis is not supported`);
      if (!AXES.has(t.value)) this.fail(t, `unknown axis "${t.value}"`);
      axis = t.value as Axis;
      this.i++;
      this.expectPunct('::');
    }
    const nt = this.next();
    let step: XPathStep;
    if (nt.kind === 'nodetype') {
      if (nt.value !== 'node' && nt.value !== 'text') this.fail(nt, `node test ${nt.value}() is not supported`);
      this.expectPunct('(');
      this.expectPunct(')');
      step = { axis, name: '*', nodeTest: nt.value, predicates: [] };
    } else if (nt.kind === 'name') {
      if (nt.value === '*') {
        step = { axis, name: '*', predicates: [] };
        if (nt.prefix !== undefined) step.module = this.moduleOf(nt.prefix, nt);
      } else {
        const module = nt.prefix !== undefined ? this.moduleOf(nt.prefix, nt) : this.contextModule;
        step = { axis, name: nt.value, module, predicates: [] };
      }
    } else {
      this.fail(nt, `expected a node test, found ${describe(nt)}`);
    }
    step.predicates = this.parsePredicates();
    return step;
  }

  private moduleOf(prefix: string, t: Token): string {
    const m = this.resolvePrefix(prefix);
    if (m === undefined) this.fail(t, `unknown prefix "${prefix}"`);
    return m;
  }
}

function descendantOrSelfStep(): XPathStep {
  return { axis: 'descendant-or-self', name: '*', nodeTest: 'node', predicates: [] };
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of expression';
    case 'lit': return `literal '${t.value}'`;
    case 'num': return `number ${t.value}`;
    case 'name': return `name "${t.prefix !== undefined ? t.prefix + ':' : ''}${t.value}"`;
    case 'func': return `function "${t.value}"`;
    case 'axis': return `axis "${t.value}"`;
    case 'nodetype': return `"${t.value}()"`;
    default: return `"${t.value}"`;
  }
}

// =====================================================================================
// Evaluation
// =====================================================================================

interface State {
  schema: Schema;
  root: DataCursor;
  current: DataCursor;
  /** Document-order caches, made on first use. */
  memberIndex?: WeakMap<object, Map<string, number>>;
  entryIndex?: WeakMap<object, Map<unknown, number>>;
}

/** Evaluates an expression; node-set results are in document order without duplicates. */
export function evaluateXPath(expr: XPathExpr, ctx: XPathContext): XPathValue {
  const st: State = { schema: ctx.schema, root: ctx.root, current: ctx.current };
  return ev(expr, ctx.node, 1, 1, st);
}

function ev(e: XPathExpr, node: DataCursor, pos: number, size: number, st: State): XPathValue {
  switch (e.kind) {
    case 'path':
      return evalPath(e, node, pos, size, st);
    case 'literal':
    case 'number':
      return e.value;
    case 'cmp':
      return compare(e.op, ev(e.left, node, pos, size, st), ev(e.right, node, pos, size, st));
    case 'and':
      return toBool(ev(e.left, node, pos, size, st)) && toBool(ev(e.right, node, pos, size, st));
    case 'or':
      return toBool(ev(e.left, node, pos, size, st)) || toBool(ev(e.right, node, pos, size, st));
    case 'arith': {
      const l = toNum(ev(e.left, node, pos, size, st));
      const r = toNum(ev(e.right, node, pos, size, st));
      switch (e.op) {
        case '+': return l + r;
        case '-': return l - r;
        case '*': return l * r;
        case 'div': return l / r;
        default: return l % r;
      }
    }
    case 'neg':
      return -toNum(ev(e.operand, node, pos, size, st));
    case 'union': {
      const l = nodeSetOf(ev(e.left, node, pos, size, st), 'the operands of "|"');
      const r = nodeSetOf(ev(e.right, node, pos, size, st), 'the operands of "|"');
      if (l.length === 0) return r;
      if (r.length === 0) return l;
      return sortUnique(l.concat(r), st);
    }
    case 'call':
      return call(e, node, pos, size, st);
  }
}

function nodeSetOf(v: XPathValue, what: string): DataCursor[] {
  if (!Array.isArray(v)) throw new Error(`XPath: ${what} must be node-sets, got ${typeof v}`);
  return v;
}

// ----- paths -----

function evalPath(e: PathExpr, node: DataCursor, pos: number, size: number, st: State): DataCursor[] {
  let set: DataCursor[];
  // True while `set` is in document order, duplicate-free and all at one depth.
  let uniform: boolean;
  if (e.filter) {
    set = nodeSetOf(ev(e.filter, node, pos, size, st), 'filtered expressions');
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
function stepFrom(c: DataCursor, step: XPathStep, st: State): DataCursor[] {
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

function collectDescendants(c: DataCursor, step: XPathStep, st: State, out: DataCursor[]): void {
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
  return s.name === step.name && s.module === step.module;
}

function topLevelSchema(schema: Schema, qname: string): SchemaNode | undefined {
  return schema.roots.get(qname) ?? schema.rpcs.get(qname) ?? schema.notifications.get(qname);
}

function childStep(c: DataCursor, step: XPathStep, st: State): DataCursor[] {
  const v = c.value;
  if (step.nodeTest === 'text') {
    // Leaf values are the text of their leaf: text() of a leaf stands for the leaf itself.
    const k = c.schema?.kind;
    if (k !== 'leaf' && k !== 'leaf-list') return [];
    return step.predicates.length ? applyPredicates([c], step.predicates, 0, st) : [c];
  }
  if (!isObject(v)) return [];
  let out: DataCursor[];
  if (step.nodeTest === undefined && step.name !== '*') {
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
    if (step.nodeTest !== 'node') {
      const m = step.module;
      if (m !== undefined) out = out.filter((k) => k.schema!.module === m);
    }
  }
  return step.predicates.length ? applyPredicates(out, step.predicates, 0, st) : out;
}

function applyPredicates(nodes: DataCursor[], preds: XPathExpr[], from: number, st: State): DataCursor[] {
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
      const v = ev(pred, n, i + 1, size, st);
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

const UNRESERVED = /^[A-Za-z0-9._~-]*$/;

/**
 * The entry the plan pins: the entry, `null` when there is certainly none, or `undefined` when
 * the lookup cannot decide (the caller scans instead).
 */
function keyLookup(plan: KeyPlan, map: ListValue, c: DataCursor, st: State): DataObject | null | undefined {
  const n = plan.rhs.length;
  let key = '';
  let plain = true;
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = ev(plan.rhs[i]!, c, 1, 1, st);
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

function sortUnique(nodes: DataCursor[], st: State): DataCursor[] {
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
function orderKey(c: DataCursor, st: State): number[] {
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

function toNum(v: XPathValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return strToNum(v);
  return v.length ? nodeNumber(v[0]!) : NaN;
}

function toStr(v: XPathValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return numToStr(v);
  return v.length ? nodeString(v[0]!) : '';
}

const NUMBER_RE = /^[ \t\r\n]*-?(\d+(\.\d*)?|\.\d+)[ \t\r\n]*$/;

function strToNum(s: string): number {
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

function nodeNumber(c: DataCursor): number {
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
function nodeString(c: DataCursor): string {
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

// ----- functions -----

function call(e: CallExpr, node: DataCursor, pos: number, size: number, st: State): XPathValue {
  const a = e.args;
  const arg = (i: number): XPathValue => ev(a[i]!, node, pos, size, st);
  const str = (i: number): string => (i < a.length ? toStr(arg(i)) : nodeString(node));
  const nodes = (i: number): DataCursor[] => nodeSetOf(arg(i), `the argument of ${e.name}()`);
  switch (e.name) {
    case 'current':
      return [st.current];
    case 'last':
      return size;
    case 'position':
      return pos;
    case 'count':
      return nodes(0).length;
    case 'not':
      return !toBool(arg(0));
    case 'boolean':
      return toBool(arg(0));
    case 'true':
      return true;
    case 'false':
      return false;
    case 'string':
      return str(0);
    case 'number':
      return a.length ? toNum(arg(0)) : nodeNumber(node);
    case 'concat': {
      let out = '';
      for (let i = 0; i < a.length; i++) out += str(i);
      return out;
    }
    case 'starts-with':
      return str(0).startsWith(str(1));
    case 'contains':
      return str(0).includes(str(1));
    case 'substring-before': {
      const s = str(0);
      const i = s.indexOf(str(1));
      return i < 0 ? '' : s.slice(0, i);
    }
    case 'substring-after': {
      const s = str(0);
      const t = str(1);
      const i = s.indexOf(t);
      return i < 0 ? '' : s.slice(i + t.length);
    }
    case 'substring': {
      const chars = Array.from(str(0));
      const start = Math.round(toNum(arg(1)));
      const end = a.length > 2 ? start + Math.round(toNum(arg(2))) : Infinity;
      const lo = Math.max(start, 1);
      const hi = Math.min(end, chars.length + 1);
      if (!(lo < hi)) return '';
      return chars.slice(lo - 1, hi - 1).join('');
    }
    case 'string-length':
      return codePointLength(str(0));
    case 'normalize-space':
      return str(0).replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '');
    case 'translate':
      return translate(str(0), str(1), str(2));
    case 'sum': {
      let s = 0;
      for (const n of nodes(0)) s += nodeNumber(n);
      return s;
    }
    case 'floor':
      return Math.floor(toNum(arg(0)));
    case 'ceiling':
      return Math.ceil(toNum(arg(0)));
    case 'round':
      return Math.round(toNum(arg(0)));
    case 'local-name':
    case 'name':
    case 'namespace-uri': {
      const n = a.length ? nodes(0)[0] : node;
      const s = n?.schema;
      if (!s) return '';
      if (e.name === 'local-name') return s.name;
      if (e.name === 'name') return s.qname;
      return st.schema.modules.get(s.module)?.namespace ?? '';
    }
    case 'lang':
      return false;
    case 'deref': {
      const ns = nodes(0);
      return ns.length ? deref(ns[0]!, st) : [];
    }
    case 'derived-from':
    case 'derived-from-or-self': {
      const ns = nodes(0);
      const target = identityName(str(1), st);
      if (target === undefined) return false;
      const id = st.schema.identities.get(target);
      const orSelf = e.name === 'derived-from-or-self';
      for (const n of ns) {
        const v = n.value;
        if (typeof v !== 'string' || !hasBase(n.schema?.type, 'identityref')) continue;
        if (orSelf && v === target) return true;
        if (id?.derived.has(v)) return true;
      }
      return false;
    }
    case 'enum-value': {
      const n = nodes(0)[0];
      if (!n || typeof n.value !== 'string') return NaN;
      return enumValue(n.schema?.type, n.value) ?? NaN;
    }
    case 'bit-is-set': {
      const n = nodes(0)[0];
      const bit = str(1);
      if (!n || typeof n.value !== 'string' || !hasBase(n.schema?.type, 'bits')) return false;
      return n.value.split(/[ \t\r\n]+/).includes(bit);
    }
    case 're-match':
      return xsdRegExp(str(1)).test(str(0));
    default:
      throw new Error(`XPath: unknown function ${e.name}()`);
  }
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function translate(s: string, from: string, to: string): string {
  const f = Array.from(from);
  const t = Array.from(to);
  let out = '';
  for (const ch of s) {
    const i = f.indexOf(ch);
    if (i < 0) out += ch;
    else if (i < t.length) out += t[i];
  }
  return out;
}

function hasBase(t: ResolvedType | undefined, base: ResolvedType['base']): boolean {
  if (!t) return false;
  if (t.base === base) return true;
  if (t.base === 'union' && t.union) return t.union.some((m) => hasBase(m, base));
  return false;
}

function enumValue(t: ResolvedType | undefined, v: string): number | undefined {
  if (!t) return undefined;
  if (t.base === 'enumeration') return t.enums?.get(v);
  if (t.base === 'union' && t.union) {
    for (const m of t.union) {
      const r = enumValue(m, v);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/**
 * An identity name computed at run time (parse-time literals are already `module:identity`).
 * A prefix is taken as a module name, else as some module's own prefix; a bare name must be
 * unique among all identities.
 */
function identityName(s: string, st: State): string | undefined {
  const t = s.trim();
  if (st.schema.identities.has(t)) return t;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    const prefix = t.slice(0, colon);
    const local = t.slice(colon + 1);
    for (const m of st.schema.modules.values()) {
      if (m.prefix === prefix) {
        const q = `${m.name}:${local}`;
        if (st.schema.identities.has(q)) return q;
      }
    }
    return t;
  }
  let found: string | undefined;
  for (const [q, id] of st.schema.identities) {
    if (id.name === t) {
      if (found !== undefined) return undefined;
      found = q;
    }
  }
  return found;
}

// ----- deref -----

function deref(n: DataCursor, st: State): DataCursor[] {
  const t = n.schema?.type;
  if (!t) return [];
  const v = n.value;
  if (typeof v === 'object') return [];
  const s = leafString(v);
  for (const member of flatTypes(t)) {
    if (member.base === 'leafref' && member.leafrefPath) {
      const out = targetsOf(member.leafrefPath, n, s, { ...st, current: n });
      if (out.length) return out;
    } else if (member.base === 'instance-identifier' && typeof v === 'string') {
      let expr: XPathExpr;
      try {
        expr = parseInstanceIdentifier(v, st.schema);
      } catch {
        continue;
      }
      const r = ev(expr, st.root, 1, 1, st);
      if (Array.isArray(r) && r.length) return r;
    }
  }
  return [];
}

/**
 * The nodes a leafref with path `path` and value `value` refers to: the nodes the path selects
 * (evaluated with the leaf as context and current node) whose string-value is `value`, in
 * document order. When the path ends in `list/key` of a single-key list without predicates on
 * those two steps, the entry is looked up by key instead of scanning the list.
 */
export function leafrefTargets(path: XPathExpr, ctx: XPathContext, value: string): DataCursor[] {
  return targetsOf(path, ctx.node, value, { schema: ctx.schema, root: ctx.root, current: ctx.current });
}

const pathPrefixes = new WeakMap<XPathExpr, PathExpr>();

function targetsOf(path: XPathExpr, node: DataCursor, value: string, st: State): DataCursor[] {
  if (path.kind === 'path' && !path.filter && path.steps.length >= 2) {
    const steps = path.steps;
    const leafStep = steps[steps.length - 1]!;
    const listStep = steps[steps.length - 2]!;
    if (isPlainChild(leafStep) && isPlainChild(listStep)) {
      let prefix = pathPrefixes.get(path);
      if (!prefix) {
        prefix = { kind: 'path', absolute: path.absolute, steps: steps.slice(0, -2) };
        pathPrefixes.set(path, prefix);
      }
      const parents = evalPath(prefix, node, 1, 1, st);
      const out: DataCursor[] = [];
      const listQname = `${listStep.module}:${listStep.name}`;
      for (const parent of parents) {
        const ls = parent.schema ? parent.schema.dataChildren.get(listQname) : topLevelSchema(st.schema, listQname);
        const pv = parent.value;
        const map = ls && isObject(pv) ? pv[ls.jsonName] : undefined;
        if (ls && ls.kind === 'list' && map instanceof Map && ls.keys.length === 1 && ls.keys[0] === leafStep.name && leafStep.module === ls.module) {
          const keyLeaf = ls.dataChildren.get(leafStep.name);
          const entry = map.get(value);
          if (keyLeaf && entry && entry[keyLeaf.jsonName] !== undefined && leafString(entry[keyLeaf.jsonName] as LeafValue) === value) {
            out.push({ schema: keyLeaf, value: entry[keyLeaf.jsonName]!, parent: { schema: ls, value: entry, parent } });
            continue;
          }
          if (keyLeaf && !entry && UNRESERVED.test(value)) continue;
        }
        for (const e of stepFrom(parent, listStep, st)) for (const l of stepFrom(e, leafStep, st)) if (nodeString(l) === value) out.push(l);
      }
      return parents.length > 1 ? sortUnique(out, st) : out;
    }
  }
  return nodeSetOf(ev(path, node, 1, 1, st), 'leafref paths').filter((x) => nodeString(x) === value);
}

function isPlainChild(s: XPathStep): boolean {
  return s.axis === 'child' && s.nodeTest === undefined && s.name !== '*' && s.predicates.length === 0;
}

function flatTypes(t: ResolvedType): ResolvedType[] {
  if (t.base !== 'union' || !t.union) return [t];
  return t.union.flatMap(flatTypes);
}

const INHERIT = '\u0000inherit';
const instanceIdCache = new Map<string, XPathExpr>();

/** RFC 7951 instance-identifier: prefixes are module names; unprefixed names inherit the module. */
function parseInstanceIdentifier(text: string, schema: Schema): XPathExpr {
  let e = instanceIdCache.get(text);
  if (e) return e;
  e = parseXPath(text, (p) => (schema.modules.has(p) ? p : undefined), INHERIT);
  if (e.kind !== 'path' || !e.absolute) throw new Error(`not an instance-identifier: ${text}`);
  inheritModules(e.steps, undefined);
  if (instanceIdCache.size > 1000) instanceIdCache.clear();
  instanceIdCache.set(text, e);
  return e;
}

function inheritModules(steps: XPathStep[], parentModule: string | undefined): void {
  let m = parentModule;
  for (const s of steps) {
    if (s.module === INHERIT) s.module = m;
    if (s.module !== undefined) m = s.module;
    for (const p of s.predicates) inheritInExpr(p, m);
  }
}

function inheritInExpr(e: XPathExpr, m: string | undefined): void {
  switch (e.kind) {
    case 'path':
      inheritModules(e.steps, m);
      break;
    case 'cmp': case 'and': case 'or': case 'arith': case 'union':
      inheritInExpr(e.left, m);
      inheritInExpr(e.right, m);
      break;
    case 'neg':
      inheritInExpr(e.operand, m);
      break;
    case 'call':
      for (const x of e.args) inheritInExpr(x, m);
      break;
    default:
      break;
  }
}

// ----- XSD regular expressions -----

const regexCache = new Map<string, RegExp>();

const MULTI_ESCAPES: Record<string, string> = {
  s: '[ \\t\\n\\r]',
  S: '[^ \\t\\n\\r]',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  w: '[^\\p{P}\\p{Z}\\p{C}]',
  W: '[\\p{P}\\p{Z}\\p{C}]',
  i: '[\\p{L}_:]',
  I: '[^\\p{L}_:]',
  c: '[\\p{L}\\p{N}\\p{Mn}\\p{Mc}._:\\-\\u00B7]',
  C: '[^\\p{L}\\p{N}\\p{Mn}\\p{Mc}._:\\-\\u00B7]',
};

const BLOCKS: Record<string, string> = {
  BasicLatin: '\\u{0}-\\u{7F}',
  'Latin-1Supplement': '\\u{80}-\\u{FF}',
  'LatinExtended-A': '\\u{100}-\\u{17F}',
  'LatinExtended-B': '\\u{180}-\\u{24F}',
  IPAExtensions: '\\u{250}-\\u{2AF}',
  Greek: '\\u{370}-\\u{3FF}',
  Cyrillic: '\\u{400}-\\u{4FF}',
  Hebrew: '\\u{590}-\\u{5FF}',
  Arabic: '\\u{600}-\\u{6FF}',
  GeneralPunctuation: '\\u{2000}-\\u{206F}',
  CJKUnifiedIdeographs: '\\u{4E00}-\\u{9FFF}',
};

/** Characters escaped inside a `v`-mode class (syntax characters and reserved punctuators). */
const CLASS_ESCAPE = new Set('^$\\.*+?()[]{}|/&-!#%,:;<=>@`~'.split(''));
/** Characters that may follow `\` outside a class in `v`/`u` mode. */
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

/**
 * Translates an XSD regular expression (XML Schema part 2, appendix F) to an anchored JS RegExp.
 * Supports character class subtraction, multi-character escapes (`\s \d \w \i \c` and negations),
 * `\p{..}` categories and common `\p{Is..}` blocks. Throws on malformed patterns.
 */
export function xsdRegExp(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re) return re;
  const x = new XsdTranslator(pattern);
  re = new RegExp(`^(?:${x.translate()})$`, 'v');
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

class XsdTranslator {
  private i = 0;

  constructor(private readonly src: string) {}

  private fail(msg: string): never {
    throw new Error(`invalid XSD pattern "${this.src}" at position ${this.i + 1}: ${msg}`);
  }

  translate(): string {
    let out = '';
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '\\') {
        out += this.escape(false);
      } else if (c === '[') {
        out += this.charClass();
      } else if (c === '.') {
        out += '[^\\n\\r]';
        this.i++;
      } else if (c === '^' || c === '$') {
        out += '\\' + c;
        this.i++;
      } else if (c === ']' ) {
        this.fail('unbalanced "]"');
      } else {
        const cp = s.codePointAt(this.i)!;
        const ch = String.fromCodePoint(cp);
        out += c === '/' ? '\\/' : ch;
        this.i += ch.length;
      }
    }
    return out;
  }

  /** `\x` at this.i; returns the JS text for inside or outside a class. */
  private escape(inClass: boolean): string {
    const s = this.src;
    const c = s[this.i + 1];
    if (c === undefined) this.fail('trailing "\\"');
    this.i += 2;
    if (c === 'n' || c === 'r' || c === 't') return '\\' + c;
    if (c === 'p' || c === 'P') {
      if (s[this.i] !== '{') this.fail('expected "{" after \\p');
      const end = s.indexOf('}', this.i);
      if (end < 0) this.fail('unterminated \\p{');
      const name = s.slice(this.i + 1, end);
      this.i = end + 1;
      if (name.startsWith('Is')) {
        const range = BLOCKS[name.slice(2)];
        if (!range) this.fail(`unsupported block "${name}"`);
        return c === 'p' ? `[${range}]` : `[^${range}]`;
      }
      if (!/^[A-Z][a-z]?$/.test(name)) this.fail(`unknown category "${name}"`);
      return `\\${c}{${name}}`;
    }
    const multi = MULTI_ESCAPES[c];
    if (multi !== undefined) return multi;
    if ('\\|.-^?*+{}()[]'.includes(c)) {
      if (inClass) return CLASS_ESCAPE.has(c) ? '\\' + c : c;
      return SYNTAX_CHARS.has(c) ? '\\' + c : c;
    }
    this.fail(`unknown escape "\\${c}"`);
  }

  /** A character class at this.i (`[`), subtraction included. */
  private charClass(): string {
    const s = this.src;
    this.i++; // [
    let negated = false;
    if (s[this.i] === '^') {
      negated = true;
      this.i++;
    }
    let items = '';
    let first = true;
    let subtract: string | undefined;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated character class');
      const c = s[this.i]!;
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      if (c === '-' && s[this.i + 1] === '[' && !first) {
        this.i++;
        subtract = this.charClass();
        if (s[this.i] !== ']') this.fail('expected "]" after class subtraction');
        this.i++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (s[this.i] === '-' && s[this.i + 1] !== '[' && s[this.i + 1] !== ']' && lo.single) {
        this.i++;
        const hi = this.classAtom();
        if (!hi.single) this.fail('invalid range');
        items += `${lo.text}-${hi.text}`;
      } else {
        items += lo.text;
      }
    }
    if (items === '') this.fail('empty character class');
    const base = `[${negated ? '^' : ''}${items}]`;
    return subtract ? `[${base}--${subtract}]` : base;
  }

  private classAtom(): { text: string; single: boolean } {
    const s = this.src;
    const c = s[this.i]!;
    if (c === '\\') {
      const t = this.escape(true);
      return { text: t, single: t.length <= 2 && !t.startsWith('[') };
    }
    if (c === '[') this.fail('"[" must be escaped inside a character class');
    const cp = s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { text: CLASS_ESCAPE.has(ch) ? '\\' + ch : ch, single: true };
  }
}

// =====================================================================================
// Static analysis over the schema
// =====================================================================================

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
  return p.name === step.name && p.module === step.module;
}

class Unresolvable extends Error {}

/**
 * The schema nodes an expression can read, evaluated with `from` as context and current node:
 * every node a location step can land on (intermediate steps included), and for nodes whose
 * string-value is read, their data descendants. Undefined when that cannot be known statically
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
      for (const p of alive) if (!isRoot(p)) this.out.add(p);
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
        } else if (step.nodeTest === undefined && step.name !== '*') {
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
