/**
 * The plugin API. A plugin is a folder under plugins/ whose index.ts default-exports a Plugin:
 * a table of what it serves (rpcs keyed by `module:rpc`, listeners keyed by store and path) and
 * optional start/stop. Plugins never import each other; they meet in the datastore and in RPCs.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Cluster } from '../cluster/cluster.ts';
import type { Change, Datastore, StoreName } from '../datastore/datastore.ts';
import type { NotificationBus } from '../rpc/notifications.ts';
import type { RpcRegistry } from '../rpc/registry.ts';
import type { Schema } from '../yang/schema.ts';

export interface PluginContext {
  /** Transactions, reads and change subscriptions on the config and operational stores. */
  data: Datastore;
  /** Invoke any rpc (another plugin's included), with input validated. */
  rpc: Pick<RpcRegistry, 'invoke'>;
  notifications: Pick<NotificationBus, 'emit' | 'subscribe'>;
  schema: Schema;
  tracer: Tracer;
  log: Logger;
  cluster: Cluster;
}

export type PluginRpc = (input: Record<string, unknown>, ctx: PluginContext) => unknown | Promise<unknown>;

export interface PluginListener {
  store: StoreName;
  /** api-path pattern; `*` stands for any key of a list step. */
  path: string;
  handler: (changes: Change[], ctx: PluginContext) => void | Promise<void>;
}

export interface Plugin {
  name: string;
  /** YANG modules (by name) the plugin needs; each must be in yang/. */
  yang?: string[];
  rpcs?: Record<string, PluginRpc>;
  listeners?: PluginListener[];
  start?(ctx: PluginContext): void | Promise<void>;
  /** Gets the context start got (several controllers may run in one process). */
  stop?(ctx: PluginContext): void | Promise<void>;
}
