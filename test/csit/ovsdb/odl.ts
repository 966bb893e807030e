/**
 * OpenDaylight's OVSDB CSIT keywords (integration-test `csit/libraries/OVSDB.robot`, variables from
 * `csit/variables/ovsdb/Variables.robot`), over the CSIT library's Session: the same URLs, the same
 * bodies (the files next to this one, verbatim from `csit/variables/ovsdb/`, see README.md) with
 * the same `Replace String` substitutions, the same status allow-lists and the same read-backs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALLOWED_STATUS_CODES, expectStatus, type HttpResponse, type Session } from '../lib/requests.ts';
import { waitUntil } from '../lib/wait.ts';

export const RFC8040_TOPO_API = '/rests/data/network-topology:network-topology';
export const RFC8040_CONFIG_TOPO_API = `${RFC8040_TOPO_API}?content=config`;
export const RFC8040_OPERATIONAL_TOPO_API = `${RFC8040_TOPO_API}?content=nonconfig`;
export const RFC8040_TOPO_OVSDB1_API = `${RFC8040_TOPO_API}/topology=ovsdb%3A1`;
export const RFC8040_CONFIG_TOPO_OVSDB1_API = `${RFC8040_TOPO_OVSDB1_API}?content=config`;
export const RFC8040_OPERATIONAL_TOPO_OVSDB1_API = `${RFC8040_TOPO_OVSDB1_API}?content=nonconfig`;
export const RFC8040_SOUTHBOUND_NODE_API = `${RFC8040_TOPO_OVSDB1_API}/node=ovsdb%3A%2F%2F`;
export const RFC8040_SOUTHBOUND_NODE_HOST1_API = `${RFC8040_TOPO_OVSDB1_API}/node=ovsdb%3AHOST1`;

/** CSIT's HEADERS: `Content-Type: application/json`. */
const JSON_HEADERS = { contentType: 'application/json' };

/** A body file of `csit/variables/ovsdb/`, with Robot's `Replace String` (every occurrence) applied in order. */
export function odlBody(file: string, replacements: [string, string][] = []): string {
  let body = readFileSync(join(import.meta.dirname, file), 'utf8');
  for (const [from, to] of replacements) body = body.split(from).join(to);
  return body;
}

