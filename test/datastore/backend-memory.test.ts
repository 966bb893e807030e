/**
 * The in-memory backend: the shared backend suite, plus prefix listing staying cheap on a large
 * store (the sorted index is rebuilt only after writes, not on every list).
 */
import t from 'tap';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { backendSuite } from './backend-suite.ts';

backendSuite(t, 'memory', async () => {
  const backend = new MemoryBackend();
  await backend.open();
  return {
    backend,
    // The same instance keeps its data across close() and open().
    reopen: async () => {
      await backend.open();
      return backend;
    },
    cleanup: () => backend.close(),
  };
});

t.test('memory: kind and location', async (t) => {
  const b = new MemoryBackend();
  t.equal(b.kind, 'memory');
  t.equal(b.location, 'memory');
});

t.test('memory: listing a small prefix of a 100,000-key store is fast', async (t) => {
  const b = new MemoryBackend();
  await b.open();
  t.teardown(() => b.close());
  // Insert in shuffled order over several writes so the index has real merging to do.
  const ids = Array.from({ length: 100_000 }, (_, i) => i);
  let seed = 7;
  for (let i = ids.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  for (let start = 0; start < ids.length; start += 25_000) {
    await b.write(ids.slice(start, start + 25_000).map((i) => ({ type: 'put' as const, key: `/n/${Math.floor(i / 10)}/${i % 10}`, value: String(i) })));
  }
  t.equal((await b.list('/n/')).length, 100_000);

  const started = performance.now();
  for (let i = 0; i < 2_000; i++) {
    const entries = await b.list(`/n/${i}/`);
    if (entries.length !== 10) {
      t.fail(`/n/${i}/ listed ${entries.length} entries`);
      return;
    }
  }
  const elapsed = performance.now() - started;
  // Sorting 100k keys per call would take minutes for 2,000 calls; a binary search takes ms.
  t.ok(elapsed < 1_000, `2,000 prefix lists took ${elapsed.toFixed(0)} ms`);

  // A write between lists folds in without losing or duplicating keys.
  await b.write([
    { type: 'put', key: '/n/5/x', value: 'new' },
    { type: 'del', key: '/n/5/0' },
  ]);
  t.same(
    (await b.list('/n/5/')).map((e) => e.key),
    ['/n/5/1', '/n/5/2', '/n/5/3', '/n/5/4', '/n/5/5', '/n/5/6', '/n/5/7', '/n/5/8', '/n/5/9', '/n/5/x'],
  );
  t.equal((await b.list('/n/')).length, 100_000);
});
