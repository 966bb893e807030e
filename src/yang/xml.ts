/**
 * RFC 7950 XML encoding, both directions. XML is read with saxes (namespace-aware, no DTD: a
 * DOCTYPE is refused outright, so no external entity and no entity expansion can occur) into a
 * small element tree, then decoded against the schema into the same internal tree the JSON codec
 * builds. Encoding declares each module's namespace where the module changes, as RFC 7950 does.
 */
import { SaxesParser } from 'saxes';
import { YangError } from '../errors.ts';
import { encodeKeyValue, keyString } from './path.ts';
import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from './schema.ts';
import { selectRoot, type Selection } from './select.ts';
import { lexicalOf, parseLexical } from './types.ts';

export interface XmlElement {
  /** Local name. */
  name: string;
  /** Namespace URI ('' when none). */
  ns: string;
  /** Attributes by `{uri}local` or plain local name when unqualified. */
  attrs: Map<string, string>;
  children: XmlElement[];
  text: string;
  /** Prefix -> namespace URI in scope at this element (for identityref values). */
  scope: XmlScope;
}

/**
 * The namespace declarations in scope at an element: its own, then its ancestors'. Only an
 * element that declares namespaces has a scope of its own (the others share their parent's), and
 * no scope is a copy of its parent's: copying made a document with a declaration on every level
 * cost time quadratic in its depth. A lookup walks the declaring ancestors once per prefix and
 * remembers what it found.
 */
export class XmlScope implements Iterable<[string, string]> {
  private readonly looked = new Map<string, string | null>();
  constructor(
    private readonly parent: XmlScope | undefined,
    private readonly own: ReadonlyMap<string, string>,
  ) {}

  get(prefix: string): string | undefined {
    const declared = this.own.get(prefix);
    if (declared !== undefined) return declared;
    if (!this.parent) return undefined;
    const seen = this.looked.get(prefix);
    if (seen !== undefined) return seen ?? undefined;
    const found = this.parent.get(prefix);
    this.looked.set(prefix, found ?? null);
    return found;
  }

  /** Every binding in scope, the innermost declaration of each prefix. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    const chain: XmlScope[] = [];
    for (let s: XmlScope | undefined = this; s; s = s.parent) chain.push(s);
    const all = new Map<string, string>();
    for (const s of chain.reverse()) for (const [p, uri] of s.own) all.set(p, uri);
    yield* all;
  }

  static readonly EMPTY = new XmlScope(undefined, new Map());
}

export interface XmlReadOptions {
  /** Largest document accepted, in characters. */
  maxLength?: number;
  /** Allow several top-level elements (a NETCONF <config> body's content, a RESTCONF body). */
  fragment?: boolean;
}

/**
 * How deep elements may nest: libxml2's default (xmlParserMaxDepth). The deepest YANG data of the
 * models served, inside a NETCONF rpc or a YANG Patch, is a few dozen levels.
 */
export const XML_MAX_DEPTH = 256;
/** Attributes (namespace declarations included) one element may carry. */
export const XML_MAX_ATTRIBUTES = 1024;

/**
 * A well-formed document refused for its size (too deep, too many attributes), with the top-level
 * elements read before the refusal (their attributes whole): NETCONF echoes the `<rpc>`'s
 * message-id on the rpc-error, so the client can tell which request it answers.
 */
