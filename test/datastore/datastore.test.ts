/**
 * The datastore as plugins and protocol edges use it: transactions with snapshot reads,
 * validated atomic commits, optimistic conflicts, change listeners, persistence of config.
 */
import t from 'tap';
import { fixtureSchema } from '../helpers/fixture.ts';
import { levelDatastore, memoryDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';
import { Datastore, retryOnConflict, type Change } from '../../src/datastore/datastore.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { YangError, isConflict } from '../../src/errors.ts';
import { throwsYang } from '../helpers/assert.ts';
import { parsePath } from '../../src/yang/path.ts';

const schema = await fixtureSchema();
const REG = '/sextant-fixture:registry';
const host = (name: string) => `${REG}/host=${encodeURIComponent(name)}`;

t.test('put, merge, read, delete through transactions', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const tx = ds.transaction('config');
  tx.put(host('a'), { name: 'a', address: '10.0.0.1', dpn: '18446744073709551615' });
  tx.put(host('b'), { address: '10.0.0.2' });
  t.same(tx.read(host('b')), { name: 'b', address: '10.0.0.2' }, 'a missing key leaf is taken from the path; the transaction sees its own writes');
  t.equal(ds.read('config', host('a')), undefined, 'nothing is visible outside before commit');
  const rev = await tx.commit();
  t.equal(rev, 1);
  t.same(ds.read('config', host('a')), { name: 'a', address: '10.0.0.1', dpn: '18446744073709551615' });

  const tx2 = ds.transaction('config');
  tx2.merge(host('a'), { tags: ['x'] });
  tx2.merge(host('a'), { tags: ['y'], address: '10.0.0.9' });
  tx2.delete(host('b'));
  await tx2.commit();
  t.same(ds.read('config', host('a')), { name: 'a', address: '10.0.0.9', dpn: '18446744073709551615', tags: ['x', 'y'] }, 'merge adds leaf-list values and replaces leaves');
  t.equal(ds.read('config', host('b')), undefined);
  t.same(ds.read('config', `${REG}/host`), [ds.read('config', host('a'))], 'a list reads as an array');
});

t.test('create refuses an existing node, delete a missing one; remove is quiet', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  const tx = ds.transaction('config');
  throwsYang(t, 'create of an existing entry', () => tx.create(host('a'), { name: 'a' }), 'data-exists', { path: '/sextant-fixture:registry/host=a' });
  throwsYang(t, 'delete of a missing entry', () => tx.delete(host('zz')), 'data-missing');
  t.doesNotThrow(() => tx.remove(host('zz')));
});

t.test('key values in the body must match the path', async (t) => {
  const ds = await memoryDatastore(t, schema);
  throwsYang(t, 'key mismatch', () => ds.transaction('config').put(host('a'), { name: 'b' }), 'invalid-value', { message: /differ from those in the path/ });
});

