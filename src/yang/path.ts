/**
 * The one path module. Inside Sextant every data path is an RFC 8040 api-path
 * (`/mod:top/item=k1,k2/leaf`, key values percent-encoded). Other forms (ODL legacy URLs,
 * NETCONF subtree filters) are translated to it at the edge; this module parses, resolves against
 * the schema, and formats it.
 */
import { YangError } from '../errors.ts';
import type { DataObject, LeafValue, Schema, SchemaNode } from './schema.ts';
import { lexicalOf, parseLexical } from './types.ts';

/** One step of a path as written: optional module, name, and raw (decoded) key values. */
export interface RawStep {
  module?: string;
  name: string;
  keys?: string[];
}

/** One step resolved against the schema. `key` is the list entry's key string (see keyString). */
export interface InstanceStep {
  schema: SchemaNode;
  /** Member name under the parent object (RFC 7951 form). */
  member: string;
  /** For a list entry: the key string; for a leaf-list element: its canonical value. */
  key?: string;
  keyValues?: LeafValue[];
}

export type InstancePath = InstanceStep[];

/** Characters RFC 3986 leaves unreserved; everything else in a key value is percent-encoded. */
export function encodeKeyValue(value: string): string {
  if (UNRESERVED.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;

export function decodeKeyValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `bad percent-encoding in "${value}"` });
  }
}

/** The key string of a list entry: its key values in key order, encoded and comma-joined. */
export function keyString(list: SchemaNode, entry: DataObject): string | undefined {
  let out = '';
  for (let i = 0; i < list.keys.length; i++) {
    const v = entry[list.keys[i]] as LeafValue | undefined;
    if (v === undefined) return undefined;
    out += (i ? ',' : '') + encodeKeyValue(lexicalOf(v));
  }
  return out;
}

/** Splits an api-path into steps. Does not consult the schema. */
export function parseApiPath(path: string): RawStep[] {
  const steps: RawStep[] = [];
  let start = 0;
  while (path.charCodeAt(start) === 47) start++;
  let end = path.length;
  while (end > start && path.charCodeAt(end - 1) === 47) end--;
  if (start >= end) return steps;
  // Hand-scanned: this runs for every path a plugin or client names.
  let i = start;
  while (i <= end) {
    let j = path.indexOf('/', i);
    if (j < 0 || j > end) j = end;
    steps.push(parseSegment(path, i, j));
    i = j + 1;
  }
  return steps;
}

/** The segment `path[i, j)` (`mod:name=k1,k2`, still encoded) as a raw step. */
function parseSegment(path: string, i: number, j: number): RawStep {
  if (j === i) throw badPath(path, 'empty path segment');
  const seg = path.slice(i, j);
  const eq = seg.indexOf('=');
  const ident = decodeKeyValue(eq < 0 ? seg : seg.slice(0, eq));
  const colon = ident.indexOf(':');
  const module = colon < 0 ? undefined : ident.slice(0, colon);
  const name = colon < 0 ? ident : ident.slice(colon + 1);
  if (!IDENTIFIER.test(name) || (module !== undefined && !IDENTIFIER.test(module))) throw badPath(path, `"${ident}" is not a node name`);
  const step: RawStep = { module, name };
  if (eq >= 0) step.keys = seg.slice(eq + 1).split(',').map(decodeKeyValue);
  return step;
}

const IDENTIFIER = /^[A-Za-z_][\w.-]*$/;

function badPath(path: string, why: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `invalid path "${path}": ${why}` });
}

/**
 * Resolves raw steps against the schema. The first step must name its module; later steps
 * inherit their parent's. Keys are checked against the key leaves' types and canonicalised.
 */
export function resolvePath(schema: Schema, raw: RawStep[], text = formatRaw(raw)): InstancePath {
  const out: InstancePath = [];
  let parent: SchemaNode | undefined;
  for (const step of raw) {
    const inst = resolveStep(schema, parent, step, text);
    out.push(inst);
    parent = inst.schema;
  }
  return out;
}

/** One raw step resolved under `parent` (none: a top-level node); `text` is the whole path, for errors. */
function resolveStep(schema: Schema, parent: SchemaNode | undefined, step: RawStep, text: string): InstanceStep {
  const module = step.module ?? parent?.module;
  if (!module) throw badPath(text, `the first node "${step.name}" must be module-qualified`);
  if (!schema.modules.has(module)) {
    throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `unknown module "${module}" in path "${text}"`, path: text });
  }
  const qname = `${module}:${step.name}`;
  const node = parent ? parent.dataChildren.get(qname) : schema.roots.get(qname);
  if (!node) {
    throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${qname}" is not a data node${parent ? ` of "${parent.name}"` : ''} (path "${text}")`, path: text });
  }
  const member = node.jsonName;
  const inst: InstanceStep = { schema: node, member };
  if (node.kind === 'list' && step.keys) {
    if (step.keys.length !== node.keys.length) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `list "${node.name}" has ${node.keys.length} key(s), the path gives ${step.keys.length}`, path: text });
    }
    inst.keyValues = step.keys.map((k, i) => {
      const keyLeaf = node.dataChildren.get(node.keys[i])!;
      const r = parseLexical(schema, keyLeaf.type!, k, (p) => (schema.modules.has(p) ? p : undefined), keyLeaf.module);
      if (!('value' in r)) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `key "${node.keys[i]}" of "${node.name}": ${r.error}`, path: text });
      return r.value;
    });
    inst.key = inst.keyValues.map((v) => encodeKeyValue(lexicalOf(v))).join(',');
  } else if (node.kind === 'leaf-list' && step.keys) {
    if (step.keys.length !== 1) throw badPath(text, `leaf-list "${node.name}" takes one value`);
    const r = parseLexical(schema, node.type!, step.keys[0], (p) => (schema.modules.has(p) ? p : undefined), node.module);
    if (!('value' in r)) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `"${node.name}": ${r.error}`, path: text });
    inst.keyValues = [r.value];
    inst.key = lexicalOf(r.value);
  } else if (step.keys) {
    throw badPath(text, `"${node.name}" is not a list and takes no keys`);
  }
  return inst;
}

