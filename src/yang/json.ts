/**
 * RFC 7951 JSON codec. Decoding checks what one node can check on its own (names, types, keys,
 * duplicates, config) and builds the internal tree; tree-wide rules (mandatory, must, when,
 * leafref, unique, min/max-elements, choice) are the validator's. Encoding writes RFC 7951 from
 * the internal tree (lists become arrays, 64-bit numbers stay strings).
 */
import { YangError } from '../errors.ts';
import { encodeKeyValue, keyString, type InstanceStep } from './path.ts';
import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from './schema.ts';
import { JsonNumberText, lexicalOf, parseJsonValue } from './types.ts';

export interface DecodeOptions {
  /** Refuse `config false` nodes (documents written to the config datastore). */
  configOnly?: boolean;
  /**
   * Accept a top-level or child member without its module prefix when the name is unambiguous
   * (what OpenDaylight clients send, e.g. `{"input": {...}}`, `{"topology": [...]}`).
   */
  lenientNames?: boolean;
  /**
   * RFC 7951 to the letter: int64, uint64 and decimal64 only as JSON strings. Off by default, as
   * OpenDaylight clients send them as numbers; the yanglint cross-check turns it on.
   */
  strictNumbers?: boolean;
  /**
   * Accept int8..uint32 values sent as JSON strings (`"remote-port": "6640"`), as OpenDaylight's
   * JSON parser does; the decoded value is the canonical number, so output stays RFC 7951. Only
   * the protocol edges turn it on (RESTCONF bodies); the datastore and the yanglint cross-check
   * read RFC 7951. In a union a string still goes to a member that takes it as a string first.
   */
  numbersAsStrings?: boolean;
}

/**
 * Reads JSON text without losing 64-bit precision: numbers too long for a double are kept as
 * their text (JsonNumberText). The fast native parser is used when no such number can occur.
 */
export function readJson(text: string): unknown {
  refuseDeepJson(text);
  if (!MAYBE_LONG_INTEGER.test(text)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new YangError({ tag: 'malformed-message', type: 'rpc', message: `malformed JSON: ${(e as Error).message}` });
    }
  }
  return new LosslessJsonReader(text).read();
}

/**
 * How deep JSON arrays and objects may nest, as XML elements may (XML_MAX_DEPTH, libxml2's
 * default): far deeper than any YANG data, and shallow enough that no recursive walk over a
 * document (decoding, validation, JSON.stringify) can exhaust the stack.
 */
export const JSON_MAX_DEPTH = 256;

/** The depth at which `text` first nests beyond `limit` (0: it never does). Linear; strings skipped. */
export function jsonNestingBeyond(text: string, limit: number = JSON_MAX_DEPTH): number {
  // Nesting beyond the limit takes more than `limit` opening brackets.
  if (text.length <= limit) return 0;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: to its closing quote, escapes skipped.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return 0;
}

/** Refuses (too-big) a JSON text nested beyond JSON_MAX_DEPTH, before anything parses it. */
export function refuseDeepJson(text: string): void {
  if (jsonNestingBeyond(text)) {
    throw new YangError({ tag: 'too-big', type: 'rpc', message: `JSON nested deeper than ${JSON_MAX_DEPTH} arrays and objects` });
  }
}

/**
 * Where an integer too long for a double may be (16 digits or more): a JSON number starts at the
 * text's start, after whitespace, `:`, `,` or `[`, its digits after an optional `-`. A digit run
 * after anything else is inside a string (RFC 7951 writes 64-bit values as strings: `"dpn":
 * "18446744000000000000"` needs no slow read); a false match only costs the slow read.
 */
