/**
 * Ingestion of a Tacker VNFD (TOSCA, tosca_simple_profile_for_nfv_1_0_0) that asks for VDU
 * autoscaling through Senlin, after the Tacker spec "Autoscaling management with Senlin resource"
 * (openstack/tacker-specs specs/pike/vnf-cluster-management-by-senlin.rst). Pure: text in, plain
 * data out, no I/O. The result is what the autoscaling plugin writes into the datastore: one
 * Senlin profile (os.nova.server) for the targeted VDU, one cluster, the scale-out and scale-in
 * scaling policies and webhook receivers the spec's HOT mapping lists, and one Aodh alarm per
 * alarming trigger.
 *
 * Sources of the facts below (read, not copied):
 *  - spec   : tacker-specs specs/pike/vnf-cluster-management-by-senlin.rst (TOSCA example + HOT).
 *  - defs   : tacker tacker/tosca/lib/tacker_defs.yaml, tacker_nfv_defs.yaml (policy and node
 *             types, Scaling property defaults: cooldown 120; increment/min/max/default required).
 *  - tk2016 : tacker samples/tosca-templates/vnfd/tosca-vnfd-alarm-scale.yaml at 0eafa5b1 and
 *             tacker/vnfm/infra_drivers/openstack/translate_template.py there (trigger form
 *             `metrics`, condition.period/method/evaluations, `actions`; method passed through as
 *             the Ceilometer statistic; constraint -> description); tacker/vnfm/monitor.py
 *             (scaling direction from comparison_operator).
 *  - tk2017 : the same sample at 0da94690^ with heat-translator's
 *             translator/hot/tosca/tosca_policies_monitoring.py at 9e3a615^ (`meter_name`,
 *             `action`, method average|summary|maximum|minimum -> avg|sum|max|min).
 *  - gnocchi: the same sample at 0da94690 ("Move usage from deprecated Ceilometer API to Gnocchi
 *             API") with heat-translator tosca_policies_monitoring.py after 9e3a615 (`metric`,
 *             condition.granularity/aggregation_method/resource_type).
 *  - ht     : heat-translator translator/hot/tosca/tosca_cluster_policies_scaling.py (Senlin HOT:
 *             profile from the VDU's server properties + CP networks, `<VDU>_cluster`,
 *             `<trigger>_alarm`, repeat_actions True).
 */
import { LineCounter, parseDocument, type Document } from 'yaml';

// ---------------------------------------------------------------------------------------------
// Result

export interface NovaServerProperties {
  /** VDU properties.flavor; absent when the VDU sizes itself by capabilities.nfv_compute. */
  flavor?: string;
  image?: string;
  /** One per CP bound to the VDU (CP `order` first, then template order): the VL's network_name. */
  networks: { network: string }[];
  availability_zone?: string;
  metadata?: Record<string, string>;
  key_name?: string;
  user_data?: string;
  config_drive?: boolean;
}

export interface Profile {
  name: string;
  type: 'os.nova.server-1.0';
  spec: { type: 'os.nova.server'; version: '1.0'; properties: NovaServerProperties };
  /** capabilities.nfv_compute.properties as the template gives them (Tacker builds a flavor of them). */
  compute?: { numCpus?: number; memSize?: string; diskSize?: string };
}

export interface Cluster {
  name: string;
  /** The profile's name. */
  profile: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
}

export type ScaleAction = 'CLUSTER_SCALE_OUT' | 'CLUSTER_SCALE_IN';

export interface ScalingPolicy {
  name: string;
  type: 'senlin.policy.scaling-1.0';
  /** The cluster the policy is bound to (the HOT's `bindings`). */
  cluster: string;
  spec: {
    type: 'senlin.policy.scaling';
    version: '1.0';
    properties: {
      event: ScaleAction;
      adjustment: { type: 'CHANGE_IN_CAPACITY'; number: number; cooldown: number };
    };
  };
}

export interface Receiver {
  name: string;
  type: 'webhook';
  cluster: string;
  action: ScaleAction;
  params?: Record<string, string>;
}

export type ComparisonOperator = 'gt' | 'ge' | 'lt' | 'le';

export interface Alarm {
  name: string;
  /** Which trigger form the template used: Ceilometer (`threshold` alarm) or Gnocchi. */
  form: 'ceilometer' | 'gnocchi';
  meter: string;
  /** Ceilometer statistic (avg, sum, min, max, count) or Gnocchi aggregation (mean, ...). */
  statistic: string;
  /** condition.period (Ceilometer form) or condition.granularity (Gnocchi form), seconds. */
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  repeatActions: boolean;
  /** Receiver names. */
  alarmActions: string[];
  /** condition.constraint, which Tacker used as the alarm's description. */
  description?: string;
  /** Gnocchi form only: condition.resource_type, default `instance`. */
  resourceType?: string;
  /** The trigger's `metadata` (Tacker matched it against the VDU's metering metadata). */
  metadata?: string;
}

export interface Ingested {
  profile: Profile;
  cluster: Cluster;
  /** [scale-out, scale-in]. */
  policies: [ScalingPolicy, ScalingPolicy];
  /** [scale-out, scale-in]. */
  receivers: [Receiver, Receiver];
  alarms: Alarm[];
  /** What was accepted but is worth a look (lenient readings, parts left out). */
  warnings: string[];
}

