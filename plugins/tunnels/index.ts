/**
 * tunnels: genius ITM's internal tunnel mesh. Reads transport zones (config `itm:transport-zones`),
 * registered computes (config `cloudscaler-rpc:compute-nodes`) and what Open vSwitch reports
 * (operational ovsdb:1 topology), and keeps, for every ordered pair of vteps of a VXLAN zone, a
 * tunnel port on the source bridge in the config topology, plus genius' `itm-state` (config
 * `dpn-endpoints`, `tunnel-list`, `dpn-teps-state`; operational `tunnels_state`). Keeps
 * default-transport-zone as `itm-config` asks; scale-out: a registered compute whose OVS reports
 * `local_ip` and that is in no zone joins it. See README.md.
 */
import { join } from 'node:path';
import type { Change } from '../../src/datastore/datastore.ts';
import type { PhaseWriter } from '../../src/datastore/phases.ts';
import { YangError } from '../../src/errors.ts';
import { definePlugin, phase, type PluginContext } from '../../src/plugin/api.ts';
import { markOnChange, WorkQueue } from '../../src/plugin/work-queue.ts';
import { computeNodes } from '../../src/bindings/cloudscaler-rpc.ts';
import { transportZones, type TransportZone } from '../../src/bindings/itm.ts';
import { itmConfig } from '../../src/bindings/itm-config.ts';
import { tunnelList } from '../../src/bindings/itm-state.ts';
import { dpnFromDatapathId, ovsdbTopology } from '../../src/southbound/ovsdb/topology.ts';
import { ANY, type DataPath, type Mode } from '../../src/yang/binding.ts';
import { DEFAULT_ZONE, defaultZonePolicy, dpnKey, isTunnelName, Mesh, nodeKey, VXLAN_TUNNEL_TYPE, zonePath, type MeshKey } from './mesh.ts';

/** What a running tunnels plugin holds (tests and benchmarks wait on its queue). */
export interface TunnelsState {
  mesh: Mesh;
  queue: WorkQueue<MeshKey>;
}

const key = (c: Change<unknown>) => c.keys[0]?.[0] as string;

function listen(ctx: PluginContext, mesh: Mesh, queue: WorkQueue<MeshKey>): void {
  // apply returns the work a change causes (none for our own writes coming back).
  const on = <T>(store: 'config' | 'operational', path: DataPath<T, Mode>, apply: (c: Change<T>) => MeshKey[]) =>
    markOnChange(ctx.data, queue, store, path, apply, (err) => ctx.log.error({ err }, `tunnels: listener on ${path.text} failed`));
  on('config', transportZones().transportZone(ANY), (c) => {
    const z = c.after;
    const before = mesh.zones.get(key(c));
    const touched = new Set(before?.vteps.keys() ?? []);
    if (!z) mesh.zones.delete(key(c));
    else {
      const vteps = new Map<bigint, string>();
      for (const v of z.vteps ?? []) if (v['ip-address']) vteps.set(BigInt(v['dpn-id']), v['ip-address']);
      if (z['tunnel-type'] !== VXLAN_TUNNEL_TYPE) ctx.log.warn({ zone: z['zone-name'] }, `transport zone ${z['zone-name']}: only VXLAN zones are meshed`);
      mesh.zones.set(z['zone-name'], { vxlan: z['tunnel-type'] === VXLAN_TUNNEL_TYPE, vteps });
      for (const d of vteps.keys()) touched.add(d);
    }
    // Every member gains or loses a tunnel when the membership changes, and its itm-state follows
    // (also for a DPN that has no bridge any more).
    return [...mesh.nodesOf(touched), ...[...touched].map(dpnKey), 'join'];
  });
  on('config', itmConfig(), (c) => {
    mesh.policy = defaultZonePolicy(c.after);
    mesh.policyDue = true;
    return ['join'];
  });
  on('config', tunnelList().internalTunnel(ANY), (c) => {
    mesh.noteInternalTunnel(BigInt(String(c.keys[0][0])), BigInt(String(c.keys[0][1])), c.after !== undefined);
    return [];
  });
  on('config', computeNodes().computeNode(ANY), (c) => {
    const { before, after } = c;
    if (before?.dpnid !== undefined) mesh.setCompute(BigInt(before.dpnid), undefined);
    if (after?.dpnid !== undefined && after.nodeid) mesh.setCompute(BigInt(after.dpnid), { nodeId: after.nodeid, tombstoned: after.tombstoned === true });
    // A tombstone set or cleared leaves the bridge's tunnels as they are (a tombstoned compute
    // keeps its mesh until scale-in ends): only whether it may join a zone changes. Recomputing
    // its bridge would rebuild every tunnel of it to find nothing to write.
    if (before && after && before.dpnid === after.dpnid && before.nodeid === after.nodeid) return ['join'];
    const dpns = [before?.dpnid, after?.dpnid].filter((d) => d !== undefined).map((d) => dpnKey(BigInt(d)));
    return [...[before?.nodeid, after?.nodeid].filter((n): n is string => !!n).map(nodeKey), ...dpns, 'join'];
  });
  on('operational', ovsdbTopology.node(ANY).datapathId(), (c) => {
    const dpn = typeof c.after === 'string' ? dpnFromDatapathId(c.after) : undefined;
    const old = mesh.bridges.get(key(c));
    mesh.setBridge(key(c), dpn);
    return [nodeKey(key(c)), ...(old !== undefined && old !== dpn ? [dpnKey(old)] : [])];
  });
  on('operational', ovsdbTopology.node(ANY).openvswitchOtherConfigs('local_ip'), (c) => {
    const ip = c.after?.['other-config-value'];
    const was = c.before?.['other-config-value'];
    if (ip) mesh.localIps.set(key(c), ip);
    else mesh.localIps.delete(key(c));
    // As genius' OVSDB listener: the address going away takes the compute's TEP out of the zone.
    if (was && was !== ip) mesh.localIpsGone.set(key(c), was);
    if (ip) mesh.localIpsGone.delete(key(c));
    return ['join'];
  });
  on('operational', ovsdbTopology.node(ANY).terminationPoint(ANY), (c) => {
    const name = c.keys[1]?.[0] as string;
    if (!isTunnelName(name)) return [];
    const k = `${key(c)}\u0000${name}`;
    if (mesh.reported.has(k) === (c.after !== undefined)) return [];
    if (c.after) mesh.reported.add(k);
    else mesh.reported.delete(k);
    return [nodeKey(key(c))];
  });
  on('config', ovsdbTopology.node(ANY).terminationPoint(ANY), (c) => {
    const name = c.keys[1]?.[0] as string;
    return isTunnelName(name) && mesh.notePort(key(c), name, c.after) ? [nodeKey(key(c))] : [];
  });
}