const MAYBE_LONG_INTEGER = /(?:^|[\s:,[-])\d{16}/;

class LosslessJsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  read(): unknown {
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(why: string): never {
    throw new YangError({ tag: 'malformed-message', type: 'rpc', message: `malformed JSON at offset ${this.i}: ${why}` });
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const o: Record<string, unknown> = {};
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return o;
      }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('expected a member name');
        const k = this.string();
        this.ws();
        if (this.s[this.i++] !== ':') this.fail('expected ":"');
        const v = this.value();
        if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        else o[k] = v;
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return o;
        if (d !== ',') this.fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      this.i++;
      const a: unknown[] = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return a;
      }
      for (;;) {
        a.push(this.value());
        this.ws();
        const d = this.s[this.i++];
        if (d === ']') return a;
        if (d !== ',') this.fail('expected "," or "]"');
      }
    }
    if (c === '"') return this.string();
    if (this.s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4;
      return null;
    }
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) this.fail('unexpected character');
    this.i += r[0].length;
    const n = Number(r[0]);
    return /^-?\d+$/.test(r[0]) && !Number.isSafeInteger(n) ? new JsonNumberText(r[0]) : n;
  }

  private string(): string {
    const start = this.i;
    // Find the closing quote, skipping escapes, then let the native parser decode the escapes.
    let j = start + 1;
    const s = this.s;
    for (;;) {
      if (j >= s.length) this.fail('unterminated string');
      const c = s[j];
      if (c === '"') break;
      if (c === '\\') j++;
      j++;
    }
    this.i = j + 1;
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      this.i = start;
      return this.fail('bad string');
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumberText);
}

/**
 * Finds the schema child a JSON member names. `lenient`: a name without its module that is not
 * a child in the parent's own module names the one child of that local name in any module
 * (none, or several: undefined; namedInAnyModule tells which).
 */
export function memberSchema(
  schema: Schema,
  parent: SchemaNode | undefined,
  member: string,
  lenient = false,
): SchemaNode | undefined {
  const n = parent ? parent.dataChildren.get(member) : schema.roots.get(member);
  if (n || !lenient || member.includes(':')) return n;
  const matches = namedInAnyModule(schema, parent, member);
  return matches.length === 1 ? matches[0] : undefined;
}

/** The data children of `parent` (none: the top-level nodes) with local name `name`, whatever their module. */
export function namedInAnyModule(schema: Schema, parent: SchemaNode | undefined, name: string): SchemaNode[] {
  const candidates = parent ? new Set(parent.dataChildren.values()) : schema.roots.values();
  return [...candidates].filter((c) => c.name === name);
}

/**
 * Decodes the members of a JSON object under `parent` (undefined: the datastore root, whose
 * members are module-qualified). `path` is the api-path of the object, for errors.
 */