export type ToscaErrorCode =
  | 'yaml' // not parseable YAML
  | 'version' // tosca_definitions_version absent or not accepted
  | 'structure' // a section of the wrong shape
  | 'unknown-type' // node or policy type this module does not know
  | 'missing' // a required field is absent
  | 'invalid' // a value of the wrong type or form
  | 'range' // numbers that contradict each other (min > max, ...)
  | 'reference' // a name that names nothing suitable
  | 'unsupported'; // valid TOSCA this module does not ingest

export class ToscaError extends Error {
  override readonly name = 'ToscaError';
  constructor(
    message: string,
    /** Where in the template: `topology_template.node_templates.VDU1.type`; '' for the document. */
    readonly path: string,
    readonly code: ToscaErrorCode,
    /** 1-based position of the offending node (or of its nearest present ancestor). */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

export const ACCEPTED_VERSIONS = ['tosca_simple_profile_for_nfv_1_0_0'] as const;

const VDU = 'tosca.nodes.nfv.VDU.Tacker';
const CP = 'tosca.nodes.nfv.CP.Tacker';
const VL = 'tosca.nodes.nfv.VL';
const NODE_TYPES = [VDU, CP, VL] as const;
type NodeType = (typeof NODE_TYPES)[number];

// defs spells them lowercase (tosca.policies.tacker.*); the spec writes tosca.policies.Tacker.Scaling.
const SCALING_TYPES = ['tosca.policies.tacker.Scaling', 'tosca.policies.Tacker.Scaling'];
const ALARMING_TYPES = ['tosca.policies.tacker.Alarming', 'tosca.policies.Tacker.Alarming'];
const POLICY_TYPES = [...SCALING_TYPES, ...ALARMING_TYPES];

/** Fields a policy body may carry: used to recognise the spec's flattened list item. */
const POLICY_FIELDS = new Set(['type', 'description', 'driver', 'targets', 'properties', 'triggers', 'metadata']);

/** defs: Scaling.cooldown default. */
export const DEFAULT_COOLDOWN = 120;

// Ceilometer statistics as tk2016 passes `method` through, plus tk2017's heat-translator names.
const CEILOMETER_STATISTIC: Record<string, string> = {
  avg: 'avg', sum: 'sum', min: 'min', max: 'max', count: 'count',
  average: 'avg', summary: 'sum', maximum: 'max', minimum: 'min',
};
// gnocchi: heat-translator's ALARM_STATISTIC, plus Gnocchi's own names of its mapped values.
const GNOCCHI_AGGREGATION: Record<string, string> = {
  mean: 'mean', median: 'median', summary: 'sum', maximum: 'max', minimum: 'min',
  last: 'last', std: 'std', first: 'first', count: 'count', sum: 'sum', max: 'max', min: 'min',
};
// Aodh's operators; direction as tk2016's monitor.py (`'out' if cp == 'gt' else 'in'`), but with
// ge counted as out and eq/ne refused rather than read as in.
const DIRECTION: Record<string, 'out' | 'in' | undefined> = { gt: 'out', ge: 'out', lt: 'in', le: 'in', eq: undefined, ne: undefined };

const SIZE = /^\d+(\.\d+)?\s*(B|kB|KiB|MB|MiB|GB|GiB|TB|TiB)$/i;

// ---------------------------------------------------------------------------------------------
// Locations and failures

type Seg = string | number;

/** A place in the template: the path shown to users and the segments that find it in the YAML. */
class Loc {
  constructor(
    readonly path: string,
    readonly segs: readonly Seg[],
  ) {}
  static root = new Loc('', []);
  key(k: string): Loc {
    return new Loc(this.path ? `${this.path}.${k}` : k, [...this.segs, k]);
  }
  index(i: number): Loc {
    return new Loc(`${this.path}[${i}]`, [...this.segs, i]);
  }
  /** A path step with no YAML counterpart (the spec's flattened policy item). */
  alias(k: string): Loc {
    return new Loc(this.path ? `${this.path}.${k}` : k, this.segs);
  }
}

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const has = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') {
    const keys = Object.keys(v as Obj);
    if (keys.length === 1 && keys[0]!.startsWith('get_')) return `the function ${keys[0]} (intrinsic functions are not resolved here)`;
    return 'a map';
  }
  if (typeof v === 'string') return `'${v}' (a string)`;
  return String(v);
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 8)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

class Ctx {
  readonly warnings: string[] = [];
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  fail(loc: Loc, code: ToscaErrorCode, what: string, hint?: string): never {
    const pos = this.position(loc.segs);
    const where = loc.path || '(document)';
    const message = `${what} at ${where}${pos ? ` (line ${pos.line})` : ''}${hint ? `: ${hint}` : ''}`;
    throw new ToscaError(message, loc.path, code, pos?.line, pos?.col);
  }

