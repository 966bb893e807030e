/**
 * References between data nodes: the targets of a leafref (used by the validator, with a keyed
 * lookup for the common `list/key` path) and `deref()`, which follows leafrefs and RFC 7951
 * instance-identifiers.
 */

import type { LeafValue, ResolvedType, Schema } from '../schema.ts';
import { isObject, leafString, type DataCursor } from '../cursor.ts';
import { parseXPath, type PathExpr, type XPathExpr, type XPathStep } from './parser.ts';
import {
  evaluate, evalPath, nodeSetOf, nodeString, sortUnique, stepFrom, topLevelSchema, UNRESERVED,
  type EvalState, type XPathContext,
} from './evaluator.ts';

export function deref(n: DataCursor, st: EvalState): DataCursor[] {
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
      const r = evaluate(expr, st.root, 1, 1, st);
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

function targetsOf(path: XPathExpr, node: DataCursor, value: string, st: EvalState): DataCursor[] {
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
  return nodeSetOf(evaluate(path, node, 1, 1, st), 'leafref paths').filter((x) => nodeString(x) === value);
}

function isPlainChild(s: XPathStep): boolean {
  return s.axis === 'child' && s.nodeTest === undefined && s.name !== '*' && s.predicates.length === 0;
}

export function flatTypes(t: ResolvedType): ResolvedType[] {
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
    // Without a module to inherit the name stays unresolved (matching nothing), not any-module.
    if (s.module === INHERIT && m !== undefined) s.module = m;
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
