/**
 * The function library: XPath 1.0 core functions (section 4) and the YANG ones (RFC 7950
 * section 10). Arity is checked by the parser; here each call is evaluated.
 */

import type { ResolvedType } from '../schema.ts';
import type { DataCursor } from '../cursor.ts';
import { xsdRegExp } from '../xsd-regex.ts';
import type { CallExpr } from './parser.ts';
import { evaluate, nodeNumber, nodeSetOf, nodeString, toBool, toNum, toStr, type EvalState, type XPathValue } from './evaluator.ts';
import { deref } from './leafref.ts';

export function call(e: CallExpr, node: DataCursor, pos: number, size: number, st: EvalState): XPathValue {
  const a = e.args;
  const arg = (i: number): XPathValue => evaluate(a[i]!, node, pos, size, st);
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
function identityName(s: string, st: EvalState): string | undefined {
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
