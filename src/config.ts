/**
 * Configuration: every option has a flag (`--data-dir=/x` or `--data-dir /x`), an environment
 * variable (`SEXTANT_DATA_DIR`) and a key in an optional JSON config file (`"data-dir": "/x"`,
 * file given by `--config` / `SEXTANT_CONFIG`, else `./sextant.json` when present).
 * Flag beats environment beats file beats default.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** OpenDaylight's test models, verbatim (see its README), served with `--with-test-models`. */
export const ODL_TEST_MODELS = resolve(projectRoot, 'test/fixtures/odl-test-models');

export interface OptionSpec {
  kind: 'string' | 'port' | 'boolean' | 'int';
  default: string | number | boolean;
  help: string;
}

export type OptionValue = string | number | boolean;

export const OPTIONS = {
  'data-dir': { kind: 'string', default: './data', help: 'directory of the embedded LevelDB datastore' },
  datastore: { kind: 'string', default: 'level', help: 'datastore backend: level | memory | etcd://host:port[,host:port...] (cluster mode)' },
  // The default is always, as etcd fsyncs every commit before answering and PostgreSQL's
  // synchronous_commit is on: an acknowledged commit survives a power cut unless the operator
  // chose otherwise. `none` trades that for throughput (see BENCH.md, datastore.small-txn).
  'datastore-sync': {
    kind: 'string',
    default: 'always',
    help: 'LevelDB datastore: always (a commit is acknowledged only once it is on disk, fsync per commit) | none (acknowledged once in the OS page cache: survives a process crash, not a power cut or OS crash); no meaning with etcd, whose members fsync by themselves',
  },
  'bind-address': { kind: 'string', default: '127.0.0.1', help: 'address the northbound and southbound servers listen on' },
  'restconf-port': { kind: 'port', default: 8181, help: 'RESTCONF HTTP port (0: any free port)' },
  'restconf-max-body': { kind: 'int', default: 1048576, help: 'largest RESTCONF request body, in bytes' },
  'restconf-max-connections': { kind: 'int', default: 1024, help: 'HTTP connections open at once on RESTCONF (and on each plugin API listener); at the bound a new one closes the oldest idle one' },
  'restconf-header-timeout': { kind: 'int', default: 20, help: 'seconds a client may take to send a request head before its connection is closed (RESTCONF and plugin APIs)' },
  'restconf-tls-cert': { kind: 'string', default: '', help: 'PEM certificate file: serve RESTCONF over HTTPS' },
  'restconf-tls-key': { kind: 'string', default: '', help: 'PEM private key file for --restconf-tls-cert' },
  'netconf-port': { kind: 'port', default: 2830, help: 'NETCONF SSH port (0: any free port)' },
  'netconf-authorized-keys': { kind: 'string', default: '', help: 'OpenSSH authorized_keys file: public keys that may log in to NETCONF as --username' },
  'netconf-max-sessions': { kind: 'int', default: 64, help: 'most NETCONF sessions open at once' },
  'netconf-idle-timeout': { kind: 'int', default: 3600, help: 'seconds after which a NETCONF session without requests is closed (0: never)' },
  'netconf-max-message': { kind: 'int', default: 16777216, help: 'largest NETCONF message, in bytes' },
  'netconf-max-unauthenticated': { kind: 'int', default: 64, help: 'SSH connections not yet logged in, at once (past it, the newest from the source holding the most is refused, or that source\'s oldest dropped)' },
  'netconf-login-grace': { kind: 'int', default: 30, help: 'seconds a NETCONF SSH connection has to log in' },
  'netconf-max-channels': { kind: 'int', default: 10, help: 'SSH channels one NETCONF connection may hold open (as OpenSSH\'s MaxSessions)' },
  'ovsdb-port': { kind: 'port', default: 6640, help: 'OVSDB manager port' },
  'ovsdb-max-message': { kind: 'int', default: 16777216, help: 'largest OVSDB JSON-RPC message, in characters (a larger one closes that switch\'s connection)' },
  'ovsdb-max-rows': { kind: 'int', default: 20000, help: 'most rows (bridges, ports, interfaces, QoS, queues, controllers) one switch may report, about two per port (more closes its connection)' },
  'openflow-port': { kind: 'port', default: 6653, help: 'OpenFlow 1.3 port switches connect to (0: any free port)' },
  'openflow-stats-interval': { kind: 'int', default: 10, help: 'seconds between reads of each switch\'s flows into the operational inventory (0: only after programming)' },
  'openflow-probe-interval': { kind: 'int', default: 5, help: 'seconds a switch may stay silent before an ECHO_REQUEST; as long again without an answer closes it' },
  'openflow-max-ports': { kind: 'int', default: 10000, help: 'ports one switch may report (PORT_DESC and PORT_STATUS); more closes its connection' },
  'openflow-cookie': { kind: 'string', default: '0x5e00000000000000/0xff00000000000000', help: 'value/mask of the cookies of flows this controller owns: reconciliation removes only such flows that no config flow intends' },
  username: { kind: 'string', default: 'admin', help: 'user name for RESTCONF and NETCONF' },
  password: { kind: 'string', default: 'admin', help: 'password for RESTCONF and NETCONF' },
  'api-token': { kind: 'string', default: '', help: 'X-Auth-Token the plugin-owned HTTP APIs (Tacker...) accept besides --username/--password (default: the --password value)' },
  'api-noauth': { kind: 'boolean', default: false, help: 'plugin-owned HTTP APIs accept any non-empty X-Auth-Token (as OpenStack CLIs with --os-auth-type none send); RESTCONF stays Basic-only' },
  'data-missing-is-404': { kind: 'boolean', default: false, help: 'answer data-missing with 404 instead of 409' },
  'yang-dir': { kind: 'string', default: resolve(projectRoot, 'yang'), help: 'directories (comma-separated) of the YANG modules to serve' },
  'with-test-models': { kind: 'boolean', default: false, help: "also serve OpenDaylight's test models (car, people, car-people, car-purchase of its clustering test app, from test/fixtures/odl-test-models) and their rpcs, as its MDSAL NETCONF and datastore CSIT suites need" },
  'plugins-dir': { kind: 'string', default: resolve(projectRoot, 'plugins'), help: 'directory of the plugins to load' },
  plugins: { kind: 'string', default: '*', help: 'comma-separated plugin names to load, or * for all' },
  'log-level': { kind: 'string', default: 'info', help: 'trace | debug | info | warn | error' },
  'replay-log-size': { kind: 'int', default: 1000, help: 'notifications kept for replay' },
  'commit-phase-timeout': { kind: 'int', default: 2000, help: 'milliseconds a plugin commit phase callback may take before its commit fails' },
  'cluster-name': { kind: 'string', default: 'sextant', help: 'cluster mode: the key prefix in etcd, so several clusters can share one etcd (no "/")' },
  'cluster-lease-ttl': { kind: 'int', default: 2, help: 'cluster mode: seconds of the member lease; a killed leader is replaced within about this long' },
  'member-id': { kind: 'string', default: '', help: 'cluster mode: this instance\'s id (default: host name and RESTCONF port)' },
  'etcd-max-txn-ops': { kind: 'int', default: 128, help: 'cluster mode: the --max-txn-ops etcd was started with (one commit is one etcd txn)' },
  'etcd-max-request-bytes': { kind: 'int', default: 1572864, help: 'cluster mode: the --max-request-bytes etcd was started with' },
  'metrics-auth': { kind: 'string', default: 'basic', help: 'GET /metrics (Prometheus, on the RESTCONF port): basic (the northbound credentials, as every RESTCONF route) | none (open to any scraper that reaches the port)' },
  'otlp-endpoint': { kind: 'string', default: '', help: 'OTLP/HTTP collector base URL (http://host:4318): export traces there (to <url>/v1/traces); unset: no export' },
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface Config {
  dataDir: string;
  datastore: 'level' | 'memory' | 'etcd';
  /** `--datastore-sync`: whether a LevelDB commit waits for its fsync before it is acknowledged. */
  datastoreSync: 'always' | 'none';
  /** Cluster mode: the etcd endpoints (`http://host:port`) from `--datastore=etcd://...`. */
  etcdEndpoints: string[];
  clusterName: string;
  clusterLeaseTtl: number;
  memberId: string;
  etcdMaxTxnOps: number;
  etcdMaxRequestBytes: number;
  bindAddress: string;
  restconfPort: number;
  restconfMaxBody: number;
  restconfMaxConnections: number;
  restconfHeaderTimeout: number;
  restconfTlsCert: string;
  restconfTlsKey: string;
  netconfPort: number;
  netconfAuthorizedKeys: string;
  netconfMaxSessions: number;
  netconfIdleTimeout: number;
  netconfMaxMessage: number;
  netconfMaxUnauthenticated: number;
  netconfLoginGrace: number;
  netconfMaxChannels: number;
  ovsdbPort: number;
  ovsdbMaxMessage: number;
  ovsdbMaxRows: number;
  openflowPort: number;
  openflowStatsInterval: number;
  openflowProbeInterval: number;
  openflowCookie: string;
  openflowMaxPorts: number;
  username: string;
  password: string;
  /** The X-Auth-Token plugin-owned HTTP listeners accept (the password unless set). */
  apiToken: string;
  /** Plugin-owned HTTP listeners accept any non-empty X-Auth-Token. */
  apiNoauth: boolean;
  dataMissingIs404: boolean;
  yangDir: string[];
  /** `--with-test-models`: ODL_TEST_MODELS is among the yang dirs. */
  withTestModels: boolean;
  pluginsDir: string;
  plugins: string[] | '*';
  logLevel: string;
  replayLogSize: number;
  commitPhaseTimeout: number;
  /** Who may read `/metrics`. */
  metricsAuth: 'basic' | 'none';
  /** OTLP/HTTP collector base URL; '' exports nothing. */
  otlpEndpoint: string;
  /** Where each option's value came from, for the start-up log. */
  sources: Record<OptionName, 'flag' | 'env' | 'file' | 'default'>;
  /**
   * What the flags, environment and file said, kept for the options plugins declare: those are
   * known only once the plugins are discovered (resolveOptions reads them with the same rules).
   */
  raw: RawSettings;
}

interface RawSettings {
  flags: Map<string, string>;
  env: NodeJS.ProcessEnv;
  file?: string;
  fileValues: Record<string, unknown>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function envName(opt: string): string {
  return `SEXTANT_${opt.replace(/-/g, '_').toUpperCase()}`;
}

function camel(opt: string): string {
  return opt.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const isBooleanFlag = (name: string) => name in OPTIONS && OPTIONS[name as OptionName].kind === 'boolean';

/**
 * Parses `--name=value`, `--name value` and bare boolean `--name` flags. Names that are not
 * platform options are kept too: a plugin may declare them (checked by resolveOptions).
 */
function parseFlags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (isBooleanFlag(name)) value = 'true';
    // A plugin's flag is not known yet: bare, it is a boolean.
    else if (!(name in OPTIONS) && name !== 'config' && (argv[i + 1] === undefined || argv[i + 1].startsWith('--'))) value = 'true';
    else {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    }
    out.set(name, value);
  }
  return out;
}

function coerce(name: string, spec: OptionSpec, raw: unknown, where: string): OptionValue {
  switch (spec.kind) {
    case 'port': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${where}: ${name} must be a port number (0-65535), got "${raw}"`);
      return n;
    }
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${where}: ${name} must be a whole number, got "${raw}"`);
      return n;
    }
    case 'boolean':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${where}: ${name} must be true or false, got "${raw}"`);
    default:
      if (typeof raw !== 'string') throw new ConfigError(`${where}: ${name} must be a string`);
      return raw;
  }
}

export interface LoadOptions {
  /**
   * Keep flags and file keys that are not platform options for resolveOptions, which knows the
   * plugins' options (the controller calls it once the plugins are discovered). Without it an
   * unknown option is refused at once.
   */
  deferUnknown?: boolean;
}

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  const flags = parseFlags(argv);
  const file = flags.get('config') ?? env.SEXTANT_CONFIG ?? (existsSync('sextant.json') ? 'sextant.json' : undefined);
  let fileValues: Record<string, unknown> = {};
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
  }
  if (!opts.deferUnknown) resolveOptions({ raw: { flags, env, file, fileValues } }, {});
  const values: Record<string, unknown> = {};
  const sources = {} as Config['sources'];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    let v: string | number | boolean;
    if (flags.has(name)) {
      v = coerce(name, OPTIONS[name], flags.get(name), `--${name}`);
      sources[name] = 'flag';
    } else if (env[envName(name)] !== undefined) {
      v = coerce(name, OPTIONS[name], env[envName(name)], envName(name));
      sources[name] = 'env';
    } else if (fileValues[name] !== undefined) {
      v = coerce(name, OPTIONS[name], fileValues[name], `config file ${file}`);
      sources[name] = 'file';
    } else {
      v = OPTIONS[name].default;
      sources[name] = 'default';
    }
    values[camel(name)] = v;
  }
  let etcdEndpoints: string[] = [];
  if (String(values.datastore).startsWith('etcd://')) {
    etcdEndpoints = parseEtcdUrl(String(values.datastore));
    values.datastore = 'etcd';
  } else if (values.datastore !== 'level' && values.datastore !== 'memory') {
    throw new ConfigError(`datastore must be "level" or "memory" (or etcd://host:port[,host:port...] for cluster mode), got "${values.datastore}"`);
  }
  if (values.datastoreSync !== 'always' && values.datastoreSync !== 'none') {
    throw new ConfigError(`datastore-sync must be "always" or "none", got "${values.datastoreSync}"`);
  }
  const clusterName = String(values.clusterName);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(clusterName)) {
    throw new ConfigError(`cluster-name must be letters, digits, ".", "_" or "-" (it is a key prefix in etcd; no "/"), got "${clusterName}"`);
  }
  if (Number(values.clusterLeaseTtl) < 1) throw new ConfigError(`cluster-lease-ttl must be at least 1 second, got ${values.clusterLeaseTtl}`);
  if (!values.memberId) values.memberId = `${hostname()}:${values.restconfPort}`;
  if (!values.apiToken) values.apiToken = values.password;
  const plugins = values.plugins === '*' ? '*' : String(values.plugins).split(',').map((s) => s.trim()).filter(Boolean);
  const yangDir = String(values.yangDir).split(',').map((s) => s.trim()).filter(Boolean);
  if (values.withTestModels && !yangDir.some((d) => resolve(d) === ODL_TEST_MODELS)) yangDir.push(ODL_TEST_MODELS);
  if (values.metricsAuth !== 'basic' && values.metricsAuth !== 'none') {
    throw new ConfigError(`metrics-auth must be "basic" or "none", got "${values.metricsAuth}"`);
  }
  if (values.otlpEndpoint) {
    let url: URL | undefined;
    try {
      url = new URL(String(values.otlpEndpoint));
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(`otlp-endpoint must be an http(s) URL such as http://127.0.0.1:4318, got "${values.otlpEndpoint}"`);
    }
  }
  if (Boolean(values.restconfTlsCert) !== Boolean(values.restconfTlsKey)) {
    throw new ConfigError('--restconf-tls-cert and --restconf-tls-key go together');
  }
  parseCookieMatch(String(values.openflowCookie));
  return { ...(values as unknown as Config), plugins, yangDir, etcdEndpoints, sources, raw: { flags, env, file, fileValues } };
}

