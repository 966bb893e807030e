/**
 * YANG built-in types: how a type statement resolves, and how a value is checked and brought to
 * its canonical form, from RFC 7951 JSON or from the lexical form (XML text, defaults, URL keys).
 * Integers up to 32 bits are JS numbers; int64, uint64 and decimal64 stay strings (checked with
 * bigint), so no 64-bit value ever passes through a double.
 */
import type { Statement } from './parser.ts';
import { sub, subArg, subs } from './parser.ts';
import { xsdRegExp } from './xsd-regex.ts';
import type { BuiltinType, LeafValue, Range, ResolvedType, Schema, XPathExpr } from './schema.ts';

const BUILTINS = new Set<BuiltinType>([
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'decimal64', 'string',
  'boolean', 'enumeration', 'bits', 'binary', 'leafref', 'identityref', 'empty', 'union',
  'instance-identifier',
]);

export function isBuiltinType(name: string): name is BuiltinType {
  return BUILTINS.has(name as BuiltinType);
}

const INT_BOUNDS: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-9223372036854775808n, 9223372036854775807n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 18446744073709551615n],
  decimal64: [-9223372036854775808n, 9223372036854775807n],
};

const SMALL_INTS = new Set(['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32']);

export interface BuiltinHelpers {
  contextModule: string;
  fail: (reason: string, at?: Statement) => never;
  resolveUnion: (member: Statement) => ResolvedType;
  qualifyIdentity: (ref: string, at: Statement) => string;
  parseXPath: (text: string, at: Statement) => XPathExpr;
  enabled: (stmt: Statement) => boolean;
}

export function resolveBuiltinType(name: BuiltinType, t: Statement, h: BuiltinHelpers): ResolvedType {
  const rt: ResolvedType = { base: name, name, contextModule: h.contextModule };
  switch (name) {
    case 'decimal64': {
      const fd = subArg(t, 'fraction-digits');
      if (!fd) h.fail('decimal64 needs fraction-digits');
      rt.fractionDigits = Number(fd);
      if (!(rt.fractionDigits >= 1 && rt.fractionDigits <= 18)) h.fail('fraction-digits must be 1..18');
      break;
    }
    case 'enumeration': {
      rt.enums = new Map();
      let next = 0;
      for (const e of subs(t, 'enum')) {
        if (!h.enabled(e)) continue;
        const v = subArg(e, 'value');
        const value = v !== undefined ? Number(v) : next;
        rt.enums.set(e.arg!, value);
        next = value + 1;
      }
      if (!rt.enums.size && !subs(t, 'enum').length) h.fail('enumeration needs at least one enum');
      break;
    }
    case 'bits': {
      rt.bits = new Map();
      let next = 0;
      for (const b of subs(t, 'bit')) {
        if (!h.enabled(b)) continue;
        const p = subArg(b, 'position');
        const pos = p !== undefined ? Number(p) : next;
        rt.bits.set(b.arg!, pos);
        next = pos + 1;
      }
      break;
    }
    case 'union': {
      const members = subs(t, 'type');
      if (!members.length) h.fail('union needs member types');
      rt.union = members.map((m) => h.resolveUnion(m));
      break;
    }
    case 'identityref': {
      const bases = subs(t, 'base');
      if (!bases.length) h.fail('identityref needs a base');
      rt.identityBases = bases.map((b) => h.qualifyIdentity(b.arg!, b));
      break;
    }
    case 'leafref': {
      const p = sub(t, 'path');
      if (!p) h.fail('leafref needs a path');
      rt.leafrefPath = h.parseXPath(p!.arg!, p!);
      rt.requireInstance = subArg(t, 'require-instance') !== 'false';
      break;
    }
    case 'instance-identifier':
      rt.requireInstance = subArg(t, 'require-instance') !== 'false';
      break;
    default:
      break;
  }
  return rt;
}