export class XmlRefused extends YangError {
  constructor(
    message: string,
    readonly roots: XmlElement[],
  ) {
    super({ tag: 'too-big', type: 'rpc', message });
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/**
 * Parses XML text into an element tree. DOCTYPEs are refused; so are documents nested deeper than
 * XML_MAX_DEPTH and elements with more than XML_MAX_ATTRIBUTES attributes (`too-big`, as soon as
 * the reader gets there). Reading is linear in the text: namespaces are resolved here, by one
 * stack of bindings per prefix, not by saxes, whose lookup walks every open element and so made a
 * deep document cost time quadratic in its depth.
 */
export function readXml(text: string, opts: XmlReadOptions = {}): XmlElement[] {
  if (opts.maxLength !== undefined && text.length > opts.maxLength) {
    throw new YangError({ tag: 'too-big', type: 'transport', message: `XML document larger than ${opts.maxLength} characters` });
  }
  const parser = new SaxesParser({ xmlns: false, fragment: opts.fragment ?? false, position: true });
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  // Prefix -> the URIs bound to it by the open elements, innermost last ('' is the default namespace).
  const bindings = new Map<string, string[]>([['xml', [XML_NAMESPACE]]]);
  // Per open element, the prefixes it declared (popped with it); null when it declared none.
  const declared: (string[] | null)[] = [];
  let failure: Error | undefined;
  let refusal: YangError | undefined;
  let attributes = 0;
  const resolve = (prefix: string): string | undefined => {
    const bound = bindings.get(prefix);
    return bound?.length ? bound[bound.length - 1] : undefined;
  };
  // Thrown out of saxes' handler: reading stops there.
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const qname = (name: string): [string, string] => {
    const colon = name.indexOf(':');
    if (colon < 0) return ['', name];
    const prefix = name.slice(0, colon);
    const local = name.slice(colon + 1);
    if (!prefix || !local || local.includes(':')) fail(`malformed name: ${name}.`);
    return [prefix, local];
  };
  parser.on('doctype', () => {
    failure ??= new Error('DOCTYPE declarations are not accepted');
  });
  parser.on('error', (e) => {
    failure ??= e;
  });
  parser.on('opentagstart', () => {
    if (stack.length >= XML_MAX_DEPTH) {
      refusal = new XmlRefused(`XML nested deeper than ${XML_MAX_DEPTH} elements`, roots);
      throw refusal;
    }
    attributes = 0;
  });
  parser.on('attribute', () => {
    if (++attributes > XML_MAX_ATTRIBUTES) {
      refusal = new XmlRefused(`an XML element with more than ${XML_MAX_ATTRIBUTES} attributes`, roots);
      throw refusal;
    }
  });
  parser.on('opentag', (tag) => {
    const parent = stack.length ? stack[stack.length - 1] : undefined;
    let own: Map<string, string> | undefined;
    const plain: [string, string, string][] = [];
    for (const [name, value] of Object.entries(tag.attributes as Record<string, string>)) {
      const [prefix, local] = qname(name);
      if (prefix === 'xmlns' || name === 'xmlns') {
        const bound = prefix ? local : '';
        const uri = value.trim();
        if (bound && uri === '') fail(`invalid attempt to undefine prefix ${bound} in XML 1.0.`);
        if (bound === 'xml' ? uri !== XML_NAMESPACE : uri === XML_NAMESPACE) fail(`the xml prefix must be bound to ${XML_NAMESPACE}, and only it.`);
        if (bound === 'xmlns' || uri === XMLNS_NAMESPACE) fail(`nothing may be bound to ${XMLNS_NAMESPACE}.`);
        (own ??= new Map()).set(bound, uri);
      } else plain.push([prefix, local, value]);
    }
    if (own) {
      for (const [prefix, uri] of own) {
        const bound = bindings.get(prefix);
        if (bound) bound.push(uri);
        else bindings.set(prefix, [uri]);
      }
    }
    declared.push(own ? [...own.keys()] : null);
    const [prefix, local] = qname(tag.name);
    if (prefix === 'xmlns') fail('an element may not have "xmlns" as prefix.');
    const ns = resolve(prefix) ?? '';
    if (prefix && !ns) fail(`unbound namespace prefix: ${JSON.stringify(prefix)}.`);
    const attrs = new Map<string, string>();
    for (const [p, l, value] of plain) {
      // The default namespace does not apply to attributes (Namespaces in XML 1.0, 6.2).
      let key = l;
      if (p) {
        const uri = resolve(p);
        if (uri === undefined) fail(`unbound namespace prefix: ${JSON.stringify(p)}.`);
        key = `{${uri}}${l}`;
      }
      if (attrs.has(key)) fail(`duplicate attribute: ${key}.`);
      attrs.set(key, value);
    }
    const parentScope = parent?.scope ?? XmlScope.EMPTY;
    const scope = own ? new XmlScope(parentScope, own) : parentScope;
    const el: XmlElement = { name: local, ns, attrs, children: [], text: '', scope };
    if (parent) parent.children.push(el);
    else roots.push(el);
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
    for (const prefix of declared.pop() ?? []) bindings.get(prefix)!.pop();
  });
  try {
    parser.write(text).close();
  } catch (e) {
    failure ??= e as Error;
  }
  if (refusal) throw refusal;
  if (failure) {
    throw new YangError({ tag: 'malformed-message', type: 'rpc', message: `malformed XML: ${failure.message.replace(/^[^:]*:\d+:\d+: /, '')}` });
  }
  if (!opts.fragment && roots.length !== 1) {
    throw new YangError({ tag: 'malformed-message', type: 'rpc', message: 'malformed XML: expected one root element' });
  }
  return roots;
}

/** Module name for a namespace URI. */
export function moduleOfNamespace(schema: Schema, ns: string): string | undefined {
  let index = nsIndex.get(schema);
  if (!index) {
    index = new Map([...schema.modules.values()].map((m) => [m.namespace, m.name]));
    nsIndex.set(schema, index);
  }
  return index.get(ns);
}

const nsIndex = new WeakMap<Schema, Map<string, string>>();

export interface XmlDecodeOptions {
  configOnly?: boolean;
}

/** Finds the schema node an element names under `parent` (undefined: top level). */
export function elementSchema(schema: Schema, parent: SchemaNode | undefined, el: XmlElement): SchemaNode | undefined {
  const module = el.ns ? moduleOfNamespace(schema, el.ns) : parent?.module;
  if (!module) return undefined;
  const q = `${module}:${el.name}`;
  return parent ? parent.dataChildren.get(q) : schema.roots.get(q);
}

/** The error for an element no schema node answers to: its namespace is unknown, or its name. */
export function unknownElement(schema: Schema, parent: SchemaNode | undefined, el: XmlElement, path: string): YangError {
  if (el.ns && !moduleOfNamespace(schema, el.ns)) {
    return new YangError({ tag: 'unknown-namespace', type: 'protocol', message: `unknown namespace "${el.ns}" of element "${el.name}"`, path: `${path}/${el.name}`, info: { 'bad-element': el.name, 'bad-namespace': el.ns } });
  }
  const shown = `${el.name}${el.ns ? ` (${el.ns})` : ''}`;
  return new YangError({ tag: 'unknown-element', type: 'application', message: `unknown element "${shown}" in ${parent ? `"${parent.name}"` : 'the top level'}`, path: `${path}/${el.name}`, info: { 'bad-element': el.name } });
}

/** Decodes sibling elements as the members of one object under `parent`. */
export function decodeXmlObject(schema: Schema, parent: SchemaNode | undefined, elements: XmlElement[], path: string, opts: XmlDecodeOptions = {}): DataObject {
  const out: DataObject = {};
  const leafListValues = new Map<string, Set<string>>();
  for (const el of elements) {
    const node = elementSchema(schema, parent, el);
    if (!node) throw unknownElement(schema, parent, el, path);
    const p = `${path}/${node.jsonName}`;
    if (opts.configOnly && !node.config) {
      throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is config false and cannot be written to the config datastore`, path: p });
    }
    const existing = out[node.jsonName];
    switch (node.kind) {
      case 'list': {
        const map: ListValue = existing instanceof Map ? existing : new Map();
        const entry = decodeXmlObject(schema, node, el.children, p, opts);
        for (const k of node.keys) {
          if (entry[k] === undefined) throw new YangError({ tag: 'missing-element', type: 'protocol', message: `list "${node.name}" entry is missing its key "${k}"`, path: p, info: { 'bad-element': k } });
        }
        const key = node.keys.length ? keyString(node, entry)! : `#${map.size}`;
        if (map.has(key)) throw new YangError({ tag: 'invalid-value', appTag: 'data-not-unique', message: `duplicate entry of list "${node.name}" with key ${key}`, path: `${p}=${key}` });
        map.set(key, entry);
        out[node.jsonName] = map;
        break;
      }
      case 'leaf-list': {
        const arr = Array.isArray(existing) ? (existing as LeafValue[]) : [];
        const v = leafFromXml(schema, node, el, p);
        if (node.config) {
          // A set per leaf-list, as the JSON decoder keeps: comparing with every value before made
          // a leaf-list of N values cost N² comparisons.
          let seen = leafListValues.get(node.jsonName);
          if (!seen) leafListValues.set(node.jsonName, (seen = new Set()));
          const lexical = lexicalOf(v);
          if (seen.has(lexical)) throw new YangError({ tag: 'invalid-value', message: `duplicate value "${lexical}" in leaf-list "${node.name}"`, path: `${p}=${encodeKeyValue(lexical)}` });
          seen.add(lexical);
        }
        arr.push(v);
        out[node.jsonName] = arr;
        break;
      }
      default:
        if (existing !== undefined) throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is given twice`, path: p });
        out[node.jsonName] = decodeXmlValue(schema, node, el, p, opts);
    }
  }
  return out;
}

/** Decodes one element as the value of its schema node (not for list/leaf-list siblings). */
export function decodeXmlValue(schema: Schema, node: SchemaNode, el: XmlElement, path: string, opts: XmlDecodeOptions = {}): DataValue {
  switch (node.kind) {
    case 'container':
    case 'input':
    case 'output':
    case 'notification':
      if (el.text.trim() && !el.children.length) {
        throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is a container and holds no text`, path });
      }
      return decodeXmlObject(schema, node, el.children, path, opts);
    case 'leaf':
      return leafFromXml(schema, node, el, path);
    case 'anydata':
    case 'anyxml':
      return xmlToPlain(el) as DataValue;
    default:
      return decodeXmlObject(schema, node, [el], path, opts)[node.jsonName];
  }
}

