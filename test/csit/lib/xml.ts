/**
 * A small XML reader for the CSIT library: turns a document into a namespace-resolved element
 * tree and renders a canonical form for comparison (the XML counterpart of normalised JSON).
 *
 * Canonical form: element names as `{namespace}local`, namespace declarations and prefixes
 * dropped, whitespace-only text between elements dropped, leaf text trimmed, attributes sorted,
 * and leaf values that look like `prefix:name` with a prefix bound in scope rewritten to
 * `{namespace}name` (YANG identityref / instance-identifier values), so that two servers that
 * choose different prefixes compare equal.
 */
import { SaxesParser } from 'saxes';

export interface XmlElement {
  /** Namespace URI ('' when none). */
  ns: string;
  /** Local name. */
  name: string;
  /** Attributes other than namespace declarations, by `{ns}local`. */
  attrs: Record<string, string>;
  /** Every attribute as written, namespace declarations included (`xmlns:p`, `p:local`, `message-id`). */
  written: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside this element (untrimmed, concatenated). */
  text: string;
  /** Prefix -> namespace bindings in scope at this element. */
  scope: Record<string, string>;
}

export interface ParseXmlOptions {
  /** Reject documents that carry a DOCTYPE (default false: the DOCTYPE is ignored). */
  rejectDoctype?: boolean;
}

/** Parses one XML document; throws an Error with the parser's message when it is not well formed. */
export function parseXml(text: string, opts: ParseXmlOptions = {}): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on('error', (e) => {
    failure ??= e;
  });
  parser.on('doctype', () => {
    if (opts.rejectDoctype) failure ??= new Error('document has a DOCTYPE');
  });
  parser.on('opentag', (tag) => {
    const parentScope = stack.length ? stack[stack.length - 1].scope : {};
    const scope: Record<string, string> = { ...parentScope };
    const attrs: Record<string, string> = {};
    const written: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      written[a.name] = a.value;
      if (a.prefix === 'xmlns') scope[a.local] = a.value;
      else if (a.name === 'xmlns') scope[''] = a.value;
      else attrs[a.uri ? `{${a.uri}}${a.local}` : a.local] = a.value;
    }
    const el: XmlElement = { ns: tag.uri ?? '', name: tag.local ?? tag.name, attrs, written, children: [], text: '', scope };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
  });
  parser.on('cdata', (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  try {
    parser.write(text).close();
  } catch (e) {
    failure ??= e as Error;
  }
  if (failure) throw new Error(`malformed XML: ${failure.message}`);
  if (!root) throw new Error('malformed XML: no root element');
  return root;
}

/** Finds the direct children named `name` (any namespace unless ns is given). */
export function childrenNamed(el: XmlElement, name: string, ns?: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns));
}

/** The trimmed text of the first direct child named `name`, or undefined. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = el.children.find((x) => x.name === name);
  return c === undefined ? undefined : c.text.trim();
}

export interface NormalizeXmlOptions {
  /**
   * Compare sibling elements as a set: true for every element, or the local names of the
   * elements whose children are compared without regard to order.
   */
  unordered?: boolean | string[];
}

const QNAME = /^([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)$/;

/** A plain, order-normalised value for an element, suitable for deep comparison. */
export function normalizeXml(el: XmlElement, opts: NormalizeXmlOptions = {}): unknown {
  const attrs = Object.keys(el.attrs)
    .sort()
    .map((k) => [k, el.attrs[k]]);
  const name = `{${el.ns}}${el.name}`;
  if (el.children.length === 0) {
    let text = el.text.trim();
    const m = QNAME.exec(text);
    if (m && el.scope[m[1]] !== undefined) text = `{${el.scope[m[1]]}}${m[2]}`;
    return attrs.length ? { name, attrs, text } : { name, text };
  }
  let children = el.children.map((c) => normalizeXml(c, opts));
  const u = opts.unordered;
  if (u === true || (Array.isArray(u) && u.includes(el.name))) {
    children = children
      .map((c) => [JSON.stringify(c), c] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, c]) => c);
  }
  return attrs.length ? { name, attrs, children } : { name, children };
}

/** Canonical text of a document (see the module comment). */
export function canonicalXml(text: string, opts: NormalizeXmlOptions = {}): string {
  return JSON.stringify(normalizeXml(parseXml(text), opts), null, 1);
}

/**
 * Compares two XML documents in canonical form; returns undefined when equal, else a message
 * showing both canonical forms.
 */
export function compareXml(actual: string, expected: string, opts: NormalizeXmlOptions = {}): string | undefined {
  let a: string;
  try {
    a = canonicalXml(actual, opts);
  } catch (e) {
    return `actual body is not XML (${(e as Error).message}):\n${actual}`;
  }
  const x = canonicalXml(expected, opts);
  if (a === x) return undefined;
  return `XML differs\n--- expected (canonical)\n${x}\n--- actual (canonical)\n${a}\n--- actual (raw)\n${actual}`;
}
