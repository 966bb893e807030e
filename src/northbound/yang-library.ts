/**
 * Publishes the YANG library of the loaded schema in the operational datastore: RFC 8525
 * `yang-library` and the older RFC 7895 `modules-state` that OpenDaylight clients read. Both
 * protocol edges serve it from there like any other data.
 */
import { createHash } from 'node:crypto';
import { retryOnConflict, type Datastore } from '../datastore/datastore.ts';
import type { Schema } from '../yang/schema.ts';

/** Where a module's text is served (RESTCONF; RFC 8040 section 3.7). */
export function schemaLocation(name: string, revision?: string): string {
  return `/rests/modules/${name}${revision ? `/${revision}` : ''}`;
}

export async function publishYangLibrary(data: Datastore, schema: Schema): Promise<void> {
  if (!schema.modules.has('ietf-yang-library')) return;
  const modules = [...schema.modules.values()];
  const contentId = createHash('sha256')
    .update(modules.map((m) => `${m.name}@${m.revision ?? ''}`).sort().join(','))
    .digest('hex')
    .slice(0, 16);
  // Several instances on one shared store publish the same library: one write is enough.
  const stored = data.read('operational', '/ietf-yang-library:yang-library') as { 'content-id'?: string } | undefined;
  if (stored?.['content-id'] === contentId) return;
  const implemented = modules.filter((m) => !schema.importOnly.has(m.name));
  const importOnly = modules.filter((m) => schema.importOnly.has(m.name) && m.revision);
  await retryOnConflict(async () => {
    const tx = data.transaction('operational');
    tx.put('/ietf-yang-library:yang-library', {
      'module-set': [
        {
          name: 'sextant',
          module: implemented.map((m) => ({
            name: m.name,
            ...(m.revision ? { revision: m.revision } : {}),
            namespace: m.namespace,
            location: [schemaLocation(m.name, m.revision)],
            ...(m.features.size ? { feature: [...m.features] } : {}),
            ...(m.submodules.length
              ? { submodule: m.submodules.map((s) => ({ name: s.name, ...(s.revision ? { revision: s.revision } : {}), location: [schemaLocation(s.name, s.revision)] })) }
              : {}),
          })),
          'import-only-module': importOnly.map((m) => ({ name: m.name, revision: m.revision, namespace: m.namespace, location: [schemaLocation(m.name, m.revision)] })),
        },
      ],
      schema: [{ name: 'sextant', 'module-set': ['sextant'] }],
      datastore: [
        { name: 'ietf-datastores:running', schema: 'sextant' },
        { name: 'ietf-datastores:operational', schema: 'sextant' },
      ],
      'content-id': contentId,
    });
    tx.put('/ietf-yang-library:modules-state', {
      'module-set-id': contentId,
      module: modules.map((m) => ({
        name: m.name,
        revision: m.revision ?? '',
        schema: schemaLocation(m.name, m.revision),
        namespace: m.namespace,
        ...(m.features.size ? { feature: [...m.features] } : {}),
        'conformance-type': schema.importOnly.has(m.name) ? 'import' : 'implement',
        ...(m.submodules.length
          ? { submodule: m.submodules.map((s) => ({ name: s.name, revision: s.revision ?? '', schema: schemaLocation(s.name, s.revision) })) }
          : {}),
      })),
    });
    await tx.commit();
  });
}
