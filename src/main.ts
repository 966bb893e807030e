/**
 * `npm start`: read the configuration, start the controller, say where it is, and stop cleanly
 * on SIGTERM/SIGINT (listeners drained, LevelDB closed).
 */
import pino from 'pino';
import { ConfigError, loadConfig, usage, type Config } from './config.ts';
import { startController } from './controller.ts';
import { declaredOptions, discoverPlugins } from './plugin/loader.ts';
import { BackendOpenError } from './datastore/backends/backend.ts';
import { YangCompileError } from './errors.ts';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2).filter((a) => a !== '--help'), process.env, { deferUnknown: true });
    if (process.argv.includes('--help')) {
      console.log(usage(declaredOptions(await discoverPlugins(config.pluginsDir))));
      return 0;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`sextant: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const log = pino({ level: config.logLevel });
  if (config.username === 'admin' && config.password === 'admin') {
    log.warn('the default credentials admin/admin are in use; set SEXTANT_USERNAME and SEXTANT_PASSWORD');
  }
  let controller;
  try {
    controller = await startController(config, log);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`sextant: ${e.message}`);
      return 2;
    }
    if (e instanceof YangCompileError) {
      console.error(`sextant: YANG error: ${e.message}`);
      return 1;
    }
    if (e instanceof BackendOpenError) {
      console.error(`sextant: cannot open the datastore: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const plugins = controller.plugins.loaded.map((p) => p.name).join(', ') || 'none';
  const failed = controller.plugins.failed.map((p) => p.name).join(', ');
  log.info(
    {
      datastore: config.datastore === 'level' ? `level:${config.dataDir}` : config.datastore === 'etcd' ? `etcd:${config.etcdEndpoints.join(',')}/${config.clusterName}` : 'memory',
      member: config.datastore === 'etcd' ? config.memberId : undefined,
      modules: controller.schema.modules.size,
      restconf: controller.restconf.url,
      netconf: `${config.bindAddress}:${controller.netconf.port}`,
      ovsdb: `${config.bindAddress}:${controller.ovsdb.port}`,
      openflow: `${config.bindAddress}:${controller.openflow.port}`,
      listeners: Object.fromEntries([...controller.http.listening()].map(([name, edge]) => [name, edge.url])),
      plugins: controller.plugins.loaded.map((p) => p.name),
      failedPlugins: controller.plugins.failed.map((p) => p.name),
    },
    `sextant ready: datastore ${describeDatastore(config)}, ` +
      `${controller.schema.modules.size} YANG modules, plugins: ${plugins}${failed ? ` (failed: ${failed})` : ''}, ` +
      `RESTCONF at ${controller.restconf.url}, NETCONF (SSH) at ${config.bindAddress}:${controller.netconf.port}, ${controller.ovsdb.port ? `OVSDB manager at ${config.bindAddress}:${controller.ovsdb.port}` : 'no OVSDB manager'}, ${controller.openflow.port ? `OpenFlow at ${config.bindAddress}:${controller.openflow.port}` : 'no OpenFlow southbound'}` +
      [...controller.http.listening()].map(([name, edge]) => `, ${name} API at ${edge.url}`).join(''),
  );
  // The controller runs until it is told to stop, whether or not anything else keeps Node busy.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, stopping`);
      controller
        .stop()
        .catch((e: unknown) => log.error({ err: e }, 'error while stopping'))
        .finally(resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(keepAlive);
  log.info('sextant stopped');
  return 0;
}

function describeDatastore(config: Config): string {
  if (config.datastore === 'level') return `LevelDB at ${config.dataDir}`;
  if (config.datastore === 'etcd') return `etcd at ${config.etcdEndpoints.join(',')} (cluster ${config.clusterName}, member ${config.memberId})`;
  return 'in memory';
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('sextant: fatal:', e);
    process.exit(1);
  },
);