export function parsePath(schema: Schema, path: string): InstancePath {
  return resolvePath(schema, parseApiPath(path), path);
}

/**
 * parsePath for paths that come one after another in ascending order, as a store's keys do when
 * it is read back: a key repeats most of the segments of the one before it
 * (`/nodes/node=a/table=0/flow=f/instructions/instruction=0` then `.../instruction=1`), and
 * those steps are taken over instead of parsed and resolved again. Each answer is what parsePath
 * answers for that path (the same errors too); any order works, sorted input only makes it fast.
 */
export class PathScanner {
  private prev = '';
  /** Where each of the previous path's segments ends in `prev` (exclusive). */
  private readonly ends: number[] = [];
  private readonly steps: InstanceStep[] = [];
  /** How many leading steps the last answer took over from the path before it. */
  shared = 0;

  constructor(private readonly schema: Schema) {}

  /** The path's steps; the array is the scanner's own and changes with the next call. */
  parse(path: string): readonly InstanceStep[] {
    const prev = this.prev;
    // A step is the same when the path up to the '/' ending its segment is. From the deepest:
    // most keys are the previous one's child or sibling.
    let n = this.ends.length;
    for (; n > 0; n--) {
      const e = this.ends[n - 1];
      if (path.charCodeAt(e) === 47 && (e === prev.length ? path.startsWith(prev) : prev.charCodeAt(e) === 47 && path.startsWith(prev.slice(0, e)))) break;
    }
    // Until this path has parsed, nothing of it may be taken over by the next one.
    this.prev = '';
    this.ends.length = n;
    this.steps.length = n;
    let i = n ? this.ends[n - 1] + 1 : 0;
    if (!n) while (path.charCodeAt(i) === 47) i++;
    let end = path.length;
    while (end > i && path.charCodeAt(end - 1) === 47) end--;
    if (i < end) {
      let parent = n ? this.steps[n - 1].schema : undefined;
      while (i <= end) {
        let j = path.indexOf('/', i);
        if (j < 0 || j > end) j = end;
        const step = this.step(parent, path, i, j);
        this.steps.push(step);
        this.ends.push(j);
        parent = step.schema;
        i = j + 1;
      }
    }
    this.prev = path;
    this.shared = n;
    return this.steps;
  }

  /**
   * The step of segment `path[i, j)` under `parent`. A segment recurs under many parents of one
   * kind (`instructions`, `instruction=0`, `table=0` under every flow or node): its step is
   * resolved once per parent schema node and kept, a bounded number per parent.
   */
  private step(parent: SchemaNode | undefined, path: string, i: number, j: number): InstanceStep {
    let memo = this.memo.get(parent);
    if (!memo) this.memo.set(parent, (memo = new Map()));
    const seg = path.slice(i, j);
    let step = memo.get(seg);
    if (step) return step;
    step = resolveStep(this.schema, parent, parseSegment(path, i, j), path);
    // Keys that never recur (a flow's id) would only fill it: it starts over when full.
    if (memo.size >= PathScanner.MEMO) memo.clear();
    memo.set(seg, step);
    return step;
  }

  private static readonly MEMO = 256;
  private readonly memo = new Map<SchemaNode | undefined, Map<string, InstanceStep>>();
}

/** Canonical api-path text of an instance path. */
export function formatPath(path: InstancePath): string {
  let out = '';
  for (const s of path) {
    out += `/${s.member}`;
    if (s.key !== undefined) out += `=${s.schema.kind === 'leaf-list' ? encodeKeyValue(s.key) : s.key}`;
  }
  return out || '/';
}

function formatRaw(raw: RawStep[]): string {
  return '/' + raw.map((s) => `${s.module ? `${s.module}:` : ''}${s.name}${s.keys ? `=${s.keys.map(encodeKeyValue).join(',')}` : ''}`).join('/');
}

/** True when `a` is `b` or an ancestor of it (both canonical api-path texts). */
export function isPrefixPath(a: string, b: string): boolean {
  return a === '/' || a === b || (b.startsWith(a) && b[a.length] === '/');
}