/** `--openflow-cookie`: `0x5e00000000000000/0xff00000000000000` (or decimal) -> value and mask. */
export function parseCookieMatch(text: string): { value: bigint; mask: bigint } {
  const m = /^(0x[0-9a-fA-F]{1,16}|\d{1,20})\/(0x[0-9a-fA-F]{1,16}|\d{1,20})$/.exec(text.trim());
  const max = (1n << 64n) - 1n;
  if (!m || BigInt(m[1]) > max || BigInt(m[2]) > max) throw new ConfigError(`openflow-cookie must be value/mask, two 64-bit numbers (0x... or decimal), got "${text}"`);
  return { value: BigInt(m[1]), mask: BigInt(m[2]) };
}

/** `etcd://h1:2379,h2:2379` -> the client URLs; anything else a ConfigError naming what is wrong. */
export function parseEtcdUrl(text: string): string[] {
  const rest = text.slice('etcd://'.length);
  if (!rest) throw new ConfigError(`datastore ${text}: name at least one etcd endpoint (etcd://host:port[,host:port...])`);
  return rest.split(',').map((hp) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(`datastore ${text}: "${hp}" is not host:port`);
    return `http://${m[1]}:${m[2]}`;
  });
}

/**
 * Values of options declared outside this file (by plugins, `--<plugin>-<option>`, and by named
 * HTTP listeners, `--<listener>-port`), read from the flags, environment and file that
 * loadConfig saw, with the same precedence. A flag or file key that neither the platform nor
 * `declared` knows is refused here, so a typo still stops start-up.
 */
