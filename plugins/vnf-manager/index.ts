/**
 * vnf: the VNF manager (Tacker's job, after the Tacker spec "Many OpenStack Tacker instances
 * deployment"): VNF packages, VNF instances and their lifecycle operation occurrences on the
 * datastore (module sextant-vnflcm), each VDU realised as a cluster of the autoscaling plugin.
 * Starting an operation is a compare-and-set (lifecycle.ts); the instance's owner runs it
 * (executor.ts); only the leader synchronises (sync.ts); Tacker's vnfpkgm/vnflcm API (api.ts).
 * See README.md.
 */
import { definePlugin } from '../../src/plugin/api.ts';
import { registerVnfApi } from './api.ts';

export default definePlugin({
  name: 'vnf',
  yang: ['sextant-vnflcm', 'sextant-clustering', 'sextant-nfv-vim', 'cloudscaler-rpc', 'network-topology', 'ovsdb'],
  provides: ['sextant-vnflcm'],
  // VDUs are clusters of the autoscaling plugin; VIM status comes from the VIM monitor.
  uses: ['sextant-clustering', 'sextant-nfv-vim', 'cloudscaler-rpc'],
  http: { tacker: { port: 9890, help: "Tacker's API (/v1.0/vims, /vnfpkgm/v1, /vnflcm/v1, /vnflcm/v2)" } },
  options: {
    'sync-interval': { kind: 'int', default: 60, help: 'seconds between two synchronisations of the VNFs with the topology (on the leader only)' },
    'operation-timeout': { kind: 'int', default: 300, help: 'seconds an operation step may take before the occurrence is FAILED_TEMP' },
    'page-size': { kind: 'int', default: 100, help: 'entries per page of a vnflcm/vnfpkgm list (SOL013 paging: a Link rel="next" for more)' },
  },
  start(ctx) {
    registerVnfApi(ctx, ctx.http('tacker'));
    return {};
  },
});