/** `ovsdb://` node API of `<ip>:<port>` (RFC8040_SOUTHBOUND_NODE_TOOLS_API). */
export const toolsNodeApi = (ip: string, port: number) => `${RFC8040_SOUTHBOUND_NODE_API}${ip}%3A${port}`;
/** `.replace("/","%2F").replace(":","%3A")`, as Add Bridge To Ovsdb Node encodes a node id. */
export const encodeNodeId = (nodeId: string) => nodeId.replace(/\//g, '%2F').replace(/:/g, '%3A');

export interface OdlSystem {
  session: Session;
  /** ODL_SYSTEM_IP (what the bridge's controller target names). */
  odlIp: string;
}

async function allowed(res: Promise<HttpResponse>): Promise<HttpResponse> {
  return expectStatus(await res, ALLOWED_STATUS_CODES);
}

/** Connect To Ovsdb Node: PUT connect.json at the node `ovsdb://<ip>:<port>`. */
export function connectToOvsdbNode(s: OdlSystem, nodeIp: string, port: number): Promise<HttpResponse> {
  const body = odlBody('connect.json', [['127.0.0.1', nodeIp], ['61644', String(port)]]);
  return allowed(s.session.put(toolsNodeApi(nodeIp, port), body, JSON_HEADERS));
}

/** Disconnect From Ovsdb Node: DELETE of that node, expected 204. */
export async function disconnectFromOvsdbNode(s: OdlSystem, nodeIp: string, port: number): Promise<HttpResponse> {
  return expectStatus(await s.session.delete(toolsNodeApi(nodeIp, port)), [204]);
}

/** Create OVSDB Node: POST create_node.json (node `ovsdb:HOST1`) to the ovsdb:1 topology. */
export function createOvsdbNode(s: OdlSystem, nodeIp: string, port: number): Promise<HttpResponse> {
  const body = odlBody('create_node.json', [['127.0.0.1', nodeIp], ['61644', String(port)]]);
  return allowed(s.session.post(RFC8040_TOPO_OVSDB1_API, body, JSON_HEADERS));
}

/** Add Bridge To Ovsdb Node: PUT create_bridge.json at `ovsdb://<nodeId>/bridge/<bridge>`. */
export function addBridgeToOvsdbNode(s: OdlSystem, nodeId: string, nodeIp: string, bridge: string, datapathId: string, port: number, allow: readonly number[] = ALLOWED_STATUS_CODES): Promise<HttpResponse> {
  const body = odlBody('create_bridge.json', [
    ['ovsdb://127.0.0.1:61644', `ovsdb://${nodeId}`],
    ['tcp:127.0.0.1:6633', `tcp:${s.odlIp}:6633`],
    ['127.0.0.1', nodeIp],
    ['br01', bridge],
    ['61644', String(port)],
    ['0000000000000001', datapathId],
  ]);
  return s.session.put(bridgeApi(nodeId, bridge), body, JSON_HEADERS).then((r) => expectStatus(r, allow));
}

export const bridgeApi = (nodeId: string, bridge: string) => `${RFC8040_SOUTHBOUND_NODE_API}${encodeNodeId(nodeId)}%2Fbridge%2F${bridge}`;

/** Delete Bridge From Ovsdb Node: expected 204. */
export async function deleteBridgeFromOvsdbNode(s: OdlSystem, nodeId: string, bridge: string): Promise<HttpResponse> {
  return expectStatus(await s.session.delete(bridgeApi(nodeId, bridge)), [204]);
}

/** Add Termination Point: PUT create_port.json at `<bridge>/termination-point=<tp>`. */
export function addTerminationPoint(s: OdlSystem, nodeId: string, bridge: string, tpName: string, remoteIp: string): Promise<HttpResponse> {
  const body = odlBody('create_port.json', [['192.168.0.21', remoteIp], ['vxlanport', tpName]]);
  return allowed(s.session.put(`${bridgeApi(nodeId, bridge)}/termination-point=${tpName}`, body, JSON_HEADERS));
}

/** Create Qos: PUT create_qos.json at `<node>/ovsdb:qos-entries=<qos>` (HOST1 in ODL's suite). */
export function createQos(s: OdlSystem, qos: string, nodeApi = RFC8040_SOUTHBOUND_NODE_HOST1_API): Promise<HttpResponse> {
  return allowed(s.session.put(`${nodeApi}/ovsdb:qos-entries=${qos}`, odlBody('create_qos.json', [['QOS-1', qos]]), JSON_HEADERS));
}

/** Create Queue: PUT create_qoslinkedqueue.json at `<node>/ovsdb:queues=<queue>`. */
export function createQueue(s: OdlSystem, queue: string, nodeApi = RFC8040_SOUTHBOUND_NODE_HOST1_API): Promise<HttpResponse> {
  return allowed(s.session.put(`${nodeApi}/ovsdb:queues=${queue}`, odlBody('create_qoslinkedqueue.json', [['QUEUE-1', queue]]), JSON_HEADERS));
}

/** Update Qos: PUT update_existingqos.json at `<node>/ovsdb:qos-entries=<qos>`. */
export function updateQos(s: OdlSystem, qos: string, nodeApi = RFC8040_SOUTHBOUND_NODE_HOST1_API): Promise<HttpResponse> {
  return allowed(s.session.put(`${nodeApi}/ovsdb:qos-entries=${qos}`, odlBody('update_existingqos.json'), JSON_HEADERS));
}

/** Create Qos Linked Queue: PUT bug_7160/create_qoslinkedqueue.json at the HOST1 node. */
export function createQosLinkedQueue(s: OdlSystem): Promise<HttpResponse> {
  return allowed(s.session.put(RFC8040_SOUTHBOUND_NODE_HOST1_API, odlBody('bug_7160/create_qoslinkedqueue.json'), JSON_HEADERS));
}

/** Utils.Check For Elements At URI: GET answers 200 and its text holds every element. */
export async function checkForElementsAtUri(s: OdlSystem, uri: string, elements: string[]): Promise<string> {
  const res = expectStatus(await s.session.get(uri), [200]);
  const missing = elements.filter((e) => !res.body.includes(e));
  if (missing.length) throw new Error(`${uri} lacks ${missing.join(', ')}`);
  return res.body;
}

/** Utils.Check For Elements Not At URI: the text holds none of them (a missing resource holds none). */
export async function checkForElementsNotAtUri(s: OdlSystem, uri: string, elements: string[]): Promise<void> {
  const res = await s.session.get(uri);
  if (res.status !== 200) expectStatus(res, [404, 409]);
  const present = elements.filter((e) => res.status === 200 && res.body.includes(e));
  if (present.length) throw new Error(`${uri} still holds ${present.join(', ')}`);
}

/** `BuiltIn.Wait Until Keyword Succeeds 8s 2s` (the suites' window; polled faster here). */
export const waitUntilSucceeds = <T>(check: () => Promise<T>, timeoutMs = 8_000) => waitUntil(timeoutMs, 100, check);

/** Config and Operational Topology Should Be Empty (Bug_Validation): both hold `{"topology-id":"ovsdb:1"}`. */
export async function configAndOperationalTopologyShouldBeEmpty(s: OdlSystem): Promise<void> {
  const config = expectStatus(await s.session.get(RFC8040_CONFIG_TOPO_API), [200]);
  const operational = expectStatus(await s.session.get(RFC8040_OPERATIONAL_TOPO_API), [200]);
  if (!config.body.includes('{"topology-id":"ovsdb:1"}')) throw new Error(`config topology: ${config.body}`);
  if (!operational.body.includes('{"topology-id":"ovsdb:1"}')) throw new Error(`operational topology: ${operational.body}`);
}

/** Get OVSDB UUID: the uuid of the operational node whose connection-info remote-ip is the given one. */
export async function getOvsdbUuid(s: OdlSystem, ip: string): Promise<string> {
  const res = expectStatus(await s.session.get(RFC8040_OPERATIONAL_TOPO_OVSDB1_API), [200]);
  const topo = (res.json() as { 'network-topology:topology': { node?: { 'node-id': string; 'ovsdb:connection-info'?: { 'remote-ip'?: string } }[] }[] })['network-topology:topology'][0];
  let uuid = '';
  for (const n of topo.node ?? []) if (n['ovsdb:connection-info']?.['remote-ip'] === ip) uuid = n['node-id'].replace('ovsdb://uuid/', '');
  return uuid;
}
