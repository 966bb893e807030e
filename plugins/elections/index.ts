/**
 * elections: designated-switch elections (NAT's NAPT switch per router, the subnet route per
 * subnet) that avoid tombstoned computes, and the OpenFlow pipeline that follows from Neutron,
 * the port locations OVS reports, the tunnels and the designations (docs/pipeline.md). Reacts to
 * datastore changes only; see README.md for the rule and the paths.
 */
import type { Change, Datastore } from '../../src/datastore/datastore.ts';
import type { Plugin, PluginContext } from '../../src/plugin/api.ts';
import { markOnChange, WorkQueue } from '../../src/plugin/work-queue.ts';
import { OVSDB_TOPOLOGY } from '../../src/southbound/ovsdb/topology.ts';
import { Elections } from './elections.ts';
import { COMPUTE_NODES, NEUTRON, SUBNET_ROUTES, TRANSPORT_ZONES, type WorkKey } from './model.ts';

/**
 * After a restart the operational topology is empty until the switches report again. Work waits
 * until every DPN that holds a designation or flows has reported its bridge, for at most this
 * long, so a restart does not move designations or flap flows (stickiness survives restarts).
 */
const restartHoldMs = () => Number(process.env.SEXTANT_ELECTIONS_RESTART_HOLD_MS ?? 30_000);

interface Instance {
  elections: Elections;
  queue: WorkQueue<WorkKey>;
  unsubscribe: (() => void)[];
  holdTimer?: NodeJS.Timeout;
}

const instances = new Map<Datastore, Instance>();

/** The work queue of a running instance (tests and benchmarks wait on it). */
export function electionsQueue(data: Datastore): WorkQueue<WorkKey> | undefined {
  return instances.get(data)?.queue;
}

function listen(ctx: PluginContext, e: Elections, queue: WorkQueue<WorkKey>, reported: (dpn: bigint) => void): (() => void)[] {
  const inputs = e.inputs;
  const on = (store: 'config' | 'operational', path: string, apply: (c: Change) => Iterable<WorkKey>) =>
    markOnChange(ctx.data, queue, store, path, apply, (err) => ctx.log.error({ err }, `elections: listener on ${path} failed`));
  return [
    on('config', `${NEUTRON}/networks/network=*`, (c) => inputs.applyNetwork(c)),
    on('config', `${NEUTRON}/subnets/subnet=*`, (c) => inputs.applySubnet(c)),
    on('config', `${NEUTRON}/ports/port=*`, (c) => inputs.applyPort(c)),
    on('config', `${NEUTRON}/routers/router=*`, (c) => inputs.applyRouter(c)),
    on('config', `${SUBNET_ROUTES}/subnet-route=*`, (c) => inputs.applySubnetRoute(c)),
    on('config', `${COMPUTE_NODES}/compute-node=*`, (c) => {
      const { work, recovered } = inputs.applyCompute(c);
      // A compute back in service: every service without a designated DPN elects again.
      if (recovered) for (const k of e.undesignated()) work.add(k);
      return work;
    }),
    on('config', `${TRANSPORT_ZONES}/transport-zone=*`, (c) => inputs.applyZone(c)),
    on('config', `${OVSDB_TOPOLOGY}/node=*/termination-point=*`, (c) => inputs.applyTunnelPort(c)),
    on('operational', `${OVSDB_TOPOLOGY}/node=*/ovsdb:datapath-id`, (c) => {
      const work = inputs.applyDatapathId(c);
      const dpn = inputs.bridges.get(c.keys[0][0] as string);
      if (dpn !== undefined) reported(dpn);
      return work;
    }),
    on('operational', `${OVSDB_TOPOLOGY}/node=*/termination-point=*`, (c) => inputs.applyReportedPort(c)),
  ];
}

const elections: Plugin = {
  name: 'elections',
  yang: ['neutron', 'neutron-binding', 'neutron-provider-ext', 'designated-switch', 'odl-nat', 'opendaylight-inventory', 'flow-node-inventory', 'itm', 'ovsdb'],
  start(ctx) {
    const e = new Elections(ctx);
    const queue: WorkQueue<WorkKey> = new WorkQueue<WorkKey>({
      batchSize: 2048,
      compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
      process: (batch) => e.process(batch, () => queue.pending),
      onError: (err) => ctx.log.error({ err }, 'elections: a batch failed; retrying'),
    });
    const held = e.load();
    const instance: Instance = { elections: e, queue, unsubscribe: [] };
    const release = () => {
      clearTimeout(instance.holdTimer);
      instance.holdTimer = undefined;
      queue.resume();
    };
    if (held.size) {
      const holdMs = restartHoldMs();
      queue.pause();
      ctx.log.info({ dpns: held.size }, `elections: waiting up to ${holdMs} ms for ${held.size} DPN(s) with stored state to report`);
      instance.holdTimer = setTimeout(() => {
        ctx.log.warn({ missing: [...held].map(String) }, 'elections: restart hold over; DPNs that did not report are treated as disconnected');
        release();
      }, holdMs);
      instance.holdTimer.unref();
    }
    instance.unsubscribe = listen(ctx, e, queue, (dpn) => {
      if (held.delete(dpn) && held.size === 0 && instance.holdTimer) release();
    });
    instances.set(ctx.data, instance);
  },
  async stop(ctx) {
    const i = instances.get(ctx.data);
    if (!i) return;
    instances.delete(ctx.data);
    clearTimeout(i.holdTimer);
    for (const u of i.unsubscribe) u();
    await i.queue.stop();
  },
};

export default elections;
