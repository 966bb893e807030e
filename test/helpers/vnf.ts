/**
 * What the VNF manager's tests share: the SOL001 test VNFD packed as a SOL004 CSAR, a default VIM
 * the VIM monitor reaches, a client of Tacker's API (SOL013 headers), onboarding through it, and
 * waits on an operation occurrence's state as the datastore holds it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Controller } from '../../src/controller.ts';
import { waitUntil } from './process.ts';
import { startVimServer } from './vim-server.ts';
import { zip } from './zip.ts';

/** The test VNFD: VDU1 (worker, 1..3, aspect worker_instance, max level 2, one per step), VDU2 fixed at 1. */
export const VNFD_TEXT = readFileSync(join(import.meta.dirname, '../vnf-manager/fixtures/sol001-single.yaml'), 'utf8');
export const VNFD_ID = '7d2a5c1e-0000-4000-8000-000000000001';
export const FLAVOUR = 'small';
export const ASPECT = 'worker_instance';

/** A CSAR holding one VNFD file, named by TOSCA.meta (SOL004). */
export function csarOf(vnfd: string, name = 'Definitions/vnfd.yaml'): Buffer {
  return zip([
    { name: 'TOSCA-Metadata/TOSCA.meta', data: `TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: sextant tests\nEntry-Definitions: ${name}\n` },
    { name, data: vnfd },
  ]);
}

type Tap = { teardown(fn: () => unknown): void };

/** A default VIM the VIM monitor reaches (a Keystone stand-in on loopback), written through config. */
export async function defaultVim(t: Tap, c: Controller, id = 'vim-default'): Promise<string> {
  const server = await startVimServer(t);
  const tx = c.data.transaction('config');
  tx.put(`/sextant-nfv-vim:vims/vim=${id}`, { 'vim-id': id, name: id, type: 'openstack', 'auth-url': server.url('/identity/v3'), 'is-default': true, monitor: { interval: '1', timeout: '0.5' } });
  await tx.commit();
  await waitUntil('the default VIM is REACHABLE', () => (c.data.read('operational', `/sextant-nfv-vim:vim-states/vim-state=${id}`) as { status?: string } | undefined)?.status === 'REACHABLE', 15_000);
  return id;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/**
 * A caller of Tacker's API at `base` with a token: a Buffer body goes as application/zip, a string
 * as it is (a broken body is a test case), anything else as JSON; headers given win.
 */
export function tackerCall(base: string, token: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const isZip = Buffer.isBuffer(body);
    const r = await fetch(base + path, {
      method,
      headers: <Record<string, string>>{ 'x-auth-token': token, accept: 'application/json', ...(body !== undefined ? { 'content-type': isZip ? 'application/zip' : 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isZip ? new Uint8Array(body) : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, text, json };
  };
}

/** tackerCall, with the Version header each vnflcm major needs (SOL013 4.2). */
export function tackerApi(base: string, token: string) {
  const call = tackerCall(base, token);
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const version: Record<string, string> = path.startsWith('/vnflcm/v2') ? { version: '2.0.0' } : path.startsWith('/vnflcm/v1') ? { version: '1.3.0' } : {};
    return call(method, path, body, { ...version, ...headers });
  };
}

export type TackerApi = ReturnType<typeof tackerApi>;

/** A package created, its CSAR uploaded, onboarded: its id. */
export async function onboard(api: TackerApi, csar: Buffer): Promise<string> {
  const created = await api('POST', '/vnfpkgm/v1/vnf_packages', {});
  if (created.status !== 201) throw new Error(`package create: ${created.status} ${created.text}`);
  const up = await api('PUT', `/vnfpkgm/v1/vnf_packages/${created.json.id}/package_content`, csar);
  if (up.status !== 202) throw new Error(`package upload: ${up.status} ${up.text}`);
  return created.json.id as string;
}

/** The occurrence id at the end of a 202's Location. */
export const occOf = (r: Reply) => {
  const loc = r.headers.get('location');
  if (r.status !== 202 || !loc) throw new Error(`expected 202 with a Location, got ${r.status} ${r.text}`);
  return loc.split('/').pop()!;
};

export type Occ = { id: string; operation: string; 'operation-state': string; 'start-time'?: string; 'state-entered-time'?: string; owner?: string; error?: { status?: number; title?: string; detail?: string }; 'resource-changes'?: string };
export const occ = (c: Controller, id: string) => c.data.read('config', `/sextant-vnflcm:vnflcm/vnf-lcm-op-occ=${id}`) as Occ | undefined;

/** Waits until the occurrence is in one of `states`; resolves to it. */
export async function occIn(c: Controller, id: string, states: string[], ms = 60_000): Promise<Occ> {
  await waitUntil(`occurrence ${id} in ${states.join('|')} (now ${occ(c, id)?.['operation-state']})`, () => states.includes(occ(c, id)?.['operation-state'] ?? ''), ms, 50);
  return occ(c, id)!;
}

export type Vnfc = { id: string; 'vdu-id': string; compute: string; port: string };
export type Instance = { id: string; 'instantiation-state'?: string; 'current-operation'?: string; 'instantiated-vnf-info'?: { 'scale-status'?: { 'aspect-id': string; 'scale-level': number }[]; 'vnfc-resource-info'?: Vnfc[]; 'vdu-cluster'?: { 'vdu-id': string; cluster: string }[] } };
export const instance = (c: Controller, id: string) => c.data.read('config', `/sextant-vnflcm:vnflcm/vnf-instance=${id}`) as Instance | undefined;
export const vnfcs = (c: Controller, id: string) => instance(c, id)?.['instantiated-vnf-info']?.['vnfc-resource-info'] ?? [];
