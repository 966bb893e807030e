import { datapathIdOf } from '../../src/southbound/ovsdb/topology.ts';
import type { Controller } from '../../src/controller.ts';

export const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

export interface Reply {
  status: number;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A small RESTCONF client over fetch, for one test controller. */
export function restconf(c: Controller) {
  const call = async (method: string, path: string, body?: unknown, type = 'application/yang-data+json', accept = 'application/yang-data+json'): Promise<Reply> => {
    const r = await fetch(`${c.restconf.url}${path}`, {
      method,
      headers: { ...AUTH, accept, ...(body !== undefined ? { 'content-type': type } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text, json: () => JSON.parse(text) };
  };
  return {
    get: (path: string, accept?: string) => call('GET', path, undefined, undefined, accept),
    put: (path: string, body: unknown, type?: string) => call('PUT', path, body, type),
    post: (path: string, body: unknown, type?: string, accept?: string) => call('POST', path, body, type, accept),
    del: (path: string) => call('DELETE', path),
  };
}

export const nodeIdOf = (n: number) => `ovsdb://uuid/0000000${n}-aaaa-bbbb-cccc-00000000000${n}/bridge/br-int`;
export const datapathId = (dpn: number) => datapathIdOf(dpn);

/** An operational bridge node as the OVSDB southbound reports it (injected over legacy RESTCONF). */
export function bridgeJson(n: number, name: string, dpn: number, vmPorts: string[] = []) {
  return {
    node: [
      {
        'node-id': nodeIdOf(n),
        'ovsdb:bridge-name': 'br-int',
        'ovsdb:datapath-id': datapathId(dpn),
        'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': name }],
        'termination-point': [
          ...vmPorts.map((p, i) => ({
            'tp-id': p,
            'ovsdb:name': p,
            'ovsdb:interface-external-ids': [{ 'external-id-key': 'iface-id', 'external-id-value': `00000000-0000-0000-0000-00000000000${i}` }],
          })),
          {
            'tp-id': `tun${n}`,
            'ovsdb:name': `tun${n}`,
            'ovsdb:interface-type': 'ovsdb:interface-type-vxlan',
            'ovsdb:options': [{ option: 'remote_ip', value: '127.0.0.99' }],
            'ovsdb:interface-external-ids': [{ 'external-id-key': 'iface-id', 'external-id-value': 'tunnel-port' }],
          },
        ],
      },
    ],
  };
}

export const legacyBridgePath = (n: number) =>
  `/restconf/operational/network-topology:network-topology/topology/ovsdb:1/node/${encodeURIComponent(nodeIdOf(n))}`;
