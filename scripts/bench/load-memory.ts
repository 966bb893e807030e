/**
 * Memory probe for bench:datastore, run in its own process: commits a document to a datastore on
 * memory backends and prints the resident set size after garbage collection.
 */
import { readFileSync } from 'node:fs';
import { Datastore } from '../../src/datastore/datastore.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { readJson } from '../../src/yang/json.ts';
import { FIXTURE } from './fixture-data.ts';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const schema = await loadSchema(FIXTURE);
const ds = await Datastore.open({ schema, config: new MemoryBackend(), operational: new MemoryBackend() });
gc();
const baselineMb = process.memoryUsage().rss / 2 ** 20;
const doc = readJson(readFileSync(process.argv[2], 'utf8')) as Record<string, unknown>;
await ds.transaction('config').put('/sextant-fixture:registry', doc['sextant-fixture:registry']).commit();
gc();
gc();
const rssMb = process.memoryUsage().rss / 2 ** 20;
const hosts = (ds.read('config', '/sextant-fixture:registry/host') as unknown[]).length;
console.log(JSON.stringify({ rssMb, baselineMb, hosts }));
