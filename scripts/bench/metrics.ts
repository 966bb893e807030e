/**
 * npm run bench:metrics — what a Prometheus scrape of /metrics costs, and that it does not grow
 * with the store: the same controller (all plugins, LevelDB) is scraped with an empty store, then
 * after BENCH_COMPUTES compute-nodes (a fifth tombstoned) are committed. The plugins' gauges are
 * counts kept by listeners (ctx.metrics.countEntries), so the second scrape should cost what the
 * first did: the peer is the empty store's scrape, measured in the same run, and the ratio is
 * full/empty (target <= 1.5). Prints one JSON line per figure.
 *
 * Environment: BENCH_COMPUTES (default 20000), BENCH_SCRAPES (default 50, median taken; as many
 * unrecorded ones warm up first).
 */
import { benchController } from './controller.ts';

const COMPUTES = Number(process.env.BENCH_COMPUTES ?? 20_000);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 50);
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, d = 3) => Number(x.toFixed(d));

async function scrapeMs(url: string): Promise<{ ms: number; bytes: number; tombstoned: string | undefined }> {
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < SCRAPES; i++) {
    const start = performance.now();
    const r = await fetch(`${url}/metrics`, { headers: AUTH });
    text = await r.text();
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    times.push(performance.now() - start);
  }
  return { ms: median(times), bytes: text.length, tombstoned: /^sextant_computes\{state="tombstoned"\} (\S+)$/m.exec(text)?.[1] };
}

async function main(): Promise<void> {
  const c = await benchController('metrics');
  try {
    await c.data.settled();
    await scrapeMs(c.restconf.url); // warm-up, not recorded
    const empty = await scrapeMs(c.restconf.url);
    const tx = c.data.transaction('config');
    for (let i = 1; i <= COMPUTES; i++) {
      tx.put(`/cloudscaler-rpc:compute-nodes/compute-node=bench-${i}`, { 'compute-name': `bench-${i}`, nodeid: `ovsdb://uuid/bench-${i}/bridge/br-int`, dpnid: String(i), tombstoned: i % 5 === 0 });
    }
    await tx.commit();
    await c.data.settled();
    const full = await scrapeMs(c.restconf.url);
    if (full.tombstoned !== String(COMPUTES / 5)) throw new Error(`the scrape counts ${full.tombstoned} tombstoned computes, not ${COMPUTES / 5}`);
    const ratio = full.ms / empty.ms;
    console.log(
      JSON.stringify({
        bench: 'metrics.scrape',
        metric: 'ms',
        value: round(full.ms),
        peer: 'the same scrape on the empty store',
        peer_value: round(empty.ms),
        ratio: round(ratio),
        target: '<=1.5',
        detail: `GET /metrics (basic auth, ${full.bytes} bytes) with ${COMPUTES} compute-nodes (${COMPUTES / 5} tombstoned) vs the empty store; all plugins, LevelDB; median of ${SCRAPES} scrapes each, one client, loopback`,
      }),
    );
  } finally {
    await c.stop();
  }
}

await main();