/** Applies the restrictions a type statement adds on top of an already resolved type. */
export function restrictType(base: ResolvedType, t: Statement, fail: (reason: string, at?: Statement) => never): ResolvedType {
  const out: ResolvedType = { ...base };
  const range = sub(t, 'range');
  if (range) {
    if (!INT_BOUNDS[base.base]) fail(`range is not allowed on ${base.base}`, range);
    out.ranges = [...(base.ranges ?? []), parseRanges(range.arg!, base, fail, range)];
    out.rangeErrorMessage = subArg(range, 'error-message') ?? base.rangeErrorMessage;
  }
  const length = sub(t, 'length');
  if (length) {
    if (base.base !== 'string' && base.base !== 'binary') fail(`length is not allowed on ${base.base}`, length);
    out.lengths = [...(base.lengths ?? []), parseRanges(length.arg!, { ...base, base: 'uint64' }, fail, length)];
    out.lengthErrorMessage = subArg(length, 'error-message') ?? base.lengthErrorMessage;
  }
  const patterns = subs(t, 'pattern');
  if (patterns.length) {
    if (base.base !== 'string') fail(`pattern is not allowed on ${base.base}`, patterns[0]);
    out.patterns = [...(base.patterns ?? [])];
    for (const p of patterns) {
      let regex: RegExp;
      try {
        regex = xsdRegExp(p.arg!);
      } catch (e) {
        fail(`invalid pattern "${p.arg}": ${(e as Error).message}`, p);
      }
      out.patterns.push({
        regex: regex!,
        invert: subArg(p, 'modifier') === 'invert-match',
        source: p.arg!,
        errorMessage: subArg(p, 'error-message'),
        errorAppTag: subArg(p, 'error-app-tag'),
      });
    }
  }
  if (base.enums && subs(t, 'enum').length && base.name !== 'enumeration') {
    const enums = new Map<string, number>();
    for (const e of subs(t, 'enum')) {
      const v = base.enums.get(e.arg!);
      if (v === undefined) fail(`enum "${e.arg}" is not in the base type`, e);
      enums.set(e.arg!, v!);
    }
    out.enums = enums;
  }
  if (base.bits && subs(t, 'bit').length && base.name !== 'bits') {
    const bits = new Map<string, number>();
    for (const b of subs(t, 'bit')) {
      const v = base.bits.get(b.arg!);
      if (v === undefined) fail(`bit "${b.arg}" is not in the base type`, b);
      bits.set(b.arg!, v!);
    }
    out.bits = bits;
  }
  const ri = subArg(t, 'require-instance');
  if (ri !== undefined) out.requireInstance = ri !== 'false';
  return out;
}

function parseRanges(text: string, base: ResolvedType, fail: (r: string, at?: Statement) => never, at: Statement): Range[] {
  const [lo, hi] = INT_BOUNDS[base.base] ?? [0n, 18446744073709551615n];
  const bound = (s: string): bigint => {
    s = s.trim();
    if (s === 'min') return base.ranges?.[0]?.[0]?.min ?? lo;
    if (s === 'max') {
      const last = base.ranges?.[0];
      return last?.[last.length - 1]?.max ?? hi;
    }
    const v = base.base === 'decimal64' ? scaleDecimal(s, base.fractionDigits!) : parseBigInt(s);
    if (v === undefined) fail(`invalid range bound "${s}"`, at);
    return v!;
  };
  return text.split('|').map((part) => {
    const [a, b] = part.split('..');
    const min = bound(a);
    const max = b === undefined ? min : bound(b);
    if (max < min) fail(`range "${part.trim()}" is empty`, at);
    return { min, max };
  });
}

function parseBigInt(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  return BigInt(s);
}

/** Decimal text -> bigint scaled by 10^fd, or undefined if not a decimal or too precise. */
function scaleDecimal(s: string, fd: number): bigint | undefined {
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (!m[2] && !m[3])) return undefined;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > fd) return undefined;
  const v = BigInt((m[2] || '0') + frac.padEnd(fd, '0'));
  return m[1] === '-' ? -v : v;
}

