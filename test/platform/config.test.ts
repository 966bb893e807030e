/**
 * Configuration precedence and errors: flag beats environment beats file beats default.
 */
import t from 'tap';
import { join } from 'node:path';
import { loadConfig, ConfigError, usage } from '../../src/config.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';

t.test('defaults are the wire contract of DESIGN.md', async (t) => {
  const c = loadConfig([], {});
  t.equal(c.dataDir, './data');
  t.equal(c.datastore, 'level');
  t.equal(c.restconfPort, 8181);
  t.equal(c.netconfPort, 2830);
  t.equal(c.ovsdbPort, 6640);
  t.equal(c.openflowPort, 6653);
  t.equal(c.bindAddress, '127.0.0.1');
  t.equal(c.username, 'admin');
  t.equal(c.dataMissingIs404, false);
  t.equal(c.sources['restconf-port'], 'default');
});

t.test('flag beats environment beats file beats default', async (t) => {
  const dir = writeFiles(tempDir(t), { 'c.json': JSON.stringify({ 'restconf-port': 1001, 'netconf-port': 1002, 'ovsdb-port': 1003 }) });
  const c = loadConfig(['--config', join(dir, 'c.json'), '--restconf-port=3001', '--data-missing-is-404'], {
    SEXTANT_RESTCONF_PORT: '2001',
    SEXTANT_NETCONF_PORT: '2002',
  });
  t.equal(c.restconfPort, 3001);
  t.equal(c.sources['restconf-port'], 'flag');
  t.equal(c.netconfPort, 2002);
  t.equal(c.sources['netconf-port'], 'env');
  t.equal(c.ovsdbPort, 1003);
  t.equal(c.sources['ovsdb-port'], 'file');
  t.equal(c.openflowPort, 6653);
  t.equal(c.dataMissingIs404, true, 'a bare boolean flag means true');
  const e = loadConfig([], { SEXTANT_CONFIG: join(dir, 'c.json'), SEXTANT_DATASTORE: 'memory' });
  t.equal(e.restconfPort, 1001, 'SEXTANT_CONFIG names the file');
  t.equal(e.datastore, 'memory');
});

t.test('bad configuration is a clear ConfigError', async (t) => {
  const dir = writeFiles(tempDir(t), { 'bad.json': '{"restconf-port": ', 'unknown.json': '{"colour": "blue"}' });
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown flag', ['--colour=blue'], {}, /unknown option --colour/],
    ['port out of range', ['--restconf-port=70000'], {}, /restconf-port must be a port number/],
    ['port not a number (env)', [], { SEXTANT_NETCONF_PORT: 'ssh' }, /SEXTANT_NETCONF_PORT: netconf-port must be a port/],
    ['unknown datastore', ['--datastore=redis'], {}, /datastore must be "level" or "memory"/],
    ['flag without value', ['--data-dir'], {}, /--data-dir needs a value/],
    ['malformed config file', ['--config', join(dir, 'bad.json')], {}, /config file .*bad\.json/],
    ['unknown key in config file', ['--config', join(dir, 'unknown.json')], {}, /unknown option "colour"/],
    ['bad boolean', ['--data-missing-is-404=maybe'], {}, /must be true or false/],
  ];
  for (const [what, argv, env, msg] of cases) {
    t.throws(() => loadConfig(argv, env), ConfigError, what);
    t.throws(() => loadConfig(argv, env), msg, what);
  }
});

t.test('cluster mode options: etcd endpoints, cluster name, lease TTL, member id', async (t) => {
  const c = loadConfig(['--datastore=etcd://127.0.0.1:12379,etcd-2.example:2379,[::1]:22379', '--cluster-name=blue', '--cluster-lease-ttl=5', '--member-id=m1'], {});
  t.equal(c.datastore, 'etcd');
  t.same(c.etcdEndpoints, ['http://127.0.0.1:12379', 'http://etcd-2.example:2379', 'http://[::1]:22379']);
  t.equal(c.clusterName, 'blue');
  t.equal(c.clusterLeaseTtl, 5);
  t.equal(c.memberId, 'm1');
  const d = loadConfig(['--restconf-port=18181'], {});
  t.equal(d.clusterName, 'sextant', 'default cluster name');
  t.equal(d.clusterLeaseTtl, 2, 'default lease TTL');
  t.match(d.memberId, /:18181$/, 'default member id: host and RESTCONF port');
  const bad: [string, string[], RegExp][] = [
    ['no endpoint', ['--datastore=etcd://'], /name at least one etcd endpoint/],
    ['no port', ['--datastore=etcd://127.0.0.1'], /"127.0.0.1" is not host:port/],
    ['port out of range', ['--datastore=etcd://h:99999'], /"h:99999" is not host:port/],
    ['a path in the URL', ['--datastore=etcd://h:2379/x'], /is not host:port/],
    ['a cluster name with /', ['--cluster-name=a/b'], /cluster-name must be .* no "\/"/],
    ['a zero TTL', ['--cluster-lease-ttl=0'], /cluster-lease-ttl must be at least 1/],
  ];
  for (const [what, argv, msg] of bad) t.throws(() => loadConfig(argv, {}), msg, what);
});

t.test('plugin API auth options: the token defaults to the password; noauth is off unless asked', async (t) => {
  const d = loadConfig([], {});
  t.equal(d.apiToken, 'admin', 'default: the default password');
  t.equal(d.apiNoauth, false);
  t.equal(loadConfig(['--password=pw1'], {}).apiToken, 'pw1', 'default: whatever --password is');
  t.equal(loadConfig([], { SEXTANT_PASSWORD: 'pw2' }).apiToken, 'pw2', 'or SEXTANT_PASSWORD');
  const e = loadConfig(['--password=pw1'], { SEXTANT_API_TOKEN: 'tok-env', SEXTANT_API_NOAUTH: 'true' });
  t.equal(e.apiToken, 'tok-env', 'SEXTANT_API_TOKEN');
  t.equal(e.apiNoauth, true, 'SEXTANT_API_NOAUTH');
  const f = loadConfig(['--api-token', 'tok-flag', '--api-noauth'], { SEXTANT_API_TOKEN: 'tok-env' });
  t.equal(f.apiToken, 'tok-flag', 'the flag beats the environment');
  t.equal(f.apiNoauth, true, 'a bare --api-noauth means true');
  t.throws(() => loadConfig(['--api-noauth=maybe'], {}), /api-noauth must be true or false/);
});

t.test('--datastore-sync: always unless told otherwise, none on request, anything else refused', async (t) => {
  t.equal(loadConfig([], {}).datastoreSync, 'always', 'acknowledged commits are on disk by default');
  t.equal(loadConfig([], { SEXTANT_DATASTORE_SYNC: 'none' }).datastoreSync, 'none', 'SEXTANT_DATASTORE_SYNC');
  t.equal(loadConfig(['--datastore-sync=always'], { SEXTANT_DATASTORE_SYNC: 'none' }).datastoreSync, 'always', 'the flag beats the environment');
  t.throws(() => loadConfig(['--datastore-sync=sometimes'], {}), { name: 'ConfigError', message: 'datastore-sync must be "always" or "none", got "sometimes"' });
  t.match(usage(), /--datastore-sync\s+LevelDB datastore: always .* no meaning with etcd, whose members fsync by themselves \(env SEXTANT_DATASTORE_SYNC, default always\)/, '--help says what it means and where it does not apply');
});
