/**
 * npm run bench:input-scaling — does any parse, decode, filter or path step cost more than linear
 * time in its input? Each step runs on an input of size N and of 10N (the limit it is compared
 * with is itself: the same step on N, in the same run); the line's ratio is cpu(10N) / cpu(N),
 * about 10 for a linear step (a quadratic one is about 100), about 1 for an input refused at a
 * bound. CPU time of this process (process.cpuUsage), best of 3, so a loaded machine matters less.
 *
 * Steps: XML and JSON bodies decoded against the served YANG (nested deep: refused at the bound;
 * many list entries; a long leaf-list; many attributes on one element; many namespace
 * declarations on the levels of a document), the JSON nesting scan, NETCONF subtree filters
 * (many selections over many entries), api-paths (many segments, a long key).
 */
import { join } from 'node:path';
import { compileSubtreeFilter, subtreeFilter } from '../../src/northbound/netconf/filter.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, jsonNestingBeyond, readJson } from '../../src/yang/json.ts';
import { parseApiPath, parsePath } from '../../src/yang/path.ts';
import { decodeXmlObject, readXml } from '../../src/yang/xml.ts';

const ROOT = join(import.meta.dirname, '../..');
const schema = await loadSchema([join(ROOT, 'yang')]);
const NT = 'urn:TBD:params:xml:ns:yang:network-topology';
const SCALEIN = 'urn:opendaylight:netvirt:scalein-api';

/** Best of 3; `refused`: the step must throw (an input beyond a bound), and that is what is timed. */
function cpuMs(f: () => void, refused: boolean): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const a = process.cpuUsage();
    let threw = false;
    try {
      f();
    } catch (e) {
      if (!refused) throw e;
      threw = true;
    }
    if (refused && !threw) throw new Error('an input beyond the bound was not refused');
    const d = process.cpuUsage(a);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

function scaling(bench: string, n: number, make: (n: number) => string, run: (input: string) => void, target = '<=20'): void {
  const refused = bench.endsWith('_refused');
  const small = make(n);
  const large = make(10 * n);
  cpuMs(() => run(small), refused); // warm-up
  const a = cpuMs(() => run(small), refused);
  const b = cpuMs(() => run(large), refused);
  console.log(JSON.stringify({ bench, metric: 'cpu_ms_10n', value: Number(b.toFixed(2)), n: 10 * n, bytes: large.length, peer: `the same step at n=${n}`, peer_value: Number(a.toFixed(2)), ratio: Number((b / Math.max(a, 0.01)).toFixed(1)), target }));
}

const topologies = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const xmlDoc = (inner: string) => `<network-topology xmlns="${NT}">${inner}</network-topology>`;
const decodeXml = (text: string) => void decodeXmlObject(schema, undefined, readXml(text, { fragment: true }), '');
const scaleinInput = schema.rpcs.get('scalein-api:scalein-computes-start')!.children.find((c) => c.kind === 'input')!;
const decodeJson = (text: string) => void decodeObject(schema, undefined, readJson(text) as Record<string, unknown>, '', { lenientNames: true });

scaling('xml.depth_refused', 10_000, (n) => xmlDoc(`${'<a>'.repeat(n)}${'</a>'.repeat(n)}`), decodeXml, '<=3');
scaling('xml.list_entries', 10_000, (n) => xmlDoc(topologies(n).map((id) => `<topology><topology-id>${id}</topology-id></topology>`).join('')), decodeXml);
scaling('xml.leaf_list_values', 10_000, (n) => `<input xmlns="${SCALEIN}">${topologies(n).map((id) => `<scalein-node-ids>${id}</scalein-node-ids>`).join('')}</input>`, (text) => {
  decodeXmlObject(schema, scaleinInput, readXml(text).flatMap((root) => root.children), '');
});
scaling('xml.attributes_one_element', 100, (n) => xmlDoc(`<topology${topologies(n).map((id) => ` ${id}="1"`).join('')}><topology-id>a</topology-id></topology>`), decodeXml);
scaling('xml.attributes_refused', 100_000, (n) => xmlDoc(`<topology${topologies(n).map((id) => ` ${id}="1"`).join('')}/>`), decodeXml, '<=12');
scaling('xml.namespace_per_level', 20, (n) => xmlDoc(`${Array.from({ length: n }, (_, i) => `<a xmlns:p${i}="urn:p${i}">`).join('')}${'</a>'.repeat(n)}`), (text) => void readXml(text));
scaling('xml.namespace_siblings', 10_000, (n) => xmlDoc(topologies(n).map((id) => `<topology xmlns:q="urn:q"><topology-id>${id}</topology-id></topology>`).join('')), decodeXml);
scaling('json.depth_refused', 10_000, (n) => `{"network-topology:network-topology":{"topology":${'['.repeat(n)}${']'.repeat(n)}}}`, decodeJson, '<=3');
scaling('json.nesting_scan', 100_000, (n) => JSON.stringify({ a: topologies(n) }), (text) => void jsonNestingBeyond(text));
scaling('json.list_entries', 10_000, (n) => JSON.stringify({ 'network-topology:network-topology': { topology: topologies(n).map((id) => ({ 'topology-id': id })) } }), decodeJson);
scaling('json.leaf_list_values', 10_000, (n) => JSON.stringify({ 'scalein-node-ids': topologies(n) }), (text) => {
  decodeObject(schema, scaleinInput, readJson(text) as Record<string, unknown>, '');
});

// NETCONF subtree filter: n selections (one per topology, by key) over a store of n topologies.
const store = (n: number) => decodeObject(schema, undefined, { 'network-topology:network-topology': { topology: topologies(n).map((id) => ({ 'topology-id': id, node: [{ 'node-id': `${id}-n` }] })) } }, '');
scaling('netconf.subtree_filter', 1_000, (n) => String(n), (nText) => {
  const n = Number(nText);
  const root = store(n);
  const filter = readXml(xmlDoc(topologies(n).map((id) => `<topology><topology-id>${id}</topology-id></topology>`).join('')), { fragment: true });
  compileSubtreeFilter(schema, undefined, filter);
  subtreeFilter(schema, root, filter);
});

scaling('path.segments', 2_000, (n) => `/network-topology:network-topology${'/topology=t/node=n'.repeat(n)}`, (p) => void parseApiPath(p));
scaling('path.key_length', 100_000, (n) => `/network-topology:network-topology/topology=${'k'.repeat(n)}/node=${'%41'.repeat(n / 10)}`, (p) => void parsePath(schema, p));
