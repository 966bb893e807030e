/**
 * NETCONF filters over a data tree (internal form): subtree filters (RFC 6241 section 6) and the
 * XPath filter subset that is turned into one (absolute location paths with `[leaf='value']`
 * predicates, joined by `|`). The result is a new tree holding only what the filter selects,
 * ready for the XML encoder; list entries always keep their keys.
 */
import { YangError } from '../../errors.ts';
import { mergeValue } from '../../datastore/tree.ts';
import { keyString } from '../../yang/path.ts';
import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from '../../yang/schema.ts';
import { lexicalOf } from '../../yang/types.ts';
import { moduleOfNamespace, type XmlElement } from '../../yang/xml.ts';

/** Applies the filter elements (the children of `<filter>`) to a whole datastore root. */
export function subtreeFilter(schema: Schema, root: DataObject, filter: XmlElement[]): DataObject {
  return filterChildren(schema, undefined, root, filter) ?? {};
}

/**
 * Applies a subscription's filter to one notification: some filter element must name the
 * notification; its children (if any) filter the body. Undefined: the notification is filtered out.
 */
export function notificationFilter(schema: Schema, node: SchemaNode, body: DataObject, filter: XmlElement[]): DataObject | undefined {
  for (const el of filter) {
    if (el.name !== node.name) continue;
    if (el.ns && moduleOfNamespace(schema, el.ns) !== node.module) continue;
    if (!el.children.length) return body;
    const r = filterChildren(schema, node, body, el.children);
    if (r) return r;
  }
  return undefined;
}

/** Schema nodes a filter element may name under `parent`: without a namespace it matches any module. */
function candidates(schema: Schema, parent: SchemaNode | undefined, el: XmlElement): SchemaNode[] {
  const children = parent ? parent.dataChildren : schema.roots;
  if (el.ns) {
    const module = moduleOfNamespace(schema, el.ns);
    if (!module) return [];
    const n = children.get(`${module}:${el.name}`) ?? (parent?.module === module ? children.get(el.name) : undefined);
    return n ? [n] : [];
  }
  const out: SchemaNode[] = [];
  for (const n of children.values()) if (n.name === el.name) out.push(n);
  return out;
}

function isLeafy(n: SchemaNode): boolean {
  return n.kind === 'leaf' || n.kind === 'leaf-list';
}

/** Content match: a leaf element with text and no children. */
function isContentMatch(el: XmlElement): boolean {
  return !el.children.length && el.text.trim() !== '';
}

/**
 * Filters the members of one object (the root, a container, a list entry). Returns undefined when
 * a content match fails or nothing was selected.
 */
function filterChildren(schema: Schema, node: SchemaNode | undefined, obj: DataObject, filter: XmlElement[]): DataObject | undefined {
  const out: DataObject = {};
  let selective = false;
  for (const el of filter) {
    if (!isContentMatch(el)) continue;
    const matches = candidates(schema, node, el).filter(isLeafy);
    if (!matches.length) return undefined;
    const want = el.text.trim();
    let ok = false;
    for (const n of matches) {
      const v = obj[n.jsonName];
      if (v === undefined) continue;
      if (n.kind === 'leaf-list') {
        const hit = (v as LeafValue[]).filter((x) => lexicalOf(x) === want);
        if (hit.length) {
          out[n.jsonName] = hit;
          ok = true;
        }
      } else if (lexicalOf(v as LeafValue) === want || sameIdentity(v as LeafValue, want)) {
        out[n.jsonName] = v;
        ok = true;
      }
    }
    if (!ok) return undefined;
  }
  let selected = false;
  for (const el of filter) {
    if (isContentMatch(el)) continue;
    selective = true;
    for (const n of candidates(schema, node, el)) {
      const v = obj[n.jsonName];
      if (v === undefined) continue;
      const r = el.children.length && !isLeafy(n) ? filterValue(schema, n, v, el.children) : v;
      if (r === undefined) continue;
      out[n.jsonName] = out[n.jsonName] === undefined ? r : mergeValue(n, out[n.jsonName], r);
      selected = true;
    }
  }
  // Only content matches at this level: the whole object is selected (RFC 6241 6.2.5).
  if (!selective) return node ? obj : out;
  if (!selected) return undefined;
  if (node?.kind === 'list') for (const k of node.keys) if (obj[k] !== undefined) out[k] = obj[k];
  // In the data's own member order, not the filter's.
  const ordered: DataObject = {};
  for (const m of Object.keys(obj)) if (out[m] !== undefined) ordered[m] = out[m];
  return ordered;
}

