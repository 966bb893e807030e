/**
 * cloudscaler: compute scale-in for NetVirt. Serves the same operations under the three module
 * names clients use (scalein-api, scalein-rpc, genius' cloudscaler-rpc) and learns computes from
 * the OVSDB topology. See README.md for the paths other plugins read.
 */
import { join } from 'node:path';
import { definePlugin, listener, phase, type PluginRpc } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { computeNodes } from '../../src/bindings/cloudscaler-rpc.ts';
import { ovsdbTopology } from './model.ts';
import { previewScaleIn } from './preview.ts';
import { learnComputes, relearn } from './registry.ts';
import { deleteTeps, endJson, endScaleIn, outcomeJson, setTombstones, tombstoneBridges } from './scalein.ts';

const names = (input: Record<string, unknown>, leaf: string) => input[leaf] as string[] | undefined;

/** The operations of scalein-api / scalein-rpc (their inputs and outputs are the same). */
function scaleinRpcs(module: string): Record<string, PluginRpc> {
  return {
    [`${module}:scalein-computes-start`]: async (input, ctx) => outcomeJson(await setTombstones(ctx, names(input, 'scalein-node-ids'), true)),
    [`${module}:scalein-computes-recover`]: async (input, ctx) => outcomeJson(await setTombstones(ctx, names(input, 'recover-node-ids'), false)),
    [`${module}:scalein-computes-end`]: async (input, ctx) => endJson(await endScaleIn(ctx, names(input, 'scalein-node-ids'))),
  };
}

export default definePlugin({
  name: 'cloudscaler',
  console: join(import.meta.dirname, 'console'),
  yang: ['cloudscaler-rpc', 'scalein-api', 'scalein-rpc', 'network-topology', 'ovsdb', 'opendaylight-inventory', 'flow-node-inventory', 'itm', 'itm-state', 'designated-switch', 'sextant-clustering', 'sextant-vnflcm'],
  provides: ['cloudscaler-rpc', 'scalein-api', 'scalein-rpc'],
  rpcs: {
    ...scaleinRpcs('scalein-api'),
    ...scaleinRpcs('scalein-rpc'),
    // The impact preview (issue 21): scalein-api only, the module operators and the CLI use.
    'scalein-api:scalein-computes-preview': (input, ctx) => previewScaleIn(ctx, names(input, 'scalein-node-ids')),
    // genius' shapes: no output but for -end's status string.
    'cloudscaler-rpc:scalein-computes-start': async (input, ctx) => {
      await setTombstones(ctx, names(input, 'scalein-compute-names'), true);
    },
    'cloudscaler-rpc:scalein-computes-recover': async (input, ctx) => {
      await setTombstones(ctx, names(input, 'recover-compute-names'), false);
    },
    'cloudscaler-rpc:scalein-computes-end': async (input, ctx) => ({ status: (await endScaleIn(ctx, names(input, 'scalein-compute-names'))).status }),
    'cloudscaler-rpc:scalein-computes-tep-delete': async (input, ctx) => {
      await deleteTeps(ctx, names(input, 'scalein-compute-names'));
    },
  },
  // Registration is the leader's (cluster mode): one writer per compute, no races between members.
  listeners: [listener('operational', ovsdbTopology.node(ANY), (changes, ctx) => (ctx.cluster.isLeader() ? learnComputes(changes, ctx) : undefined))],
  start(ctx) {
    ctx.metrics.countEntries({
      name: 'sextant_computes',
      help: 'Registered computes (cloudscaler-rpc compute-nodes): tombstoned (being scaled in) or in_service',
      store: 'config',
      path: computeNodes().computeNode(ANY),
      labelNames: ['state'],
      labels: (c) => ({ state: c.tombstoned ? 'tombstoned' : 'in_service' }),
      always: [{ state: 'tombstoned' }, { state: 'in_service' }],
    });
    // A member that becomes the leader learns what the topology holds now.
    let first = true;
    ctx.cluster.onLeadership((leader) => {
      if (leader && !first) void relearn(ctx).catch((err: unknown) => ctx.log.error({ err }, 'cloudscaler: learning computes after a leadership change failed'));
      first = false;
    });
  },
  phases: [phase('config', computeNodes().computeNode(ANY), { prepare: tombstoneBridges })],
});