t.test('a commit that breaks the schema is refused with tag and path, and nothing of it is written', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  await ds.transaction('config').put(host('b'), { name: 'b' }).put(host('b2'), { name: 'b2' }).commit();
  await ds.transaction('config').merge(host('a'), { backup: 'b' }).put(`${REG}/link=a,b`, { src: 'a', dst: 'b', cost: 1 }).put(`${REG}/limits`, { low: 1, high: 5 }).commit();
  const cases: [string, (tx: ReturnType<typeof ds.transaction>) => void, string, RegExp][] = [
    ['dangling leafref', (tx) => tx.put(host('b'), { name: 'b', backup: 'ghost' }), 'data-missing', /host=b\/backup$/],
    ['must violated', (tx) => tx.put(`${REG}/link=a,a`, { src: 'a', dst: 'a', cost: 0 }), 'operation-failed', /link=a,a\/cost$/],
    ['mandatory missing in a presence container', (tx) => tx.put(`${REG}/limits`, { high: 3 }), 'missing-element', /limits\/low$/],
    ['deleting a referenced host', (tx) => {
      tx.put(host('c'), { name: 'c', backup: 'a' });
      tx.delete(host('a'));
    }, 'data-missing', /host=c\/backup$/],
    // Updates of entries that exist (the validator re-checks less for them: their keys stand).
    ['a dangling leafref merged into an existing entry', (tx) => tx.merge(host('a'), { backup: 'ghost' }), 'data-missing', /host=a\/backup$/],
    ['a dangling leafref written as a leaf of an existing entry', (tx) => tx.put(`${host('a')}/backup`, 'ghost'), 'data-missing', /host=a\/backup$/],
    ['a must broken by a merge into an existing entry', (tx) => tx.merge(`${REG}/link=a,b`, { cost: 0 }), 'operation-failed', /link=a,b\/cost$/],
    // An updated container or entry is compared with what it was: only what differs is checked
    // in full, and what reads a changed leaf from elsewhere is found through its dependents.
    ['a must broken by a merge of the sibling it reads', (tx) => tx.merge(`${REG}/limits`, { low: 10 }), 'operation-failed', /limits\/high$/],
    ['a must broken by a merge of the leaf that carries it', (tx) => tx.merge(`${REG}/limits`, { high: 0 }), 'operation-failed', /limits\/high$/],
    ['a broken must inside a container merged from the top', (tx) => tx.merge(REG, { limits: { low: 9 } }), 'operation-failed', /limits\/high$/],
    ['a dangling leafref merged into the list through the container above it', (tx) => tx.merge(REG, { host: [{ name: 'a', backup: 'ghost' }] }), 'data-missing', /host=a\/backup$/],
    ['a dangling leafref in a new nested entry of a replaced entry', (tx) => tx.put(host('a'), { name: 'a', backup: 'b', port: [{ id: 1, peer: 'ghost' }] }), 'data-missing', /host=a\/port=1\/peer$/],
    ['deleting a host referenced by an existing entry, in an update of another', (tx) => {
      tx.merge(host('b2'), { address: '10.0.0.7' });
      tx.delete(host('b'));
    }, 'data-missing', /(host=a\/backup|link=a,b\/dst)$/],
  ];
  for (const [what, edit, tag, path] of cases) {
    const before = ds.read('config', REG);
    const rev = ds.revision('config');
    const tx = ds.transaction('config');
    tx.put(host('z'), { name: 'z' }); // an innocent edit in the same transaction
    edit(tx);
    const err = await tx.commit().then(() => undefined, (e: unknown) => e);
    t.type(err, YangError, what);
    t.equal((err as YangError).tag, tag, `${what}: ${(err as YangError).message}`);
    t.match((err as YangError).path, path, `${what}: path`);
    t.same(ds.read('config', REG), before, `${what}: the store is unchanged`);
    t.equal(ds.revision('config'), rev, `${what}: no revision was used`);
  }
});

t.test('a referenced host may go once the reference goes in the same transaction', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a' }).put(host('c'), { name: 'c', backup: 'a' }).commit();
  await ds.transaction('config').delete(host('a')).delete(`${host('c')}/backup`).commit();
  t.same(ds.read('config', `${REG}/host`), [{ name: 'c' }]);
});

t.test('transactions read a snapshot', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a', address: 'old' }).commit();
  const reader = ds.transaction('config');
  await ds.transaction('config').merge(host('a'), { address: 'new' }).commit();
  t.equal((reader.read(host('a')) as { address: string }).address, 'old', 'the older transaction still sees its snapshot');
  t.equal((ds.read('config', host('a')) as { address: string }).address, 'new');
});

t.test('optimistic concurrency: overlapping commits conflict, disjoint ones both land', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a' }).put(host('b'), { name: 'b' }).commit();
  const t1 = ds.transaction('config').merge(host('a'), { address: 'one' });
  const t2 = ds.transaction('config').merge(`${host('a')}/address`, 'two');
  const t3 = ds.transaction('config').merge(host('b'), { address: 'three' });
  await t1.commit();
  const err = await t2.commit().then(() => undefined, (e: unknown) => e);
  t.ok(isConflict(err), 'the second writer of the same subtree gets a retryable conflict');
  t.equal((err as YangError).tag, 'in-use');
  await t3.commit();
  t.equal((ds.read('config', host('a')) as { address: string }).address, 'one', 'the loser changed nothing');
  t.equal((ds.read('config', host('b')) as { address: string }).address, 'three', 'a disjoint commit lands');

  const parentWriter = ds.transaction('config').remove(REG);
  await ds.transaction('config').merge(host('b'), { address: 'four' }).commit();
  t.ok(isConflict(await parentWriter.commit().then(() => undefined, (e: unknown) => e)), 'a write above a changed node conflicts too');
});

