/**
 * `sextant`: the operator's command line, a RESTCONF client of a running controller (it imports
 * no plugin: what it shows comes from the data and rpcs the northbound serves, by the paths of
 * the generated bindings). Arguments are parsed by commander. `runCli` runs one command line
 * in-process (tests use it; bin/sextant.js calls it) and resolves to the exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { computeNodes } from '../bindings/cloudscaler-rpc.ts';
import { designatedSwitches, electionsStatus } from '../bindings/designated-switch.ts';
import { cluster as clusterMembers } from '../bindings/sextant-cluster.ts';
import { clustering, clusteringState } from '../bindings/sextant-clustering.ts';
import { vimStates, vims } from '../bindings/sextant-nfv-vim.ts';
import { vnflcm, vnflcmState } from '../bindings/sextant-vnflcm.ts';
import type { ComputeNodes } from '../bindings/cloudscaler-rpc.ts';
import type { DesignatedSwitches, ElectionsStatus } from '../bindings/designated-switch.ts';
import type { Cluster as ClusterState } from '../bindings/sextant-cluster.ts';
import type { Clustering, ClusteringState } from '../bindings/sextant-clustering.ts';
import type { VimStates, Vims } from '../bindings/sextant-nfv-vim.ts';
import type { Vnflcm, VnflcmState } from '../bindings/sextant-vnflcm.ts';
import type { Topology } from '../bindings/network-topology.ts';
import { ovsdbTopology, vmPortOf } from '../southbound/ovsdb/topology.ts';
import { RestconfClient } from './client.ts';
import { CliError, EXIT, EXIT_HELP, type ExitCode } from './exit-codes.ts';
import { fields, table } from './table.ts';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Ends a `notifications --follow` or a `scalein end --wait` early (Ctrl-C). */
  signal?: AbortSignal;
}

interface GlobalOptions {
  url: string;
  user: string;
  password: string;
  json?: boolean;
  requestTimeout: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

function seconds(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(EXIT.USAGE, `${what} must be a positive number of seconds, not "${value}"`);
  return n;
}

export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const program = new Command('sextant');
  let code: ExitCode = EXIT.OK;
  const print = (text: string) => io.out(text);
  const client = (cmd: Command) => {
    const o = cmd.optsWithGlobals<GlobalOptions>();
    return { api: new RestconfClient({ url: o.url, user: o.user, password: o.password, timeoutMs: seconds(o.requestTimeout, '--request-timeout') * 1000 }), json: o.json === true };
  };
  const emit = (json: boolean, data: unknown, text: () => string) => print(json ? `${JSON.stringify(data, null, 2)}\n` : text());

  program
    .description('Operate a Sextant controller over RESTCONF.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(sextant --help lists the commands)')
    // Defaults from io.env (not commander's .env(), which reads process.env): an in-process run
    // gets the environment it is given, and help never prints a password.
    .addOption(new Option('--url <url>', 'RESTCONF base URL').default(io.env.SEXTANT_URL || 'http://127.0.0.1:8181', '$SEXTANT_URL or http://127.0.0.1:8181'))
    .addOption(new Option('-u, --user <user>', 'RESTCONF user').default(io.env.SEXTANT_USER || 'admin', '$SEXTANT_USER or admin'))
    .addOption(new Option('-p, --password <password>', 'RESTCONF password').default(io.env.SEXTANT_PASSWORD ?? 'admin', '$SEXTANT_PASSWORD or admin'))
    .addOption(new Option('--request-timeout <seconds>', 'longest wait for one answer').default('30'))
    .option('--json', 'print JSON instead of tables')
    .addHelpText('after', `\n${EXIT_HELP}\n`);