  private position(segs: readonly Seg[]): { line: number; col: number } | undefined {
    for (let i = segs.length; i >= 0; i--) {
      const node = i === 0 ? this.doc.contents : this.doc.getIn(segs.slice(0, i), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return this.lines.linePos(range[0]);
    }
    return undefined;
  }

  // --- typed reads ---

  map(v: unknown, loc: Loc, what: string): Obj {
    if (v === undefined || v === null) this.fail(loc, 'missing', `missing ${what}`);
    if (!isMap(v)) this.fail(loc, 'structure', `${what} must be a map, got ${describe(v)}`);
    return v;
  }

  optMap(o: Obj, k: string, loc: Loc, what: string): Obj | undefined {
    if (!has(o, k) || o[k] === null) return undefined;
    return this.map(o[k], loc.key(k), what);
  }

  string(v: unknown, loc: Loc, what: string): string {
    if (v === undefined || v === null) this.fail(loc, 'missing', `missing ${what}`);
    if (typeof v !== 'string' || v === '') this.fail(loc, 'invalid', `${what} must be a non-empty string, got ${describe(v)}`);
    return v;
  }

  optString(o: Obj, k: string, loc: Loc, what: string): string | undefined {
    if (!has(o, k) || o[k] === null) return undefined;
    return this.string(o[k], loc.key(k), what);
  }

  integer(v: unknown, loc: Loc, what: string, min = 0): number {
    if (v === undefined || v === null) this.fail(loc, 'missing', `missing required ${what}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      const kind = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
      this.fail(loc, 'invalid', `${what} must be ${kind}, got ${describe(v)}`);
    }
    return v;
  }

  number(v: unknown, loc: Loc, what: string): number {
    if (v === undefined || v === null) this.fail(loc, 'missing', `missing required ${what}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(loc, 'invalid', `${what} must be a number, got ${describe(v)}`);
    return v;
  }

  /** A list of names; a lone string is taken as a list of one. */
  names(v: unknown, loc: Loc, what: string): string[] {
    if (v === undefined || v === null) this.fail(loc, 'missing', `missing required ${what}`);
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list)) this.fail(loc, 'invalid', `${what} must be a list of names, got ${describe(v)}`);
    if (list.length === 0) this.fail(loc, 'invalid', `${what} must not be empty`);
    return list.map((n, i) => this.string(n, typeof v === 'string' ? loc : loc.index(i), `each of ${what}`));
  }

  /**
   * A field some templates put in the policy body and others in its properties (targets, driver).
   * Both places agreeing is fine; disagreeing is an error.
   */
  either(
    body: Obj,
    props: Obj | undefined,
    k: string,
    loc: Loc,
    same: (a: unknown, b: unknown) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b),
  ): { value: unknown; loc: Loc } | undefined {
    const outer = has(body, k) && body[k] !== null ? { value: body[k], loc: loc.key(k) } : undefined;
    const inner = props && has(props, k) && props[k] !== null ? { value: props[k], loc: loc.key('properties').key(k) } : undefined;
    if (outer && inner && !same(outer.value, inner.value)) {
      this.fail(inner.loc, 'invalid', `${k} is given twice and differently`, `${loc.key(k).path} says ${JSON.stringify(outer.value)}, this says ${JSON.stringify(inner.value)}`);
    }
    return outer ?? inner;
  }
}

// ---------------------------------------------------------------------------------------------
// Ingestion

interface VduNode {
  name: string;
  loc: Loc;
  props: NovaServerProperties;
  compute?: Profile['compute'];
  cps: CpNode[];
}
interface CpNode {
  name: string;
  loc: Loc;
  order?: number;
  link: { node: string; loc: Loc };
  binding: { node: string; loc: Loc };
}
interface VlNode {
  name: string;
  networkName: string;
}
interface PolicyEntry {
  name: string;
  type: string;
  body: Obj;
  loc: Loc;
}