t.test('retryOnConflict re-runs the losing function until it lands', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a', tags: [] as string[] }).commit();
  // Ten concurrent read-modify-write increments of one leaf-list: each must land exactly once.
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      retryOnConflict(async () => {
        const tx = ds.transaction('config');
        const tags = ((tx.read(host('a')) as { tags?: string[] }).tags ?? []).slice();
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        tags.push(`t${i}`);
        tx.put(`${host('a')}/tags`, tags);
        return tx.commit();
      }, 50),
    ),
  );
  t.equal(((ds.read('config', host('a')) as { tags: string[] }).tags).length, 10, 'no update was lost');
});

t.test('listeners get created/updated/deleted with before and after, in commit order', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('old'), { name: 'old' }).commit();
  const seen: Change[][] = [];
  ds.subscribe('config', `${REG}/host=*`, (changes) => {
    seen.push(changes);
  });
  await ds.settled();
  t.same(seen.shift()?.map((c) => [c.type, c.path]), [['created', '/sextant-fixture:registry/host=old']], 'existing data is replayed as created');
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  await ds.transaction('config').merge(`${host('a')}/port=1`, { id: 1 }).commit();
  await ds.transaction('config').merge(`${REG}/limits`, { low: 1 }).commit(); // not a host: not delivered
  await ds.transaction('config').remove(REG).commit();
  await ds.settled();
  t.same(seen.map((batch) => batch.map((c) => [c.type, c.path])), [
    [['created', '/sextant-fixture:registry/host=a']],
    [['updated', '/sextant-fixture:registry/host=a']],
    [
      ['deleted', '/sextant-fixture:registry/host=old'],
      ['deleted', '/sextant-fixture:registry/host=a'],
    ],
  ]);
  t.same(seen[1][0].before, { name: 'a' });
  t.same(seen[1][0].after, { name: 'a', port: [{ id: 1 }] });
  t.same(seen[1][0].keys, [['a']], 'the wildcard key values are given');
});

t.test('a failing listener is isolated', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const errors: unknown[] = [];
  const got: string[] = [];
  ds.subscribe('config', `${REG}/host=*`, () => {
    throw new Error('boom');
  }, { onError: (e) => errors.push(e) });
  ds.subscribe('config', `${REG}/host=*`, (c) => {
    got.push(c[0].path);
  });
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  await ds.settled();
  t.equal(errors.length, 1);
  t.same(got, ['/sextant-fixture:registry/host=a']);
});

t.test('a listener may commit from its handler', async (t) => {
  const ds = await memoryDatastore(t, schema);
  ds.subscribe('config', `${REG}/host=*`, async (changes) => {
    for (const c of changes) {
      if (c.type === 'created') await ds.transaction('operational').merge('/sextant-fixture:counters', { boots: 1 }).commit();
    }
  });
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  await ds.settled();
  t.same(ds.read('operational', '/sextant-fixture:counters'), { boots: 1 });
});

t.test('config persists across a restart (LevelDB); operational does not', async (t) => {
  const dir = tempDir(t);
  let ds = await levelDatastore(schema, dir);
  await ds
    .transaction('config')
    .put(host('a/b'), { name: 'a/b', dpn: '18446744073709551615', weight: '2.25', colour: 'sextant-fixture:green', marker: [null] })
    .put(`${host('a/b')}/port=7`, { id: 7, peer: 'a/b' })
    .put(`${REG}/step`, [{ n: 'z' }, { n: 'a' }, { n: 'm' }])
    .put(`${REG}/ordered`, ['3', '1', '2'])
    .commit();
  await ds.transaction('operational').put('/sextant-fixture:counters', { boots: 5 }).commit();
  const before = ds.read('config', REG);
  const rev = ds.revision('config');
  await ds.close();
  ds = await levelDatastore(schema, dir);
  t.teardown(() => ds.close());
  t.same(ds.read('config', REG), before, 'the whole config tree comes back, keys with "/" included');
  t.same((ds.read('config', `${REG}/step`) as { n: string }[]).map((s) => s.n), ['z', 'a', 'm'], 'ordered-by user list order survives');
  t.equal(ds.revision('config'), rev);
  t.equal(ds.read('operational', '/sextant-fixture:counters'), undefined, 'operational is rebuilt by its writers');
  await ds.transaction('config').delete(`${host('a/b')}/port=7`).commit();
  await ds.close();
  ds = await levelDatastore(schema, dir);
  t.equal(ds.read('config', `${host('a/b')}/port=7`), undefined, 'a deleted entry stays deleted');
});

