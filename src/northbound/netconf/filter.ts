/**
 * NETCONF filters over a data tree (internal form): subtree filters (RFC 6241 section 6) and XPath
 * filters (section 8.9). A subtree filter's XML compiles to the shared selection tree
 * (yang/select.ts), which RESTCONF's `fields` compiles to as well, and the shared walk applies it;
 * an XPath filter is evaluated by the YANG XPath evaluator and its node-set made into a tree here.
 * The result is a new tree holding only what the filter selects, ready for the XML encoder; list
 * entries always keep their keys, and members keep the data's order.
 */
import { YangError } from '../../errors.ts';
import { rootCursor, type DataCursor } from '../../yang/cursor.ts';
import { keyString } from '../../yang/path.ts';
import type { DataObject, DataValue, LeafValue, ListValue, Schema, SchemaNode } from '../../yang/schema.ts';
import { selectTree, type MemberSelection, type SelectionTree } from '../../yang/select.ts';
import { evaluateXPath, parseXPath, type XPathExpr, type XPathValue } from '../../yang/xpath/index.ts';
import { moduleOfNamespace, type XmlElement } from '../../yang/xml.ts';

/** A `<filter>` as parsed once per request or subscription. */
export type DataFilter =
  | { type: 'subtree'; elements: XmlElement[] }
  | { type: 'xpath'; select: string; expr: XPathExpr };

/** Applies a filter to a whole datastore root. */
export function applyFilter(schema: Schema, root: DataObject, filter: DataFilter): DataObject {
  return filter.type === 'subtree' ? subtreeFilter(schema, root, filter.elements) : xpathFilter(schema, root, filter);
}

/** Applies the filter elements (the children of `<filter>`) to a whole datastore root. */
export function subtreeFilter(schema: Schema, root: DataObject, filter: XmlElement[]): DataObject {
  return selectTree(undefined, root, compileSubtreeFilter(schema, undefined, filter), 'omit') ?? {};
}

/**
 * Applies a subscription's filter to one notification. A subtree filter must name the notification
 * in some element, whose children (if any) filter the body; an XPath filter sees the notification
 * at the top of a tree of its own. Undefined: the notification is filtered out.
 */
export function notificationFilter(schema: Schema, node: SchemaNode, body: DataObject, filter: DataFilter): DataObject | undefined {
  if (filter.type === 'xpath') {
    // The notification stands at the top of its own tree, as an rpc's input would.
    const selected = xpathFilter(schema, { [node.jsonName]: body }, filter)[node.jsonName];
    return selected as DataObject | undefined;
  }
  for (const el of filter.elements) {
    if (el.name !== node.name) continue;
    if (el.ns && moduleOfNamespace(schema, el.ns) !== node.module) continue;
    if (!el.children.length) return body;
    const selected = selectTree(node, body, compileSubtreeFilter(schema, node, el.children), 'omit');
    if (selected) return selected;
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
  // A node of the parent's module is held under its name and its qualified name: name it once.
  const out = new Set<SchemaNode>();
  for (const n of children.values()) if (n.name === el.name) out.add(n);
  return [...out];
}

/**
 * The selection tree of filter elements under `parent` (undefined: the datastore root): content
 * match nodes (a leaf element with text) become conditions on the leaves they name, selection
 * nodes (empty) members kept whole, containment nodes (with children) members to descend into.
 */
export function compileSubtreeFilter(schema: Schema, parent: SchemaNode | undefined, elements: XmlElement[]): SelectionTree {
  const tree: SelectionTree = { matches: [] };
  for (const el of elements) {
    const nodes = candidates(schema, parent, el);
    if (isContentMatch(el)) {
      tree.matches.push({ leaves: nodes.filter((n) => n.kind === 'leaf' || n.kind === 'leaf-list'), value: el.text.trim() });
      continue;
    }
    const members: MemberSelection[] = (tree.members ??= []);
    for (const node of nodes) {
      const inner = el.children.length > 0 && (node.kind === 'list' || node.kind === 'container' || node.kind === 'notification');
      members.push({ node, below: inner ? compileSubtreeFilter(schema, node, el.children) : undefined });
    }
  }
  return tree;
}

/** Content match: a leaf element with text and no children. */
function isContentMatch(el: XmlElement): boolean {
  return !el.children.length && el.text.trim() !== '';
}

// ----- XPath filters (RFC 6241 section 8.9) -----

/**
 * Parses an XPath filter's `select`. Prefixes resolve through `scope`, the namespace declarations
 * in force on the `<filter>` element; unprefixed names match in any module, as clients that leave
 * prefixes out expect. A syntax error, an unknown prefix or function is an invalid-value error.
 */
export function parseXPathFilter(schema: Schema, select: string, scope: { get(prefix: string): string | undefined }): DataFilter {
  // A declared namespace no module has selects nothing: it stands for a module that is not there.
  const moduleOf = (prefix: string) => {
    const ns = scope.get(prefix);
    return ns === undefined ? undefined : moduleOfNamespace(schema, ns) ?? `unknown module ${ns}`;
  };
  try {
    return { type: 'xpath', select, expr: parseXPath(select, moduleOf, undefined) };
  } catch (e) {
    throw invalidSelect(select, (e as Error).message);
  }
}

/**
 * The tree an XPath filter selects (RFC 6241 8.9.1): every selected node with all its
 * descendants, below its ancestors, and every ancestor list entry with its keys. The expression
 * must yield a node-set.
 */
function xpathFilter(schema: Schema, root: DataObject, filter: Extract<DataFilter, { type: 'xpath' }>): DataObject {
  const top = rootCursor(root);
  let selected: XPathValue;
  try {
    selected = evaluateXPath(filter.expr, { schema, root: top, node: top, current: top });
  } catch (e) {
    if (e instanceof YangError) throw e;
    throw invalidSelect(filter.select, (e as Error).message);
  }
  if (!Array.isArray(selected)) throw invalidSelect(filter.select, `the expression yields a ${typeof selected}, not a node-set`);
  return new NodeSetTree(root).build(selected);
}

function invalidSelect(select: string, why: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `xpath filter "${select}": ${why}` });
}

