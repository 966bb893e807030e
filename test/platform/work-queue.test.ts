import t from 'tap';
import { WorkQueue } from '../../src/plugin/work-queue.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

t.test('marks coalesce, a key is never worked on twice at once, batches are ordered and bounded', async (t) => {
  const batches: string[][] = [];
  let running = 0;
  let overlap = false;
  const q = new WorkQueue<string>({
    batchSize: 3,
    compare: (a, b) => a.localeCompare(b),
    async process(batch) {
      running++;
      if (running > 1) overlap = true;
      batches.push(batch);
      await tick();
      running--;
    },
  });
  q.mark(['d', 'b', 'a', 'c', 'b']);
  q.mark(['a']); // while the first batch runs: waits for the next one
  await q.idle();
  t.same(batches[0], ['a', 'b', 'c'], 'first batch: three keys in order');
  t.same(batches.slice(1).flat().sort(), ['a', 'd'], 'the rest, with the key marked during the batch, in later batches');
  t.notOk(overlap, 'one batch at a time');
  t.equal(q.pending, 0);
});

t.test('a failing batch is put back and retried', async (t) => {
  let calls = 0;
  const errors: unknown[] = [];
  const q = new WorkQueue<number>({
    retryDelayMs: 1,
    async process(batch) {
      calls++;
      if (calls === 1) throw new Error(`boom ${batch}`);
    },
    onError: (e) => errors.push(e),
  });
  q.mark([1]);
  await q.idle();
  t.equal(calls, 2, 'retried once');
  t.match(String(errors[0]), /boom 1/, 'the error was reported');
});

t.test('pause holds the work, resume releases it, stop drops it', async (t) => {
  const seen: number[] = [];
  const q = new WorkQueue<number>({ process: async (b) => void seen.push(...b) });
  q.pause();
  q.mark([1, 2]);
  await tick();
  t.same(seen, [], 'nothing while paused');
  t.equal(q.pending, 2);
  q.resume();
  await q.idle();
  t.same(seen, [1, 2], 'worked after resume');
  await q.stop();
  q.mark([3]);
  await q.idle();
  t.same(seen, [1, 2], 'nothing after stop');
});
