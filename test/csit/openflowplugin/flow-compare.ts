/**
 * How OpenDaylight's openflowplugin suites decide that a flow (group, meter) read back is the one
 * they wrote: integration-test csit/libraries/XmlComparator.py (`Is Flow Configured`, used by
 * Flows_Stats_OF13 and Flows_Additional_TCs). Reimplemented from its documented behaviour:
 *
 * - each element becomes a member named by its local name (namespaces and prefixes ignored);
 *   an element with text is that text, lower-cased; the first text child wins;
 * - repeated siblings become a list sorted by their `order` or `*-id` member, so list order on
 *   the wire does not matter;
 * - IP prefixes (`ipv4-source`, `ipv4-destination`, `ipv6-source`, `ipv6-destination`,
 *   `ipv6-nd-target`) compare as their network (`10.0.10.1/24` = `10.0.10.0/24`, IPv6 in full
 *   form, no mask = a host prefix);
 * - `type`, `tunnel-mask`, `metadata-mask`, `out_port` and `out_group` compare as numbers
 *   (`0x800` = `2048`).
 * Documents are equal when these trees are equal: nothing may be missing or added.
 */
import { parseXml, type XmlElement } from '../lib/xml.ts';

type Tree = string | Tree[] | { [name: string]: Tree };

const PREFIX_MEMBERS = new Set(['ipv4-destination', 'ipv4-source', 'ipv6-destination', 'ipv6-source', 'ipv6-nd-target']);
const NUMBER_MEMBERS = new Set(['tunnel-mask', 'type', 'metadata-mask', 'out_port', 'out_group']);

function ipv4Network(addr: string, len: number): string {
  const n = addr.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  const mask = len === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - len)) - 1n);
  const net = n & mask;
  return [24n, 16n, 8n, 0n].map((s) => String((net >> s) & 255n)).join('.');
}

function ipv6Network(addr: string, len: number): string {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const n = groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  const mask = len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
  const net = n & mask;
  const out: string[] = [];
  for (let i = 7; i >= 0; i--) out.push(((net >> BigInt(i * 16)) & 0xffffn).toString(16).padStart(4, '0'));
  return out.join(':');
}

function network(value: string): string {
  const [addr, lenText] = value.split('/');
  const v6 = addr.includes(':');
  const len = lenText === undefined ? (v6 ? 128 : 32) : Number(lenText);
  return `${v6 ? ipv6Network(addr, len) : ipv4Network(addr, len)}/${len}`;
}

function asNumber(value: string): string {
  return value.startsWith('0x') ? String(BigInt(value)) : String(BigInt(value.trim()));
}

function sortKey(item: Tree): string | undefined {
  if (typeof item !== 'object' || Array.isArray(item)) return undefined;
  const keys = Object.keys(item);
  return keys.find((k) => k.endsWith('-id')) ?? keys.find((k) => k.endsWith('order'));
}

function compareBy(key: string) {
  return (a: Tree, b: Tree): number => {
    const x = (a as Record<string, Tree>)[key];
    const y = (b as Record<string, Tree>)[key];
    const xs = JSON.stringify(x);
    const ys = JSON.stringify(y);
    return xs < ys ? -1 : xs > ys ? 1 : 0;
  };
}

function add(into: Record<string, Tree>, name: string, value: Tree): void {
  if (typeof value === 'string') {
    value = value.toLowerCase();
    if (!(name in into)) {
      if (PREFIX_MEMBERS.has(name)) value = network(value);
      else if (NUMBER_MEMBERS.has(name)) value = asNumber(value);
    }
  }
  const existing = into[name];
  if (existing === undefined) {
    into[name] = value;
  } else if (Array.isArray(existing)) {
    existing.push(value);
    const key = sortKey(value);
    if (key) existing.sort(compareBy(key));
  } else if (typeof existing === 'object') {
    const list = [existing, value];
    const key = sortKey(existing);
    if (key) list.sort(compareBy(key));
    into[name] = list;
  } else {
    // Two text siblings of one name: the comparator concatenates them.
    into[name] = existing + String(value);
  }
}

function toTree(el: XmlElement, into: Record<string, Tree>): void {
  const text = el.text.trim();
  if (text !== '' && el.children.length === 0) {
    add(into, el.name, text);
    return;
  }
  const members: Record<string, Tree> = {};
  for (const c of el.children) toTree(c, members);
  add(into, el.name, members);
}

/** The comparison tree of an element: `{ flow: {...} }`. */
export function comparisonTree(el: XmlElement): Record<string, Tree> {
  const out: Record<string, Tree> = {};
  toTree(el, out);
  return out;
}

function findAll(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  if (el.name === name) out.push(el);
  for (const c of el.children) findAll(c, name, out);
  return out;
}

/**
 * Whether a reply holds an element (`flow`, `group`, `meter`) equal to the one written, in the
 * comparator's terms; undefined when it does, else what differs.
 */
export function configuredDifference(written: string, reply: string): string | undefined {
  const wroteEl = parseXml(written);
  const wrote = JSON.stringify(normalized(comparisonTree(wroteEl)));
  const found = findAll(parseXml(reply), wroteEl.name);
  for (const el of found) {
    const got = JSON.stringify(normalized(comparisonTree(el)));
    if (got === wrote) return undefined;
  }
  const shown = found.map((el) => JSON.stringify(normalized(comparisonTree(el)), null, 1)).join('\n');
  return `no <${wroteEl.name}> in the reply equals the one written\nwritten: ${JSON.stringify(normalized(comparisonTree(wroteEl)), null, 1)}\nread back: ${shown || '(none)'}`;
}

/** Member order does not matter to a Python dict comparison. */
function normalized(t: Tree): Tree {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.map(normalized);
  const out: Record<string, Tree> = {};
  for (const k of Object.keys(t).sort()) out[k] = normalized(t[k]);
  return out;
}