export function ingestTemplate(text: string, opts: { name?: string } = {}): Ingested {
  if (typeof text !== 'string') throw new TypeError('ingestTemplate: text must be a string');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '')) throw new TypeError('ingestTemplate: opts.name must be a non-empty string');
  const named = (n: string) => (opts.name ? `${opts.name}_${n}` : n);

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new ToscaError(`YAML syntax error at line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`, '', 'yaml', pos.line, pos.col);
  }
  const ctx: Ctx = new Ctx(doc, lines); // annotated so its never-returning fail() narrows
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ToscaError(`YAML could not be read: ${(e as Error).message}`, '', 'yaml');
  }
  const top = ctx.map(root, Loc.root, 'the template');

  // --- version ---
  const vLoc = Loc.root.key('tosca_definitions_version');
  const version = top.tosca_definitions_version;
  if (version === undefined || version === null) ctx.fail(vLoc, 'version', 'missing tosca_definitions_version', `accepted: ${ACCEPTED_VERSIONS.join(', ')}`);
  if (!(ACCEPTED_VERSIONS as readonly unknown[]).includes(version)) {
    ctx.fail(vLoc, 'version', `tosca_definitions_version ${describe(version)} is not accepted`, `accepted: ${ACCEPTED_VERSIONS.join(', ')} (Tacker's VNFD profile)`);
  }

  const ttLoc = Loc.root.key('topology_template');
  const tt = ctx.map(top.topology_template, ttLoc, 'topology_template');
  const ntLoc = ttLoc.key('node_templates');
  const nts = ctx.map(tt.node_templates, ntLoc, 'node_templates');

  // --- node templates ---
  const vdus = new Map<string, VduNode>();
  const cps: CpNode[] = [];
  const vls = new Map<string, VlNode>();
  const kinds = new Map<string, NodeType>();
  for (const [name, raw] of Object.entries(nts)) {
    const loc = ntLoc.key(name);
    const nt = ctx.map(raw, loc, `node template ${name}`);
    const type = ctx.string(nt.type, loc.key('type'), `type of node template ${name}`);
    if (!(NODE_TYPES as readonly string[]).includes(type)) {
      const near = closest(type, NODE_TYPES);
      ctx.fail(loc.key('type'), 'unknown-type', `unknown node type '${type}'`, `${near ? `did you mean '${near}'? ` : ''}accepted: ${NODE_TYPES.join(', ')}`);
    }
    kinds.set(name, type as NodeType);
    const props = ctx.optMap(nt, 'properties', loc, `properties of ${name}`) ?? {};
    const pLoc = loc.key('properties');
    if (type === VDU) vdus.set(name, readVdu(ctx, name, loc, nt, props));
    else if (type === CP) cps.push(readCp(ctx, name, loc, nt, props));
    else vls.set(name, { name, networkName: ctx.string(props.network_name, pLoc.key('network_name'), `network_name of VL ${name}`) });
    if (type === VL) ctx.optString(props, 'vendor', pLoc, `vendor of VL ${name}`);
  }

  // --- CP references, once every node template is known ---
  const kindOf = (n: string) => kinds.get(n) ?? 'nothing';
  for (const cp of cps) {
    if (!vls.has(cp.link.node)) ctx.fail(cp.link.loc, 'reference', `virtualLink of ${cp.name} names '${cp.link.node}', which is ${article(kindOf(cp.link.node))}, not a ${VL}`);
    const vdu = vdus.get(cp.binding.node);
    if (!vdu) ctx.fail(cp.binding.loc, 'reference', `virtualBinding of ${cp.name} names '${cp.binding.node}', which is ${article(kindOf(cp.binding.node))}, not a ${VDU}`);
    vdu.cps.push(cp);
  }
  for (const vdu of vdus.values()) {
    // Tacker's CP `order` (commit cf7f677f) fixes the NIC order; CPs without it follow, in template order.
    const seen = new Map<number, string>();
    for (const cp of vdu.cps) {
      if (cp.order === undefined) continue;
      const other = seen.get(cp.order);
      if (other) ctx.fail(cp.loc.key('properties').key('order'), 'invalid', `order ${cp.order} of ${cp.name} is also the order of ${other}, both bound to ${vdu.name}`);
      seen.set(cp.order, cp.name);
    }
    const ordered = vdu.cps.map((cp, i) => ({ cp, i })).sort((a, b) => (a.cp.order ?? Infinity) - (b.cp.order ?? Infinity) || a.i - b.i);
    vdu.props.networks = ordered.map(({ cp }) => ({ network: vls.get(cp.link.node)!.networkName }));
  }

  // --- policies ---
  const polLoc = ttLoc.key('policies');
  if (tt.policies === undefined || tt.policies === null) ctx.fail(polLoc, 'missing', 'missing policies', `a ${SCALING_TYPES[0]} policy with driver Senlin is required`);
  if (!Array.isArray(tt.policies)) ctx.fail(polLoc, 'structure', `policies must be a list of single-key maps, got ${describe(tt.policies)}`);
  const entries: PolicyEntry[] = [];
  const byName = new Map<string, PolicyEntry>();
  tt.policies.forEach((item, i) => {
    const e = policyEntry(ctx, item, polLoc.index(i));
    const prev = byName.get(e.name);
    if (prev) ctx.fail(e.loc, 'invalid', `policy name '${e.name}' is used twice`, `first at ${prev.loc.path}`);
    byName.set(e.name, e);
    entries.push(e);
  });

  const scaling = entries.filter((e) => SCALING_TYPES.includes(e.type));
  if (scaling.length === 0) ctx.fail(polLoc, 'missing', `no ${SCALING_TYPES[0]} policy`, 'one with driver Senlin is required');
  if (scaling.length > 1) {
    ctx.fail(scaling[1]!.loc, 'unsupported', `a second scaling policy '${scaling[1]!.name}'`, `one template makes one Senlin cluster; '${scaling[0]!.name}' is the first`);
  }
  const sp = scaling[0]!;
  const spProps = ctx.optMap(sp.body, 'properties', sp.loc, `properties of ${sp.name}`);
  const sppLoc = sp.loc.key('properties');

  // The spec puts `driver` beside type/targets; accept it in properties too.
  const driverKey = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);
  const driver = ctx.either(sp.body, spProps, 'driver', sp.loc, (a, b) => driverKey(a) === driverKey(b));
  if (!driver) ctx.fail(sp.loc.key('driver'), 'missing', `scaling policy ${sp.name} has no driver`, "this module ingests driver: Senlin (no driver means Tacker's Heat AutoScalingGroup)");
  const driverName = ctx.string(driver.value, driver.loc, `driver of ${sp.name}`);
  if (driverKey(driverName) !== 'senlin') ctx.fail(driver.loc, 'unsupported', `driver '${driverName}' of ${sp.name} is not Senlin`, 'only Senlin-driven scaling is ingested');

  if (!spProps) ctx.fail(sppLoc, 'missing', `scaling policy ${sp.name} has no properties`, 'min_instances, max_instances, default_instances and increment are required');
  const min = ctx.integer(spProps.min_instances, sppLoc.key('min_instances'), 'min_instances');
  const max = ctx.integer(spProps.max_instances, sppLoc.key('max_instances'), 'max_instances');
  const desired = ctx.integer(spProps.default_instances, sppLoc.key('default_instances'), 'default_instances');
  const increment = ctx.integer(spProps.increment, sppLoc.key('increment'), 'increment', 1);
  const cooldown = spProps.cooldown === undefined || spProps.cooldown === null ? DEFAULT_COOLDOWN : ctx.integer(spProps.cooldown, sppLoc.key('cooldown'), 'cooldown');
  if (min > max) ctx.fail(sppLoc.key('min_instances'), 'range', `min_instances ${min} is greater than max_instances ${max}`);
  if (desired < min || desired > max) ctx.fail(sppLoc.key('default_instances'), 'range', `default_instances ${desired} is outside [min_instances ${min}, max_instances ${max}]`);

  // targets: beside type in the spec and in Tacker's 2017 samples, in properties in defs and later samples.
  const targets = ctx.either(sp.body, spProps, 'targets', sp.loc);
  if (!targets) ctx.fail(sppLoc.key('targets'), 'missing', `missing required targets of ${sp.name}`);
  const targetNames = ctx.names(targets.value, targets.loc, `targets of ${sp.name}`);
  targetNames.forEach((t, i) => {
    if (!vdus.has(t)) {
      const tLoc = typeof targets.value === 'string' ? targets.loc : targets.loc.index(i);
      ctx.fail(tLoc, 'reference', `target '${t}' of ${sp.name} names ${article(kindOf(t))}, not a ${VDU}`);
    }
  });
  const uniqueTargets = [...new Set(targetNames)];
  if (uniqueTargets.length > 1) {
    ctx.fail(targets.loc, 'unsupported', `${sp.name} targets ${uniqueTargets.length} VDUs (${uniqueTargets.join(', ')})`, 'a Senlin os.nova.server profile makes one server per node, so one cluster scales one VDU');
  }
  const vdu = vdus.get(uniqueTargets[0]!)!;
  const others = [...vdus.keys()].filter((n) => n !== vdu.name);
  if (others.length > 0) ctx.warnings.push(`VDUs not targeted by ${sp.name} are not part of the Senlin cluster and not ingested: ${others.join(', ')}`);
  if (vdu.props.networks.length === 0) ctx.warnings.push(`${vdu.name} has no connection point; its profile lists no networks`);

  // --- Senlin objects ---
  const profile: Profile = {
    name: named(`${vdu.name}_profile`),
    type: 'os.nova.server-1.0',
    spec: { type: 'os.nova.server', version: '1.0', properties: vdu.props },
    ...(vdu.compute ? { compute: vdu.compute } : {}),
  };
  const cluster: Cluster = { name: named(`${vdu.name}_cluster`), profile: profile.name, minSize: min, maxSize: max, desiredCapacity: desired };
  const policy = (dir: 'out' | 'in'): ScalingPolicy => ({
    name: named(`${sp.name}_scale_${dir}`),
    type: 'senlin.policy.scaling-1.0',
    cluster: cluster.name,
    spec: {
      type: 'senlin.policy.scaling',
      version: '1.0',
      properties: { event: dir === 'out' ? 'CLUSTER_SCALE_OUT' : 'CLUSTER_SCALE_IN', adjustment: { type: 'CHANGE_IN_CAPACITY', number: increment, cooldown } },
    },
  });
  const receiver = (dir: 'out' | 'in'): Receiver => ({
    name: named(`${sp.name}_scale_${dir}_receiver`),
    type: 'webhook',
    cluster: cluster.name,
    action: dir === 'out' ? 'CLUSTER_SCALE_OUT' : 'CLUSTER_SCALE_IN',
  });
  const receivers: [Receiver, Receiver] = [receiver('out'), receiver('in')];

  // --- alarms ---
  const alarms: Alarm[] = [];
  const triggerSeen = new Map<string, Loc>();
  for (const ap of entries.filter((e) => ALARMING_TYPES.includes(e.type))) {
    const trLoc = ap.loc.key('triggers');
    const triggers = ctx.map(ap.body.triggers, trLoc, `triggers of ${ap.name}`);
    for (const [tname, raw] of Object.entries(triggers)) {
      const tLoc = trLoc.key(tname);
      const prev = triggerSeen.get(tname);
      if (prev) ctx.fail(tLoc, 'invalid', `trigger name '${tname}' is used twice`, `first at ${prev.path}; alarm names are made of trigger names`);
      triggerSeen.set(tname, tLoc);
      alarms.push(readTrigger(ctx, tname, tLoc, ctx.map(raw, tLoc, `trigger ${tname}`), { sp, byName, receivers, name: named(`${tname}_alarm`) }));
    }
  }
  for (const r of receivers) {
    if (!alarms.some((a) => a.alarmActions.includes(r.name))) ctx.warnings.push(`no alarm drives ${r.action}: receiver ${r.name} fires only when called by hand`);
  }

  return { profile, cluster, policies: [policy('out'), policy('in')], receivers, alarms, warnings: ctx.warnings };
}