  program
    .command('status')
    .description('the controller at a glance: computes, elections, cluster members')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const [nodes, elections, members] = await Promise.all([
        api.get<ComputeNodes>(computeNodes().text, 'config'),
        api.get<ElectionsStatus>(electionsStatus().text, 'nonconfig'),
        api.get<ClusterState>(clusterMembers().text, 'nonconfig'),
      ]);
      const computes = nodes?.['compute-node'] ?? [];
      const status = {
        url: api.url,
        computes: computes.length,
        tombstoned: computes.filter((c) => c.tombstoned).length,
        'elections-pending': elections?.['pending-services'] ?? 0,
        'elections-converged-at': elections?.['converged-at'],
        members: (members?.member ?? []).map((m) => ({ 'member-id': m['member-id'], address: m.address, leader: m.leader === true })),
      };
      emit(json, status, () =>
        fields([
          ['controller', status.url],
          ['computes', `${status.computes} (${status.tombstoned} tombstoned)`],
          ['elections', status['elections-pending'] ? `${status['elections-pending']} service(s) pending` : `converged${status['elections-converged-at'] ? ` at ${status['elections-converged-at']}` : ''}`],
          ['members', status.members.map((m) => `${m['member-id']}${m.leader ? ' (leader)' : ''}`).join(', ')],
        ]),
      );
    });

  program
    .command('computes')
    .description('registered computes: DPN, connection, tombstone, VM ports, services hosted')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const [nodes, topology, designated] = await Promise.all([
        api.get<ComputeNodes>(computeNodes().text, 'config'),
        api.get<Topology[]>(ovsdbTopology.text, 'nonconfig'),
        api.get<DesignatedSwitches>(designatedSwitches().text, 'nonconfig'),
      ]);
      const bridges = new Map((topology?.[0]?.node ?? []).map((n) => [n['node-id'], n]));
      const services = new Map<string, string[]>();
      for (const d of designated?.['designated-switch'] ?? []) {
        if (d['dpn-id'] !== undefined && d['dpn-id'] !== '0') services.set(d['dpn-id'], [...(services.get(d['dpn-id']) ?? []), `${d['service-type']}:${d['service-id']}`]);
      }
      const rows = (nodes?.['compute-node'] ?? []).map((c) => {
        const bridge = c.nodeid ? bridges.get(c.nodeid) : undefined;
        return {
          'compute-name': c['compute-name'],
          'dpn-id': c.dpnid,
          'node-id': c.nodeid,
          connected: bridge !== undefined,
          tombstoned: c.tombstoned === true,
          ports: (bridge?.['termination-point'] ?? []).flatMap((tp) => (vmPortOf(tp) !== undefined ? [tp['ovsdb:name'] ?? tp['tp-id']] : [])),
          services: services.get(String(c.dpnid)) ?? [],
        };
      });
      emit(json, rows, () =>
        table(
          ['NAME', 'DPN', 'CONNECTED', 'TOMBSTONED', 'PORTS', 'SERVICES', 'NODE'],
          rows.map((r) => [r['compute-name'], r['dpn-id'], r.connected ? 'yes' : 'no', r.tombstoned ? 'yes' : 'no', r.ports.length, r.services.length, r['node-id']]),
        ),
      );
    });

  const scalein = program.command('scalein').description('compute scale-in: preview, start, end, recover');
  scalein
    .command('preview')
    .description('what start would do, changing nothing')
    .argument('<ids...>', 'computes by name, DPN id (123, openflow:123) or bridge node-id')
    .action(async (ids: string[], _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const p = await api.rpc<PreviewOutput>('scalein-api:scalein-computes-preview', { 'scalein-node-ids': ids });
      emit(json, p, () => previewText(p));
    });
  for (const [verb, rpc, leaf] of [
    ['start', 'scalein-computes-start', 'scalein-node-ids'],
    ['recover', 'scalein-computes-recover', 'recover-node-ids'],
  ] as const) {
    scalein
      .command(verb)
      .description(verb === 'start' ? 'tombstone computes: elections move off them' : 'bring tombstoned computes back')
      .argument('<ids...>', 'computes by name, DPN id or bridge node-id')
      .action(async (ids: string[], _opts, cmd: Command) => {
        const { api, json } = client(cmd);
        const out = await api.rpc<{ computes?: { 'compute-name': string; 'dpn-id'?: string; changed?: boolean }[] }>(`scalein-api:${rpc}`, { [leaf]: ids });
        emit(json, out, () =>
          table(
            ['NAME', 'DPN', 'CHANGED'],
            (out.computes ?? []).map((c) => [c['compute-name'], c['dpn-id'], c.changed ? 'yes' : `no (already ${verb === 'start' ? 'tombstoned' : 'in service'})`]),
          ),
        );
      });
  }
  scalein
    .command('end')
    .description('remove tombstoned computes once no VM port or VNFC is left on them')
    .argument('<ids...>', 'computes by name, DPN id or bridge node-id')
    .option('--wait', 'ask again until DONE, showing what still has to leave each compute')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 5)', '300')
    .option('--interval <seconds>', 'with --wait: time between asks', '1')
    .action(async (ids: string[], opts: { wait?: boolean; timeout: string; interval: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const deadline = Date.now() + seconds(opts.timeout, '--timeout') * 1000;
      const interval = seconds(opts.interval, '--interval') * 1000;
      // Progress goes to stderr under --json, so stdout stays one JSON document.
      const progress = (line: string) => (json ? io.err(line) : io.out(line));
      let last = '';
      for (;;) {
        const out = await api.rpc<EndOutput>('scalein-api:scalein-computes-end', { 'scalein-node-ids': ids });
        if (out.status === 'DONE') {
          emit(json, out, () => `DONE: ${(out.removed ?? []).join(', ') || ids.join(', ')} removed\n`);
          return;
        }
        const blockers = await endBlockers(api, out);
        const view = blockers.map((b) => `${b.compute}: ${b.ports.length} port(s)${b.ports.length ? ` (${b.ports.join(', ')})` : ''}, ${b.vnfcs.length} VNFC(s)${b.vnfcs.length ? ` (${b.vnfcs.join(', ')})` : ''} still to leave`).join('\n');
        if (!opts.wait) {
          emit(json, { ...out, blockers }, () => `INPROGRESS\n${view}\n`);
          code = EXIT.IN_PROGRESS;
          return;
        }
        if (view !== last) progress(`${view}\n`);
        last = view;
        if (io.signal?.aborted) throw new CliError(EXIT.FAILED, 'interrupted');
        if (Date.now() + interval > deadline) {
          throw new CliError(EXIT.TIMEOUT, `timed out after ${opts.timeout} s: still INPROGRESS (${blockers.map((b) => `${b.compute}: ${b.ports.length} port(s), ${b.vnfcs.length} VNFC(s)`).join('; ')})`);
        }
        await sleep(interval, io.signal);
      }
    });

  const vnf = program.command('vnf').description('VNF instances (the VNF manager)');
  vnf
    .command('list')
    .description('every VNF instance')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const data = await api.get<Vnflcm>(vnflcm().text, 'config');
      const rows = (data?.['vnf-instance'] ?? []).map((v) => ({
        id: v.id,
        name: v.name,
        state: v['instantiation-state'],
        vnfd: v['vnfd-id'],
        vnfcs: v['instantiated-vnf-info']?.['vnfc-resource-info']?.length ?? 0,
        operation: v['current-operation'],
      }));
      emit(json, rows, () => table(['ID', 'NAME', 'STATE', 'VNFD', 'VNFCS', 'OPERATION'], rows.map((r) => [r.id, r.name, r.state, r.vnfd, r.vnfcs, r.operation])));
    });
  vnf
    .command('show')
    .description('one VNF instance: its VNFCs and lifecycle operations')
    .argument('<id>', 'the VNF instance id')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const data = await api.get<Vnflcm>(vnflcm().text, 'config');
      const inst = data?.['vnf-instance']?.find((v) => v.id === id || v.name === id);
      if (!inst) throw new CliError(EXIT.ERROR, `no VNF instance "${id}"`);
      const ops = (data?.['vnf-lcm-op-occ'] ?? []).filter((o) => o['vnf-instance'] === inst.id).sort((a, b) => String(a['start-time']).localeCompare(String(b['start-time'])));
      emit(json, { ...inst, 'vnf-lcm-op-occ': ops }, () =>
        fields([
          ['id', inst.id],
          ['name', inst.name],
          ['state', inst['instantiation-state']],
          ['vnfd', inst['vnfd-id']],
          ['vim', inst['vim-id']],
          ['operation', inst['current-operation']],
        ]) +
          '\nVNFCs\n' +
          table(['ID', 'VDU', 'COMPUTE', 'PORT'], (inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []).map((v) => [v.id, v['vdu-id'], v.compute, v.port])) +
          '\nOperations\n' +
          table(['ID', 'OPERATION', 'STATE', 'STARTED'], ops.map((o) => [o.id, o.operation, o['operation-state'], o['start-time']])),
      );
    });

  const clusterCmd = program.command('cluster').description('autoscaling clusters');
  clusterCmd
    .command('list')
    .description('every cluster with its size and status')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const [conf, state] = await Promise.all([api.get<Clustering>(clustering().text, 'config'), api.get<ClusteringState>(clusteringState().text, 'nonconfig')]);
      const states = new Map((state?.cluster ?? []).map((c) => [c.id, c]));
      const rows = (conf?.cluster ?? []).map((c) => ({
        id: c.id,
        name: c.name,
        status: states.get(c.id)?.status,
        nodes: states.get(c.id)?.node?.length ?? 0,
        desired: c['desired-capacity'],
        min: c['min-size'],
        max: c['max-size'],
      }));
      emit(json, rows, () => table(['ID', 'NAME', 'STATUS', 'NODES', 'DESIRED', 'MIN', 'MAX'], rows.map((r) => [r.id, r.name, r.status, r.nodes, r.desired, r.min, r.max])));
    });
  clusterCmd
    .command('show')
    .description('one cluster: nodes and last actions')
    .argument('<id>', 'the cluster id or name')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const [conf, state] = await Promise.all([api.get<Clustering>(clustering().text, 'config'), api.get<ClusteringState>(clusteringState().text, 'nonconfig')]);
      const c = conf?.cluster?.find((x) => x.id === id || x.name === id);
      if (!c) throw new CliError(EXIT.ERROR, `no cluster "${id}"`);
      const s = state?.cluster?.find((x) => x.id === c.id);
      const actions = (state?.action ?? [])
        .filter((a) => a.target === c.id)
        .sort((a, b) => String(b['created-at']).localeCompare(String(a['created-at'])))
        .slice(0, 10);
      emit(json, { ...c, state: s, actions }, () =>
        fields([
          ['id', c.id],
          ['name', c.name],
          ['status', s?.status],
          ['size', `${s?.node?.length ?? 0} node(s), desired ${c['desired-capacity'] ?? '-'} (min ${c['min-size'] ?? '-'}, max ${c['max-size'] ?? '-'})`],
        ]) +
          '\nNodes\n' +
          table(['ID', 'STATUS', 'COMPUTE', 'PORT'], (s?.node ?? []).map((n) => [n.id, n.status, n.compute, n.port])) +
          '\nLast actions\n' +
          table(['ID', 'ACTION', 'STATUS', 'CREATED'], actions.map((a) => [a.id, a.action, a.status, a['created-at']])),
      );
    });

  program
    .command('vim')
    .description('VIMs (the VIM monitor)')
    .command('list')
    .description('every VIM with its reachability')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const [conf, state] = await Promise.all([api.get<Vims>(vims().text, 'config'), api.get<VimStates>(vimStates().text, 'nonconfig')]);
      const states = new Map((state?.['vim-state'] ?? []).map((v) => [v['vim-id'], v]));
      const rows = (conf?.vim ?? []).map((v) => ({ 'vim-id': v['vim-id'], name: v.name, type: v.type, status: states.get(v['vim-id'])?.status ?? 'PENDING', since: states.get(v['vim-id'])?.since, 'auth-url': v['auth-url'] }));
      emit(json, rows, () => table(['ID', 'NAME', 'TYPE', 'STATUS', 'SINCE', 'AUTH-URL'], rows.map((r) => [r['vim-id'], r.name, r.type, r.status, r.since, r['auth-url']])));
    });

  program
    .command('notifications')
    .description('YANG notifications from the RESTCONF stream: those logged so far, or live with --follow')
    .option('-f, --follow', 'keep printing new notifications until interrupted')
    .option('--since <date-and-time>', 'replay those logged since then first (default: all logged, or none with --follow)')
    .option('--count <n>', 'stop after this many')
    .action(async (opts: { follow?: boolean; since?: string; count?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const limit = opts.count === undefined ? Infinity : Number(opts.count);
      if (!(limit > 0)) throw new CliError(EXIT.USAGE, `--count must be a positive number, not "${opts.count}"`);
      const stop = new AbortController();
      io.signal?.addEventListener('abort', () => stop.abort(), { once: true });
      let seen = 0;
      await api.stream(
        (event) => {
          const n = (event['ietf-restconf:notification'] ?? {}) as Record<string, unknown>;
          const { eventTime, ...body } = n;
          const [name, value] = Object.entries(body)[0] ?? ['?', {}];
          print(json ? `${JSON.stringify(event)}\n` : `${String(eventTime)}  ${name}  ${JSON.stringify(value)}\n`);
          if (++seen >= limit) stop.abort();
        },
        {
          since: opts.since ?? (opts.follow ? undefined : '1970-01-01T00:00:00Z'),
          signal: stop.signal,
          // Without --follow the replay is all we want: the stream says when it is over.
          onOpen: () => (opts.follow ? undefined : stop.abort()),
        },
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version are not failures; everything commander refuses is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.err(`sextant: ${err.message}\n`);
      return err.code;
    }
    io.err(`sextant: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILED;
  }
}

interface PreviewOutput {
  'config-revision'?: string;
  computes?: { 'compute-name': string; 'dpn-id'?: string; tombstoned?: boolean; 'vm-ports'?: string[]; 'cluster-nodes'?: string[]; vnfcs?: string[]; tunnels?: string[] }[];
  designations?: { 'service-type': string; 'service-id': string; 'from-dpn-id'?: string; 'from-compute'?: string; 'to-dpn-id'?: string; 'to-compute'?: string; reason?: string }[];
  'flow-changes'?: { 'dpn-id': string; 'compute-name'?: string; added?: number; removed?: number; modified?: number }[];
  stranded?: { 'service-type': string; 'service-id': string; computes?: string[] }[];
}

function previewText(p: PreviewOutput): string {
  const list = (l?: string[]) => (l?.length ? `${l.length} (${l.join(', ')})` : '0');
  let text = `Preview (nothing changed; planned from config revision ${p['config-revision'] ?? '?'})\n\nDesignations that would move\n`;
  text += p.designations?.length
    ? table(['SERVICE', 'ID', 'FROM', 'TO'], p.designations.map((d) => [d['service-type'], d['service-id'], d['from-compute'] ?? d['from-dpn-id'], d['to-compute'] ?? d['to-dpn-id']]))
    : 'none\n';
  text += '\nFlow changes per switch\n';
  text += p['flow-changes']?.length
    ? table(['SWITCH', 'DPN', 'ADDED', 'REMOVED', 'MODIFIED'], p['flow-changes'].map((f) => [f['compute-name'], f['dpn-id'], f.added ?? 0, f.removed ?? 0, f.modified ?? 0]))
    : 'none\n';
  text += '\nWhat must leave each compute before end is DONE, and the tunnels end removes\n';
  text += table(
    ['COMPUTE', 'DPN', 'TOMBSTONED', 'VM PORTS', 'CLUSTER NODES', 'VNFCS', 'TUNNELS'],
    (p.computes ?? []).map((c) => [c['compute-name'], c['dpn-id'], c.tombstoned ? 'already' : 'no', list(c['vm-ports']), list(c['cluster-nodes']), list(c.vnfcs), c.tunnels?.length ?? 0]),
  );
  if (p.stranded?.length) {
    text += '\nComputes left with no eligible peer for a service\n';
    text += table(['SERVICE', 'ID', 'COMPUTES'], p.stranded.map((s) => [s['service-type'], s['service-id'], (s.computes ?? []).join(', ')]));
  }
  return text;
}

interface EndOutput {
  status?: 'DONE' | 'INPROGRESS';
  pending?: { 'compute-name': string; ports?: string[] }[];
  removed?: string[];
}

/** Per compute still pending: the ports end named, and the VNFCs the VNF manager says are still there. */
async function endBlockers(api: RestconfClient, out: EndOutput): Promise<{ compute: string; ports: string[]; vnfcs: string[] }[]> {
  const state = await api.get<VnflcmState>(vnflcmState().text, 'nonconfig').catch(() => undefined);
  const vnfcs = new Map((state?.['scale-in-blocker'] ?? []).map((b) => [b.compute, b.vnfc ?? []]));
  return (out.pending ?? []).map((p) => ({ compute: p['compute-name'], ports: p.ports ?? [], vnfcs: vnfcs.get(p['compute-name']) ?? [] }));
}
