/**
 * autoscaling: Senlin's clusters, nodes, policies and actions on the datastore (module
 * sextant-clustering), with nodes realised as VM ports on computes (driver.ts), actions claimed
 * by compare-and-set and run by the cluster's owner (engine.ts), and a compute being scaled in
 * emptied by replacing its nodes elsewhere, and threshold alarms on pushed metrics that trigger
 * receivers (alarms.ts; evaluated by the leader only). See README.md.
 */
import { join } from 'node:path';
import type { Change } from '../../src/datastore/datastore.ts';
import { YangError } from '../../src/errors.ts';
import { definePlugin, phase, type PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { AlarmEvaluator, SampleBuckets } from './alarms.ts';
import { resizeInputs } from './policy.ts';
import { ingest } from './ingest.ts';
import { requestRecover, requestReplace, requestResize, requestScale } from './requests.ts';
import { Engine, requireCluster } from './engine.ts';
import { registerSenlinApi } from './senlin-api.ts';
import { CLUSTERING, clusterPath, STATE, type ClusteringCluster } from './model.ts';

export interface AutoscalingState {
  engine: Engine;
  buckets: SampleBuckets;
  alarms: AlarmEvaluator;
}

/** A cluster's size limits as Senlin checks them at create and update (check_size_params). */
function validateClusters(changes: Change<ClusteringCluster>[], max: number): void {
  for (const c of changes) {
    const cl = c.after;
    if (!cl) continue;
    const min = cl['min-size'] ?? 0;
    const top = cl['max-size'] ?? -1;
    const desired = cl['desired-capacity'];
    const at = (leaf: 'maxSize' | 'desiredCapacity') => clusterPath(cl.id)[leaf]().text;
    if (top >= 0 && min > top) throw new YangError({ tag: 'invalid-value', message: `The specified min_size (${min}) is greater than the specified max_size (${top}).`, path: at('maxSize') });
    if (top > max) throw new YangError({ tag: 'invalid-value', message: `The specified max_size (${top}) is greater than the maximum number of nodes allowed per cluster (${max}).`, path: at('maxSize') });
    if (desired !== undefined && desired < min) throw new YangError({ tag: 'invalid-value', message: `The specified desired_capacity (${desired}) is less than the specified min_size (${min}).`, path: at('desiredCapacity') });
    if (desired !== undefined && top >= 0 && desired > top) throw new YangError({ tag: 'invalid-value', message: `The specified desired_capacity (${desired}) is greater than the specified max_size (${top}).`, path: at('desiredCapacity') });
    if (desired !== undefined && top < 0 && desired > max) throw new YangError({ tag: 'invalid-value', message: `The specified desired_capacity (${desired}) is greater than the maximum number of nodes allowed per cluster (${max}).`, path: at('desiredCapacity') });
  }
}

const scaleRpc = (action: 'CLUSTER_SCALE_OUT' | 'CLUSTER_SCALE_IN') => async (input: Record<string, unknown>, ctx: PluginContext) => ({
  action: await requestScale(ctx, action, requireCluster(ctx, String(input.cluster)), input.count),
});

export default definePlugin({
  name: 'autoscaling',
  console: join(import.meta.dirname, 'console'),
  yang: ['sextant-clustering', 'neutron', 'neutron-binding', 'network-topology', 'ovsdb', 'cloudscaler-rpc'],
  provides: ['sextant-clustering'],
  // Computes and their tombstones come from cloudscaler.
  uses: ['cloudscaler-rpc'],
  http: { clustering: { port: 8777, help: "Senlin's API (/v1)" } },
  options: {
    'max-nodes-per-cluster': { kind: 'int', default: 1000, help: 'what a cluster max-size of -1 means (Senlin max_nodes_per_cluster)' },
    'port-wait-ms': { kind: 'int', default: 30_000, help: "how long a new node's port may take to appear in Open vSwitch before the node is ERROR" },
    'actions-kept': { kind: 'int', default: 1000, help: 'ended actions kept (also the events the Senlin API lists); the oldest go as new ones end' },
    'alarm-evaluation-interval': { kind: 'int', default: 10, help: 'seconds between two evaluations of the alarms (on the leader only; Aodh evaluation_interval)' },
  },
  rpcs: {
    'sextant-clustering:cluster-scale-out': scaleRpc('CLUSTER_SCALE_OUT'),
    'sextant-clustering:cluster-scale-in': scaleRpc('CLUSTER_SCALE_IN'),
    'sextant-clustering:ingest-template': async (input, ctx) => ingest(ctx, String(input.template), input.name as string | undefined),
    // Served by every instance: the samples go into this instance's buckets.
    'sextant-clustering:push-metrics': (input, _ctx, state) => (state as AutoscalingState).buckets.push(input),
    'sextant-clustering:cluster-replace-nodes': async (input, ctx) => ({
      action: await requestReplace(ctx, requireCluster(ctx, String(input.cluster)), ((input.node as string[] | undefined) ?? []).map(String)),
    }),
    'sextant-clustering:cluster-recover': async (input, ctx) => ({
      action: await requestRecover(ctx, requireCluster(ctx, String(input.cluster))),
    }),
    'sextant-clustering:cluster-resize': async (input, ctx) => ({ action: await requestResize(ctx, requireCluster(ctx, String(input.cluster)), resizeInputs(input)) }),
  },
  phases: [
    phase<ClusteringCluster, AutoscalingState>('config', CLUSTERING.cluster(ANY), {
      validate: (changes, _view, ctx) => validateClusters(changes, ctx.options['max-nodes-per-cluster'] as number),
      // Senlin deletes a cluster's receivers with it (ClusterAction.do_delete), and its alarms go
      // too (as a Heat stack's would): in the same commit.
      prepare: (changes, tx) => {
        for (const c of changes) {
          if (c.after || !c.before) continue;
          for (const r of tx.read(CLUSTERING.receiver()) ?? []) if (r.cluster === c.before.id) tx.remove(CLUSTERING.receiver(r.id));
          for (const a of tx.read(CLUSTERING.alarm()) ?? []) if (a.cluster === c.before.id) tx.remove(CLUSTERING.alarm(a.id));
        }
      },
    }),
  ],
  start(ctx): AutoscalingState {
    registerClusterMetrics(ctx);
    const engine = new Engine(ctx, { maxNodesPerCluster: ctx.options['max-nodes-per-cluster'], portWaitMs: ctx.options['port-wait-ms'], actionsKept: Math.max(1, ctx.options['actions-kept']) });
    engine.start();
    const buckets = new SampleBuckets(ctx);
    buckets.start();
    const alarms = new AlarmEvaluator(ctx, buckets, (ctx.options['alarm-evaluation-interval'] as number) * 1000);
    alarms.start();
    registerSenlinApi(ctx, ctx.http('clustering'));
    return { engine, buckets, alarms };
  },
  async stop(_ctx, state) {
    state.engine.stop();
    await state.alarms.stop();
    await state.buckets.stop();
  },
});

/** Clusters per status and their sizes (nodes kept by a listener; desired capacity read from the small cluster list). */
function registerClusterMetrics(ctx: PluginContext): void {
  ctx.metrics.countEntries({
    name: 'sextant_autoscaling_clusters',
    help: 'Autoscaling (Senlin) clusters per status (ACTIVE, RESIZING, ERROR...), from the operational clustering-state',
    store: 'operational',
    path: STATE.cluster(ANY),
    labelNames: ['status'],
    labels: (c) => (c.status ? { status: c.status } : undefined),
  });
  ctx.metrics.countEntries({
    name: 'sextant_autoscaling_cluster_nodes',
    help: 'Nodes of each autoscaling cluster (by cluster id), whatever their status',
    store: 'operational',
    path: STATE.cluster(ANY).node(ANY),
    labelNames: ['cluster'],
    labels: (_node, [cluster]) => ({ cluster }),
  });
  ctx.metrics.gauge({
    name: 'sextant_autoscaling_cluster_desired_capacity',
    help: 'Desired capacity of each autoscaling cluster (by cluster id and name)',
    labelNames: ['cluster', 'name'],
    collect: () =>
      [...ctx.data.readEntries('config', CLUSTERING.cluster())].map((c) => ({ labels: { cluster: c.id, name: c.name ?? '' }, value: c['desired-capacity'] ?? 0 })),
  });
}