function article(kind: string): string {
  return kind === 'nothing' ? 'no node template' : `a ${kind}`;
}

function readVdu(ctx: Ctx, name: string, loc: Loc, nt: Obj, props: Obj): VduNode {
  const pLoc = loc.key('properties');
  const out: NovaServerProperties = { networks: [] };
  const flavor = ctx.optString(props, 'flavor', pLoc, `flavor of ${name}`);
  const image = ctx.optString(props, 'image', pLoc, `image of ${name}`);
  if (flavor !== undefined) out.flavor = flavor;
  if (image !== undefined) out.image = image;
  for (const k of ['availability_zone', 'key_name', 'user_data'] as const) {
    const v = ctx.optString(props, k, pLoc, `${k} of ${name}`);
    if (v !== undefined) out[k] = v;
  }
  if (has(props, 'config_drive') && props.config_drive !== null) {
    if (typeof props.config_drive !== 'boolean') ctx.fail(pLoc.key('config_drive'), 'invalid', `config_drive of ${name} must be true or false, got ${describe(props.config_drive)}`);
    out.config_drive = props.config_drive;
  }
  const md = ctx.optMap(props, 'metadata', pLoc, `metadata of ${name}`);
  if (md) {
    out.metadata = {};
    for (const [k, v] of Object.entries(md)) out.metadata[k] = ctx.string(v, pLoc.key('metadata').key(k), `metadata ${k} of ${name}`);
  }

  // capabilities.nfv_compute.properties (tosca.datatypes.compute_properties); Tacker makes a
  // flavor of them when `flavor` is absent (tacker/tosca/utils.py get_flavor_dict).
  let compute: Profile['compute'];
  const caps = ctx.optMap(nt, 'capabilities', loc, `capabilities of ${name}`);
  const nc = caps && ctx.optMap(caps, 'nfv_compute', loc.key('capabilities'), `nfv_compute of ${name}`);
  if (nc) {
    const ncLoc = loc.key('capabilities').key('nfv_compute');
    const ncp = ctx.optMap(nc, 'properties', ncLoc, `nfv_compute properties of ${name}`) ?? {};
    const ncpLoc = ncLoc.key('properties');
    compute = {};
    if (has(ncp, 'num_cpus') && ncp.num_cpus !== null) compute.numCpus = ctx.integer(ncp.num_cpus, ncpLoc.key('num_cpus'), `num_cpus of ${name}`, 1);
    for (const [k, field] of [['mem_size', 'memSize'], ['disk_size', 'diskSize']] as const) {
      const v = ctx.optString(ncp, k, ncpLoc, `${k} of ${name}`);
      if (v === undefined) continue;
      if (!SIZE.test(v.trim())) ctx.fail(ncpLoc.key(k), 'invalid', `${k} of ${name} must be a size like '512 MB', got '${v}'`);
      compute[field] = v;
    }
  }
  if (out.flavor === undefined && compute === undefined) {
    ctx.fail(pLoc.key('flavor'), 'missing', `VDU ${name} has neither a flavor nor capabilities.nfv_compute`, 'the server needs a size');
  }
  return { name, loc, props: out, ...(compute ? { compute } : {}), cps: [] };
}

