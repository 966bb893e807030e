/**
 * What a NETCONF server says about itself: the capabilities of its hello, and the
 * ietf-netconf-monitoring state (RFC 6022: capabilities, datastores and their locks, schemas,
 * sessions, statistics), plus the get-schema rpc that serves each module's YANG text. get-schema
 * is an ordinary rpc in the registry, so RESTCONF clients can call it too.
 */
import { YangError } from '../../errors.ts';
import type { RpcRegistry } from '../../rpc/registry.ts';
import type { Schema } from '../../yang/schema.ts';

export const MONITORING = 'ietf-netconf-monitoring';

const capabilityCache = new WeakMap<Schema, string[]>();
const schemaListCache = new WeakMap<Schema, unknown[]>();

/**
 * The protocol capabilities, then one per loaded module (RFC 6020 section 5.6.4 form). Fixed for
 * a schema: built once, as every hello and every `get` of netconf-state shows them.
 */
export function capabilities(schema: Schema): string[] {
  const known = capabilityCache.get(schema);
  if (known) return known;
  const caps = [
    'urn:ietf:params:netconf:base:1.0',
    'urn:ietf:params:netconf:base:1.1',
    'urn:ietf:params:netconf:capability:candidate:1.0',
    'urn:ietf:params:netconf:capability:validate:1.0',
    'urn:ietf:params:netconf:capability:validate:1.1',
    'urn:ietf:params:netconf:capability:writable-running:1.0',
    'urn:ietf:params:netconf:capability:rollback-on-error:1.0',
    'urn:ietf:params:netconf:capability:notification:1.0',
    'urn:ietf:params:netconf:capability:interleave:1.0',
    'urn:ietf:params:netconf:capability:xpath:1.0',
  ];
  for (const m of [...schema.modules.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    let cap = `${m.namespace}?module=${m.name}`;
    if (m.revision) cap += `&revision=${m.revision}`;
    if (m.features.size) cap += `&features=${[...m.features].sort().join(',')}`;
    caps.push(cap);
  }
  capabilityCache.set(schema, caps);
  return caps;
}

/** The schemas list of netconf-state: every loaded module, served by get-schema. */
function schemaList(schema: Schema): unknown[] {
  let list = schemaListCache.get(schema);
  if (!list) {
    list = [...schema.modules.values()].map((m) => ({ identifier: m.name, version: m.revision ?? '', format: 'yang', namespace: m.namespace, location: ['NETCONF'] }));
    schemaListCache.set(schema, list);
  }
  return list;
}

export interface SessionInfo {
  id: number;
  username: string;
  sourceHost: string;
  loginTime: Date;
  inRpcs: number;
  inBadRpcs: number;
  outRpcErrors: number;
  outNotifications: number;
}

export interface ServerCounters {
  startTime: Date;
  inBadHellos: number;
  inSessions: number;
  droppedSessions: number;
  inRpcs: number;
  inBadRpcs: number;
  outRpcErrors: number;
  outNotifications: number;
}

export interface LockInfo {
  session: number;
  since: Date;
}

/** The netconf-state container as RFC 7951 JSON. */
export function netconfState(
  schema: Schema,
  sessions: Iterable<SessionInfo>,
  locks: Map<'running' | 'candidate', LockInfo>,
  counters: ServerCounters,
): Record<string, unknown> {
  return {
    capabilities: { capability: capabilities(schema) },
    datastores: {
      datastore: (['running', 'candidate'] as const).map((name) => {
        const lock = locks.get(name);
        return lock ? { name, locks: { 'global-lock': { 'locked-by-session': lock.session, 'locked-time': lock.since.toISOString() } } } : { name };
      }),
    },
    schemas: { schema: schemaList(schema) },
    sessions: {
      session: [...sessions].map((s) => ({
        'session-id': s.id,
        transport: 'netconf-ssh',
        username: s.username,
        'source-host': s.sourceHost,
        'login-time': s.loginTime.toISOString(),
        'in-rpcs': s.inRpcs,
        'in-bad-rpcs': s.inBadRpcs,
        'out-rpc-errors': s.outRpcErrors,
        'out-notifications': s.outNotifications,
      })),
    },
    statistics: {
      'netconf-start-time': counters.startTime.toISOString(),
      'in-bad-hellos': counters.inBadHellos,
      'in-sessions': counters.inSessions,
      'dropped-sessions': counters.droppedSessions,
      'in-rpcs': counters.inRpcs,
      'in-bad-rpcs': counters.inBadRpcs,
      'out-rpc-errors': counters.outRpcErrors,
      'out-notifications': counters.outNotifications,
    },
  };
}

/** Serves get-schema from the loaded modules' own text (modules and submodules). */
export function registerGetSchema(rpc: RpcRegistry, schema: Schema): void {
  if (!schema.rpcs.has(`${MONITORING}:get-schema`)) return;
  rpc.register(
    `${MONITORING}:get-schema`,
    (input) => {
      const id = String(input.identifier);
      const version = input.version === undefined ? undefined : String(input.version);
      const format = input.format === undefined ? 'yang' : String(input.format).replace(/^.*:/, '');
      if (format !== 'yang') {
        throw new YangError({ tag: 'invalid-value', message: `schema format "${format}" is not served; only yang is`, info: { 'bad-element': 'format' } });
      }
      const found: { revision?: string; text: string }[] = [];
      for (const m of schema.modules.values()) {
        if (m.name === id) found.push({ revision: m.revision, text: m.text });
      }
      const matching = found.filter((f) => !version || f.revision === version);
      if (!matching.length) {
        throw new YangError({ tag: 'invalid-value', message: `no schema "${id}"${version ? ` revision ${version}` : ''}`, info: { 'bad-element': 'identifier' } });
      }
      if (matching.length > 1) {
        throw new YangError({ tag: 'operation-failed', appTag: 'data-not-unique', message: `several revisions of "${id}": give a version` });
      }
      return { data: matching[0].text };
    },
    'netconf',
  );
}
