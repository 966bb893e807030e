/**
 * OpenDaylight's legacy RESTCONF URLs (draft-bierman-02 as ODL served it): list keys are extra
 * path segments (`node/openflow:1/table/0/flow/152`), a `/` inside a key is `%2F`. Translated
 * here to the one internal path form (RFC 8040 api-path, resolved).
 *
 * A segment without its module names a child in the parent's module, else the one child of that
 * local name in any module: ODL's draft-bierman-02 parser found augment children by local name
 * (`.../node/openflow:1/table/0/flow/1`, `table` being flow-node-inventory's), and its suites
 * relied on it for years. A name that several modules add is refused (400 invalid-value), naming
 * them, as ODL refused it. RFC 8040 api-paths (`/rests`) do not do this: there, as in ODL's
 * current parser, an unprefixed name is in the module of the step before.
 */
import { YangError } from '../../errors.ts';
import { memberSchema, namedInAnyModule } from '../../yang/json.ts';
import { decodeKeyValue, resolvePath, type InstancePath, type RawStep } from '../../yang/path.ts';
import type { Schema, SchemaNode } from '../../yang/schema.ts';

export function legacyPath(schema: Schema, rest: string): InstancePath {
  const segments = rest.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
  const raw: RawStep[] = [];
  let parent: SchemaNode | undefined;
  for (let i = 0; i < segments.length; i++) {
    const ident = decodeKeyValue(segments[i]);
    const colon = ident.indexOf(':');
    if (!parent && colon < 0) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `the first node "${ident}" must be module-qualified` });
    }
    const node = memberSchema(schema, parent, ident, true);
    if (!node && parent && colon < 0) refuseAmbiguous(schema, parent, ident, rest);
    // Unknown nodes are reported by resolvePath with the usual error.
    const step: RawStep = { module: node ? node.module : colon < 0 ? undefined : ident.slice(0, colon), name: colon < 0 ? ident : ident.slice(colon + 1) };
    if (node?.kind === 'list' && i + 1 < segments.length) {
      const keys = segments.slice(i + 1, i + 1 + node.keys.length);
      if (keys.length < node.keys.length) {
        throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `list "${node.name}" needs ${node.keys.length} key segment(s)`, path: `/${rest}` });
      }
      step.keys = keys.map(decodeKeyValue);
      i += node.keys.length;
    }
    raw.push(step);
    if (!node) break;
    parent = node;
  }
  return resolvePath(schema, raw, `/${rest}`);
}

/** An unprefixed name that several modules add under `parent`: which one is meant is unknowable. */
function refuseAmbiguous(schema: Schema, parent: SchemaNode, name: string, rest: string): void {
  const candidates = namedInAnyModule(schema, parent, name);
  if (candidates.length < 2) return;
  const names = candidates.map((c) => `"${c.module}:${c.name}"`).join(', ');
  throw new YangError({
    tag: 'invalid-value',
    type: 'protocol',
    message: `"${name}" under "${parent.name}" is ambiguous: ${names} are all children of it; write the one meant with its module`,
    path: `/${rest}`,
  });
}
