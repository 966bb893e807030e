/**
 * Two controllers in one process with the same plugins share no state: each plugin instance
 * keeps what its start returned, so driving one controller leaves the other as it was.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { NetVirt, computeName } from '../csit/lib/netvirt.ts';
import { Session } from '../csit/lib/requests.ts';
import { waitUntil } from '../csit/lib/wait.ts';
import type { TunnelsState } from '../../plugins/tunnels/index.ts';
import type { ElectionsState } from '../../plugins/elections/index.ts';

const tunnelPorts = (c: Awaited<ReturnType<typeof testController>>) => {
  const nodes = (c.data.read('config', '/network-topology:network-topology/topology=ovsdb%3A1/node') as { 'termination-point'?: { 'tp-id': string }[] }[] | undefined) ?? [];
  return nodes.flatMap((n) => n['termination-point'] ?? []).filter((tp) => tp['tp-id'].startsWith('tun')).length;
};

t.test('two controllers, same plugins, no shared state', async (t) => {
  const a = await testController(t, ['--datastore=memory']);
  const b = await testController(t, ['--datastore=memory']);
  t.same(a.plugins.loaded.map((p) => p.name), b.plugins.loaded.map((p) => p.name));
  t.not(a.plugins.state<TunnelsState>('tunnels'), b.plugins.state<TunnelsState>('tunnels'), 'each has its own tunnels state');

  // The toaster: A toasting does not make B busy, and each counts its own toasts.
  await a.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 2 });
  await a.data.transaction('config').put('/toaster:toaster', { darknessFactor: 5000 }).commit();
  const slow = a.rpc.invoke('toaster:make-toast', { toasterDoneness: 10 });
  await waitUntil(5000, 5, async () => {
    if ((a.data.read('operational', '/toaster:toaster') as { toasterStatus?: string }).toasterStatus !== 'down') throw new Error('not toasting yet');
  });
  t.match(await b.rpc.invoke('toaster:make-toast', {}).catch((e: unknown) => e), { tag: 'resource-denied' }, 'B is not busy: it is out of bread, its own stock');
  await b.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 1 });
  t.same(await b.rpc.invoke('toaster:make-toast', { toasterDoneness: 1 }), { 'toast-id': '1' }, 'B toasts while A is busy, with its own first id');
  t.match(await a.rpc.invoke('toaster:make-toast', {}).catch((e: unknown) => e), { tag: 'in-use' }, 'A is still busy');
  await a.rpc.invoke('toaster:cancel-toast', {});
  t.match(await slow.catch((e: unknown) => e), { tag: 'operation-failed', message: /cancelled/ });

  // The mesh: computes reported to A get tunnels in A only.
  const nv = new NetVirt(new Session(a.restconf.url));
  await nv.addCompute({ n: 1 });
  await nv.addCompute({ n: 2 });
  await waitUntil(10_000, 20, async () => {
    if (tunnelPorts(a) !== 2) throw new Error(`A has ${tunnelPorts(a)} tunnel ports`);
  });
  await b.data.settled();
  await b.plugins.state<TunnelsState>('tunnels')!.queue.idle();
  await b.plugins.state<ElectionsState>('elections')!.queue.idle();
  t.equal(tunnelPorts(b), 0, 'B has no tunnels');
  t.equal(b.data.read('config', `/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`), undefined, 'B registered no compute');
  t.ok(a.data.read('config', `/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`), 'A did');

  // Stopping A leaves B working: B's timers and subscriptions are its own.
  await a.stop();
  t.same(await b.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 1 }), undefined);
  t.same(await b.rpc.invoke('toaster:make-toast', { toasterDoneness: 1 }), { 'toast-id': '2' }, 'B toasts after A stopped');
});
