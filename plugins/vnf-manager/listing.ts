/**
 * Lists as SOL013 has them: the attribute-based filter (clause 5.2, `?filter=(eq,operationState,
 * STARTING);(in,operation,SCALE,HEAL)`) over the rendered JSON, then paging (clause 5.4.2.1) in a
 * stable order with Tacker's `nextpage_opaque_marker` and a `Link: <...>; rel="next"` header.
 *
 * The marker is the position after the page's last entry (its sort key and id), encoded: paging
 * needs no state on the server, survives entries deleted meanwhile, and any controller instance
 * can serve the next page. A marker this server cannot have given is a 400.
 *
 * `fields`, `exclude_fields`, `all_fields` and `exclude_default` are not implemented: entries are
 * always shown whole (they are small).
 */
import { badRequest } from './lifecycle.ts';

type Op = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'cont' | 'ncont';
const SINGLE_VALUE: ReadonlySet<string> = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']);
const MANY_VALUES: ReadonlySet<string> = new Set(['in', 'nin', 'cont', 'ncont']);

export interface Condition {
  op: Op;
  path: string[];
  values: string[];
}

/** One `(op,attr[/attr...],value[,value...])` after another, `;`-joined; values may be 'quoted' ('' a quote). */
export function parseFilter(text: string, attributes: ReadonlySet<string>): Condition[] {
  const refuse = (why: string) => badRequest(`Invalid filter ${JSON.stringify(text)}: ${why}.`);
  const out: Condition[] = [];
  let i = 0;
  const token = (): string => {
    if (text[i] === "'") {
      let v = '';
      for (i++; ; i++) {
        if (i >= text.length) throw refuse('a quoted value is not closed');
        if (text[i] === "'") {
          if (text[i + 1] !== "'") break;
          i++;
        }
        v += text[i];
      }
      i++;
      return v;
    }
    const start = i;
    while (i < text.length && !",();'".includes(text[i]!)) i++;
    return text.slice(start, i);
  };
  for (;;) {
    if (text[i] !== '(') throw refuse(`expected "(" at ${i + 1}`);
    i++;
    const parts = [token()];
    while (text[i] === ',') {
      i++;
      parts.push(token());
    }
    if (text[i] !== ')') throw refuse(`expected "," or ")" at ${i + 1}`);
    i++;
    const [op, attr, ...values] = parts as [string, string | undefined, ...string[]];
    if (!SINGLE_VALUE.has(op) && !MANY_VALUES.has(op)) throw refuse(`unknown operator "${op}" (eq, neq, gt, gte, lt, lte, in, nin, cont, ncont)`);
    if (!attr) throw refuse(`${op} needs an attribute`);
    const path = attr.split('/');
    if (!attributes.has(path[0]!) || path.some((p) => p === '')) throw refuse(`unknown attribute "${attr}" (one of ${[...attributes].join(', ')})`);
    if (!values.length) throw refuse(`${op},${attr} needs a value`);
    if (SINGLE_VALUE.has(op) && values.length > 1) throw refuse(`${op} takes one value`);
    out.push({ op: op as Op, path, values });
    if (i === text.length) return out;
    if (text[i] !== ';') throw refuse(`expected ";" at ${i + 1}`);
    i++;
  }
}

/** The leaf values at a path (lists on the way are walked: any element may match). */
function leaves(v: unknown, path: string[]): string[] {
  if (Array.isArray(v)) return v.flatMap((e) => leaves(e, path));
  if (!path.length) return v === undefined || v === null || typeof v === 'object' ? [] : [String(v)];
  if (typeof v !== 'object' || v === null) return [];
  return leaves((v as Record<string, unknown>)[path[0]!], path.slice(1));
}

function compare(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function matches(entry: unknown, conditions: Condition[]): boolean {
  return conditions.every(({ op, path, values }) => {
    const have = leaves(entry, path);
    const v = values[0]!;
    switch (op) {
      case 'eq':
        return have.includes(v);
      case 'neq':
        return !have.includes(v);
      case 'in':
        return have.some((h) => values.includes(h));
      case 'nin':
        return !have.some((h) => values.includes(h));
      case 'cont':
        return have.some((h) => values.some((w) => h.includes(w)));
      case 'ncont':
        return !have.some((h) => values.some((w) => h.includes(w)));
      case 'gt':
        return have.some((h) => compare(h, v) > 0);
      case 'gte':
        return have.some((h) => compare(h, v) >= 0);
      case 'lt':
        return have.some((h) => compare(h, v) < 0);
      case 'lte':
        return have.some((h) => compare(h, v) <= 0);
    }
  });
}

// ----- paging ----------------------------------------------------------------------------------

/** Where an entry sorts: its creation (or start) time, then its id. */
export type SortKey = [at: string, id: string];

const before = (a: SortKey, b: SortKey) => (a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1]);
const encodeMarker = (k: SortKey) => Buffer.from(JSON.stringify(k)).toString('base64url');

function decodeMarker(marker: string): SortKey {
  let k: unknown;
  try {
    k = /^[A-Za-z0-9_-]+$/.test(marker) ? JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) : undefined;
  } catch {
    k = undefined;
  }
  if (!Array.isArray(k) || k.length !== 2 || !k.every((p) => typeof p === 'string')) throw badRequest(`nextpage_opaque_marker ${JSON.stringify(marker)} is not a marker this server gave.`);
  return k as SortKey;
}

/** One page of `entries` (any order) after `marker`, and the marker of the next page if there is one. */
export function page<T>(entries: T[], keyOf: (e: T) => SortKey, marker: string | undefined, size: number): { entries: T[]; next?: string } {
  const from = marker === undefined ? undefined : decodeMarker(marker);
  const keyed = entries.map((e) => ({ e, k: keyOf(e) })).filter(({ k }) => !from || before(from, k));
  keyed.sort((a, b) => (before(a.k, b.k) ? -1 : before(b.k, a.k) ? 1 : 0));
  const n = Math.max(1, size);
  const shown = keyed.slice(0, n);
  return { entries: shown.map(({ e }) => e), ...(keyed.length > n ? { next: encodeMarker(shown[shown.length - 1]!.k) } : {}) };
}
