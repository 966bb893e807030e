/**
 * RFC 8072 YANG Patch: the edits are read from the parsed JSON or XML body directly (each value
 * stays a parsed tree and is unwrapped like any PUT body), applied in one transaction, all or
 * none; the answer is a yang-patch-status.
 */
import type { Transaction } from '../../datastore/datastore.ts';
import { asYangError, YangError } from '../../errors.ts';
import { formatPath, parsePath, type InstancePath } from '../../yang/path.ts';
import type { Schema } from '../../yang/schema.ts';
import type { XmlElement } from '../../yang/xml.ts';
import { unwrapBody, type ParsedBody } from './body.ts';
import { errorObject, statusOf } from './errors.ts';

interface PatchEdit {
  id: string;
  operation: string;
  target: string;
  value?: ParsedBody;
}

interface YangPatch {
  id: string;
  edits: PatchEdit[];
}

function malformed(message: string): YangError {
  return new YangError({ tag: 'malformed-message', type: 'protocol', message });
}

function noEdits(): YangError {
  return new YangError({ tag: 'missing-element', type: 'protocol', message: 'a yang-patch needs at least one edit' });
}

function jsonPatch(raw: unknown): YangPatch {
  const p = (raw as Record<string, unknown> | null)?.['ietf-yang-patch:yang-patch'] as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') throw malformed('the body must be {"ietf-yang-patch:yang-patch": {...}}');
  const edits = (Array.isArray(p.edit) ? p.edit : []) as Record<string, unknown>[];
  if (!edits.length) throw noEdits();
  return {
    id: String(p['patch-id'] ?? ''),
    edits: edits.map((e) => ({
      id: String(e['edit-id'] ?? ''),
      operation: String(e.operation ?? ''),
      target: String(e.target ?? ''),
      value: e.value === undefined ? undefined : { enc: 'json', json: e.value },
    })),
  };
}

function xmlPatch(root: XmlElement): YangPatch {
  if (root.name !== 'yang-patch') throw malformed('the body must be a <yang-patch> element');
  const child = (el: XmlElement, name: string) => el.children.find((c) => c.name === name);
  const edits = root.children.filter((c) => c.name === 'edit');
  if (!edits.length) throw noEdits();
  return {
    id: child(root, 'patch-id')?.text.trim() ?? '',
    edits: edits.map((e) => {
      const value = child(e, 'value')?.children[0];
      return {
        id: child(e, 'edit-id')?.text.trim() ?? '',
        operation: child(e, 'operation')?.text.trim() ?? '',
        target: child(e, 'target')?.text.trim() ?? '',
        value: value ? { enc: 'xml', element: value } : undefined,
      };
    }),
  };
}

export interface PatchResult {
  status: number;
  body: Record<string, unknown>;
}

/** Applies a YANG Patch at `base` (the request's resource); edit targets are relative to it. */
export async function applyYangPatch(
  schema: Schema,
  body: ParsedBody,
  base: InstancePath,
  transaction: () => Transaction,
  /** `beforeCommit`: runs after the edits, before the commit; what it throws is the request's error. */
  opts: { dataMissingIs404: boolean; beforeCommit?: (tx: Transaction) => void },
): Promise<PatchResult> {
  const patch = body.enc === 'json' ? jsonPatch(body.json) : xmlPatch(body.element);
  const tx = transaction();
  const baseText = base.length ? formatPath(base) : '';
  const status = (y: YangError) => statusOf(y, { dialect: 'rfc8040', dataMissingIs404: opts.dataMissingIs404 });
  const result = (code: number, fields: Record<string, unknown>): PatchResult => ({
    status: code,
    body: { 'ietf-yang-patch:yang-patch-status': { 'patch-id': patch.id, ...fields } },
  });
  for (const edit of patch.edits) {
    try {
      // Targets are relative to the request's resource: join the texts, parse once.
      const path = parsePath(schema, `${baseText}${edit.target === '/' ? '' : edit.target}`);
      switch (edit.operation) {
        case 'create':
        case 'replace':
        case 'merge': {
          if (!edit.value) throw new YangError({ tag: 'missing-element', type: 'protocol', message: `edit "${edit.id}" (${edit.operation}) needs a value`, info: { 'bad-element': 'value' } });
          if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: `edit "${edit.id}": the whole datastore cannot be the target` });
          const { value } = unwrapBody(schema, edit.value, path.slice(0, -1), path[path.length - 1], true);
          if (edit.operation === 'create' && tx.exists(path)) {
            throw new YangError({ tag: 'data-exists', type: 'protocol', message: `${formatPath(path)} already exists`, path: formatPath(path) });
          }
          if (edit.operation === 'merge') tx.mergeDecoded(path, value);
          else tx.putDecoded(path, value);
          break;
        }
        case 'delete':
          tx.delete(path);
          break;
        case 'remove':
          tx.remove(path);
          break;
        default:
          throw new YangError({ tag: 'operation-not-supported', message: `yang-patch operation "${edit.operation}" is not supported` });
      }
    } catch (e) {
      tx.cancel();
      const y = asYangError(e);
      return result(status(y), { 'edit-status': { edit: [{ 'edit-id': edit.id, errors: { error: [errorObject(y, schema)] } }] } });
    }
  }
  opts.beforeCommit?.(tx);
  try {
    await tx.commit();
  } catch (e) {
    const y = asYangError(e);
    return result(status(y), { errors: { error: [errorObject(y, schema)] } });
  }
  return result(200, { ok: [null] });
}
