/**
 * vnf: the VNF manager (Tacker's job, after the Tacker spec "Many OpenStack Tacker instances
 * deployment"): VNF packages, VNF instances and their lifecycle operation occurrences on the
 * datastore (module sextant-vnflcm), each VDU realised as a cluster of the autoscaling plugin.
 * Starting an operation is a compare-and-set (lifecycle.ts); the instance's owner runs it
 * (executor.ts); only the leader synchronises (sync.ts); Tacker's vnfpkgm/vnflcm API (api.ts).
 * See README.md.
 */
import { join } from 'node:path';
import { definePlugin } from '../../src/plugin/api.ts';
import { registerVnfApi } from './api.ts';
import { Executor } from './executor.ts';
import { LccnNotifier } from './notify.ts';
import { ScaleInMover } from './scalein.ts';
import { VnfSync } from './sync.ts';
import { OPERATION_STATES, VNFLCM } from './model.ts';
import { ANY } from '../../src/yang/binding.ts';

export interface VnfState {
  executor: Executor;
  sync: VnfSync;
  scaleIn: ScaleInMover;
  notifier: LccnNotifier;
}

export default definePlugin({
  name: 'vnf',
  console: join(import.meta.dirname, 'console'),
  yang: ['sextant-vnflcm', 'sextant-clustering', 'sextant-nfv-vim', 'cloudscaler-rpc', 'network-topology', 'ovsdb'],
  provides: ['sextant-vnflcm'],
  // VDUs are clusters of the autoscaling plugin; VIM status comes from the VIM monitor.
  uses: ['sextant-clustering', 'sextant-nfv-vim', 'cloudscaler-rpc'],
  http: { tacker: { port: 9890, help: "Tacker's API (/v1.0/vims, /vnfpkgm/v1, /vnflcm/v1, /vnflcm/v2)" } },
  options: {
    'sync-interval': { kind: 'int', default: 60, help: 'seconds between two synchronisations of the VNFs with the topology (on the leader only)' },
    'operation-timeout': { kind: 'int', default: 300, help: 'seconds an operation step may take before the occurrence is FAILED_TEMP' },
    'notification-retries': { kind: 'int', default: 5, help: 'retries of a lifecycle change notification a subscriber refused, before it is dropped' },
    'notification-backoff-ms': { kind: 'int', default: 1000, help: 'wait before the first retry of a notification (doubled for each next one, at most 30 s)' },
    'notification-timeout-ms': { kind: 'int', default: 5000, help: 'longest a subscriber may take to answer a notification' },
    'op-occs-kept': { kind: 'int', default: 10_000, help: 'ended operation occurrences kept (COMPLETED, FAILED, ROLLED_BACK); past it by a tenth, the oldest go' },
    'page-size': { kind: 'int', default: 100, help: 'entries per page of a vnflcm/vnfpkgm list (SOL013 paging: a Link rel="next" for more)' },
  },
  start(ctx): VnfState {
    if (ctx.options['operation-timeout'] < 1) throw new Error('--vnf-operation-timeout must be at least 1 (seconds)');
    if (ctx.options['sync-interval'] < 1) throw new Error('--vnf-sync-interval must be at least 1 (seconds)');
    ctx.metrics.countEntries({
      name: 'sextant_vnf_lcm_op_occs',
      help: 'VNF lifecycle operation occurrences kept, per operation state (SOL003: STARTING, PROCESSING, COMPLETED, FAILED_TEMP, FAILED, ROLLING_BACK, ROLLED_BACK)',
      store: 'config',
      path: VNFLCM.vnfLcmOpOcc(ANY),
      labelNames: ['operation_state'],
      labels: (o) => (o['operation-state'] ? { operation_state: o['operation-state'] } : undefined),
      always: OPERATION_STATES.map((operation_state) => ({ operation_state })),
    });
    const tacker = ctx.http('tacker');
    // The listener's URL is known only once it listens, after every plugin started: asked lazily.
    const notifier = new LccnNotifier(ctx, { retries: ctx.options['notification-retries'], backoffMs: ctx.options['notification-backoff-ms'], timeoutMs: ctx.options['notification-timeout-ms'], baseUrl: () => tacker.url() });
    notifier.start();
    const executor = new Executor(ctx, ctx.options['operation-timeout'] * 1000, Math.max(1, ctx.options['op-occs-kept']));
    executor.start();
    const sync = new VnfSync(ctx, ctx.options['sync-interval'] * 1000);
    sync.start();
    const scaleIn = new ScaleInMover(ctx);
    scaleIn.start();
    registerVnfApi(ctx, tacker);
    return { executor, sync, scaleIn, notifier };
  },
  async stop(_ctx, state) {
    state.scaleIn.stop();
    state.executor.stop();
    await state.sync.stop();
    await state.notifier.stop();
  },
});