t.test('paths are checked against the schema', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const tx = ds.transaction('config');
  throwsYang(t, 'unknown module', () => tx.put('/nosuch:thing', {}), 'unknown-element');
  throwsYang(t, 'unknown node', () => tx.put(`${REG}/nothing`, {}), 'unknown-element');
  throwsYang(t, 'wrong key count', () => tx.put(`${REG}/host=a,b`, {}), 'invalid-value', { message: /1 key/ });
  throwsYang(t, 'list without keys mid-path', () => tx.put(`${REG}/host/port=1`, {}), 'invalid-value', { message: /needs its keys/ });
  throwsYang(t, 'key of the wrong type', () => tx.put(`${REG}/host=a/port=x`, {}), 'invalid-value');
});

t.test('change times past the clock bound: an old path answers a coarser (later) time, a recent one its own', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const at = (name: string) => ds.lastChanged('config', parsePath(schema, host(name)));
  const add = async (names: string[]) => {
    const tx = ds.transaction('config');
    for (const n of names) tx.put(host(n), { name: n });
    await tx.commit();
  };
  await add(['first']);
  ds.lastChanged('config', []); // the clock accounts for the store from here on
  await add(['oldest']);
  const oldest = at('oldest').last;
  // 17 groups of 1,000 entries: 17,000 changed paths, past the point (16,384) where the clock
  // trims itself back to the 8,192 latest.
  for (let g = 0; g < 17; g++) await add(Array.from({ length: 1000 }, (_, i) => `h${g}-${i}`));
  const newest = at('h16-999').last;
  t.ok(newest > oldest, 'the newest entry changed after the oldest');
  await add(['later']);
  t.equal(at('h16-999').last, newest, 'a recent path keeps its own time across an unrelated commit');
  const evicted = at('oldest').last;
  t.ok(evicted > oldest, 'the oldest path fell out of the clock: it answers the floor, later than its change');
  t.ok(evicted <= newest, 'and never later than the changes that pushed it out');
  t.ok(at('later').last > newest, 'the last commit is the latest time');
});

t.test('a slow listener delays no commit; its backlog stays bounded (merged) and it ends with the data', async (t) => {
  const ds = await memoryDatastore(t, schema);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let slowCalls = 0;
  const seen = { slow: new Map<string, unknown>(), fast: new Map<string, unknown>() };
  const apply = (into: Map<string, unknown>) => (changes: Change[]) => {
    for (const c of changes) {
      const h = c.after as { name: string; weight?: string } | undefined;
      if (c.type === 'deleted') into.delete(c.path);
      else into.set(c.path, h?.weight);
    }
  };
  let fastBatches = 0;
  ds.subscribe('config', `${REG}/host=*`, async (changes) => {
    slowCalls++;
    await gate;
    apply(seen.slow)(changes);
  });
  ds.subscribe('config', `${REG}/host=*`, (changes) => {
    fastBatches++;
    apply(seen.fast)(changes);
  });
  const COMMITS = 1000;
  for (let i = 0; i < COMMITS; i++) {
    const tx = ds.transaction('config');
    tx.put(host(`h${i % 50}`), { name: `h${i % 50}`, weight: `${i}.5` });
    // Some hosts come and go: a merged backlog must not report what was created and deleted.
    if (i % 7 === 0) tx.remove(host(`h${(i + 13) % 50}`));
    await tx.commit();
  }
  t.equal(slowCalls, 1, 'all 1,000 commits returned while the slow handler sat in its first batch');
  const lag = ds.listenerLag().find((l) => l.queued > 0)!;
  t.ok(lag, 'the slow subscription reports a backlog');
  t.ok(lag.queued <= 65, `its backlog is bounded (${lag.queued} batches waiting)`);
  t.ok(lag.coalesced > 0, `batches were merged (${lag.coalesced})`);
  t.ok(lag.oldestMs > 0, `with the age of the oldest (${lag.oldestMs.toFixed(1)} ms)`);
  open();
  await ds.settled();
  const hosts = (ds.read('config', `${REG}/host`) as { name: string; weight?: string }[]) ?? [];
  const truth = new Map(hosts.map((h) => [host(h.name), h.weight]));
  t.same([...seen.slow].sort(), [...truth].sort(), 'the slow listener ends with exactly the data');
  t.same([...seen.fast].sort(), [...truth].sort(), 'and so does the fast one');
  t.equal(fastBatches, COMMITS, 'the fast listener kept up: one batch per commit, none merged');
  t.same(ds.listenerLag().map((l) => l.queued), [0, 0], 'nothing left waiting');
});

