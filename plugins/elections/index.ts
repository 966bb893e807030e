/**
 * elections: designated-switch elections (NAT's NAPT switch per router, the subnet route per
 * subnet) that avoid tombstoned computes, and the OpenFlow pipeline that follows from Neutron,
 * the port locations OVS reports, the tunnels and the designations (docs/pipeline.md). Reacts to
 * datastore changes only; see README.md for the rule and the paths.
 */
import { join } from 'node:path';
import type { Change } from '../../src/datastore/datastore.ts';
import { definePlugin, type PluginContext } from '../../src/plugin/api.ts';
import { markOnChange, WorkQueue } from '../../src/plugin/work-queue.ts';
import { ovsdbTopology } from '../../src/southbound/ovsdb/topology.ts';
import { ANY, type DataPath, type Mode } from '../../src/yang/binding.ts';
import { Elections } from './elections.ts';
import { computeNodes } from '../../src/bindings/cloudscaler-rpc.ts';
import { transportZones } from '../../src/bindings/itm.ts';
import { compareWorkKeys, DESIGNATED_SWITCHES, NEUTRON, SUBNET_ROUTES, type WorkKey } from './model.ts';
import { planTombstones } from './preview.ts';

/** What a running elections plugin holds (handed back by the platform; tests and benchmarks wait on its queue). */
export interface ElectionsState {
  elections: Elections;
  queue: WorkQueue<WorkKey>;
}

function listen(ctx: PluginContext, e: Elections, queue: WorkQueue<WorkKey>, reported: (dpn: bigint) => void): void {
  const inputs = e.inputs;
  const on = <T>(store: 'config' | 'operational', path: DataPath<T, Mode>, apply: (c: Change<T>) => Iterable<WorkKey>) =>
    markOnChange(ctx.data, queue, store, path, apply, (err) => ctx.log.error({ err }, `elections: listener on ${path.text} failed`));
  on('config', NEUTRON.networks().network(ANY), (c) => inputs.applyNetwork(c));
  on('config', NEUTRON.subnets().subnet(ANY), (c) => inputs.applySubnet(c));
  on('config', NEUTRON.ports().port(ANY), (c) => inputs.applyPort(c));
  on('config', NEUTRON.routers().router(ANY), (c) => inputs.applyRouter(c));
  on('config', SUBNET_ROUTES.subnetRoute(ANY), (c) => inputs.applySubnetRoute(c));
  on('config', computeNodes().computeNode(ANY), (c) => {
    const { work, recovered, tombstoned } = inputs.applyCompute(c);
    // A compute back in service: every service without a designated DPN elects again.
    if (recovered) for (const k of e.undesignated()) work.add(k);
    // A compute tombstoned: of the services it is a candidate of, only some can change. Only the
    // leader's designations are its own (a follower's are as of its start), so a follower keeps all.
    if (tombstoned !== undefined && ctx.cluster.isLeader()) return e.changedByTombstone(tombstoned, work);
    return work;
  });
  on('config', transportZones().transportZone(ANY), (c) => inputs.applyZone(c));
  on('config', ovsdbTopology.node(ANY).terminationPoint(ANY), (c) => inputs.applyTunnelPort(c));
  on('operational', ovsdbTopology.node(ANY).datapathId(), (c) => {
    const work = inputs.applyDatapathId(c);
    const dpn = inputs.bridges.get(c.keys[0][0] as string);
    if (dpn !== undefined) reported(dpn);
    return work;
  });
  on('operational', ovsdbTopology.node(ANY).terminationPoint(ANY), (c) => inputs.applyReportedPort(c));
}

export default definePlugin({
  name: 'elections',
  console: join(import.meta.dirname, 'console'),
  yang: ['neutron', 'neutron-binding', 'neutron-provider-ext', 'designated-switch', 'odl-nat', 'opendaylight-inventory', 'flow-node-inventory', 'itm', 'ovsdb'],
  provides: ['designated-switch', 'odl-nat'],
  // Registered computes and their tombstones come from cloudscaler.
  uses: ['cloudscaler-rpc'],
  rpcs: {
    'designated-switch:plan-tombstones': (input, ctx, state: ElectionsState) => planTombstones(input, ctx, state),
  },
  options: {
    /**
     * After a restart the operational topology is empty until the switches report again. Work
     * waits until every DPN that holds a designation or flows has reported its bridge, for at
     * most this long, so a restart does not move designations or flap flows.
     */
    'restart-hold-ms': { kind: 'int', default: 30_000, help: 'after a restart, longest wait (ms) for the DPNs that hold designations or flows to report before they count as disconnected' },
  },
  start(ctx): ElectionsState {
    ctx.metrics.countEntries({
      name: 'sextant_designations',
      help: 'Services per type with a designated switch (designated) or none eligible (none_eligible), from the operational designated-switches',
      store: 'operational',
      path: DESIGNATED_SWITCHES.designatedSwitch(ANY),
      labelNames: ['service_type', 'state'],
      labels: (d) => ({ service_type: d['service-type'], state: d['dpn-id'] && d['dpn-id'] !== '0' ? 'designated' : 'none_eligible' }),
    });
    const e = new Elections(ctx);
    const queue: WorkQueue<WorkKey> = new WorkQueue<WorkKey>({
      batchSize: 2048,
      compare: compareWorkKeys,
      process: (batch) => e.process(batch, () => queue.pending),
      onError: (err) => ctx.log.error({ err }, 'elections: a batch failed; retrying'),
    });
    const held = e.load();
    let holdTimer: NodeJS.Timeout | undefined;
    const release = () => {
      if (holdTimer) ctx.timers.clear(holdTimer);
      holdTimer = undefined;
      queue.resume('restart-hold');
    };
    if (held.size) {
      const holdMs = ctx.options['restart-hold-ms'];
      queue.pause('restart-hold');
      ctx.log.info({ dpns: held.size }, `elections: waiting up to ${holdMs} ms for ${held.size} DPN(s) with stored state to report`);
      holdTimer = ctx.timers.setTimeout(() => {
        ctx.log.warn({ missing: [...held].map(String) }, 'elections: restart hold over; DPNs that did not report are treated as disconnected');
        release();
      }, holdMs);
      holdTimer.unref();
    }
    // Subscriptions made through ctx.data end with the plugin; nothing to keep for stop.
    listen(ctx, e, queue, (dpn) => {
      if (held.delete(dpn) && held.size === 0 && holdTimer) release();
    });
    // Only the leader elects and programs flows (cluster mode); every member keeps its inputs
    // indexed, and its queue keeps the keys that changed, so a member that takes over works
    // through everything, from what the previous leader stored.
    let first = true;
    ctx.cluster.onLeadership((leader) => {
      if (!leader) queue.pause('follower');
      else {
        if (!first) e.reload();
        queue.resume('follower');
      }
      first = false;
    });
    return { elections: e, queue };
  },
  async stop(_ctx, state) {
    await state.queue.stop();
  },
});