function readCp(ctx: Ctx, name: string, loc: Loc, nt: Obj, props: Obj): CpNode {
  const pLoc = loc.key('properties');
  let order: number | undefined;
  if (has(props, 'order') && props.order !== null) order = ctx.integer(props.order, pLoc.key('order'), `order of ${name}`);
  const rLoc = loc.key('requirements');
  const reqs = nt.requirements;
  if (reqs === undefined || reqs === null) ctx.fail(rLoc, 'missing', `CP ${name} has no requirements`, 'virtualLink and virtualBinding are required');
  if (!Array.isArray(reqs)) ctx.fail(rLoc, 'structure', `requirements of ${name} must be a list, got ${describe(reqs)}`);
  const found: Partial<Record<'virtualLink' | 'virtualBinding', { node: string; loc: Loc }>> = {};
  reqs.forEach((r, i) => {
    const iLoc = rLoc.index(i);
    const req = ctx.map(r, iLoc, `requirement ${i} of ${name}`);
    const keys = Object.keys(req);
    if (keys.length !== 1) ctx.fail(iLoc, 'structure', `each requirement of ${name} must be a single-key map, got keys ${keys.join(', ') || '(none)'}`);
    const k = keys[0]!;
    if (k !== 'virtualLink' && k !== 'virtualBinding') ctx.fail(iLoc.key(k), 'invalid', `unknown requirement '${k}' of CP ${name}`, 'a CP has virtualLink and virtualBinding');
    if (found[k]) ctx.fail(iLoc.key(k), 'invalid', `${k} of ${name} is given twice`);
    const v = req[k];
    // `- virtualLink: VL1` (short form) or `- virtualLink: {node: VL1}`.
    if (typeof v === 'string') found[k] = { node: ctx.string(v, iLoc.key(k), `${k} of ${name}`), loc: iLoc.key(k) };
    else {
      const m = ctx.map(v, iLoc.key(k), `${k} of ${name}`);
      found[k] = { node: ctx.string(m.node, iLoc.key(k).key('node'), `${k}.node of ${name}`), loc: iLoc.key(k).key('node') };
    }
  });
  if (!found.virtualLink) ctx.fail(rLoc, 'missing', `CP ${name} has no virtualLink requirement`);
  if (!found.virtualBinding) ctx.fail(rLoc, 'missing', `CP ${name} has no virtualBinding requirement`);
  return { name, loc, ...(order !== undefined ? { order } : {}), link: found.virtualLink, binding: found.virtualBinding };
}