/**
 * In-commit check: two vteps of one zone with the same TEP address would give a tunnel whose two
 * ends are one host, and the flows would loop. Refused in the commit (the client gets the error;
 * nothing is written) rather than noticed after it, when there would be nothing left to do but log.
 */
function refuseDuplicateTeps(changes: Change<TransportZone>[]): void {
  for (const c of changes) {
    const z = c.after;
    const byIp = new Map<string, string>();
    for (const v of z?.vteps ?? []) {
      if (!v['ip-address']) continue;
      const other = byIp.get(v['ip-address']);
      if (other !== undefined) {
        throw new YangError({
          tag: 'invalid-value',
          appTag: 'duplicate-tep',
          message: `transport zone ${z!['zone-name']}: DPNs ${other} and ${v['dpn-id']} have the same TEP address ${v['ip-address']}`,
          path: transportZones().transportZone(z!['zone-name']).vteps(v['dpn-id']).text,
        });
      }
      byIp.set(v['ip-address'], String(v['dpn-id']));
    }
  }
}

/**
 * In-commit: default-transport-zone stays while def-tz-enabled. genius answers a northbound
 * delete of it with success but calls it "an incorrect usage" and keeps its tunnels; here the
 * commit that deletes it (alone, or with all of transport-zones) puts it back as it was, in the
 * same atomic batch, so the data says what is built: its tunnels stay. To remove it, set
 * `itm-config:itm-config/def-tz-enabled` to false; to take a compute out, delete its vtep.
 */
function keepDefaultZone(changes: Change<TransportZone>[], tx: PhaseWriter, ctx: PluginContext): void {
  for (const c of changes) {
    if (c.after || !c.before || c.before['zone-name'] !== DEFAULT_ZONE) continue;
    if (!defaultZonePolicy(tx.read(itmConfig())).enabled) continue;
    tx.put(zonePath(DEFAULT_ZONE), c.before);
    ctx.log.warn(`a commit deleted ${DEFAULT_ZONE}: put back, as itm-config def-tz-enabled is true (set it to false to remove the zone)`);
  }
}

export default definePlugin({
  name: 'tunnels',
  console: join(import.meta.dirname, 'console'),
  yang: ['itm', 'itm-config', 'itm-state', 'odl-interface', 'network-topology', 'ovsdb', 'cloudscaler-rpc'],
  provides: ['itm-state'],
  // The computes (and their tombstones) are registered by cloudscaler.
  uses: ['cloudscaler-rpc'],
  phases: [phase('config', transportZones().transportZone(ANY), { prepare: keepDefaultZone, validate: refuseDuplicateTeps })],
  async start(ctx): Promise<TunnelsState> {
    const mesh = new Mesh(ctx);
    const queue = new WorkQueue<MeshKey>({
      batchSize: 256,
      process: (batch) => mesh.reconcile(batch),
      onError: (e) => ctx.log.error({ err: e }, 'tunnels: reconciling the mesh failed; retrying'),
    });
    listen(ctx, mesh, queue);
    // Only the leader builds the mesh (cluster mode); every member keeps its indexes and the
    // bridges that changed, so a member that takes over recomputes them all.
    let first = true;
    ctx.cluster.onLeadership((leader) => {
      if (!leader) queue.pause('follower');
      else {
        mesh.policyDue = true;
        if (!first) {
          mesh.forgetPublished();
          queue.mark([...mesh.bridges.keys()].map(nodeKey).concat('join'));
        }
        queue.resume('follower');
      }
      first = false;
    });
    // default-transport-zone exists from the start: a single instance creates it before its
    // northbound opens; in a cluster the leader is known later, and the queue's join does it.
    if (ctx.cluster.isLeader()) await mesh.ensureDefaultZone();
    queue.mark(['join']);
    return { mesh, queue };
  },
  async stop(_ctx, state) {
    await state.queue.stop();
  },
});