export function decodeObject(
  schema: Schema,
  parent: SchemaNode | undefined,
  raw: unknown,
  path: string,
  opts: DecodeOptions = {},
): DataObject {
  if (!isPlainObject(raw)) {
    throw new YangError({ tag: 'invalid-value', message: `expected a JSON object${parent ? ` for "${parent.name}"` : ''}`, path: path || '/' });
  }
  const out: DataObject = {};
  for (const member in raw) {
    if (!Object.prototype.hasOwnProperty.call(raw, member)) continue;
    const node = memberSchema(schema, parent, member, opts.lenientNames);
    if (!node) {
      const where = parent ? `"${parent.name}"` : 'the top level';
      const why = !parent && !member.includes(':') ? ' (top-level names must be module-qualified)' : '';
      throw new YangError({ tag: 'unknown-element', type: 'application', message: `unknown element "${member}" in ${where}${why}`, path: `${path}/${member}` });
    }
    const name = node.jsonName;
    if (out[name] !== undefined) {
      throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is given twice`, path: `${path}/${member}` });
    }
    // Leaves are the bulk of any document: their path is only spelled out if they fail.
    const value =
      node.kind === 'leaf' && !(opts.configOnly && !node.config)
        ? leafValue(schema, node, raw[member], path, opts, name)
        : decodeValue(schema, node, raw[member], `${path}/${name}`, opts);
    // A list without entries is no data: kept, it would not survive storage or reach replicas.
    if (value instanceof Map && value.size === 0) continue;
    out[name] = value;
  }
  return out;
}

// The errors decoding and checkDecoded share: a decoded value is refused as a JSON one would be.
const configFalse = (node: SchemaNode, path: string) =>
  new YangError({ tag: 'invalid-value', message: `"${node.name}" is config false and cannot be written to the config datastore`, path });
const holdsNoData = (node: SchemaNode, path: string) => new YangError({ tag: 'unknown-element', message: `"${node.name}" (${node.kind}) cannot hold data`, path });
const missingKey = (node: SchemaNode, k: string, path: string) =>
  new YangError({ tag: 'missing-element', type: 'protocol', message: `list "${node.name}" entry is missing its key "${k}"`, path, info: { 'bad-element': k } });

/** Decodes the JSON value of one schema node (object, array of entries, leaf-list array, leaf). */
export function decodeValue(schema: Schema, node: SchemaNode, raw: unknown, path: string, opts: DecodeOptions = {}): DataValue {
  if (opts.configOnly && !node.config) {
    throw configFalse(node, path);
  }
  switch (node.kind) {
    case 'container':
    case 'input':
    case 'output':
    case 'notification':
      return decodeObject(schema, node, raw, path, opts);
    case 'list': {
      if (!Array.isArray(raw)) throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is a list: expected a JSON array`, path });
      const out: ListValue = new Map();
      raw.forEach((item, i) => {
        const entry = decodeListEntry(schema, node, item, path, opts);
        const key = node.keys.length ? keyString(node, entry)! : `#${i}`;
        if (out.has(key)) {
          throw new YangError({ tag: 'invalid-value', appTag: 'data-not-unique', message: `duplicate entry of list "${node.name}" with key ${key}`, path: `${path}=${key}` });
        }
        out.set(key, entry);
      });
      return out;
    }
    case 'leaf-list': {
      if (!Array.isArray(raw)) throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is a leaf-list: expected a JSON array`, path });
      const values = raw.map((v) => leafValue(schema, node, v, path, opts));
      if (node.config) {
        const seen = new Set<string>();
        for (const v of values) {
          const s = lexicalOf(v);
          if (seen.has(s)) throw new YangError({ tag: 'invalid-value', message: `duplicate value "${s}" in leaf-list "${node.name}"`, path: `${path}=${encodeKeyValue(s)}` });
          seen.add(s);
        }
      }
      return values;
    }
    case 'leaf':
      return leafValue(schema, node, raw, path, opts);
    case 'anydata':
    case 'anyxml':
      return raw as DataValue;
    default:
      throw holdsNoData(node, path);
  }
}

/** Decodes one list entry, requiring every key leaf. */
export function decodeListEntry(schema: Schema, node: SchemaNode, item: unknown, path: string, opts: DecodeOptions = {}): DataObject {
  const entry = decodeObject(schema, node, item, path, opts);
  requireKeys(node, entry, path);
  return entry;
}

/** A decoded list entry must hold every key leaf (missing-element otherwise). */
export function requireKeys(node: SchemaNode, entry: DataObject, path: string): void {
  for (const k of node.keys) if (entry[k] === undefined) throw missingKey(node, k, path);
}

/** A leaf's value; `member` given means `path` is the parent's and the leaf's is path/member. */
function leafValue(schema: Schema, node: SchemaNode, raw: unknown, path: string, opts: DecodeOptions, member?: string): LeafValue {
  const r = parseJsonValue(schema, node.type!, raw, node.module, opts.strictNumbers, opts.numbersAsStrings);
  if (!('value' in r)) {
    throw new YangError({ tag: 'invalid-value', message: `"${node.name}": ${r.error}`, path: member === undefined ? path : `${path}/${member}`, appTag: r.appTag });
  }
  return r.value;
}

/**
 * Checks that an already decoded value (what a protocol edge hands to `putDecoded`) is in the
 * internal form decoding would have produced: every member a data child of its node, lists as
 * Maps keyed by their entries' keys, and every leaf value the canonical value the type checker
 * gives for it. A value built by hand that is not canonical is refused with the error decoding
 * would give, instead of being stored as it is.
 */
export function checkDecoded(schema: Schema, node: SchemaNode, value: DataValue, path: string, opts: DecodeOptions = {}): void {
  if (opts.configOnly && !node.config) {
    throw configFalse(node, path);
  }
  switch (node.kind) {
    case 'list':
      if (value instanceof Map) {
        for (const [key, entry] of value) {
          checkDecodedEntry(schema, node, entry, `${path}=${key}`, opts);
          if (node.keys.length && keyString(node, entry) !== key) {
            throw new YangError({ tag: 'invalid-value', message: `list "${node.name}" holds entry ${keyString(node, entry)} under key ${key}`, path });
          }
        }
        return;
      }
      // A single entry (the value at an entry's path).
      checkDecodedEntry(schema, node, value, path, opts);
      return;
    case 'container': case 'input': case 'output': case 'notification':
      checkDecodedObject(schema, node, value, path, opts);
      return;
    case 'leaf-list':
      // The whole leaf-list (an array), or one of its values (at a value's path).
      for (const v of Array.isArray(value) && !isEmptyValue(value) ? (value as LeafValue[]) : [value as LeafValue]) checkLeaf(schema, node, v, path);
      return;
    case 'leaf':
      checkLeaf(schema, node, value as LeafValue, path);
      return;
    case 'anydata': case 'anyxml':
      return;
    default:
      throw holdsNoData(node, path);
  }
}

function isEmptyValue(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && v[0] === null;
}

function checkDecodedEntry(schema: Schema, node: SchemaNode, entry: DataValue, path: string, opts: DecodeOptions): void {
  checkDecodedObject(schema, node, entry, path, opts);
  requireKeys(node, entry as DataObject, path);
}

function checkDecodedObject(schema: Schema, node: SchemaNode, value: DataValue, path: string, opts: DecodeOptions): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Map) {
    throw new YangError({ tag: 'invalid-value', message: `expected an object for "${node.name}"`, path });
  }
  for (const member in value) {
    const child = node.dataChildren.get(member);
    if (!child || child.jsonName !== member) {
      throw new YangError({ tag: 'unknown-element', type: 'application', message: `unknown element "${member}" in "${node.name}"`, path: `${path}/${member}` });
    }
    checkDecoded(schema, child, (value as DataObject)[member], `${path}/${member}`, opts);
  }
}

function checkLeaf(schema: Schema, node: SchemaNode, v: LeafValue, path: string): void {
  // Canonical values are what strict RFC 7951 decoding returns: decoding one again gives it back.
  const r = parseJsonValue(schema, node.type!, v, node.module, true);
  const same = 'value' in r && (r.value === v || (isEmptyValue(r.value) && isEmptyValue(v)));
  if (!same) {
    const why = 'value' in r ? `"${lexicalOf(v)}" is not in canonical form (${JSON.stringify(r.value)})` : r.error;
    throw new YangError({ tag: 'invalid-value', message: `"${node.name}": ${why}`, path, appTag: 'value' in r ? undefined : r.appTag });
  }
}

// ----- encoding -----

/**
 * Internal value -> plain JSON-ready value (lists as arrays). What to leave out (content, depth,
 * fields) is decided before, by select.ts, for every encoding alike.
 */
export function toJsonValue(node: SchemaNode | undefined, value: DataValue): unknown {
  if (value instanceof Map) {
    const arr: unknown[] = [];
    for (const entry of value.values()) arr.push(objectToJson(node, entry));
    return arr;
  }
  if (node && (node.kind === 'leaf' || node.kind === 'leaf-list' || node.kind === 'anydata' || node.kind === 'anyxml')) return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return objectToJson(node, value as DataObject);
  return value;
}

function objectToJson(node: SchemaNode | undefined, obj: DataObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [member, v] of Object.entries(obj)) out[member] = toJsonValue(node ? node.dataChildren.get(member) : undefined, v);
  return out;
}

/** Encodes a whole root object (top-level members). */
export function encodeRoot(schema: Schema, root: DataObject): string {
  const out: Record<string, unknown> = {};
  for (const [member, v] of Object.entries(root)) out[member] = toJsonValue(schema.roots.get(member), v);
  return JSON.stringify(out);
}

/**
 * A copy of an object with the defaults of absent leaves filled in (not inside choices, whose
 * case in effect is not decided here), recursively through the containers that are present.
 */
export function withDefaults(node: SchemaNode, obj: DataObject): DataObject {
  const out: DataObject = { ...obj };
  for (const [k, c] of node.dataChildren) {
    if (k !== c.jsonName) continue;
    const v = out[k];
    if (v === undefined) {
      if (c.kind === 'leaf' && c.default !== undefined && !c.case) out[k] = c.default;
      else if (c.kind === 'leaf-list' && c.defaults && !c.case) out[k] = [...c.defaults];
    } else if (c.kind === 'container' && typeof v === 'object' && !(v instanceof Map) && !Array.isArray(v)) {
      out[k] = withDefaults(c, v as DataObject);
    }
  }
  return out;
}

/**
 * A list entry's JSON with the key leaves its body left out taken from the path it is written
 * at (ODL clients omit them). Whether the keys that are given agree is checked after decoding.
 */
export function withPathKeys(step: InstanceStep, item: unknown): unknown {
  const list = step.schema;
  if (typeof item !== 'object' || item === null || Array.isArray(item) || !step.keyValues) return item;
  const o = { ...(item as Record<string, unknown>) };
  list.keys.forEach((k, i) => {
    if (o[k] === undefined && o[`${list.module}:${k}`] === undefined) o[k] = step.keyValues![i];
  });
  return o;
}
