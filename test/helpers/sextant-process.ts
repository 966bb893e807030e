/**
 * A controller as its own process (`npm start`'s entry point) on a given data dir, with the car
 * test model and no plugins (the durability tests' subject is the datastore under RESTCONF), and
 * the calls those tests make: one car per commit, all cars read back.
 */
import { readyOf, startMain, type Started } from './process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';

export interface Running extends Started {
  url: string;
  /** SIGTERM and the exit code (a clean stop closes LevelDB). */
  stop(): Promise<number | null>;
}

export async function startOn(t: { teardown(fn: () => void): void }, dataDir: string, flags: string[] = []): Promise<Running> {
  const p = startMain(t, [`--data-dir=${dataDir}`, '--restconf-port=0', '--with-test-models', '--plugins=', '--log-level=info', ...flags]);
  const url = (await readyOf(p)).restconf;
  return {
    ...p,
    url,
    stop: async () => {
      p.child.kill('SIGTERM');
      return p.exited;
    },
  };
}

export interface Car {
  id: string;
  model: string;
  manufacturer: string;
  year: number;
}

/** The content of car n, distinct per car and checkable field by field. */
export function carOf(tag: string, n: number): Car {
  return { id: `${tag}-${n}`, model: `model-${tag}-${n}-${(n * 2654435761) % 1000003}`, manufacturer: `maker-${n % 7}`, year: 1900 + (n % 120) };
}

/** One commit: PUT of one car entry; resolves to the HTTP status. */
export async function putCar(url: string, car: Car): Promise<number> {
  const r = await fetch(`${url}/rests/data/car:cars/car-entry=${encodeURIComponent(car.id)}`, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': JSON_TYPE },
    body: JSON.stringify({ 'car:car-entry': [car] }),
  });
  await r.arrayBuffer();
  return r.status;
}

/** Every car in the config store, as RESTCONF answers it ([] when there is none). */
export async function readCars(url: string): Promise<Car[]> {
  const r = await fetch(`${url}/rests/data/car:cars?content=config`, { headers: { authorization: AUTH, accept: JSON_TYPE } });
  if (r.status === 404 || (r.status === 409 && /data-missing/.test(await r.clone().text()))) return [];
  if (r.status !== 200) throw new Error(`GET car:cars answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { 'car:cars': { 'car-entry'?: Car[] } })['car:cars']['car-entry'] ?? [];
}