function leafFromXml(schema: Schema, node: SchemaNode, el: XmlElement, path: string): LeafValue {
  if (el.children.length) throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is a leaf and holds no elements`, path });
  const r = parseLexical(
    schema,
    node.type!,
    el.text,
    (prefix) => {
      const ns = el.scope.get(prefix);
      return ns === undefined ? undefined : moduleOfNamespace(schema, ns);
    },
    node.module,
  );
  if (!('value' in r)) throw new YangError({ tag: 'invalid-value', message: `"${node.name}": ${r.error}`, path, appTag: r.appTag });
  return r.value;
}

function xmlToPlain(el: XmlElement): unknown {
  if (!el.children.length) return el.text;
  const o: Record<string, unknown> = {};
  for (const c of el.children) o[c.name] = xmlToPlain(c);
  return o;
}

// ----- encoding -----

const NEEDS_ESCAPE = /[&<>"]/;

export function escapeXml(s: string): string {
  // Most values need no escaping: test first, replace only when needed (get-config of large lists
  // spends its time here).
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/**
 * Encodes the instance(s) of a node as XML elements. `parentModule` is the module whose
 * namespace is the default in scope (undefined at the top: the namespace is always declared).
 * What to leave out (content, depth, fields) is decided before, by select.ts.
 */
export function encodeXmlMember(schema: Schema, node: SchemaNode, value: DataValue, parentModule?: string): string {
  if (value instanceof Map) {
    let s = '';
    for (const entry of value.values()) s += element(schema, node, entry, parentModule);
    return s;
  }
  if (node.kind === 'leaf-list' && Array.isArray(value)) {
    let s = '';
    for (const v of value as LeafValue[]) s += element(schema, node, v, parentModule);
    return s;
  }
  return element(schema, node, value, parentModule);
}

function element(schema: Schema, node: SchemaNode, value: DataValue, parentModule: string | undefined): string {
  const name = node.kind === 'input' || node.kind === 'output' ? node.kind : node.name;
  const nsAttr = node.module !== parentModule ? ` xmlns="${escapeXml(schema.modules.get(node.module)!.namespace)}"` : '';
  if (node.kind === 'leaf' || node.kind === 'leaf-list') {
    const v = value as LeafValue;
    if (node.type && isIdentity(node, v)) {
      const [mod, id] = String(v).split(':');
      const info = schema.modules.get(mod)!;
      return `<${name}${nsAttr} xmlns:${info.prefix}="${escapeXml(info.namespace)}">${info.prefix}:${escapeXml(id)}</${name}>`;
    }
    const text = lexicalOf(v);
    return text === '' ? `<${name}${nsAttr}/>` : `<${name}${nsAttr}>${escapeXml(text)}</${name}>`;
  }
  if (node.kind === 'anydata' || node.kind === 'anyxml') {
    return `<${name}${nsAttr}>${plainToXml(value)}</${name}>`;
  }
  const inner = encodeXmlChildren(schema, node, value as DataObject);
  return inner ? `<${name}${nsAttr}>${inner}</${name}>` : `<${name}${nsAttr}/>`;
}

/** Encodes the members of an object (a container, a list entry, rpc input...) as XML. */
export function encodeXmlChildren(schema: Schema, node: SchemaNode, obj: DataObject): string {
  let s = '';
  // List keys come first, in key order (RFC 7950 7.8.5).
  const members = Object.keys(obj);
  if (node.kind === 'list' && node.keys.length && !keysFirst(node.keys, members)) {
    members.sort((a, b) => rank(node, a) - rank(node, b));
  }
  for (const m of members) {
    const child = node.dataChildren.get(m);
    if (!child) continue;
    s += encodeXmlMember(schema, child, obj[m], node.module);
  }
  return s;
}

/** True when the members already start with the keys in key order (the usual case). */
function keysFirst(keys: string[], members: string[]): boolean {
  for (let i = 0; i < keys.length; i++) if (members[i] !== keys[i]) return false;
  return true;
}

function rank(list: SchemaNode, member: string): number {
  const i = list.keys.indexOf(member);
  return i < 0 ? list.keys.length : i;
}

/** Encodes a whole root object (top-level members), each with its namespace; `selection` first picks what is shown. */
export function encodeXmlRoot(schema: Schema, root: DataObject, selection?: Selection): string {
  let s = '';
  for (const [m, v] of Object.entries(selection ? selectRoot(schema, root, selection) : root)) {
    const node = schema.roots.get(m);
    if (node) s += encodeXmlMember(schema, node, v, undefined);
  }
  return s;
}

function isIdentity(node: SchemaNode, v: LeafValue): boolean {
  const t = node.type!;
  if (typeof v !== 'string') return false;
  if (t.base === 'identityref') return true;
  if (t.base === 'leafref') return t.leafrefTarget?.type?.base === 'identityref';
  if (t.base === 'union') return t.union!.some((u) => u.base === 'identityref') && /^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/.test(v) && !t.union!.some((u) => u.base === 'string');
  return false;
}

function plainToXml(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return escapeXml(String(v));
  let s = '';
  for (const [k, c] of Object.entries(v as Record<string, unknown>)) s += `<${k}>${plainToXml(c)}</${k}>`;
  return s;
}
