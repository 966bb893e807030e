/**
 * Instance identifiers (RFC 7950 section 9.13, RFC 7951 section 6.11) from the platform's
 * api-paths: what NETCONF's error-path (RFC 6241 4.3) and RESTCONF's (RFC 8040 7.1) carry.
 * The XML form prefixes every name and declares the prefixes' namespaces on the element that holds
 * it (`/nt:network-topology/nt:topology[nt:topology-id='ovsdb:1']`); the JSON form names a module
 * where it changes (`/network-topology:network-topology/topology[topology-id='ovsdb:1']`).
 */
import { parsePath, type InstancePath } from './path.ts';
import type { Schema, SchemaNode } from './schema.ts';
import { lexicalOf } from './types.ts';
import { escapeXml } from './xml.ts';

export interface XmlInstanceIdentifier {
  text: string;
  /** Prefix -> namespace of every prefix the text uses. */
  namespaces: Map<string, string>;
}

/** A quoted XPath literal: single quotes unless the value holds one. */
function literal(v: string): string {
  return v.includes("'") ? `"${v}"` : `'${v}'`;
}

function walk(path: InstancePath, name: (node: SchemaNode, parent: SchemaNode | undefined) => string): string {
  let text = '';
  let parent: SchemaNode | undefined;
  for (const step of path) {
    const node = step.schema;
    text += `/${name(node, parent)}`;
    if (node.kind === 'list' && step.keyValues) {
      node.keys.forEach((k, i) => {
        const key = node.dataChildren.get(k);
        if (key) text += `[${name(key, node)}=${literal(lexicalOf(step.keyValues![i]))}]`;
      });
    } else if (node.kind === 'leaf-list' && step.key !== undefined) text += `[.=${literal(step.key)}]`;
    parent = node;
  }
  return text;
}

export function xmlInstanceIdentifier(schema: Schema, path: InstancePath): XmlInstanceIdentifier {
  const namespaces = new Map<string, string>();
  const text = walk(path, (node) => {
    const m = schema.modules.get(node.module)!;
    namespaces.set(m.prefix, m.namespace);
    return `${m.prefix}:${node.name}`;
  });
  return { text, namespaces };
}

/** The ` xmlns:p="..."` attributes declaring an identifier's prefixes. */
export function xmlnsAttributes(id: XmlInstanceIdentifier): string {
  return [...id.namespaces].map(([p, ns]) => ` xmlns:${p}="${escapeXml(ns)}"`).join('');
}

export function jsonInstanceIdentifier(path: InstancePath): string {
  return walk(path, (node, parent) => (parent?.module === node.module ? node.name : `${node.module}:${node.name}`));
}

/** An api-path resolved against the schema, or undefined when it does not resolve (an unknown node). */
export function resolvedApiPath(schema: Schema, apiPath: string): InstancePath | undefined {
  try {
    return parsePath(schema, apiPath);
  } catch {
    return undefined;
  }
}