function decimalText(v: bigint, fd: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(fd + 1, '0');
  let int = digits.slice(0, digits.length - fd);
  let frac = digits.slice(digits.length - fd).replace(/0+$/, '');
  if (!frac) frac = '0';
  int = int.replace(/^0+(?=\d)/, '');
  return `${neg ? '-' : ''}${int}.${frac}`;
}

export type Parsed = { value: LeafValue } | { error: string; appTag?: string };

function err(error: string, appTag?: string): Parsed {
  return { error, appTag };
}

/** An integer's lexical form in a JSON string: no hexadecimal, no spaces (RFC 7950 section 9.2.1). */
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** A JSON number too large for a double, kept as its source text by the lossless JSON reader. */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

/**
 * Checks a value as RFC 7951 JSON gives it. 64-bit integers and decimal64 may come as strings
 * (RFC 7951) or as numbers (what ODL clients send); both reach the same canonical string.
 * `strict`: RFC 7951 to the letter (64-bit numbers only as strings). `numbersAsStrings`: the
 * integers up to 32 bits may also come as JSON strings (OpenDaylight's parser reads every scalar
 * as text), read as their lexical form and decoded to the canonical JSON number; `strict` wins.
 */
export function parseJsonValue(schema: Schema, t: ResolvedType, raw: unknown, leafModule: string, strict = false, numbersAsStrings = false): Parsed {
  switch (t.base) {
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) {
        if (raw instanceof JsonNumberText) return integer(t, raw.text);
        if (typeof raw === 'string' && numbersAsStrings && !strict) {
          return DECIMAL_INTEGER.test(raw) ? integer(t, raw) : err(`"${show(raw)}" is not a valid ${t.name} (a decimal integer is expected)`);
        }
        return err(`"${show(raw)}" is not a valid ${t.name} (a JSON number is expected)`);
      }
      // Up to 32 bits every bound is exact as a double: no bigint needed.
      return inNumberRanges(raw, t) ? { value: raw } : integer(t, String(raw));
    case 'int64': case 'uint64': case 'decimal64': {
      let text: string;
      if (typeof raw === 'string') text = raw;
      else if (strict) return err(`${show(raw)} is not a valid ${t.name}: RFC 7951 encodes ${t.base} as a JSON string`);
      else if (raw instanceof JsonNumberText) text = raw.text;
      else if (typeof raw === 'number' && Number.isFinite(raw)) {
        if (Number.isInteger(raw) && !Number.isSafeInteger(raw)) return err(`${raw} lost precision as a JSON number; send ${t.name} as a string`);
        text = String(raw);
      } else return err(`"${show(raw)}" is not a valid ${t.name}`);
      return t.base === 'decimal64' ? decimal(t, text) : integer(t, text);
    }
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : err(`"${show(raw)}" is not a valid boolean (JSON true or false)`);
    case 'empty':
      return Array.isArray(raw) && raw.length === 1 && raw[0] === null ? { value: [null] } : err(`"${show(raw)}" is not a valid empty value ([null])`);
    case 'union': {
      // RFC 7951 section 6.10: the JSON type chooses the member, so a string goes to a string-like
      // member first; only a string no member takes as RFC 7951 reads it may be a number in a string.
      const r = union(t, (m) => parseJsonValue(schema, m, raw, leafModule, strict), raw);
      if ('value' in r || typeof raw !== 'string' || !numbersAsStrings || strict) return r;
      const lenient = union(t, (m) => parseJsonValue(schema, m, raw, leafModule, false, true), raw);
      return 'value' in lenient ? lenient : r;
    }
    case 'leafref':
      if (t.leafrefTarget?.type) return parseJsonValue(schema, t.leafrefTarget.type, raw, leafModule, strict, numbersAsStrings);
      return typeof raw === 'string' ? { value: raw } : err(`"${show(raw)}" is not a valid ${t.name}`);
    default:
      if (typeof raw !== 'string') return err(`"${show(raw)}" is not a valid ${t.name} (a JSON string is expected)`);
      return stringLike(schema, t, raw, leafModule);
  }
}

