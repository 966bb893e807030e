/**
 * `scalein-computes-preview`: what `scalein-computes-start` would do with the same input, and what
 * must leave each compute before `scalein-computes-end` can be DONE, changing nothing. The
 * computes are resolved by the code start uses (same errors); the designations and flows come
 * from the elections plugin's own planner (`designated-switch:plan-tombstones`, the code its
 * batches run after a real tombstone), never from a second election written here. What else
 * sits on a compute is read from the datastore by the owners' published paths.
 */
import type { PluginContext } from '../../src/plugin/api.ts';
import { YangError } from '../../src/errors.ts';
import { uint64 } from '../../src/yang/binding.ts';
import type { Rpcs as ElectionRpcs } from '../../src/bindings/designated-switch.ts';
import { tunnelList } from '../../src/bindings/itm-state.ts';
import { clusteringState } from '../../src/bindings/sextant-clustering.ts';
import { vnflcm } from '../../src/bindings/sextant-vnflcm.ts';
import type { Compute } from './model.ts';
import { computeIndex, resolveComputes } from './registry.ts';
import { boundPorts } from './scalein.ts';

type ElectionPlan = ElectionRpcs['designated-switch:plan-tombstones']['output'];

export async function previewScaleIn(ctx: PluginContext, entries: string[] | undefined) {
  const tx = ctx.data.transaction('config');
  let found: Compute[];
  let index: ReturnType<typeof computeIndex>;
  try {
    index = computeIndex(ctx.data, tx);
    ({ found } = resolveComputes(entries, index));
  } finally {
    tx.cancel();
  }
  const plan = await electionPlan(ctx, found, tx.snapshotRevision);
  const nameOf = (dpn: string | bigint) => index.byDpn.get(BigInt(dpn))?.[0]?.name;
  const leaving = new Set(found.map((c) => c.dpn));

  const tunnels = tunnelsOf(ctx, found);
  const nodes = clusterNodesOf(ctx);
  const vnfcs = vnfcsOf(ctx);
  const computes = found.map((c) => ({
    'compute-name': c.name,
    'dpn-id': uint64(c.dpn),
    'node-id': c.nodeId,
    tombstoned: c.tombstoned,
    ...nonEmpty('vm-ports', boundPorts(ctx, c)),
    ...nonEmpty('cluster-nodes', nodes.get(c.name)),
    ...nonEmpty('vnfcs', vnfcs.get(c.name)),
    ...nonEmpty('tunnels', tunnels.get(c.dpn)),
  }));
  const moves = plan.designation ?? [];
  return {
    'config-revision': plan['config-revision'] ?? uint64(tx.snapshotRevision),
    computes,
    designations: moves.map((m) => ({
      'service-type': m['service-type'],
      'service-id': m['service-id'],
      'from-dpn-id': m['from-dpn-id'],
      ...(nameOf(m['from-dpn-id'] ?? '0') ? { 'from-compute': nameOf(m['from-dpn-id'] ?? '0') } : {}),
      'to-dpn-id': m['to-dpn-id'],
      'to-compute': m['to-dpn-id'] === '0' ? 'none eligible' : (nameOf(m['to-dpn-id'] ?? '0') ?? `dpn ${m['to-dpn-id']}`),
      ...(m.reason ? { reason: m.reason } : {}),
    })),
    'flow-changes': (plan['flow-changes'] ?? []).map((f) => ({ ...f, ...(nameOf(f['dpn-id']) ? { 'compute-name': nameOf(f['dpn-id']) } : {}) })),
    stranded: moves
      .filter((m) => m['to-dpn-id'] === '0')
      .map((m) => ({
        'service-type': m['service-type'],
        'service-id': m['service-id'],
        computes: (m.candidates ?? []).filter((d) => !leaving.has(BigInt(d) as Compute['dpn'])).map((d) => nameOf(d) ?? `dpn ${d}`),
      }))
      .filter((s) => s.computes.length > 0),
  };
}

/** The elections' plan; with no elections plugin running nothing would be re-elected. */
async function electionPlan(ctx: PluginContext, found: Compute[], revision: number): Promise<ElectionPlan> {
  try {
    return (await ctx.rpc.invoke('designated-switch:plan-tombstones', { 'dpn-ids': found.map((c) => uint64(c.dpn)) })) as ElectionPlan;
  } catch (err) {
    if (err instanceof YangError && err.tag === 'operation-not-supported') return { 'config-revision': uint64(revision) };
    throw err;
  }
}

function nonEmpty(leaf: string, list: string[] | undefined): Record<string, string[]> {
  return list?.length ? { [leaf]: [...list].sort() } : {};
}

/** Tunnel interfaces to or from each compute (itm-state's tunnel-list, as the tunnels plugin keeps it). */
function tunnelsOf(ctx: PluginContext, computes: Compute[]): Map<bigint, string[]> {
  const out = new Map<bigint, string[]>(computes.map((c) => [c.dpn, []]));
  for (const t of ctx.data.read('config', tunnelList().internalTunnel()) ?? []) {
    const names = t['tunnel-interface-names'] ?? [];
    for (const end of new Set([BigInt(t['source-DPN']), BigInt(t['destination-DPN'])])) out.get(end)?.push(...names);
  }
  return out;
}

/** Autoscaling nodes by compute name, as `<cluster>/<node>` (operational clustering-state). */
function clusterNodesOf(ctx: PluginContext): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const cluster of ctx.data.read('operational', clusteringState().cluster()) ?? []) {
    for (const n of cluster.node ?? []) if (n.compute) out.set(n.compute, [...(out.get(n.compute) ?? []), `${cluster.id}/${n.id}`]);
  }
  return out;
}

/** VNFCs by compute name, as `<vnf-instance>/<vnfc>` (config vnflcm). */
function vnfcsOf(ctx: PluginContext): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const inst of ctx.data.read('config', vnflcm().vnfInstance()) ?? []) {
    for (const v of inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []) if (v.compute) out.set(v.compute, [...(out.get(v.compute) ?? []), `${inst.id}/${v.id}`]);
  }
  return out;
}
