/**
 * Configuration: every option has a flag (`--data-dir=/x` or `--data-dir /x`), an environment
 * variable (`SEXTANT_DATA_DIR`) and a key in an optional JSON config file (`"data-dir": "/x"`,
 * file given by `--config` / `SEXTANT_CONFIG`, else `./sextant.json` when present).
 * Flag beats environment beats file beats default.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface OptionSpec {
  kind: 'string' | 'port' | 'boolean' | 'int';
  default: string | number | boolean;
  help: string;
}

export const OPTIONS = {
  'data-dir': { kind: 'string', default: './data', help: 'directory of the embedded LevelDB datastore' },
  datastore: { kind: 'string', default: 'level', help: 'config datastore backend: level | memory' },
  'bind-address': { kind: 'string', default: '127.0.0.1', help: 'address the northbound and southbound servers listen on' },
  'restconf-port': { kind: 'port', default: 8181, help: 'RESTCONF HTTP port (0: any free port)' },
  'restconf-max-body': { kind: 'int', default: 1048576, help: 'largest RESTCONF request body, in bytes' },
  'restconf-tls-cert': { kind: 'string', default: '', help: 'PEM certificate file: serve RESTCONF over HTTPS' },
  'restconf-tls-key': { kind: 'string', default: '', help: 'PEM private key file for --restconf-tls-cert' },
  'netconf-port': { kind: 'port', default: 2830, help: 'NETCONF SSH port (0: any free port)' },
  'netconf-authorized-keys': { kind: 'string', default: '', help: 'OpenSSH authorized_keys file: public keys that may log in to NETCONF as --username' },
  'netconf-max-sessions': { kind: 'int', default: 64, help: 'most NETCONF sessions open at once' },
  'netconf-idle-timeout': { kind: 'int', default: 3600, help: 'seconds after which a NETCONF session without requests is closed (0: never)' },
  'netconf-max-message': { kind: 'int', default: 16777216, help: 'largest NETCONF message, in bytes' },
  'ovsdb-port': { kind: 'port', default: 6640, help: 'OVSDB manager port' },
  'openflow-port': { kind: 'port', default: 6653, help: 'OpenFlow 1.3 port' },
  username: { kind: 'string', default: 'admin', help: 'user name for RESTCONF and NETCONF' },
  password: { kind: 'string', default: 'admin', help: 'password for RESTCONF and NETCONF' },
  'data-missing-is-404': { kind: 'boolean', default: false, help: 'answer data-missing with 404 instead of 409' },
  'yang-dir': { kind: 'string', default: resolve(projectRoot, 'yang'), help: 'directories (comma-separated) of the YANG modules to serve' },
  'plugins-dir': { kind: 'string', default: resolve(projectRoot, 'plugins'), help: 'directory of the plugins to load' },
  plugins: { kind: 'string', default: '*', help: 'comma-separated plugin names to load, or * for all' },
  'log-level': { kind: 'string', default: 'info', help: 'trace | debug | info | warn | error' },
  'replay-log-size': { kind: 'int', default: 1000, help: 'notifications kept for replay' },
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface Config {
  dataDir: string;
  datastore: 'level' | 'memory';
  bindAddress: string;
  restconfPort: number;
  restconfMaxBody: number;
  restconfTlsCert: string;
  restconfTlsKey: string;
  netconfPort: number;
  netconfAuthorizedKeys: string;
  netconfMaxSessions: number;
  netconfIdleTimeout: number;
  netconfMaxMessage: number;
  ovsdbPort: number;
  openflowPort: number;
  username: string;
  password: string;
  dataMissingIs404: boolean;
  yangDir: string[];
  pluginsDir: string;
  plugins: string[] | '*';
  logLevel: string;
  replayLogSize: number;
  /** Where each option's value came from, for the start-up log. */
  sources: Record<OptionName, 'flag' | 'env' | 'file' | 'default'>;
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

/** Parses `--name=value`, `--name value` and bare boolean `--name` flags. */
function parseFlags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (name !== 'config' && !(name in OPTIONS)) throw new ConfigError(`unknown option --${name} (see --help)`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (name !== 'config' && OPTIONS[name as OptionName].kind === 'boolean') value = 'true';
    else {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    }
    out.set(name, value);
  }
  return out;
}

function coerce(name: OptionName, raw: unknown, where: string): string | number | boolean {
  const spec: OptionSpec = OPTIONS[name];
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

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const flags = parseFlags(argv);
  const file = flags.get('config') ?? env.SEXTANT_CONFIG ?? (existsSync('sextant.json') ? 'sextant.json' : undefined);
  let fileValues: Record<string, unknown> = {};
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    for (const k of Object.keys(fileValues)) if (!(k in OPTIONS)) throw new ConfigError(`config file ${file}: unknown option "${k}"`);
  }
  const values: Record<string, unknown> = {};
  const sources = {} as Config['sources'];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    let v: string | number | boolean;
    if (flags.has(name)) {
      v = coerce(name, flags.get(name), `--${name}`);
      sources[name] = 'flag';
    } else if (env[envName(name)] !== undefined) {
      v = coerce(name, env[envName(name)], envName(name));
      sources[name] = 'env';
    } else if (fileValues[name] !== undefined) {
      v = coerce(name, fileValues[name], `config file ${file}`);
      sources[name] = 'file';
    } else {
      v = OPTIONS[name].default;
      sources[name] = 'default';
    }
    values[camel(name)] = v;
  }
  if (values.datastore !== 'level' && values.datastore !== 'memory') {
    throw new ConfigError(`datastore must be "level" or "memory", got "${values.datastore}"`);
  }
  const plugins = values.plugins === '*' ? '*' : String(values.plugins).split(',').map((s) => s.trim()).filter(Boolean);
  const yangDir = String(values.yangDir).split(',').map((s) => s.trim()).filter(Boolean);
  if (Boolean(values.restconfTlsCert) !== Boolean(values.restconfTlsKey)) {
    throw new ConfigError('--restconf-tls-cert and --restconf-tls-key go together');
  }
  return { ...(values as unknown as Config), plugins, yangDir, sources };
}

export function usage(): string {
  const lines = ['Usage: npm start -- [--option=value ...]', ''];
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    lines.push(`  --${name.padEnd(22)} ${spec.help} (env ${envName(name)}, default ${spec.default})`);
  }
  lines.push(`  --${'config'.padEnd(22)} JSON file with any of the options above (env SEXTANT_CONFIG)`);
  return lines.join('\n');
}
