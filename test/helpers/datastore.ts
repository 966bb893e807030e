import { Datastore } from '../../src/datastore/datastore.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { LevelBackend } from '../../src/datastore/backends/level.ts';
import type { Schema } from '../../src/yang/schema.ts';

/** A datastore over memory backends, closed when the test ends. */
export async function memoryDatastore(t: { teardown(fn: () => unknown): void }, schema: Schema): Promise<Datastore> {
  const ds = await Datastore.open({ schema, config: new MemoryBackend(), operational: new MemoryBackend() });
  t.teardown(() => ds.close());
  return ds;
}

/** A datastore whose config store is LevelDB in `dir`. */
export function levelDatastore(schema: Schema, dir: string): Promise<Datastore> {
  return Datastore.open({ schema, config: new LevelBackend(dir), operational: new MemoryBackend() });
}