/**
 * Checks a value in its lexical form (XML text, a default statement, a key in a URL).
 * `resolvePrefix` turns an identityref prefix into a module name (XML namespace prefixes, YANG
 * prefixes, or module names in URLs); unprefixed identities belong to `leafModule`.
 */
export function parseLexical(
  schema: Schema,
  t: ResolvedType,
  text: string,
  resolvePrefix: (prefix: string) => string | undefined,
  leafModule = t.contextModule,
): Parsed {
  switch (t.base) {
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': case 'int64': case 'uint64':
      return integer(t, text.trim());
    case 'decimal64':
      return decimal(t, text.trim());
    case 'boolean':
      if (text.trim() === 'true') return { value: true };
      if (text.trim() === 'false') return { value: false };
      return err(`"${text}" is not a valid boolean`);
    case 'empty':
      return text === '' ? { value: [null] } : err(`"${text}" is not a valid empty value`);
    case 'union':
      return union(t, (m) => parseLexical(schema, m, text, resolvePrefix, leafModule), text);
    case 'leafref':
      return t.leafrefTarget?.type ? parseLexical(schema, t.leafrefTarget.type, text, resolvePrefix, leafModule) : stringLike(schema, t, text, leafModule);
    case 'identityref': {
      const s = text.trim();
      const i = s.indexOf(':');
      let module = leafModule;
      if (i >= 0) {
        const m = resolvePrefix(s.slice(0, i));
        if (!m) return err(`unknown prefix in identity "${s}"`);
        module = m;
      }
      return identity(schema, t, `${module}:${i >= 0 ? s.slice(i + 1) : s}`);
    }
    default:
      return stringLike(schema, t, text, leafModule);
  }
}

function union(t: ResolvedType, tryMember: (m: ResolvedType) => Parsed, raw: unknown): Parsed {
  for (const m of t.union!) {
    const r = tryMember(m);
    if ('value' in r) return r;
  }
  return err(`"${show(raw)}" matches no member of union ${t.name}`);
}

function integer(t: ResolvedType, text: string): Parsed {
  let v: bigint;
  if (/^[+-]?\d+$/.test(text)) v = BigInt(text);
  else if (/^[+-]?0x[0-9a-fA-F]+$/.test(text)) v = text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text.replace(/^\+/, ''));
  else return err(`"${text}" is not a valid ${t.name}`);
  const [lo, hi] = INT_BOUNDS[t.base];
  if (v < lo || v > hi) return err(`${text} is out of the range of ${t.base}`);
  if (!inRanges(v, t.ranges)) return err(t.rangeErrorMessage ?? `${text} is out of range ${showRanges(t)}`);
  return { value: SMALL_INTS.has(t.base) ? Number(v) : v.toString() };
}

function decimal(t: ResolvedType, text: string): Parsed {
  const fd = t.fractionDigits!;
  const v = scaleDecimal(text, fd);
  if (v === undefined) return err(`"${text}" is not a valid decimal64 with ${fd} fraction digits`);
  const [lo, hi] = INT_BOUNDS.decimal64;
  if (v < lo || v > hi) return err(`${text} is out of the range of decimal64`);
  if (!inRanges(v, t.ranges)) return err(t.rangeErrorMessage ?? `${text} is out of range ${showRanges(t)}`);
  return { value: decimalText(v, fd) };
}

function inRanges(v: bigint, ranges: Range[][] | undefined): boolean {
  if (!ranges) return true;
  return ranges.every((parts) => parts.some((r) => v >= r.min && v <= r.max));
}