t.test('putDecoded and mergeDecoded (the edges\' path for decoded values) refuse what is not canonical; nothing is written', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a', dpn: '7', weight: '1.5' }).commit();
  const at = parsePath(schema, host('a'));
  const cases: [string, unknown, string][] = [
    ['uint64 as a JS number', { name: 'a', dpn: 5 }, 'invalid-value'],
    ['uint64 out of range', { name: 'a', dpn: '18446744073709551616' }, 'invalid-value'],
    ['decimal64 not canonical', { name: 'a', weight: '1.50' }, 'invalid-value'],
    ['decimal64 with too many fraction digits', { name: 'a', weight: '1.505' }, 'invalid-value'],
    ['identityref without its module', { name: 'a', colour: 'red' }, 'invalid-value'],
    ['boolean as a string', { name: 'a', enabled: 'true' }, 'invalid-value'],
    ['an unknown member', { name: 'a', bogus: 1 }, 'unknown-element'],
    ['a list as an array, not a Map', { name: 'a', port: [{ id: 1 }] }, 'invalid-value'],
    ['a state node in config', { name: 'a', stats: { packets: '1' } }, 'invalid-value'],
    ['keys differing from the path', { name: 'b' }, 'invalid-value'],
  ];
  for (const [what, value, tag] of cases) {
    for (const op of ['putDecoded', 'mergeDecoded'] as const) {
      const before = ds.read('config', host('a'));
      let err: unknown;
      try {
        await ds.transaction('config')[op](at, value as never).commit();
      } catch (e) {
        err = e;
      }
      t.type(err, YangError, `${op}: ${what} is refused`);
      t.equal((err as YangError).tag, tag, `${op}: ${what}: ${(err as YangError).message}`);
      t.same(ds.read('config', host('a')), before, `${op}: ${what}: nothing written`);
    }
  }
  // The canonical internal form goes through.
  await ds.transaction('config').mergeDecoded(at, { name: 'a', dpn: '18446744073709551615', weight: '2.5', colour: 'sextant-fixture:green', port: new Map([['1', { id: 1 }]]) }).commit();
  t.same(ds.read('config', host('a')), { name: 'a', dpn: '18446744073709551615', weight: '2.5', colour: 'sextant-fixture:green', port: [{ id: 1 }] });
});

t.test('commits handed in together (one group): the first of overlapping writers lands, those at, above or below it conflict, disjoint ones land', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a' }).put(host('b'), { name: 'b' }).put(host('c'), { name: 'c' }).commit();
  const txs = [
    // The first commit handed in is written alone; the others queue behind it as one group.
    ds.transaction('config').put(host('z'), { name: 'z' }),
    ds.transaction('config').merge(host('a'), { address: 'first' }),
    ds.transaction('config').merge(`${host('a')}/address`, 'below'),
    ds.transaction('config').merge(REG, { host: [{ name: 'a', weight: '1.5' }] }),
    ds.transaction('config').merge(host('a'), { address: 'same' }),
    ds.transaction('config').merge(host('b'), { address: 'disjoint' }),
    ds.transaction('config').merge(`${host('c')}/address`, 'leaf elsewhere'),
  ];
  // Not awaited one by one: handed in together, they are checked against each other in one group.
  const results = await Promise.all(txs.map((tx) => tx.commit().then(() => 'landed', (e: unknown) => (isConflict(e) ? 'conflict' : `error ${String(e)}`))));
  t.same(results, ['landed', 'landed', 'conflict', 'conflict', 'conflict', 'landed', 'landed']);
  t.same(ds.read('config', host('a')), { name: 'a', address: 'first' }, 'the losers changed nothing');
  t.equal((ds.read('config', host('b')) as { address: string }).address, 'disjoint');
  t.equal((ds.read('config', host('c')) as { address: string }).address, 'leaf elsewhere');
});

