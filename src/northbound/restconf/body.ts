/**
 * Request bodies: parsed once into a JSON value or an XML element, then unwrapped by ONE function
 * into the decoded value of the node they name: the target of PUT, PATCH and a YANG Patch edit
 * (`{"mod:name": value}` in JSON, a list entry as a one-entry array or an object; the node's
 * element in XML), or the child a POST creates under its parent.
 */
import type { FastifyRequest } from 'fastify';
import { checkEntryKeys } from '../../datastore/tree.ts';
import { YangError } from '../../errors.ts';
import { decodeListEntry, decodeValue, memberSchema, readJson, withPathKeys, type DecodeOptions } from '../../yang/json.ts';
import { formatPath, keyString, type InstancePath, type InstanceStep } from '../../yang/path.ts';
import type { DataObject, DataValue, Schema, SchemaNode } from '../../yang/schema.ts';
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

/**
 * Decodes a body at `parent`. With `target` (the last step of the request's path) the body must
 * name that node; without it (POST) the body names the one child to create.
 */
export function unwrapBody(schema: Schema, body: ParsedBody, parent: InstancePath, target: InstanceStep | undefined, configOnly: boolean): Unwrapped {
  const parentNode = parent[parent.length - 1]?.schema;
  const path = target ? [...parent, target] : parent;
  const pathText = formatPath(path);
  let node: SchemaNode;
  let value: DataValue;
  if (body.enc === 'xml') {
    const root = body.element;
    const named = elementSchema(schema, parentNode, root);
    if (target && named !== target.schema) throw mismatch(`the body's element "${root.name}" is not the target node "${target.schema.name}"`, pathText);
    if (!named) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${root.name}" is not a child of ${pathText}`, path: pathText });
    node = named;
    if (node.kind === 'list') {
      // Decoding the element as a member of its parent checks list keys as everywhere else.
      const entries = decodeXmlObject(schema, parentNode, [root], pathText, { configOnly })[node.jsonName] as Map<string, DataObject>;
      const entry = [...entries.values()][0];
      value = target ? checkEntryKeys(target, entry, pathText) : entry;
    } else if (node.kind === 'leaf-list' || !target) {
      value = decodeXmlObject(schema, parentNode, [root], pathText, { configOnly })[node.jsonName];
    } else value = decodeXmlValue(schema, node, root, pathText, { configOnly });
  } else {
    const raw = body.json;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length !== 1) {
      throw mismatch(target ? `the body must be one JSON object member naming "${target.schema.name}"` : 'the body must be one JSON object member naming the node to create', pathText);
    }
    const [member, v] = Object.entries(raw as Record<string, unknown>)[0];
    const named = memberSchema(schema, parentNode, member, true);
    if (target) {
      node = target.schema;
      if (named !== node && member !== `${node.module}:${node.name}`) throw mismatch(`the body names "${member}", not the target node "${node.name}"`, pathText);
    } else {
      if (!named) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${member}" is not a child of ${pathText || 'the datastore'}`, path: `${pathText}/${member}` });
      node = named;
    }
    const opts = { ...RESTCONF_JSON_INPUT, configOnly };
    if (node.kind === 'list' && (!target || target.key !== undefined)) {
      const items = Array.isArray(v) ? v : [v];
      if (items.length !== 1) throw mismatch(target ? `the body must hold exactly one "${node.name}" entry` : `POST creates one "${node.name}" entry at a time`, pathText);
      value = target
        ? checkEntryKeys(target, decodeListEntry(schema, node, withPathKeys(target, items[0]), pathText, opts), pathText)
        : decodeListEntry(schema, node, items[0], pathText, opts);
    } else value = decodeValue(schema, node, v, target ? pathText : `${pathText}/${node.jsonName}`, opts);
  }
  if (target) return { path, value };
  const step: InstanceStep = { schema: node, member: node.jsonName };
  if (node.kind === 'list') {
    step.key = keyString(node, value as DataObject);
    step.keyValues = node.keys.map((k) => (value as DataObject)[k] as never);
  }
  return { path: [...parent, step], value };
}