function showRanges(t: ResolvedType): string {
  const fmt = (v: bigint) => (t.base === 'decimal64' ? decimalText(v, t.fractionDigits!) : v.toString());
  return (t.ranges ?? []).map((parts) => parts.map((r) => (r.min === r.max ? fmt(r.min) : `${fmt(r.min)}..${fmt(r.max)}`)).join(' | ')).join(' and ');
}

function stringLike(schema: Schema, t: ResolvedType, s: string, leafModule: string): Parsed {
  switch (t.base) {
    case 'string': {
      if (t.lengths && !inNumberLengths(codePoints(s), t)) {
        return err(t.lengthErrorMessage ?? `"${s}" has a length outside ${t.lengths.map((p) => p.map((r) => `${r.min}..${r.max}`).join('|')).join(' and ')}`);
      }
      for (const p of t.patterns ?? []) {
        if (p.regex.test(s) === p.invert) return err(p.errorMessage ?? `"${s}" does not match the pattern "${p.source}"${p.invert ? ' (invert-match)' : ''}`, p.errorAppTag);
      }
      return { value: s };
    }
    case 'enumeration':
      return t.enums!.has(s) ? { value: s } : err(`"${s}" is not one of ${[...t.enums!.keys()].join(', ')}`);
    case 'bits': {
      const names = s.split(/\s+/).filter(Boolean);
      const seen = new Set<string>();
      for (const n of names) {
        if (!t.bits!.has(n)) return err(`"${n}" is not a bit of ${t.name}`);
        if (seen.has(n)) return err(`bit "${n}" is given twice`);
        seen.add(n);
      }
      return { value: names.sort((a, b) => t.bits!.get(a)! - t.bits!.get(b)!).join(' ') };
    }
    case 'binary': {
      const clean = s.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return err(`"${s}" is not valid base64`);
      const octets = Buffer.from(clean, 'base64').length;
      if (t.lengths && !inRanges(BigInt(octets), t.lengths)) return err(t.lengthErrorMessage ?? `binary value of ${octets} octets is outside the allowed length`);
      return { value: clean };
    }
    case 'identityref': {
      const q = s.includes(':') ? s : `${leafModule}:${s}`;
      return identity(schema, t, q);
    }
    case 'instance-identifier':
      return s.startsWith('/') ? { value: s } : err(`"${s}" is not an instance-identifier`);
    case 'leafref':
      return { value: s };
    default:
      return err(`unsupported type ${t.base}`);
  }
}

function identity(schema: Schema, t: ResolvedType, q: string): Parsed {
  const id = schema.identities.get(q);
  if (!id) return err(`identity "${q}" does not exist`);
  for (const b of t.identityBases ?? []) {
    if (!schema.identities.get(b)?.derived.has(q)) return err(`identity "${q}" is not derived from ${b}`);
  }
  return { value: q };
}

/** Fast acceptance of a small integer: inside its base type's and every range's bounds. */
function inNumberRanges(v: number, t: ResolvedType): boolean {
  const [lo, hi] = INT_BOUNDS[t.base];
  if (v < Number(lo) || v > Number(hi)) return false;
  return !t.ranges || t.ranges.every((parts) => parts.some((r) => v >= Number(r.min) && v <= Number(r.max)));
}

function inNumberLengths(n: number, t: ResolvedType): boolean {
  return t.lengths!.every((parts) => parts.some((r) => n >= Number(r.min) && n <= Number(r.max)));
}

function codePoints(s: string): number {
  // Only surrogate pairs make the code-point count differ from the UTF-16 length.
  if (!/[\uD800-\uDBFF]/.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function show(raw: unknown): string {
  if (raw instanceof JsonNumberText) return raw.text;
  const s = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return s === undefined ? String(raw) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The lexical (XML / key) form of a canonical value. */
export function lexicalOf(v: LeafValue): string {
  if (Array.isArray(v)) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}