function policyEntry(ctx: Ctx, item: unknown, loc: Loc): PolicyEntry {
  const m = ctx.map(item, loc, 'each policy');
  const keys = Object.keys(m);
  let name: string;
  let body: Obj;
  let bLoc: Loc;
  if (keys.length === 1) {
    name = keys[0]!;
    bLoc = loc.key(name);
    body = ctx.map(m[name], bLoc, `policy ${name}`);
  } else {
    // The spec's example indents `type:` level with the policy name, so YAML reads one flat map
    // {cluster_scaling: null, type: ..., driver: ...}. Read it as meant, and say so.
    const nameless = keys.filter((k) => m[k] === null && !POLICY_FIELDS.has(k));
    if (!(nameless.length === 1 && has(m, 'type'))) {
      ctx.fail(loc, 'structure', 'each policy must be a single-key map {name: {type: ..., ...}}', `got keys ${keys.join(', ') || '(none)'}`);
    }
    name = nameless[0]!;
    body = Object.fromEntries(keys.filter((k) => k !== name).map((k) => [k, m[k]]));
    bLoc = loc.alias(name);
    ctx.warnings.push(`${bLoc.path}: the fields of policy '${name}' are indented level with its name (as in the spec's example); read as its body`);
  }
  const type = ctx.string(body.type, bLoc.key('type'), `type of policy ${name}`);
  if (!POLICY_TYPES.includes(type)) {
    const near = closest(type, POLICY_TYPES);
    ctx.fail(bLoc.key('type'), 'unknown-type', `unknown policy type '${type}'`, `${near ? `did you mean '${near}'? ` : ''}accepted: ${POLICY_TYPES.join(', ')}`);
  }
  return { name, type, body, loc: bLoc };
}

const CEILOMETER_FIELDS = { meter: ['metrics', 'meter_name'], cond: ['period', 'method'] };
const GNOCCHI_FIELDS = { meter: ['metric'], cond: ['granularity', 'aggregation_method', 'resource_type'] };

/**
 * One Alarming trigger -> one Aodh alarm. Field by field (source tags as in the file header):
 *   metrics                          -> meter             spec, tk2016 (translate_template: meter_name = metrics)
 *   meter_name                       -> meter             tk2017 (heat-translator reads trigger.meter_name)
 *   metric                           -> meter             gnocchi
 *   condition.period                 -> period            spec, tk2016, tk2017
 *   condition.granularity            -> period            gnocchi
 *   condition.method                 -> statistic         spec/tk2016 pass avg.. through; tk2017 maps average->avg ..
 *   condition.aggregation_method     -> statistic         gnocchi (heat-translator ALARM_STATISTIC)
 *   condition.evaluations            -> evaluationPeriods all (evaluation_periods)
 *   condition.threshold              -> threshold         all
 *   condition.comparison_operator    -> comparisonOperator, and the receiver: tk2016 monitor.py (gt -> out)
 *   condition.constraint             -> description       tk2016, tk2017, gnocchi (description = constraint)
 *   condition.resource_type          -> resourceType      gnocchi (default instance)
 *   metadata                         -> metadata          tk2016 (matched against metering.vnf)
 *   actions | action                 -> alarmActions      spec/tk2016 `actions`; tk2017/gnocchi `action`
 *   (none)                           -> repeatActions     spec's HOT and ht: repeat_actions True
 */
