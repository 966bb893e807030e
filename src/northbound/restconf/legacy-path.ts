/**
 * OpenDaylight's legacy RESTCONF URLs (draft-bierman-02 as ODL served it): list keys are extra
 * path segments (`node/openflow:1/table/0/flow/152`), a `/` inside a key is `%2F`. Translated
 * here to the one internal path form (RFC 8040 api-path, resolved).
 */
import { YangError } from '../../errors.ts';
import { decodeKeyValue, resolvePath, type InstancePath, type RawStep } from '../../yang/path.ts';
import type { Schema, SchemaNode } from '../../yang/schema.ts';

export function legacyPath(schema: Schema, rest: string): InstancePath {
  const segments = rest.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
  const raw: RawStep[] = [];
  let parent: SchemaNode | undefined;
  for (let i = 0; i < segments.length; i++) {
    const ident = decodeKeyValue(segments[i]);
    const colon = ident.indexOf(':');
    const module = colon < 0 ? parent?.module : ident.slice(0, colon);
    const name = colon < 0 ? ident : ident.slice(colon + 1);
    if (!module) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `the first node "${ident}" must be module-qualified` });
    }
    const qname = `${module}:${name}`;
    const node = parent ? parent.dataChildren.get(qname) : schema.roots.get(qname);
    const step: RawStep = { module: colon < 0 ? undefined : module, name };
    if (node?.kind === 'list' && i + 1 < segments.length) {
      const keys = segments.slice(i + 1, i + 1 + node.keys.length);
      if (keys.length < node.keys.length) {
        throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `list "${node.name}" needs ${node.keys.length} key segment(s)`, path: `/${rest}` });
      }
      step.keys = keys.map(decodeKeyValue);
      i += node.keys.length;
    }
    raw.push(step);
    // Unknown nodes are reported by resolvePath with the usual error.
    if (!node) break;
    parent = node;
  }
  return resolvePath(schema, raw, `/${rest}`);
}