t.test('readEntries: a list entry by entry, as read gives it, from the tree of the call', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await ds.transaction('config').put(host('a'), { name: 'a', tags: ['x'] }).put(`${host('a')}/port=1`, { id: 1 }).put(host('b'), { name: 'b' }).commit();
  const entries = ds.readEntries('config', `${REG}/host`);
  await ds.transaction('config').delete(host('b')).commit();
  t.same([...entries], [
    { name: 'a', tags: ['x'], port: [{ id: 1 }] },
    { name: 'b' },
  ], 'the entries committed when it was called');
  t.same([...ds.readEntries('config', `${REG}/host`)], ds.read('config', `${REG}/host`));
  t.same([...ds.readEntries('config', `${REG}/link`)], [], 'an empty list has no entries');
});

t.test('pipelined commits: one is checked and validated on the tree of the one being written, and written after it; a failed write refuses what was built on it', async (t) => {
  /** A memory backend whose writes wait for a gate, and fail when told to. */
  class GatedBackend extends MemoryBackend {
    gate: Promise<void> = Promise.resolve();
    failNext = false;
    override async write(ops: Parameters<MemoryBackend['write']>[0], opts?: Parameters<MemoryBackend['write']>[1]) {
      await this.gate;
      if (this.failNext) {
        this.failNext = false;
        throw new Error('disk on fire');
      }
      return super.write(ops, opts);
    }
  }
  const backend = new GatedBackend();
  const ds = await Datastore.open({ schema, config: backend, operational: new MemoryBackend() });
  t.teardown(() => ds.close());
  let open!: () => void;
  backend.gate = new Promise((r) => (open = r));

  const first = ds.transaction('config').put(host('a'), { name: 'a' });
  // Both from the snapshot before `first`: one reads what `first` writes, one overlaps it.
  const onTop = ds.transaction('config').put(host('b'), { name: 'b', backup: 'a' });
  const overlapping = ds.transaction('config').merge(host('a'), { address: '10.0.0.1' });
  const firstDone = first.commit();
  await new Promise((r) => setImmediate(r)); // first is being written now, held at the gate
  const err = await overlapping.commit().then(() => undefined, (e: unknown) => e);
  t.ok(isConflict(err), 'a commit overlapping the one being written is refused (retryable) while that write is still held');
  const onTopDone = onTop.commit();
  await new Promise((r) => setImmediate(r));
  t.equal(ds.read('config', host('a')), undefined, 'nothing is published before the write is done');
  open();
  const [r1, r2] = await Promise.all([firstDone, onTopDone]);
  t.ok(r2 > r1, 'the one prepared on top is written after it');
  t.same(ds.read('config', host('b')), { name: 'b', backup: 'a' }, 'its leafref to what the first wrote held');

  // A write that fails: what was prepared on its tree is refused too, and nothing of either lands.
  const before = ds.read('config', REG);
  backend.gate = new Promise((r) => (open = r));
  backend.failNext = true;
  const doomed = ds.transaction('config').put(host('c'), { name: 'c' }).commit();
  await new Promise((r) => setImmediate(r));
  const dependent = ds.transaction('config').put(host('d'), { name: 'd', backup: 'c' }).commit();
  open();
  const [e1, e2] = await Promise.all([doomed.then(() => undefined, (e: unknown) => e), dependent.then(() => undefined, (e: unknown) => e)]);
  t.match(String(e1), /disk on fire/, 'the failed write is reported to its transaction');
  t.ok(isConflict(e2), 'the commit prepared on it is refused as a retryable conflict');
  t.same(ds.read('config', REG), before, 'nothing of either is in the store');
  await ds.transaction('config').put(host('d'), { name: 'd' }).commit();
  t.ok(ds.read('config', host('d')), 'commits go on afterwards');
});