function readTrigger(
  ctx: Ctx,
  tname: string,
  loc: Loc,
  tr: Obj,
  env: { sp: PolicyEntry; byName: Map<string, PolicyEntry>; receivers: [Receiver, Receiver]; name: string },
): Alarm {
  const cLoc = loc.key('condition');
  const cond = ctx.map(tr.condition, cLoc, `condition of trigger ${tname}`);
  const et = ctx.map(tr.event_type, loc.key('event_type'), `event_type of trigger ${tname}`); // defs: required
  ctx.string(et.type, loc.key('event_type').key('type'), `event_type.type of trigger ${tname}`);

  // Which form: tk2016/tk2017 (Ceilometer) or gnocchi. Mixing them leaves one side unread, so refuse.
  const present = (o: Obj, ks: string[]) => ks.filter((k) => has(o, k) && o[k] !== null);
  const ceil = [...present(tr, CEILOMETER_FIELDS.meter), ...present(cond, CEILOMETER_FIELDS.cond)];
  const gno = [...present(tr, GNOCCHI_FIELDS.meter), ...present(cond, GNOCCHI_FIELDS.cond)];
  if (ceil.length > 0 && gno.length > 0) {
    ctx.fail(loc, 'invalid', `trigger ${tname} mixes the Ceilometer form (${ceil.join(', ')}) and the Gnocchi form (${gno.join(', ')})`);
  }
  const form: Alarm['form'] = gno.length > 0 ? 'gnocchi' : 'ceilometer';

  let meter: string;
  if (form === 'gnocchi') meter = ctx.string(tr.metric, loc.key('metric'), `metric of trigger ${tname}`);
  else {
    const ms = present(tr, CEILOMETER_FIELDS.meter);
    if (ms.length === 0) ctx.fail(loc.key('metric'), 'missing', `trigger ${tname} has no metric`, 'give metric (Gnocchi form), or meter_name or metrics (Ceilometer form)');
    if (ms.length > 1 && tr.metrics !== tr.meter_name) ctx.fail(loc.key('meter_name'), 'invalid', `trigger ${tname} gives both metrics and meter_name, differently`);
    meter = ctx.string(tr[ms[0]!], loc.key(ms[0]!), `${ms[0]} of trigger ${tname}`);
  }

  const periodKey = form === 'gnocchi' ? 'granularity' : 'period';
  const period = ctx.integer(cond[periodKey], cLoc.key(periodKey), `${periodKey} of trigger ${tname}`, 1);
  const statKey = form === 'gnocchi' ? 'aggregation_method' : 'method';
  const table = form === 'gnocchi' ? GNOCCHI_AGGREGATION : CEILOMETER_STATISTIC;
  const statRaw = ctx.string(cond[statKey], cLoc.key(statKey), `${statKey} of trigger ${tname}`);
  const statistic = has(table, statRaw) ? table[statRaw]! : ctx.fail(cLoc.key(statKey), 'invalid', `${statKey} '${statRaw}' of trigger ${tname} is not known`, `accepted: ${Object.keys(table).join(', ')}`);
  const evaluationPeriods = ctx.integer(cond.evaluations, cLoc.key('evaluations'), `evaluations of trigger ${tname}`, 1);
  const threshold = ctx.number(cond.threshold, cLoc.key('threshold'), `threshold of trigger ${tname}`);
  const opRaw = ctx.string(cond.comparison_operator, cLoc.key('comparison_operator'), `comparison_operator of trigger ${tname}`);
  if (!has(DIRECTION, opRaw)) ctx.fail(cLoc.key('comparison_operator'), 'invalid', `comparison_operator '${opRaw}' of trigger ${tname} is not an Aodh operator`, `accepted: ${Object.keys(DIRECTION).join(', ')}`);
  const dir = DIRECTION[opRaw];
  if (!dir) ctx.fail(cLoc.key('comparison_operator'), 'unsupported', `comparison_operator '${opRaw}' of trigger ${tname} says neither scale out nor in`, 'gt/ge scale out, lt/le scale in');
  const description = ctx.optString(cond, 'constraint', cLoc, `constraint of trigger ${tname}`);
  const resourceType = form === 'gnocchi' ? (ctx.optString(cond, 'resource_type', cLoc, `resource_type of trigger ${tname}`) ?? 'instance') : undefined;
  const metadata = ctx.optString(tr, 'metadata', loc, `metadata of trigger ${tname}`);

  // tk2016 and the spec say `actions`; tk2017/gnocchi samples say `action`.
  const aKeys = present(tr, ['action', 'actions']);
  if (aKeys.length === 0) ctx.fail(loc.key('action'), 'missing', `trigger ${tname} has no action`, `name the scaling policy ${env.sp.name}`);
  if (aKeys.length > 1 && JSON.stringify(tr.action) !== JSON.stringify(tr.actions)) ctx.fail(loc.key('actions'), 'invalid', `trigger ${tname} gives both action and actions, differently`);
  const aLoc = loc.key(aKeys[0]!);
  const actions = ctx.names(tr[aKeys[0]!], aLoc, `${aKeys[0]} of trigger ${tname}`);
  actions.forEach((a, i) => {
    const at = Array.isArray(tr[aKeys[0]!]) ? aLoc.index(i) : aLoc;
    const p = env.byName.get(a);
    if (!p) ctx.fail(at, 'reference', `action '${a}' of trigger ${tname} names no scaling policy`, `the scaling policy is ${env.sp.name}; Tacker's respawn/log/log_and_kill actions are not ingested`);
    if (p !== env.sp) ctx.fail(at, 'reference', `action '${a}' of trigger ${tname} names a ${p.type} policy, not a scaling policy`, `the scaling policy is ${env.sp.name}`);
  });
  const rcv = env.receivers[dir === 'out' ? 0 : 1];

  return {
    name: env.name,
    form,
    meter,
    statistic,
    period,
    evaluationPeriods,
    threshold,
    comparisonOperator: opRaw as ComparisonOperator,
    repeatActions: true, // spec's HOT and ht both set repeat_actions True; TOSCA has no field for it
    alarmActions: [rcv.name],
    ...(description !== undefined ? { description } : {}),
    ...(resourceType !== undefined ? { resourceType } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}
