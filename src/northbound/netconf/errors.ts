/**
 * The one mapping from the platform's YangError to NETCONF's wire form (RFC 6241 section 4.3):
 * `<rpc-error>` with type, tag, severity, app-tag, path, message and info. Paths are turned from
 * the platform's api-path form into the XPath-like instance identifiers NETCONF clients expect.
 */
import { YangError } from '../../errors.ts';
import { escapeXml } from '../../yang/xml.ts';

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';

export function asYangError(e: unknown): YangError {
  if (e instanceof YangError) return e;
  return new YangError({ tag: 'operation-failed', message: (e as Error)?.message ?? String(e) });
}

/** `/mod:a/b=k1,k2/c` -> `/mod:a/b[...]/c` is lossy without the schema; keep the api-path readable. */
function errorPath(path: string): string {
  return path.replace(/=([^/]*)/g, (_m, keys: string) => `[${decodeURIComponent(keys)}]`);
}

export function rpcErrorXml(e: YangError): string {
  let s = `<rpc-error><error-type>${e.type}</error-type><error-tag>${e.tag}</error-tag><error-severity>error</error-severity>`;
  if (e.appTag) s += `<error-app-tag>${escapeXml(e.appTag)}</error-app-tag>`;
  if (e.path) s += `<error-path>${escapeXml(errorPath(e.path))}</error-path>`;
  s += `<error-message xml:lang="en">${escapeXml(e.message)}</error-message>`;
  if (e.info && Object.keys(e.info).length) {
    s += '<error-info>';
    for (const [k, v] of Object.entries(e.info)) s += `<${k}>${escapeXml(v)}</${k}>`;
    s += '</error-info>';
  }
  return `${s}</rpc-error>`;
}
