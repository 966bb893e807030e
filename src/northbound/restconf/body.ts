/**
 * Request bodies: parsed once into a JSON value or an XML element, then unwrapped into the
 * decoded value of the node they name: the target of PUT, PATCH and a YANG Patch edit
 * (`{"mod:name": value}` in JSON, a list entry as a one-entry array or an object; the node's
 * element in XML: unwrapBody), or what a POST creates under its parent (unwrapPost).
 *
 * Error paths name data nodes: the body's top member is the target itself (or, for a POST, the
 * child created), so what is inside it is reported under the target's path
 * (`.../flow-node-inventory:group=1/buckets/...`), never under the target path and the member
 * again.
 */
import type { FastifyRequest } from 'fastify';
import { checkEntryKeys } from '../../datastore/tree.ts';
import { YangError } from '../../errors.ts';
import { decodeListEntry, decodeValue, memberSchema, readJson, requireKeys, withPathKeys, type DecodeOptions } from '../../yang/json.ts';
import { formatPath, keyString, type InstancePath, type InstanceStep } from '../../yang/path.ts';
import type { DataObject, DataValue, ListValue, Schema, SchemaNode } from '../../yang/schema.ts';
import { decodeXmlObject, decodeXmlValue, elementSchema, readXml, type XmlElement } from '../../yang/xml.ts';
import { bodyEncoding } from './negotiation.ts';

/**
 * How RESTCONF reads JSON, data and rpc input alike: as OpenDaylight's parser does, members
 * without their module prefix where the name is unambiguous, and integers sent as JSON strings.
 */
export const RESTCONF_JSON_INPUT: Readonly<DecodeOptions> = { lenientNames: true, numbersAsStrings: true };

export type ParsedBody = { enc: 'json'; json: unknown } | { enc: 'xml'; element: XmlElement };

export function mismatch(message: string, path: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message, path });
}

/** The body's text, which the request must have. */
export function bodyText(req: FastifyRequest): string {
  if (typeof req.body !== 'string' || !req.body.trim()) {
    throw new YangError({ tag: 'malformed-message', type: 'protocol', message: 'the request needs a body' });
  }
  return req.body;
}

/** Parses the request body (JSON or XML by its content-type; other types never reach a handler). */
export function readBody(req: FastifyRequest): ParsedBody {
  const text = bodyText(req);
  return bodyEncoding(req) === 'xml' ? { enc: 'xml', element: readXml(text)[0] } : { enc: 'json', json: readJson(text) };
}

export interface Unwrapped {
  /** The path of the node written (for POST: the parent's plus the created child, keys included). */
  path: InstancePath;
  value: DataValue;
}

/** The api-path text of `path` as the prefix of a member's path (the datastore root: empty). */
const prefixText = (path: InstancePath) => (path.length ? formatPath(path) : '');

/** The one member of a JSON body, which must be an object of exactly one member. */
function onlyMember(raw: unknown, what: string, pathText: string): [string, unknown] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length !== 1) {
    throw mismatch(`the body must be one JSON object member naming ${what}`, pathText);
  }
  return Object.entries(raw as Record<string, unknown>)[0];
}

/**
 * Decodes a body that names the request's target: `target` is the last step of the request's
 * path, `parent` the steps before it.
 */
export function unwrapBody(schema: Schema, body: ParsedBody, parent: InstancePath, target: InstanceStep, configOnly: boolean): Unwrapped {
  const parentNode = parent[parent.length - 1]?.schema;
  const path = [...parent, target];
  const pathText = formatPath(path);
  const node = target.schema;
  const isEntry = node.kind === 'list' && target.key !== undefined;
  let value: DataValue;
  if (body.enc === 'xml') {
    const root = body.element;
    if (elementSchema(schema, parentNode, root) !== node) throw mismatch(`the body's element "${root.name}" is not the target node "${node.name}"`, pathText);
    if (isEntry) {
      const entry = decodeXmlObject(schema, node, root.children, pathText, { configOnly });
      requireKeys(node, entry, pathText);
      value = checkEntryKeys(target, entry, pathText);
    } else if (node.kind === 'list' || node.kind === 'leaf-list') {
      // Sibling elements of the parent make up a whole list: decoded as the parent's member.
      value = decodeXmlObject(schema, parentNode, [root], prefixText(parent), { configOnly })[node.jsonName];
    } else value = decodeXmlValue(schema, node, root, pathText, { configOnly });
  } else {
    const [member, v] = onlyMember(body.json, `"${node.name}"`, pathText);
    if (memberSchema(schema, parentNode, member, true) !== node && member !== `${node.module}:${node.name}`) {
      throw mismatch(`the body names "${member}", not the target node "${node.name}"`, pathText);
    }
    const opts = { ...RESTCONF_JSON_INPUT, configOnly };
    if (isEntry) {
      const items = Array.isArray(v) ? v : [v];
      if (items.length !== 1) throw mismatch(`the body must hold exactly one "${node.name}" entry`, pathText);
      value = checkEntryKeys(target, decodeListEntry(schema, node, withPathKeys(target, items[0]), pathText, opts), pathText);
    } else value = decodeValue(schema, node, v, pathText, opts);
  }
  return { path, value };
}

/**
 * Decodes a POST body at `parent`: the child it creates, or for a list every entry it holds, each
 * a node to create (OpenDaylight creates each entry of a POST, in one transaction: its
 * Reconciliation suite posts many groups or flows at once). An entry given twice is refused.
 */
export function unwrapPost(schema: Schema, body: ParsedBody, parent: InstancePath, configOnly: boolean): Unwrapped[] {
  const parentNode = parent[parent.length - 1]?.schema;
  const pathText = formatPath(parent);
  let node: SchemaNode;
  let value: DataValue;
  if (body.enc === 'xml') {
    const root = body.element;
    const named = elementSchema(schema, parentNode, root);
    if (!named) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${root.name}" is not a child of ${pathText}`, path: pathText });
    node = named;
    value = decodeXmlObject(schema, parentNode, [root], prefixText(parent), { configOnly })[node.jsonName];
  } else {
    const [member, v] = onlyMember(body.json, 'the node to create', pathText);
    const named = memberSchema(schema, parentNode, member, true);
    if (!named) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${member}" is not a child of ${pathText === '/' ? 'the datastore' : pathText}`, path: `${prefixText(parent)}/${member}` });
    node = named;
    // A list's entries may come as an array or, one entry, as an object.
    const raw = node.kind === 'list' && !Array.isArray(v) ? [v] : v;
    value = decodeValue(schema, node, raw, `${prefixText(parent)}/${node.jsonName}`, { ...RESTCONF_JSON_INPUT, configOnly });
  }
  const step: InstanceStep = { schema: node, member: node.jsonName };
  if (node.kind !== 'list') return [{ path: [...parent, step], value }];
  const entries = [...(value as ListValue).values()];
  if (entries.length === 0) throw mismatch(`the body holds no "${node.name}" entry to create`, pathText);
  if (!node.keys.length && entries.length > 1) throw mismatch(`POST creates one entry of the keyless list "${node.name}" at a time`, pathText);
  return entries.map((entry) => ({
    path: [...parent, { ...step, key: keyString(node, entry), keyValues: node.keys.map((k) => entry[k] as never) }],
    value: entry,
  }));
}
