/**
 * Assembles a controller from a Config: schema, datastore, rpc registry, notifications, plugins.
 * `npm start` (main.ts) and the tests use the same function, so tests run what users run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Etcd3 } from 'etcd3';
import { SingleNodeCluster, type Cluster } from './cluster/cluster.ts';
import { EtcdCluster } from './cluster/etcd.ts';
import type { Backend } from './datastore/backends/backend.ts';
import { EtcdBackend, storePrefix } from './datastore/backends/etcd.ts';
import { VolatileBackend } from './datastore/backends/volatile.ts';
import { publishClusterState } from './cluster/publish.ts';
import { parseCookieMatch, resolveOptions, type Config } from './config.ts';
import { LevelBackend } from './datastore/backends/level.ts';
import { MemoryBackend } from './datastore/backends/memory.ts';
import { Datastore } from './datastore/datastore.ts';
import { registerGetSchema } from './northbound/netconf/monitoring.ts';
import { NetconfServer } from './northbound/netconf/server.ts';
import { startRestconf, type RestconfServer } from './northbound/restconf/server.ts';
import { publishYangLibrary } from './northbound/yang-library.ts';
import { createHttpEdge, sameSecret } from './northbound/http/edge.ts';
import { HttpListeners } from './plugin/http.ts';
import { declaredOptions, discoverPlugins, startPlugins, type PluginSet } from './plugin/loader.ts';
import { NotificationBus } from './rpc/notifications.ts';
import { OvsdbManager } from './southbound/ovsdb/manager.ts';
import { OpenflowServer } from './southbound/openflow/server.ts';
import { RpcRegistry } from './rpc/registry.ts';
import { Metrics } from './telemetry/metrics.ts';
import { startTraceExport, tracer, type TraceExport } from './telemetry/tracing.ts';
import { loadSchema } from './yang/compiler.ts';
import type { Schema } from './yang/schema.ts';

export interface Controller {
  config: Config;
  schema: Schema;
  data: Datastore;
  rpc: RpcRegistry;
  notifications: NotificationBus;
  plugins: PluginSet;
  restconf: RestconfServer;
  /** The NETCONF SSH server; `netconf.port` is where it listens. */
  netconf: NetconfServer;
  /** The OVSDB manager (southbound); `ovsdb.port` is where it listens. */
  ovsdb: OvsdbManager;
  /** The OpenFlow 1.3 southbound; `openflow.port` is where it listens, `openflow.synced()` the readiness signal. */
  openflow: OpenflowServer;
  /** The plugins' named HTTP listeners (those with routes). */
  http: HttpListeners;
  /**
   * This controller's Prometheus metrics (served at `/metrics`). Components register their own
   * gauges here: `metrics.gauge({ name: 'sextant_openflow_connections', help, collect })`.
   */
  metrics: Metrics;
  log: Logger;
  stop(): Promise<void>;
}

