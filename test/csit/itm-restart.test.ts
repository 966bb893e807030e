/**
 * default-transport-zone across restarts (LevelDB, in process): genius decides on it when it
 * starts (ItmProvider.createDefaultTransportZone), from the itm-config it finds. A stored
 * def-tz-enabled false keeps the zone away after a restart; once itm-config is removed the zone
 * is back, and stays through the next restart.
 */
import t from 'tap';
import pino from 'pino';
import { startController, type Controller } from '../../src/controller.ts';
import type { TunnelsState } from '../../plugins/tunnels/index.ts';
import { testConfig } from '../helpers/controller.ts';
import { Session } from './lib/requests.ts';
import { waitUntil } from './lib/wait.ts';

const config = testConfig(t, []);
let running: Controller | undefined;
t.teardown(() => running?.stop());

const ZONES = '/restconf/config/itm:transport-zones/';
const ITM_CONFIG = '/restconf/config/itm-config:itm-config';

async function start(): Promise<Session> {
  running = await startController(config, pino({ level: 'silent' }));
  return new Session(running.restconf!.url);
}
async function stop() {
  await running?.stop();
  running = undefined;
}
/** Every change the tunnels plugin had to work on is done (its queue is empty and idle). */
const settled = () => running!.plugins.state<TunnelsState>('tunnels')!.queue.idle();

t.test('a stored def-tz-enabled false holds across a restart; the default comes back when it is removed', async (t) => {
  let s = await start();
  t.equal((await s.get(ZONES)).status, 200, 'first start: transport-zones holds default-transport-zone');
  t.equal((await s.put(ITM_CONFIG, JSON.stringify({ 'itm-config': { 'def-tz-enabled': false } }), { contentType: 'application/json' })).status, 201, 'def-tz-enabled false stored');
  await waitUntil(10_000, 50, async () => ((await s.get(ZONES)).status === 404 ? true : Promise.reject(new Error('zone still there'))));
  t.pass('the zone is removed');
  await stop();

  s = await start();
  await settled();
  t.equal((await s.get(ZONES)).status, 404, 'after a restart, with the work done: still no default-transport-zone');
  t.equal((await s.delete(ITM_CONFIG)).status, 200, 'itm-config deleted: the defaults (enabled)');
  await waitUntil(10_000, 50, async () => ((await s.get(ZONES)).status === 200 ? true : Promise.reject(new Error('zone not back'))));
  t.match((await s.get(ZONES)).json(), { 'transport-zones': { 'transport-zone': [{ 'zone-name': 'default-transport-zone' }] } }, 'the zone is back');
  await stop();

  s = await start();
  t.equal((await s.get(`${ZONES}transport-zone/default-transport-zone`)).status, 200, 'and it is there when the restarted controller answers');
});