function filterValue(schema: Schema, node: SchemaNode, value: DataValue, filter: XmlElement[]): DataValue | undefined {
  if (node.kind === 'list') {
    const out: ListValue = new Map();
    for (const entry of (value as ListValue).values()) {
      const r = filterChildren(schema, node, entry, filter);
      if (r) out.set(keyString(node, entry) ?? `#${out.size}`, r);
    }
    return out.size ? out : undefined;
  }
  if (node.kind === 'container' || node.kind === 'notification') return filterChildren(schema, node, value as DataObject, filter);
  return value;
}

/** An identityref matches by its name with or without a prefix. */
function sameIdentity(v: LeafValue, want: string): boolean {
  return typeof v === 'string' && v.includes(':') && (v.split(':')[1] === want || v.split(':')[1] === want.split(':')[1]);
}

// ----- XPath filter subset -----

/**
 * Turns an XPath select expression into subtree filter elements. Supported: absolute location
 * paths of child steps (`/p:a/p:b`), predicates comparing a child leaf with a literal
 * (`[p:id='x']`, several in a row), and unions (`|`). Prefixes resolve through `scope`, the
 * namespace declarations in force on the `<filter>` element.
 */
export function xpathToSubtree(select: string, scope: Map<string, string>): XmlElement[] {
  const roots: XmlElement[] = [];
  for (const part of splitOutside(select, '|')) {
    const path = part.trim();
    if (!path.startsWith('/') || path.startsWith('//')) throw unsupported(select, 'only absolute location paths of child steps are supported');
    let level = roots;
    let last: XmlElement | undefined;
    for (const stepText of splitOutside(path.slice(1), '/')) {
      const m = /^([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\[[^\]]*\])*)$/.exec(stepText.trim());
      if (!m) throw unsupported(select, `unsupported step "${stepText}"`);
      const ns = resolvePrefix(m[1]?.slice(0, -1), scope, select);
      let el = level.find((e) => e.name === m[2] && e.ns === ns && !e.children.some(isContentMatch) && !m[3]);
      if (!el) {
        el = element(m[2], ns);
        level.push(el);
      }
      for (const pred of m[3].match(/\[[^\]]*\]/g) ?? []) {
        const p = /^\[\s*([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\s*=\s*(?:'([^']*)'|"([^"]*)")\s*\]$/.exec(pred);
        if (!p) throw unsupported(select, `unsupported predicate "${pred}"`);
        const match = element(p[2], resolvePrefix(p[1]?.slice(0, -1), scope, select) || ns);
        match.text = p[3] ?? p[4];
        el.children.push(match);
      }
      last = el;
      level = el.children;
    }
    if (!last) throw unsupported(select, 'empty location path');
  }
  return roots;
}

function element(name: string, ns: string): XmlElement {
  return { name, ns, attrs: new Map(), children: [], text: '', scope: new Map() };
}

function resolvePrefix(prefix: string | undefined, scope: Map<string, string>, select: string): string {
  if (prefix === undefined) return '';
  const ns = scope.get(prefix);
  if (ns === undefined) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `xpath filter "${select}": prefix "${prefix}" is not declared` });
  return ns;
}

function splitOutside(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function unsupported(select: string, why: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `xpath filter "${select}": ${why}` });
}
