/**
 * The one place where errors become RESTCONF responses: YANG error-tag -> HTTP status (RFC 8040
 * section 7 with OpenDaylight's choices) and the `errors` body in JSON (key `errors`, as ODL
 * sends it) or XML (ietf-restconf namespace).
 */
import { YangError, type ErrorTag } from '../../errors.ts';
import { escapeXml } from '../../yang/xml.ts';

export type Dialect = 'rfc8040' | 'legacy';

const STATUS: Record<ErrorTag, number> = {
  'in-use': 409,
  'invalid-value': 400,
  'too-big': 413,
  'missing-attribute': 400,
  'bad-attribute': 400,
  'unknown-attribute': 400,
  'missing-element': 400,
  'bad-element': 400,
  'unknown-element': 400,
  'unknown-namespace': 400,
  'access-denied': 403,
  'lock-denied': 409,
  'resource-denied': 409,
  'rollback-failed': 500,
  'data-exists': 409,
  'data-missing': 409,
  'operation-not-supported': 501,
  'operation-failed': 500,
  'partial-operation': 500,
  'malformed-message': 400,
};

export interface ErrorOptions {
  dialect: Dialect;
  dataMissingIs404: boolean;
}

export function statusOf(e: YangError, opts: ErrorOptions): number {
  // ODL's legacy endpoints answered a missing node with 404, as does the 404 option.
  if (e.tag === 'data-missing' && (opts.dialect === 'legacy' || opts.dataMissingIs404)) return 404;
  return STATUS[e.tag] ?? 500;
}

export function errorJson(e: YangError): string {
  const error: Record<string, unknown> = { 'error-type': e.type, 'error-tag': e.tag, 'error-message': e.message };
  if (e.appTag) error['error-app-tag'] = e.appTag;
  if (e.path) error['error-path'] = e.path;
  if (e.info) error['error-info'] = e.info;
  return JSON.stringify({ errors: { error: [error] } });
}

export function errorXml(e: YangError): string {
  let s = `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>${e.type}</error-type><error-tag>${e.tag}</error-tag>`;
  if (e.appTag) s += `<error-app-tag>${escapeXml(e.appTag)}</error-app-tag>`;
  if (e.path) s += `<error-path>${escapeXml(e.path)}</error-path>`;
  s += `<error-message>${escapeXml(e.message)}</error-message>`;
  if (e.info) {
    s += '<error-info>';
    for (const [k, v] of Object.entries(e.info)) s += `<${k}>${escapeXml(v)}</${k}>`;
    s += '</error-info>';
  }
  return `${s}</error></errors>`;
}
