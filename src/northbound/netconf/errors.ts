/**
 * The one mapping from the platform's YangError to NETCONF's wire form (RFC 6241 section 4.3):
 * `<rpc-error>` with type, tag, severity, app-tag, path, message and info. Paths are turned from
 * the platform's api-path form into the XPath-like instance identifiers NETCONF clients expect.
 */
import { YangError } from '../../errors.ts';
import { resolvedApiPath, xmlInstanceIdentifier, xmlnsAttributes } from '../../yang/instance-identifier.ts';
import type { Schema } from '../../yang/schema.ts';
import { escapeXml } from '../../yang/xml.ts';

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';

/**
 * The platform's api-path as the absolute XPath RFC 6241 asks for in error-path
 * (`/p:cars/p:car-entry[p:id='X1']/p:model`), with the namespace declarations of its prefixes.
 * A path that does not resolve in the schema (an unknown element) is given as it came.
 */
function errorPath(schema: Schema | undefined, path: string): { text: string; xmlns: string } {
  const steps = schema && resolvedApiPath(schema, path);
  if (!schema || !steps) return { text: path, xmlns: '' };
  const id = xmlInstanceIdentifier(schema, steps);
  return { text: id.text, xmlns: xmlnsAttributes(id) };
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
