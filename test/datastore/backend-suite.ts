/**
 * The one behaviour suite every datastore backend runs (in the spirit of abstract-level's suite).
 * A backend test file calls `backendSuite(t, name, make)`; `make` returns a fresh, opened, empty
 * store, an optional `reopen` (a new, opened backend over the same data, called after the suite
 * has closed the previous one) and a `cleanup` that closes whatever is still open and removes
 * any files. Every subtest gets its own store and cleans it up even when it fails.
 */
import type { Test } from 'tap';
import type { Backend, BackendEntry } from '../../src/datastore/backends/backend.ts';

export interface BackendFixture {
  backend: Backend;
  reopen?: () => Promise<Backend>;
  cleanup: () => Promise<void>;
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const keysOf = (entries: BackendEntry[]) => entries.map((e) => e.key);

export function backendSuite(t: Test, name: string, make: () => Promise<BackendFixture>): void {
  /** A subtest with a fresh store, cleaned up whatever happens. */
  const withStore = (title: string, fn: (t: Test, f: BackendFixture) => Promise<void>) =>
    t.test(`${name}: ${title}`, async (t) => {
      const f = await make();
      t.teardown(() => f.cleanup());
      await fn(t, f);
    });

  /** Closes the fixture's backend and returns it reopened (via `reopen`, else open() again). */
  const cycle = async (f: BackendFixture, b: Backend): Promise<Backend> => {
    await b.close();
    if (f.reopen) return f.reopen();
    await b.open();
    return b;
  };

  withStore('a new store is empty at revision 0', async (t, { backend: b }) => {
    t.equal(await b.revision(), 0);
    t.equal(await b.get('/x'), undefined);
    t.same(await b.list(''), []);
    t.same(await b.list('/'), []);
    t.type(b.kind, 'string');
    t.type(b.location, 'string');
  });

  withStore('put then get, overwrite', async (t, { backend: b }) => {
    t.same(await b.write([{ type: 'put', key: '/a', value: 'one' }]), { ok: true, revision: 1 });
    t.equal(await b.get('/a'), 'one');
    t.same(await b.write([{ type: 'put', key: '/a', value: 'two' }]), { ok: true, revision: 2 });
    t.equal(await b.get('/a'), 'two');
    t.equal(await b.revision(), 2);
    // the empty string is a value like any other
    await b.write([{ type: 'put', key: '/empty', value: '' }]);
    t.equal(await b.get('/empty'), '');
    t.same(await b.list('/empty'), [{ key: '/empty', value: '' }]);
  });

  withStore('del removes a key; deleting a missing key is not an error', async (t, { backend: b }) => {
    await b.write([
      { type: 'put', key: '/a', value: '1' },
      { type: 'put', key: '/b', value: '2' },
    ]);
    t.same(await b.write([{ type: 'del', key: '/a' }]), { ok: true, revision: 2 });
    t.equal(await b.get('/a'), undefined);
    t.same(keysOf(await b.list('/')), ['/b']);
    t.same(await b.write([{ type: 'del', key: '/nope' }]), { ok: true, revision: 3 });
    t.same(keysOf(await b.list('/')), ['/b']);
  });

  withStore('a key deleted and put back between lists is listed once', async (t, { backend: b }) => {
    await b.write([
      { type: 'put', key: '/r/a', value: '1' },
      { type: 'put', key: '/r/b', value: '1' },
    ]);
    t.same(keysOf(await b.list('/r/')), ['/r/a', '/r/b']);
    await b.write([{ type: 'del', key: '/r/a' }]);
    await b.write([{ type: 'put', key: '/r/a', value: '2' }]);
    await b.write([{ type: 'put', key: '/r/c', value: '1' }]);
    await b.write([{ type: 'del', key: '/r/c' }]);
    await b.write([{ type: 'put', key: '/r/c', value: '2' }]);
    t.same(await b.list('/r/'), [
      { key: '/r/a', value: '2' },
      { key: '/r/b', value: '1' },
      { key: '/r/c', value: '2' },
    ]);
  });

  withStore('a multi-op write is one revision and applies ops in order', async (t, { backend: b }) => {
    await b.write([{ type: 'put', key: '/old', value: 'x' }]);
    const r = await b.write([
      { type: 'put', key: '/p/1', value: 'a' },
      { type: 'put', key: '/p/2', value: 'b' },
      { type: 'del', key: '/old' },
      { type: 'put', key: '/twice', value: 'first' },
      { type: 'put', key: '/twice', value: 'second' },
      { type: 'put', key: '/gone', value: 'x' },
      { type: 'del', key: '/gone' },
      { type: 'del', key: '/back' },
      { type: 'put', key: '/back', value: 'y' },
    ]);
    t.same(r, { ok: true, revision: 2 }, 'revision bumped by exactly one');
    t.equal(await b.revision(), 2);
    t.same(await b.list('/'), [
      { key: '/back', value: 'y' },
      { key: '/p/1', value: 'a' },
      { key: '/p/2', value: 'b' },
      { key: '/twice', value: 'second' },
    ]);
    t.equal(await b.get('/gone'), undefined);
    t.equal(await b.get('/old'), undefined);
  });

  withStore('expectRevision: a stale write changes nothing and reports the current revision', async (t, { backend: b }) => {
    t.same(await b.write([{ type: 'put', key: '/a', value: '1' }], { expectRevision: 0 }), { ok: true, revision: 1 });
    t.same(
      await b.write(
        [
          { type: 'put', key: '/a', value: 'stale' },
          { type: 'put', key: '/new', value: 'stale' },
        ],
        { expectRevision: 0 },
      ),
      { ok: false, revision: 1 },
    );
    t.same(await b.write([{ type: 'put', key: '/a', value: 'ahead' }], { expectRevision: 5 }), { ok: false, revision: 1 });
    t.equal(await b.revision(), 1);
    t.equal(await b.get('/a'), '1');
    t.equal(await b.get('/new'), undefined);
    t.same(await b.list(''), [{ key: '/a', value: '1' }]);
    t.same(await b.write([{ type: 'del', key: '/a' }], { expectRevision: 1 }), { ok: true, revision: 2 });
    t.equal(await b.get('/a'), undefined);
  });

  withStore('list by prefix: key order, no neighbours leaking in', async (t, { backend: b }) => {
    const keys = ['/a', '/a-b', '/a/x', '/a/x/z', '/a/y', '/ab', '/b', '/', '/a.', '/a0', '/a/'];
    await b.write(keys.map((key) => ({ type: 'put' as const, key, value: `v${key}` })));
    t.same(keysOf(await b.list('')), [...keys].sort(byKey), 'empty prefix lists everything');
    t.same(keysOf(await b.list('/')), [...keys].sort(byKey));
    t.same(keysOf(await b.list('/a/')), ['/a/', '/a/x', '/a/x/z', '/a/y']);
    t.same(keysOf(await b.list('/a/x')), ['/a/x', '/a/x/z']);
    t.same(keysOf(await b.list('/a/x/')), ['/a/x/z']);
    t.same(keysOf(await b.list('/a-')), ['/a-b']);
    t.same(keysOf(await b.list('/a')), ['/a', '/a-b', '/a.', '/a/', '/a/x', '/a/x/z', '/a/y', '/a0', '/ab']);
    t.same(keysOf(await b.list('/b')), ['/b']);
    t.same(await b.list('/a/x/z'), [{ key: '/a/x/z', value: 'v/a/x/z' }]);
    t.same(await b.list('/c'), [], 'a prefix with no keys lists nothing');
    t.same(await b.list('/a/x/z/'), []);
    t.same(await b.list('/zzz'), []);
    t.same(await b.list('/\uffff'), []);
  });

  withStore('scan (where a backend has it): what list answers, in chunks, and it may stop early', async (t, { backend: b }) => {
    if (!b.scan) {
      t.pass(`${name} has no scan`);
      return;
    }
    const keys = Array.from({ length: 2500 }, (_, i) => `/s/${String(i).padStart(4, '0')}`);
    await b.write([...keys, '/a', '/s', '/t/1', '/s0'].map((key) => ({ type: 'put' as const, key, value: `v${key}` })));
    const all = async (prefix: string) => {
      const out: BackendEntry[] = [];
      for await (const chunk of b.scan!(prefix)) out.push(...chunk);
      return out;
    };
    for (const prefix of ['', '/', '/s', '/s/', '/s/1', '/t/', '/u']) t.same(await all(prefix), await b.list(prefix), `prefix ${JSON.stringify(prefix)}`);
    let chunks = 0;
    for await (const chunk of b.scan('/s/')) {
      t.ok(chunk.length > 0, 'no empty chunk');
      if (++chunks === 1) break;
    }
    t.same(keysOf(await b.list('/t/')), ['/t/1'], 'the backend goes on after a scan that stopped early');
  });

  withStore('unicode keys and values', async (t, { backend: b }) => {
    // Includes characters whose UTF-8 byte order differs from UTF-16 code-unit order
    // (U+E000..U+FFFF sort after astral characters in UTF-16, before them in UTF-8).
    const keys = ['/u/é', '/u/日本', '/u/日', '/u/😀', '/u/😀/x', '/u/\uE000', '/u/\uFFFD', '/u/\uFFFF', '/u/z', '/u/\u0080', '/u/𝄞'];
    await b.write(keys.map((key) => ({ type: 'put' as const, key, value: `värde ${key} ✓` })));
    const listed = await b.list('/u/');
    t.same(keysOf(listed), [...keys].sort(byKey), 'ascending UTF-16 code-unit order');
    for (const key of keys) t.equal(await b.get(key), `värde ${key} ✓`, key);
    t.same(keysOf(await b.list('/u/日')), ['/u/日', '/u/日本']);
    t.same(keysOf(await b.list('/u/😀')), ['/u/😀', '/u/😀/x']);
    t.same(keysOf(await b.list('/u/\uFFFF')), ['/u/\uFFFF']);
    t.same(keysOf(await b.list('/u/\uE000')), ['/u/\uE000']);
  });

  withStore('large values (1 MB)', async (t, { backend: b }) => {
    const big = 'x'.repeat(512 * 1024) + 'é'.repeat(256 * 1024) + '😀'.repeat(64 * 1024);
    await b.write([{ type: 'put', key: '/big', value: big }]);
    t.ok((await b.get('/big')) === big, 'get returns the value intact');
    const listed = await b.list('/big');
    t.equal(listed.length, 1);
    t.ok(listed[0]!.value === big, 'list returns the value intact');
  });

  withStore('a 10,000-key write is atomic and lists in order', async (t, { backend: b }) => {
    const ops = [];
    for (let i = 0; i < 10_000; i++) ops.push({ type: 'put' as const, key: `/bulk/${i}`, value: `value-${i}` });
    t.same(await b.write(ops), { ok: true, revision: 1 });
    const listed = await b.list('/bulk/');
    t.equal(listed.length, 10_000);
    const expected = ops.map((o) => o.key).sort(byKey);
    t.ok(keysOf(listed).every((k, i) => k === expected[i]), 'keys in ascending order');
    t.ok(listed.every((e) => e.value === `value-${e.key.slice('/bulk/'.length)}`), 'values match keys');
    t.equal(await b.get('/bulk/9999'), 'value-9999');
    t.same(keysOf(await b.list('/bulk/999')), ['/bulk/999', '/bulk/9990', '/bulk/9991', '/bulk/9992', '/bulk/9993', '/bulk/9994', '/bulk/9995', '/bulk/9996', '/bulk/9997', '/bulk/9998', '/bulk/9999']);
    const dels = [];
    for (let i = 0; i < 10_000; i += 2) dels.push({ type: 'del' as const, key: `/bulk/${i}` });
    t.same(await b.write(dels), { ok: true, revision: 2 });
    t.equal((await b.list('/bulk/')).length, 5_000);
  });

  withStore('list agrees with a model across many small writes', async (t, { backend: b }) => {
    // Deterministic pseudo-random mix of puts and deletes, checked after every write, to catch
    // stale or duplicated entries in any incremental index a backend keeps.
    let seed = 12345;
    const rand = (n: number) => {
      // xorshift32: cheap, and its low bits are usable (unlike a power-of-two LCG's)
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const model = new Map<string, string>();
    const prefixes = ['', '/k/', '/k/1', '/k/2/', '/j'];
    for (let round = 0; round < 60; round++) {
      const ops = [];
      for (let i = 0, n = 1 + rand(8); i < n; i++) {
        const key = rand(2) ? `/k/${rand(30)}` : `/k/${rand(4)}/${rand(5)}`;
        if (rand(3) === 0) {
          ops.push({ type: 'del' as const, key });
          model.delete(key);
        } else {
          const value = `r${round}i${i}`;
          ops.push({ type: 'put' as const, key, value });
          model.set(key, value);
        }
      }
      await b.write(ops);
      // Only list on some rounds so several writes pile up between reads.
      if (round % 3 !== 2) continue;
      for (const prefix of prefixes) {
        const expected = [...model.keys()]
          .filter((k) => k.startsWith(prefix))
          .sort(byKey)
          .map((key) => ({ key, value: model.get(key)! }));
        const actual = await b.list(prefix);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          t.same(actual, expected, `round ${round} prefix ${JSON.stringify(prefix)}`);
          return;
        }
      }
    }
    t.equal(await b.revision(), 60);
    t.pass('list matched the model after every checked round');
  });

  withStore('concurrent writes with the same expectRevision: exactly one wins', async (t, { backend: b }) => {
    await b.write([{ type: 'put', key: '/c', value: 'base' }]);
    const base = await b.revision();
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        b.write(
          [
            { type: 'put', key: '/c', value: `w${i}` },
            { type: 'put', key: `/c/${i}`, value: 'x' },
          ],
          { expectRevision: base },
        ),
      ),
    );
    const winners = results.filter((r) => r.ok);
    t.equal(winners.length, 1, 'exactly one write succeeds');
    t.same(winners[0], { ok: true, revision: base + 1 });
    for (const r of results.filter((r) => !r.ok)) t.same(r, { ok: false, revision: base + 1 });
    const winner = results.findIndex((r) => r.ok);
    t.equal(await b.get('/c'), `w${winner}`);
    t.same(keysOf(await b.list('/c/')), [`/c/${winner}`], 'losers wrote nothing');
    t.equal(await b.revision(), base + 1);
  });

  withStore('concurrent unconditional writes get strictly sequential revisions', async (t, { backend: b }) => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => b.write([{ type: 'put', key: `/s/${i}`, value: String(i) }])));
    t.ok(results.every((r) => r.ok));
    t.same(
      results.map((r) => r.revision).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    t.equal(await b.revision(), 20);
    t.equal((await b.list('/s/')).length, 20);
  });

  withStore('close then reopen works; revision and data survive', async (t, f) => {
    let b = f.backend;
    await b.write([
      { type: 'put', key: '/keep/a', value: '1' },
      { type: 'put', key: '/keep/b', value: '2' },
    ]);
    await b.write([{ type: 'del', key: '/keep/a' }]);
    b = await cycle(f, b);
    t.equal(await b.revision(), 2, 'revision survives');
    t.same(await b.list(''), [{ key: '/keep/b', value: '2' }], 'data survives');
    t.same(await b.write([{ type: 'put', key: '/keep/c', value: '3' }], { expectRevision: 2 }), { ok: true, revision: 3 });
    b = await cycle(f, b);
    t.equal(await b.revision(), 3);
    t.equal(await b.get('/keep/c'), '3');
    t.same(await b.write([{ type: 'put', key: '/keep/a', value: 'x' }], { expectRevision: 2 }), { ok: false, revision: 3 });
  });

  withStore('closing waits for writes in flight', async (t, f) => {
    const b = f.backend;
    const pending = Promise.all(Array.from({ length: 5 }, (_, i) => b.write([{ type: 'put', key: `/f/${i}`, value: 'x' }])));
    // Issued in the same tick as the writes, without awaiting them: close lets them finish first.
    const closed = b.close();
    const [results] = await Promise.all([pending, closed]);
    t.ok(results.every((r) => r.ok));
    const again = await (f.reopen ? f.reopen() : b.open().then(() => b));
    t.equal(await again.revision(), 5);
    t.equal((await again.list('/f/')).length, 5);
  });

  withStore('a closed backend refuses reads and writes', async (t, { backend: b }) => {
    await b.close();
    await t.rejects(b.get('/a'));
    await t.rejects(b.list('/'));
    await t.rejects(b.write([{ type: 'put', key: '/a', value: '1' }]));
  });
}