export async function startController(config: Config, log: Logger = pino({ level: config.logLevel })): Promise<Controller> {
  const candidates = (await discoverPlugins(config.pluginsDir)).filter(
    (c) => config.plugins === '*' || config.plugins.includes(c.plugin?.name ?? c.folder),
  );
  // Plugins' options are known now: a misspelt one stops start-up before anything opens.
  const pluginOptions = resolveOptions(config, declaredOptions(candidates));
  const schema = await loadSchema(config.yangDir);
  // One registry per controller: two controllers in one process report separately.
  const metrics = new Metrics(log.child({ telemetry: 'metrics' }));
  // First, so the spans of start-up are exported too; last to stop, so are those of the stop.
  const traces: TraceExport | undefined = config.otlpEndpoint ? await startTraceExport({ endpoint: config.otlpEndpoint, instanceId: config.memberId, log: log.child({ telemetry: 'otlp' }) }) : undefined;
  let configBackend: Backend;
  // A single instance's operational store is not persisted: the tree is all of it.
  let operationalBackend: Backend = new VolatileBackend();
  let restconf: RestconfServer | undefined;
  const address = () => restconf?.url ?? '';
  // One instance is the leader and owns everything; in cluster mode the members decide over etcd.
  let cluster: Cluster = new SingleNodeCluster(config.memberId, address);
  let etcdCluster: EtcdCluster | undefined;
  let etcdClient: Etcd3 | undefined;
  if (config.datastore === 'etcd') {
    // Cluster mode: both stores are shared (each instance a replica of them), the membership too.
    const shared = (store: 'config' | 'operational') =>
      new EtcdBackend({ endpoints: config.etcdEndpoints, prefix: storePrefix(config.clusterName, store), maxTxnOps: config.etcdMaxTxnOps, maxRequestBytes: config.etcdMaxRequestBytes });
    configBackend = shared('config');
    operationalBackend = shared('operational');
    etcdClient = new Etcd3({ hosts: config.etcdEndpoints, dialTimeout: 5000 });
    etcdCluster = new EtcdCluster({ client: etcdClient, prefix: `/${config.clusterName}/cluster/`, memberId: config.memberId, address, ttlSeconds: config.clusterLeaseTtl, log: log.child({ cluster: config.clusterName }) });
    cluster = etcdCluster;
  } else if (config.datastore === 'level') {
    mkdirSync(config.dataDir, { recursive: true });
    configBackend = new LevelBackend(config.dataDir, { sync: config.datastoreSync === 'always' });
  } else configBackend = new MemoryBackend();
  let data: Datastore;
  try {
    data = await Datastore.open({
      schema,
      config: configBackend,
      operational: operationalBackend,
    warn: (m) => log.warn(m),
    phaseTimeoutMs: config.commitPhaseTimeout,
      phaseError: (err, owner, phase) => log.error({ err, plugin: owner }, `${owner}: ${phase} callback failed`),
      metrics,
    });
  } catch (e) {
    etcdClient?.close();
    await traces?.shutdown();
    throw e;
  }
  const rpc = new RpcRegistry(schema, () => data.snapshot('config').root, metrics);
  const notifications = new NotificationBus(schema, config.replayLogSize, (e) => log.error({ err: e }, 'notification handler failed'));
  let plugins: PluginSet | undefined;
  let stopPublishing = () => undefined as void;
  const netconf = new NetconfServer(
    { schema, data, rpc, notifications, log: log.child({ northbound: 'netconf' }) },
    {
      host: config.bindAddress,
      port: config.netconfPort,
      username: config.username,
      password: config.password,
      authorizedKeys: config.netconfAuthorizedKeys,
      // Kept with the data, so clients see the same host key after a restart.
      hostKeyFile: config.datastore === 'level' ? join(config.dataDir, 'netconf-host-key') : undefined,
      maxSessions: config.netconfMaxSessions,
      idleTimeoutMs: config.netconfIdleTimeout * 1000,
      maxMessage: config.netconfMaxMessage,
      maxUnauthenticated: config.netconfMaxUnauthenticated,
      loginGraceMs: config.netconfLoginGrace * 1000,
      maxChannels: config.netconfMaxChannels,
      // A shared operational store would have every instance overwrite the others' sessions.
      publishState: config.datastore !== 'etcd',
    },
  );
  // Plugin-owned APIs get the same edge as RESTCONF: the northbound credentials, body limit, spans.
  // They also take the API token in X-Auth-Token, as OpenStack clients send it (RESTCONF does
  // not); with --api-noauth any token, as clients with `--os-auth-type none` send "notused".
  const apiToken = config.apiNoauth ? () => true : (token: string) => sameSecret(token, config.apiToken);
  const http = new HttpListeners((name, port) =>
    createHttpEdge({
      name,
      host: config.bindAddress,
      port,
      username: config.username,
      password: config.password,
      maxBody: config.restconfMaxBody,
      maxConnections: config.restconfMaxConnections,
      headerTimeoutMs: config.restconfHeaderTimeout * 1000,
      token: apiToken,
      log: log.child({ listener: name }),
      metrics,
    }),
  );
  const ovsdb = new OvsdbManager({ data, log: log.child({ southbound: 'ovsdb' }), host: config.bindAddress, port: config.ovsdbPort, maxMessageChars: config.ovsdbMaxMessage, maxRows: config.ovsdbMaxRows, cluster: etcdCluster });
  const openflow = new OpenflowServer({
    data,
    log: log.child({ southbound: 'openflow' }),
    host: config.bindAddress,
    port: config.openflowPort,
    ours: parseCookieMatch(config.openflowCookie),
    maxPorts: config.openflowMaxPorts,
    statsIntervalMs: config.openflowStatsInterval * 1000,
    probeMs: config.openflowProbeInterval * 1000,
    cluster: etcdCluster,
  });
  registerPlatformGauges(metrics, { netconf, ovsdb, openflow, cluster });
  try {
    await publishYangLibrary(data, schema);
    registerGetSchema(rpc, schema);
    plugins = await startPlugins(
      candidates,
      { data, rpc, notifications, schema, tracer: tracer('sextant.plugin'), log, cluster, http, metrics },
      pluginOptions,
    );
    restconf = await startRestconf(
      {
        schema,
        data,
        rpc,
        notifications,
        runningLock: () => netconf.lockHolder('running'),
        consoleViews: plugins.loaded.flatMap((p) => (p.plugin.console ? [{ plugin: p.name, dir: p.plugin.console }] : [])),
      },
      {
        host: config.bindAddress,
        port: config.restconfPort,
        username: config.username,
        password: config.password,
        maxBody: config.restconfMaxBody,
        maxConnections: config.restconfMaxConnections,
        headerTimeoutMs: config.restconfHeaderTimeout * 1000,
        dataMissingIs404: config.dataMissingIs404,
        tls: config.restconfTlsCert ? { cert: config.restconfTlsCert, key: config.restconfTlsKey } : undefined,
        log: log.child({ northbound: 'restconf' }),
        metrics: { metrics, auth: config.metricsAuth },
      },
    );
    if (config.metricsAuth === 'none') log.info(`--metrics-auth=none: ${restconf.url}/metrics is served without credentials`);
    await netconf.start();
    await http.listen();
    if (config.apiNoauth) {
      const apis = [...http.listening()].map(([name, edge]) => `${name} at ${edge.url}`).join(', ') || 'none started';
      log.warn(`--api-noauth: the plugin HTTP APIs (${apis}) accept any X-Auth-Token, so anyone who reaches them may use them; RESTCONF and NETCONF still need the credentials`);
    }
    // Once RESTCONF listens, the member's address is known: join the cluster (plugins already
    // wait on its leadership).
    await etcdCluster?.start();
    // What this instance learns from its switches goes under its lease: gone if it dies.
    if (etcdCluster) {
      data.useLease(() => etcdCluster.leaseId());
      // A lost lease took that data with it: the switches still connected publish it again.
      etcdCluster.onNewLease(() => ovsdb.republish());
    }
    stopPublishing = publishClusterState(data, cluster, config.clusterName, (e) => log.error({ err: e }, 'cluster state could not be published'));
    // Last: switches connect once the plugins that react to them are listening. Without the
    // topology models (a controller serving other modules only) there is no southbound.
    if (schema.modules.has('network-topology') && schema.modules.has('ovsdb')) await ovsdb.start();
    else log.info('no network-topology/ovsdb modules loaded: the OVSDB manager is not started');
    if (schema.modules.has('opendaylight-inventory') && schema.modules.has('flow-node-inventory')) await openflow.start();
    else log.info('no opendaylight-inventory/flow-node-inventory modules loaded: the OpenFlow southbound is not started');
  } catch (e) {
    stopPublishing();
    await etcdCluster?.stop();
    await openflow.stop();
    await ovsdb.stop();
    await http.close();
    await netconf.stop();
    await restconf!?.close();
    await plugins?.stop();
    await data.close();
    etcdClient?.close();
    await traces?.shutdown();
    throw e;
  }
  const started = plugins;
  let stopped = false;
  return {
    config,
    schema,
    data,
    rpc,
    notifications,
    plugins: started,
    restconf,
    netconf,
    ovsdb,
    openflow,
    http,
    metrics,
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking requests first, then let plugins and listeners finish, then close storage.
      stopPublishing();
      // Resign first: another member takes over at once, while this one finishes its requests.
      await etcdCluster?.stop();
      await openflow.stop();
      await ovsdb.stop();
      await http.close();
      await netconf.stop();
      await restconf!.close();
      await started.stop();
      await data.close();
      etcdClient?.close();
      await traces?.shutdown();
    },
  };
}

/** The platform's gauges read on each scrape: sessions, switch connections, the cluster. */
function registerPlatformGauges(metrics: Metrics, from: { netconf: NetconfServer; ovsdb: OvsdbManager; openflow: OpenflowServer; cluster: Cluster }): void {
  metrics.gauge({ name: 'sextant_netconf_sessions', help: 'NETCONF sessions open on this instance', collect: () => from.netconf.sessionCount });
  metrics.gauge({ name: 'sextant_ovsdb_connections', help: 'OVSDB switch connections open on this instance (accepted and dialled)', collect: () => from.ovsdb.connectionCount });
  metrics.gauge({ name: 'sextant_openflow_connections', help: 'OpenFlow switches connected to this instance (handshake done)', collect: () => from.openflow.connected().length });
  metrics.gauge({ name: 'sextant_cluster_leader', help: '1 while this instance is the cluster leader (a single instance always is), else 0', collect: () => (from.cluster.isLeader() ? 1 : 0) });
  metrics.gauge({ name: 'sextant_cluster_members', help: 'Cluster members this instance sees (itself included)', collect: () => from.cluster.members().length });
}
