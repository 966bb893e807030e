/**
 * The XPath syntax tree and the parser that builds it. Names are resolved here, at parse time:
 * every name test carries the module its prefix stands for (unprefixed names take the context
 * module), so evaluation compares module names only. The identity literal of
 * `derived-from()`/`derived-from-or-self()` is likewise rewritten to `module:identity`.
 */

import { tokenize, XPathSyntaxError, type Token } from './lexer.ts';

export type XPathExpr =
  | { kind: 'or' | 'and'; left: XPathExpr; right: XPathExpr }
  | { kind: 'cmp'; op: '=' | '!=' | '<' | '<=' | '>' | '>='; left: XPathExpr; right: XPathExpr }
  | { kind: 'arith'; op: '+' | '-' | '*' | 'div' | 'mod'; left: XPathExpr; right: XPathExpr }
  | { kind: 'neg'; operand: XPathExpr }
  | { kind: 'union'; left: XPathExpr; right: XPathExpr }
  | { kind: 'literal'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: XPathExpr[] }
  | { kind: 'path'; absolute: boolean; steps: XPathStep[]; filter?: XPathExpr; filterPredicates?: XPathExpr[] };

export interface XPathStep {
  axis: 'child' | 'parent' | 'self' | 'descendant' | 'descendant-or-self' | 'ancestor' | 'ancestor-or-self' | 'following-sibling' | 'preceding-sibling';
  /** `*` for any; otherwise the local name. */
  name: string;
  /**
   * Module name the prefix resolved to (or the context module for unprefixed names). Undefined for
   * `*`, and for unprefixed names parsed without a context module: the name in any module.
   */
  module?: string;
  /** node() / text() tests. */
  nodeTest?: 'node' | 'text';
  predicates: XPathExpr[];
}

export type Axis = XPathStep['axis'];
export type PathExpr = Extract<XPathExpr, { kind: 'path' }>;
export type CallExpr = Extract<XPathExpr, { kind: 'call' }>;
export type CmpOp = Extract<XPathExpr, { kind: 'cmp' }>['op'];

const AXES: ReadonlySet<string> = new Set<Axis>([
  'child', 'parent', 'self', 'descendant', 'descendant-or-self', 'ancestor', 'ancestor-or-self',
  'following-sibling', 'preceding-sibling',
]);
const UNSUPPORTED_AXES = new Set(['attribute', 'namespace', 'following', 'preceding']);

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
export const CONTEXT_DEFAULT_FUNCTIONS = new Set(['local-name', 'namespace-uri', 'name', 'string', 'string-length', 'normalize-space', 'number']);

/**
 * Parses a YANG XPath expression. Prefixes are resolved through `resolvePrefix` to module names;
 * unprefixed names belong to `contextModule`, or to any module when it is undefined (NETCONF
 * filters, where clients leave prefixes out and mean "whatever module has it"). Throws an `Error`
 * naming the position on syntax errors, unknown prefixes and unknown functions.
 */
export function parseXPath(text: string, resolvePrefix: (prefix: string) => string | undefined, contextModule: string | undefined): XPathExpr {
  const p = new Parser(text, tokenize(text), resolvePrefix, contextModule);
  return p.parseTop();
}

class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly toks: Token[],
    private readonly resolvePrefix: (prefix: string) => string | undefined,
    private readonly contextModule: string | undefined,
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

  /** `pfx:ident` or `ident` -> `module:ident` (a bare `ident` without a context module is resolved at run time). */
  private resolveIdentity(text: string, at: Token): string {
    const s = text.trim();
    const colon = s.indexOf(':');
    if (colon < 0) return this.contextModule === undefined ? s : `${this.contextModule}:${s}`;
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