/**
 * Builds the reply tree of a node-set in document order. Selected subtrees are shared with the
 * data, never copied and never written to: a node below one already taken whole is skipped, and
 * ancestors are fresh objects that hold only what was selected under them.
 */
class NodeSetTree {
  private readonly out: DataObject = {};
  /** Data object (container, list entry) -> its partial copy in `out`. */
  private readonly partial = new Map<DataObject, DataObject>();
  /** Data objects taken whole. */
  private readonly whole = new Set<DataValue>();
  /** Per list (its data `Map`): entry -> the key it is held under. */
  private readonly entryKeys = new Map<ListValue, Map<DataObject, string>>();

  constructor(private readonly root: DataObject) {}

  build(nodes: DataCursor[]): DataObject {
    for (const n of nodes) {
      if (!n.parent) return this.root; // the root itself: everything
      this.add(n);
    }
    for (const [data, copy] of this.partial) inDataOrder(copy, data);
    inDataOrder(this.out, this.root);
    return this.out;
  }

  private add(n: DataCursor): void {
    const chain: DataCursor[] = [];
    for (let c: DataCursor | null = n; c && c.parent; c = c.parent) chain.push(c);
    chain.reverse();
    let into = this.out;
    for (let i = 0; i < chain.length; i++) {
      const c = chain[i]!;
      const schema = c.schema!;
      const parentData = c.parent!.value as DataObject;
      const member = parentData[schema.jsonName];
      // A leaf that is only there by its default is not in the data, so not in the reply.
      if (member === undefined) return;
      if (this.whole.has(c.value)) return;
      const last = i === chain.length - 1;
      if (schema.kind === 'leaf-list') {
        const values = (into[schema.jsonName] ??= []) as LeafValue[];
        values.push(c.value as LeafValue);
        return;
      }
      if (schema.kind === 'leaf' || schema.kind === 'anydata' || schema.kind === 'anyxml') {
        into[schema.jsonName] = c.value;
        return;
      }
      const data = c.value as DataObject;
      let copy: DataObject;
      if (last) {
        this.whole.add(data);
        copy = data;
      } else {
        const known = this.partial.get(data);
        if (known) {
          into = known;
          continue;
        }
        copy = {};
        if (schema.kind === 'list') for (const k of schema.keys) if (data[k] !== undefined) copy[k] = data[k];
        this.partial.set(data, copy);
      }
      if (member instanceof Map) {
        const entries = (into[schema.jsonName] ??= new Map()) as ListValue;
        entries.set(this.keyOf(member, schema, data), copy);
      } else {
        into[schema.jsonName] = copy;
      }
      into = copy;
    }
  }

  /** The key an entry is held under in its list, so the reply's list is keyed like the data's. */
  private keyOf(list: ListValue, schema: SchemaNode, entry: DataObject): string {
    if (schema.keys.length) {
      const k = keyString(schema, entry);
      if (k !== undefined && list.get(k) === entry) return k;
    }
    let keys = this.entryKeys.get(list);
    if (!keys) {
      keys = new Map();
      for (const [k, e] of list) keys.set(e, k);
      this.entryKeys.set(list, keys);
    }
    return keys.get(entry)!;
  }
}

/** Puts the members of `copy` in the order they have in `data`. */
function inDataOrder(copy: DataObject, data: DataObject): void {
  for (const m of Object.keys(data)) {
    if (!(m in copy)) continue;
    const v = copy[m]!;
    delete copy[m];
    copy[m] = v;
  }
}
