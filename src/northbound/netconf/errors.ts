/**
 * The one mapping from the platform's YangError to NETCONF's wire form (RFC 6241 section 4.3):
 * `<rpc-error>` with type, tag, severity, app-tag, path, message and info. Paths are turned from
 * the platform's api-path form into the XPath-like instance identifiers NETCONF clients expect.
 */
import { YangError } from '../../errors.ts';
import { parsePath } from '../../yang/path.ts';
import type { Schema } from '../../yang/schema.ts';
import { lexicalOf } from '../../yang/types.ts';
import { escapeXml } from '../../yang/xml.ts';

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';

/**
 * The platform's api-path as the absolute XPath RFC 6241 asks for in error-path
 * (`/p:cars/p:car-entry[p:id='X1']/p:model`), with the namespace declarations of its prefixes.
 * A path that does not resolve in the schema (an unknown element) is given as it came.
 */
function errorPath(schema: Schema | undefined, path: string): { text: string; xmlns: string } {
  if (!schema) return { text: path, xmlns: '' };
  let steps;
  try {
    steps = parsePath(schema, path);
  } catch {
    return { text: path, xmlns: '' };
  }
  const used = new Map<string, string>();
  const name = (module: string, local: string) => {
    const m = schema.modules.get(module)!;
    used.set(m.prefix, m.namespace);
    return `${m.prefix}:${local}`;
  };
  const literal = (v: string) => (v.includes("'") ? `"${v}"` : `'${v}'`);
  let text = '';
  for (const step of steps) {
    const node = step.schema;
    text += `/${name(node.module, node.name)}`;
    if (node.kind === 'list' && step.keyValues) {
      node.keys.forEach((k, i) => {
        const key = node.dataChildren.get(k);
        if (key) text += `[${name(key.module, key.name)}=${literal(lexicalOf(step.keyValues![i]))}]`;
      });
    } else if (node.kind === 'leaf-list' && step.key !== undefined) text += `[.=${literal(step.key)}]`;
  }
  return { text, xmlns: [...used].map(([p, ns]) => ` xmlns:${p}="${escapeXml(ns)}"`).join('') };
}

export function rpcErrorXml(e: YangError, schema?: Schema): string {
  let s = `<rpc-error><error-type>${e.type}</error-type><error-tag>${e.tag}</error-tag><error-severity>error</error-severity>`;
  if (e.appTag) s += `<error-app-tag>${escapeXml(e.appTag)}</error-app-tag>`;
  if (e.path) {
    const p = errorPath(schema, e.path);
    s += `<error-path${p.xmlns}>${escapeXml(p.text)}</error-path>`;
  }
  s += `<error-message xml:lang="en">${escapeXml(e.message)}</error-message>`;
  if (e.info && Object.keys(e.info).length) {
    s += '<error-info>';
    for (const [k, v] of Object.entries(e.info)) s += `<${k}>${escapeXml(v)}</${k}>`;
    s += '</error-info>';
  }
  return `${s}</rpc-error>`;
}