export function resolveOptions(config: Pick<Config, 'raw'>, declared: Record<string, OptionSpec>): Record<string, OptionValue> {
  const { flags, env, file, fileValues } = config.raw;
  for (const name of flags.keys()) {
    if (name !== 'config' && !(name in OPTIONS) && !(name in declared)) throw new ConfigError(`unknown option --${name} (see --help)`);
  }
  for (const k of Object.keys(fileValues)) {
    if (!(k in OPTIONS) && !(k in declared)) throw new ConfigError(`config file ${file}: unknown option "${k}"`);
  }
  const out: Record<string, OptionValue> = {};
  for (const [name, spec] of Object.entries(declared)) {
    if (flags.has(name)) out[name] = coerce(name, spec, flags.get(name), `--${name}`);
    else if (env[envName(name)] !== undefined) out[name] = coerce(name, spec, env[envName(name)], envName(name));
    else if (fileValues[name] !== undefined) out[name] = coerce(name, spec, fileValues[name], `config file ${file}`);
    else out[name] = spec.default;
  }
  return out;
}

/** `--help`: the platform's options, then those the discovered plugins declare. */
export function usage(declared: Record<string, OptionSpec> = {}): string {
  const lines = ['Usage: npm start -- [--option=value ...]', ''];
  const line = (name: string, spec: OptionSpec) => `  --${name.padEnd(30)} ${spec.help} (env ${envName(name)}, default ${spec.default})`;
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) lines.push(line(name, spec));
  if (Object.keys(declared).length) {
    lines.push('', 'Declared by the plugins:');
    for (const [name, spec] of Object.entries(declared).sort(([a], [b]) => a.localeCompare(b))) lines.push(line(name, spec));
  }
  lines.push(`  --${'config'.padEnd(30)} JSON file with any of the options above (env SEXTANT_CONFIG)`);
  return lines.join('\n');
}
