/**
 * `<edit-config>`'s `<config>` applied to a datastore transaction (RFC 6241 section 7.2). The
 * XML is walked against the schema; each element's operation (its `nc:operation` attribute, else
 * the one inherited from its parent, else the default-operation) becomes transaction edits on the
 * element's instance path: merge and replace write decoded subtrees, create fails with data-exists
 * when the node is there, delete fails with data-missing when it is not, remove never fails.
 * Decoding goes through the same XML codec as RESTCONF; the datastore validates on commit.
 */
import { YangError } from '../../errors.ts';
import type { Transaction } from '../../datastore/datastore.ts';
import { formatPath, keyString, type InstancePath, type InstanceStep } from '../../yang/path.ts';
import type { DataObject, DataValue, LeafValue, Schema, SchemaNode } from '../../yang/schema.ts';
import { lexicalOf } from '../../yang/types.ts';
import { decodeXmlObject, decodeXmlValue, elementSchema, unknownElement, type XmlElement } from '../../yang/xml.ts';
import { NC_BASE } from './errors.ts';

/** `none` only as a default-operation; `create` there too, as OpenDaylight accepts it. */
export type EditOperation = 'merge' | 'replace' | 'create' | 'delete' | 'remove' | 'none';

const OPERATIONS = new Set(['merge', 'replace', 'create', 'delete', 'remove']);
const OPERATION_ATTR = `{${NC_BASE}}operation`;

export function parseDefaultOperation(text: string | undefined): EditOperation {
  const op = (text ?? 'merge').trim();
  if (op === 'none' || OPERATIONS.has(op)) return op as EditOperation;
  throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unknown default-operation "${op}"`, info: { 'bad-element': 'default-operation' } });
}

/** Applies the children of `<config>` to `tx` (a config transaction). */
export function applyEditConfig(schema: Schema, tx: Transaction, config: XmlElement[], defaultOperation: EditOperation): void {
  for (const el of config) applyElement(schema, tx, [], undefined, el, defaultOperation);
}

function operationOf(el: XmlElement, inherited: EditOperation): EditOperation {
  const explicit = el.attrs.get(OPERATION_ATTR);
  if (explicit === undefined) return inherited;
  if (!OPERATIONS.has(explicit)) {
    throw new YangError({ tag: 'bad-attribute', type: 'protocol', message: `unknown operation "${explicit}" on "${el.name}"`, info: { 'bad-attribute': 'operation', 'bad-element': el.name } });
  }
  return explicit as EditOperation;
}

function applyElement(schema: Schema, tx: Transaction, parentPath: InstancePath, parent: SchemaNode | undefined, el: XmlElement, inherited: EditOperation): void {
  const node = elementSchema(schema, parent, el);
  // The root formats as '/', its children as '/x': join without doubling the slash.
  const parentText = parentPath.length ? formatPath(parentPath) : '';
  if (!node) throw unknownElement(schema, parent, el, parentText);
  if (!node.config) {
    throw new YangError({ tag: 'invalid-value', message: `"${node.name}" is config false and cannot be edited`, path: `${parentText}/${node.jsonName}` });
  }
  const op = operationOf(el, inherited);
  const step = stepOf(schema, parent, node, el, parentText);
  const path = [...parentPath, step];
  const text = formatPath(path);
  // The data-missing and data-exists messages are OpenDaylight's (its CSIT compares whole replies);
  // error-path names the node.
  switch (op) {
    case 'delete':
      if (!tx.exists(path)) throw new YangError({ tag: 'data-missing', type: 'protocol', message: 'Data is missing, cannot execute DELETE operation', path: text });
      tx.delete(path);
      return;
    case 'remove':
      tx.remove(path);
      return;
    case 'create':
      if (tx.exists(path)) throw new YangError({ tag: 'data-exists', type: 'protocol', message: 'Data already exists, cannot execute CREATE operation', path: text });
      tx.putDecoded(path, valueOf(schema, parent, node, el, parentText, text));
      return;
    case 'replace':
      tx.putDecoded(path, valueOf(schema, parent, node, el, parentText, text));
      return;
    case 'merge':
      if (isLeafy(node) || !hasNestedOperation(el)) {
        tx.mergeDecoded(path, valueOf(schema, parent, node, el, parentText, text));
        return;
      }
      // Nested operations: make sure the node exists, then walk its children one by one.
      tx.mergeDecoded(path, node.kind === 'list' ? keysOf(step, node) : {});
      for (const child of el.children) applyElement(schema, tx, path, node, child, 'merge');
      return;
    case 'none':
      // Leaves under `none` change nothing; interior nodes pass `none` down to their children.
      if (isLeafy(node)) return;
      for (const child of el.children) applyElement(schema, tx, path, node, child, 'none');
      return;
  }
}

function isLeafy(n: SchemaNode): boolean {
  return n.kind === 'leaf' || n.kind === 'leaf-list' || n.kind === 'anydata' || n.kind === 'anyxml';
}

function hasNestedOperation(el: XmlElement): boolean {
  return el.children.some((c) => c.attrs.has(OPERATION_ATTR) || hasNestedOperation(c));
}

/** The instance step an element names: list entries by their key leaves, leaf-list values by value. */
function stepOf(schema: Schema, parent: SchemaNode | undefined, node: SchemaNode, el: XmlElement, parentText: string): InstanceStep {
  if (node.kind === 'list') {
    const keyEls = el.children.filter((c) => {
      const n = elementSchema(schema, node, c);
      return n !== undefined && node.keys.includes(n.jsonName);
    });
    const keys = decodeXmlObject(schema, node, keyEls, `${parentText}/${node.jsonName}`);
    const key = keyString(node, keys);
    if (key === undefined) {
      const missing = node.keys.find((k) => keys[k] === undefined)!;
      throw new YangError({ tag: 'missing-element', type: 'protocol', message: `list "${node.name}" entry is missing its key "${missing}"`, path: `${parentText}/${node.jsonName}`, info: { 'bad-element': missing } });
    }
    return { schema: node, member: node.jsonName, key, keyValues: node.keys.map((k) => keys[k] as LeafValue) };
  }
  if (node.kind === 'leaf-list') {
    const [v] = decodeXmlObject(schema, parent, [el], `${parentText}/${node.jsonName}`, { configOnly: true })[node.jsonName] as LeafValue[];
    return { schema: node, member: node.jsonName, key: lexicalOf(v), keyValues: [v] };
  }
  return { schema: node, member: node.jsonName };
}

function keysOf(step: InstanceStep, list: SchemaNode): DataObject {
  const o: DataObject = {};
  list.keys.forEach((k, i) => (o[k] = step.keyValues![i]));
  return o;
}

/** The element decoded as the value stored at its own path. */
function valueOf(schema: Schema, parent: SchemaNode | undefined, node: SchemaNode, el: XmlElement, parentText: string, text: string): DataValue {
  // A list entry's members are decoded under the entry's own path (its keys known from stepOf), so
  // an error in one of them names the entry: /car:cars/car-entry=X/year, not /car:cars/car-entry/year.
  if (node.kind === 'list') return decodeXmlObject(schema, node, el.children, text, { configOnly: true });
  if (node.kind === 'leaf-list') return (decodeXmlObject(schema, parent, [el], parentText, { configOnly: true })[node.jsonName] as LeafValue[])[0];
  return decodeXmlValue(schema, node, el, text, { configOnly: true });
}
