import type { DataObject, DataValue, LeafValue, Schema, SchemaNode } from './schema.ts';

/**
 * A position in a data tree, as XPath (must, when, leafref) and the validator see it. Trees hold
 * no parent pointers, so cursors carry them; they are cheap and made on demand.
 *
 * - The root cursor has no schema; its value is the object of top-level members (`mod:name`).
 * - A container, list entry, rpc input/output or notification cursor holds its `DataObject`.
 * - A leaf cursor holds the leaf's value; a leaf-list has one cursor per element.
 */
export interface DataCursor {
  schema?: SchemaNode;
  value: DataValue;
  parent: DataCursor | null;
}

export function rootCursor(tree: DataObject): DataCursor {
  return { value: tree, parent: null };
}

/** Child data nodes of a cursor (list entries and leaf-list elements one by one), in document order. */
export function childCursors(schema: Schema, cursor: DataCursor): DataCursor[] {
  const value = cursor.value;
  if (!isObject(value)) return [];
  const out: DataCursor[] = [];
  for (const [member, child] of Object.entries(value)) {
    const childSchema = cursor.schema ? cursor.schema.dataChildren.get(member) : schema.roots.get(member);
    if (!childSchema) continue;
    pushMember(out, childSchema, child, cursor);
  }
  if (cursor.schema) {
    for (const [k, c] of cursor.schema.dataChildren) {
      if (k === c.jsonName && value[k] === undefined && defaultApplies(c)) out.push({ schema: c, value: c.default!, parent: cursor });
    }
  }
  return out;
}

/**
 * A leaf with a default exists for XPath even when absent (RFC 7950 7.6.1), unless it sits in a
 * choice: whether its case is the one in effect is not known from here, so it is left out.
 */
function defaultApplies(c: SchemaNode): boolean {
  return c.kind === 'leaf' && c.default !== undefined && !c.case;
}

/** Children of `cursor` that are instances of `child` (one schema node). */
export function cursorsOf(child: SchemaNode, cursor: DataCursor): DataCursor[] {
  const value = cursor.value;
  if (!isObject(value)) return [];
  const member = value[child.jsonName];
  if (member === undefined) {
    return cursor.schema && defaultApplies(child) ? [{ schema: child, value: child.default!, parent: cursor }] : [];
  }
  const out: DataCursor[] = [];
  pushMember(out, child, member, cursor);
  return out;
}

function pushMember(out: DataCursor[], schema: SchemaNode, member: DataValue, parent: DataCursor): void {
  if (member instanceof Map) {
    for (const entry of member.values()) out.push({ schema, value: entry, parent });
  } else if (schema.kind === 'leaf-list' && Array.isArray(member)) {
    for (const v of member as LeafValue[]) out.push({ schema, value: v, parent });
  } else {
    out.push({ schema, value: member, parent });
  }
}

export function isObject(v: unknown): v is DataObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** XPath string-value of a leaf value (RFC 7950 6.4.1: the canonical lexical form). */
export function leafString(v: LeafValue): string {
  if (Array.isArray(v)) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}
