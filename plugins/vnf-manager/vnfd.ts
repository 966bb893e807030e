/**
 * A VNFD (TOSCA) read into the normalized descriptor the VNF manager works with: identity,
 * deployment flavour, VDUs with their instance bounds, connection points and virtual links, and
 * scaling aspects with per-step deltas. Pure: text in, plain data out; no I/O, no datastore.
 *
 * Two forms are read:
 *  - SOL001 (tosca_simple_yaml_1_2 / 1_3), as ETSI GS NFV-SOL 001 defines the VNFD in its
 *    clause 6 type definitions: node types (tosca.nodes.nfv.VNF, Vdu.Compute,
 *    Vdu.VirtualBlockStorage, VduCp, VnfVirtualLink) and policy types (ScalingAspects,
 *    VduScalingAspectDeltas, VduInitialDelta, InstantiationLevels, VduInstantiationLevels);
 *    a deployment flavour is a topology template whose substitution_mappings names the VNF node
 *    type. The multi-file layout is Tacker's: a top file, a types file deriving the VNF node
 *    type whose property definitions carry the identity as `default`/`valid_values`, and one
 *    file per flavour. The ETSI type files themselves (etsi_nfv_sol001_*.yaml) are not needed:
 *    the tosca.nodes.nfv.* names are known here, and an import not in the package is left alone.
 *  - Tacker's legacy profile (tosca_simple_profile_for_nfv_1_0_0): tosca.nodes.nfv.VDU.Tacker,
 *    CP.Tacker (virtualLink/virtualBinding), VL (network_name), tosca.policies.tacker.Scaling
 *    (increment, min/max/default_instances, targets beside type or in properties).
 *
 * Sources of the facts below (read, not copied):
 *  - Tacker v2 sample packages, tacker/tests/functional/sol_v2_common/samples/:
 *    basic_lcms_min/contents/Definitions/v2_sample2_df_simple.yaml (a flavour file: VDU, CP, VL
 *    and policy shapes, a VNF node template beside substitution_mappings, the flavor name in
 *    requested_additional_capability_name); server_notification/contents/Definitions/
 *    v2_sample2_types.yaml (the VNF node type with default + valid_values);
 *    scale_ng/contents/Definitions/v2_sample1_top.vnfd.yaml (a top file importing ETSI's files,
 *    the types and the flavour file; its VNF template gives flavour_id as a get_input).
 *  - Legacy: plugins/autoscaling/tosca.ts of this repository (its header lists the Tacker
 *    definitions and samples it was read from).
 */
import { LineCounter, isMap as isYamlMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';

// ---------------------------------------------------------------------------------------------
// Result

export interface VnfdVdu {
  id: string;
  name: string;
  min: number;
  max: number;
  initial: number;
  /** CP node template ids bound to this VDU, template order. */
  cps: string[];
  /** VL ids this VDU's CPs link to, first-seen order, each once. */
  virtualLinks: string[];
  image?: string;
  flavor?: string;
}

export interface VnfdAspect {
  id: string;
  name: string;
  maxScaleLevel: number;
  /** per VDU, the number of instances added by step i (index 0 = step 1) */
  deltas: Record<string, number[]>;
}

export interface Vnfd {
  form: 'sol001' | 'tacker-legacy';
  vnfdId: string;
  provider: string;
  productName: string;
  softwareVersion: string;
  vnfdVersion: string;
  /** SOL001 flavour_id; legacy: 'default'. */
  flavourId: string;
  /** Template order. */
  vdus: VnfdVdu[];
  /** network: legacy VL properties.network_name; SOL001: properties.name or vl_profile.name, else the VL's id. */
  virtualLinks: { id: string; network: string }[];
  aspects: VnfdAspect[];
}

export class VnfdError extends Error {
  override readonly name = 'VnfdError';
  /** Package file the failure is in (absent for a single text given to parseVnfd). */
  readonly file?: string;
  /** 1-based line in that file, where the failure has a place. */
  readonly line?: number;
  constructor(message: string, where: { file?: string; line?: number } = {}) {
    super(message);
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const SOL001_VERSIONS = ['tosca_simple_yaml_1_2', 'tosca_simple_yaml_1_3'];
const LEGACY_VERSIONS = ['tosca_simple_profile_for_nfv_1_0_0'];
const VERSIONS = [...SOL001_VERSIONS, ...LEGACY_VERSIONS];

const VNF = 'tosca.nodes.nfv.VNF';
const VDU_COMPUTE = 'tosca.nodes.nfv.Vdu.Compute';
const VDU_STORAGE = 'tosca.nodes.nfv.Vdu.VirtualBlockStorage';
const VDU_CP = 'tosca.nodes.nfv.VduCp';
const VNF_VL = 'tosca.nodes.nfv.VnfVirtualLink';
const SCALING_ASPECTS = 'tosca.policies.nfv.ScalingAspects';
const ASPECT_DELTAS = 'tosca.policies.nfv.VduScalingAspectDeltas';
const INITIAL_DELTA = 'tosca.policies.nfv.VduInitialDelta';
// Every other policy type (InstantiationLevels, VduInstantiationLevels, affinity rules, ...) is
// valid SOL001 this reader does not need, and is passed over.

const LEGACY_VDU = 'tosca.nodes.nfv.VDU.Tacker';
const LEGACY_CP = 'tosca.nodes.nfv.CP.Tacker';
const LEGACY_VL = 'tosca.nodes.nfv.VL';
// Tacker's definitions spell it lowercase; its Senlin spec writes Tacker.Scaling.
const LEGACY_SCALING = ['tosca.policies.tacker.Scaling', 'tosca.policies.Tacker.Scaling'];

/** The VNF node's identity properties, SOL001 clause 6.8 tosca.nodes.nfv.VNF (all required). */
const IDENTITY = ['descriptor_id', 'provider', 'product_name', 'software_version', 'descriptor_version', 'flavour_id'] as const;

// ---------------------------------------------------------------------------------------------
// Places and failures

type Obj = Record<string, unknown>;
type Seg = string | number;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const present = (v: unknown) => v !== undefined && v !== null;

/** One parsed file of the package. */
interface Source {
  file: string | undefined;
  doc: Document;
  lines: LineCounter;
  top: Obj;
}

/** A place in one file: what failures point at. */
interface At {
  src: Source;
  segs: readonly Seg[];
}
const at = (a: At, ...more: Seg[]): At => ({ src: a.src, segs: [...a.segs, ...more] });

function lineOf(a: At): number | undefined {
  const { doc, lines } = a.src;
  for (let n = a.segs.length; n > 0; n--) {
    // The key's line, not its value's: `VDU1:` rather than the `type:` under it.
    const parent = n === 1 ? doc.contents : doc.getIn(a.segs.slice(0, n - 1), true);
    const last = a.segs[n - 1];
    let range: readonly number[] | null | undefined;
    if (isYamlMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    } else if (isSeq(parent) && typeof last === 'number') {
      range = (parent.items[last] as { range?: readonly number[] } | undefined)?.range;
    }
    if (range) return lines.linePos(range[0]!).line;
  }
  return undefined;
}

/** `Definitions/x.yaml line 12`, or `line 12` for a lone text; what is known of the two. */
function placeText(a: At | Source): string {
  const src = 'src' in a ? a.src : a;
  const line = 'src' in a ? lineOf(a) : undefined;
  return [src.file, line === undefined ? undefined : `line ${line}`].filter((x) => x !== undefined).join(' ');
}
function place(a: At | Source): string {
  const text = placeText(a);
  return text === '' ? '' : ` (${text})`;
}

function fail(a: At | Source, what: string): never {
  const src = 'src' in a ? a.src : a;
  const line = 'src' in a ? lineOf(a) : undefined;
  throw new VnfdError(`${what}${place(a)}`, { ...(src.file !== undefined ? { file: src.file } : {}), ...(line !== undefined ? { line } : {}) });
}

function show(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isObj(v)) {
    const k = Object.keys(v);
    return k.length === 1 && k[0]!.startsWith('get_') ? `the function ${k[0]}` : 'a map';
  }
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function obj(v: unknown, a: At, what: string): Obj {
  if (!isObj(v)) fail(a, `${what} must be a map, got ${show(v)}`);
  return v;
}
const optObj = (v: unknown, a: At, what: string): Obj | undefined => (present(v) ? obj(v, a, what) : undefined);

function str(v: unknown, a: At, what: string): string {
  if (typeof v !== 'string' || v === '') fail(a, `${what} must be a non-empty string, got ${show(v)}`);
  return v;
}

function count(v: unknown, a: At, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    fail(a, `${what} must be ${min === 0 ? 'a non-negative integer' : `an integer >= ${min}`}, got ${show(v)}`);
  }
  return v;
}

/** A list of node names; a lone name is a list of one. */
function names(v: unknown, a: At, what: string): { name: string; at: At }[] {
  if (typeof v === 'string') return [{ name: v, at: a }];
  if (!Array.isArray(v)) fail(a, `${what} must be a list of names, got ${show(v)}`);
  return v.map((n, i) => ({ name: str(n, at(a, i), `each of ${what}`), at: at(a, i) }));
}

// ---------------------------------------------------------------------------------------------
// Loading: the entry file and the package files it imports, merged

interface Named {
  name: string;
  def: Obj;
  at: At;
}
interface Policy extends Named {
  type: string;
}

interface Merged {
  entry: Source;
  nodeTypes: Map<string, Named>;
  /** Templates in file order (entry first, then imports depth-first), template order within. */
  templates: Named[];
  policies: Policy[];
  substitution?: Named;
}

function parseFile(text: string, file: string | undefined, importedBy?: At): Source {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const what = file === undefined ? 'the VNFD' : importedBy ? `${file}, imported${place(importedBy)},` : file;
  const where = file !== undefined ? { file } : {};
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lines.linePos(e.pos[0]).line;
    throw new VnfdError(`${what} is not YAML: ${e.message.split('\n')[0]} (${file === undefined ? '' : `${file} `}line ${line})`, { ...where, line });
  }
  let top: unknown;
  try {
    top = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new VnfdError(`${what} is not YAML that can be read: ${(e as Error).message}`, where);
  }
  const src: Source = { file, doc, lines, top: {} };
  const version = isObj(top) ? top.tosca_definitions_version : undefined;
  if (!present(version)) throw new VnfdError(`${what} is YAML but not TOSCA: it has no tosca_definitions_version`, where);
  src.top = top as Obj;
  if (typeof version !== 'string' || !VERSIONS.includes(version)) {
    fail({ src, segs: ['tosca_definitions_version'] }, `${what} has tosca_definitions_version ${show(version)}, which is not known; accepted: ${VERSIONS.join(', ')}`);
  }
  return src;
}

/** Resolve an import against the importing file's directory; undefined when it cannot be a package file. */
function resolveImport(from: string | undefined, name: string): string | undefined {
  if (name.includes('://') || name.startsWith('/')) return undefined;
  const dir = from === undefined ? [] : from.split('/').slice(0, -1);
  const out = [...dir];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

/** TOSCA imports: `- file.yaml`, `- {file: file.yaml}`, or the 1.0 form `- name: file.yaml` / `- name: {file: ..}`. */
function importNames(src: Source): { name: string; at: At }[] {
  const list = src.top.imports;
  if (!present(list)) return [];
  const a: At = { src, segs: ['imports'] };
  if (!Array.isArray(list)) fail(a, `imports must be a list, got ${show(list)}`);
  return list.map((item, i) => {
    const ia = at(a, i);
    if (typeof item === 'string') return { name: item, at: ia };
    const m = obj(item, ia, 'each import');
    if (typeof m.file === 'string') return { name: m.file, at: ia };
    const keys = Object.keys(m);
    const only = keys.length === 1 ? m[keys[0]!] : undefined;
    if (typeof only === 'string') return { name: only, at: ia };
    if (isObj(only) && typeof only.file === 'string') return { name: only.file, at: ia };
    fail(ia, 'each import must be a file name or a map with a file');
  });
}

function load(entryText: string, entryFile: string | undefined, files?: Map<string, string>): Merged {
  const entry = parseFile(entryText, entryFile);
  const merged: Merged = { entry, nodeTypes: new Map(), templates: [], policies: [] };
  const seenPolicies = new Map<string, Policy>();
  const read = new Set<string>(entryFile === undefined ? [] : [entryFile]);

  const visit = (src: Source) => {
    const base: At = { src, segs: [] };
    for (const [name, def] of Object.entries(optObj(src.top.node_types, at(base, 'node_types'), 'node_types') ?? {})) {
      const a = at(base, 'node_types', name);
      if (!merged.nodeTypes.has(name)) merged.nodeTypes.set(name, { name, def: obj(def, a, `node type ${name}`), at: a });
    }
    const ttAt = at(base, 'topology_template');
    const tt = optObj(src.top.topology_template, ttAt, 'topology_template') ?? {};
    for (const [name, def] of Object.entries(optObj(tt.node_templates, at(ttAt, 'node_templates'), 'node_templates') ?? {})) {
      const a = at(ttAt, 'node_templates', name);
      const t = { name, def: obj(def, a, `node template ${name}`), at: a };
      str(t.def.type, at(a, 'type'), `type of node template ${name}`);
      merged.templates.push(t);
    }
    for (const p of policyList(tt.policies, at(ttAt, 'policies'))) {
      const prev = seenPolicies.get(p.name);
      if (prev) fail(p.at, `policy ${p.name} is defined twice, first at ${placeText(prev.at)}`);
      seenPolicies.set(p.name, p);
      merged.policies.push(p);
    }
    if (present(tt.substitution_mappings) && !merged.substitution) {
      const a = at(ttAt, 'substitution_mappings');
      merged.substitution = { name: 'substitution_mappings', def: obj(tt.substitution_mappings, a, 'substitution_mappings'), at: a };
    }
    for (const imp of importNames(src)) {
      const path = resolveImport(src.file, imp.name);
      // Not in the package: ETSI's type files, URLs. Their types are known here by name.
      if (path === undefined || !files?.has(path) || read.has(path)) continue;
      read.add(path);
      visit(parseFile(files.get(path)!, path, imp.at));
    }
  };
  visit(entry);

  // The VNF node may be given in the top file and again in the flavour's file (Tacker's layout):
  // both are kept and read together. Any other name given twice is ambiguous. Checked once every
  // file is read, since the node types that say what is a VNF may come in a later import.
  const seen = new Map<string, Named>();
  for (const t of merged.templates) {
    const prev = seen.get(t.name);
    if (prev && !(isVnf(merged, prev.def.type as string) && isVnf(merged, t.def.type as string))) {
      fail(t.at, `node template ${t.name} is defined twice, first at ${placeText(prev.at)}`);
    }
    if (!prev) seen.set(t.name, t);
  }
  return merged;
}

/** Policies: a list of single-key maps (TOSCA 1.2) or one map of them. */
function policyList(v: unknown, a: At): Policy[] {
  if (!present(v)) return [];
  const items: { name: string; body: unknown; at: At }[] = [];
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const m = obj(item, at(a, i), 'each policy');
      const keys = Object.keys(m);
      if (keys.length !== 1) fail(at(a, i), `each policy must be a single-key map {name: {type: ...}}, got keys ${keys.join(', ') || '(none)'}`);
      items.push({ name: keys[0]!, body: m[keys[0]!], at: at(a, i, keys[0]!) });
    });
  } else {
    for (const [name, body] of Object.entries(obj(v, a, 'policies'))) items.push({ name, body, at: at(a, name) });
  }
  return items.map(({ name, body, at: pa }) => {
    const def = obj(body, pa, `policy ${name}`);
    return { name, def, at: pa, type: str(def.type, at(pa, 'type'), `type of policy ${name}`) };
  });
}

/** Whether `type` is `base` or derives from it through the package's node_types. */
function derivesFrom(m: Merged, type: string, base: string): boolean {
  const seen = new Set<string>();
  for (let t: string | undefined = type; t !== undefined && !seen.has(t); ) {
    if (t === base) return true;
    seen.add(t);
    const parent: unknown = m.nodeTypes.get(t)?.def.derived_from;
    t = typeof parent === 'string' ? parent : undefined;
  }
  return false;
}
const isVnf = (m: Merged, type: string) => derivesFrom(m, type, VNF);
const ofType = (m: Merged, base: string) => m.templates.filter((t) => derivesFrom(m, t.def.type as string, base));

// ---------------------------------------------------------------------------------------------
// Entry points

export function parseVnfd(text: string): Vnfd {
  if (typeof text !== 'string') throw new TypeError('parseVnfd: text must be a string');
  return read(load(text, undefined));
}

export function parseVnfdPackage(pkg: { entry: string; files: Map<string, string> }): Vnfd {
  const text = pkg.files.get(pkg.entry);
  if (text === undefined) throw new VnfdError(`the package has no file ${pkg.entry}, which is its entry definitions`);
  return read(load(text, pkg.entry, pkg.files));
}

function read(m: Merged): Vnfd {
  const version = m.entry.top.tosca_definitions_version as string;
  const vnfd = LEGACY_VERSIONS.includes(version) ? readLegacy(m) : readSol001(m);
  if (vnfd.vdus.length === 0) {
    const kind = vnfd.form === 'sol001' ? VDU_COMPUTE : LEGACY_VDU;
    fail(m.entry, `the VNFD has no VDU: no node template is a ${kind}`);
  }
  return vnfd;
}

/** The instance count of a VDU at the given scale levels (by aspect id; an absent aspect is at 0). */
export function instancesAt(vnfd: Vnfd, vduId: string, levels: Record<string, number>): number {
  const vdu = vnfd.vdus.find((v) => v.id === vduId);
  if (!vdu) throw new VnfdError(`the VNFD has no VDU ${vduId}`);
  for (const id of Object.keys(levels)) {
    if (!vnfd.aspects.some((a) => a.id === id)) throw new VnfdError(`the VNFD has no scaling aspect ${id}`);
  }
  let n = vdu.initial;
  for (const aspect of vnfd.aspects) {
    const level = levels[aspect.id] ?? 0;
    if (!Number.isInteger(level) || level < 0 || level > aspect.maxScaleLevel) {
      throw new VnfdError(`scale level ${level} of aspect ${aspect.id} is outside [0, ${aspect.maxScaleLevel}]`);
    }
    const steps = aspect.deltas[vduId];
    if (steps) for (let i = 0; i < level; i++) n += steps[i]!;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// SOL001

interface Link {
  node: string;
  at: At;
}

/** `- key: Node` or `- key: {node: Node}` requirements, by key (first of each). */
function requirements(t: Named, keys: readonly string[]): Map<string, Link> {
  const out = new Map<string, Link>();
  const rAt = at(t.at, 'requirements');
  const reqs = t.def.requirements;
  if (!present(reqs)) return out;
  if (!Array.isArray(reqs)) fail(rAt, `requirements of ${t.name} must be a list, got ${show(reqs)}`);
  reqs.forEach((r, i) => {
    const m = obj(r, at(rAt, i), `each requirement of ${t.name}`);
    for (const k of keys) {
      if (!present(m[k]) || out.has(k)) continue;
      const v = m[k];
      const node = isObj(v) ? str(v.node, at(rAt, i, k, 'node'), `${k} of ${t.name}`) : str(v, at(rAt, i, k), `${k} of ${t.name}`);
      out.set(k, { node, at: at(rAt, i, k) });
    }
  });
  return out;
}

/**
 * Each CP bound to its VDU, and the VDU to the CP's virtual link: the SOL001 and the legacy forms
 * say the same thing under different requirement and type names.
 */
function bindCps(cps: Named[], vdus: Map<string, VnfdVdu>, vlIds: ReadonlySet<string>, names: { binding: string; link: string; vdu: string; vl: string }): void {
  for (const t of cps) {
    const reqs = requirements(t, [names.binding, names.link]);
    const binding = reqs.get(names.binding);
    if (!binding) fail(t.at, `CP ${t.name} has no ${names.binding} requirement`);
    const vdu = vdus.get(binding.node);
    if (!vdu) fail(binding.at, `CP ${t.name} is bound to ${binding.node}, which is not a VDU (${names.vdu})`);
    vdu.cps.push(t.name);
    const link = reqs.get(names.link);
    // A CP without a virtual link is external: the VL is given at instantiation.
    if (!link) continue;
    if (!vlIds.has(link.node)) fail(link.at, `CP ${t.name} links to ${link.node}, which is not a virtual link (${names.vl})`);
    if (!vdu.virtualLinks.includes(link.node)) vdu.virtualLinks.push(link.node);
  }
}


function readSol001(m: Merged): Vnfd {
  const identity = readIdentity(m);

  const vls = ofType(m, VNF_VL).map((t) => {
    const props = optObj(t.def.properties, at(t.at, 'properties'), `properties of ${t.name}`) ?? {};
    const profile = isObj(props.vl_profile) ? props.vl_profile : {};
    const named = [props.name, profile.name].find((n) => typeof n === 'string' && n !== '') as string | undefined;
    return { id: t.name, network: named ?? t.name };
  });
  const vlIds = new Set(vls.map((v) => v.id));
  const storages = new Map(ofType(m, VDU_STORAGE).map((t) => [t.name, t]));

  const vdus = new Map<string, VnfdVdu & { at: At }>();
  for (const t of ofType(m, VDU_COMPUTE)) {
    const pAt = at(t.at, 'properties');
    const props = obj(t.def.properties, pAt, `properties of VDU ${t.name}`);
    const name = present(props.name) ? str(props.name, at(pAt, 'name'), `name of VDU ${t.name}`) : t.name;
    const vpAt = at(pAt, 'vdu_profile');
    const profile = obj(props.vdu_profile, vpAt, `vdu_profile of VDU ${t.name}`);
    const min = count(profile.min_number_of_instances, at(vpAt, 'min_number_of_instances'), `min_number_of_instances of VDU ${t.name}`);
    const max = count(profile.max_number_of_instances, at(vpAt, 'max_number_of_instances'), `max_number_of_instances of VDU ${t.name}`);
    if (min > max) fail(vpAt, `VDU ${t.name} has min_number_of_instances ${min} greater than max_number_of_instances ${max}`);

    // The image is the VDU's own sw_image_data, or that of the block storage it boots from.
    let image = imageName(props);
    if (image === undefined) {
      const storage = requirements(t, ['virtual_storage']).get('virtual_storage');
      const st = storage && storages.get(storage.node);
      if (st && isObj(st.def.properties)) image = imageName(st.def.properties);
    }
    const flavor = flavorName(t.def);
    vdus.set(t.name, { id: t.name, name, min, max, initial: min, cps: [], virtualLinks: [], ...(image ? { image } : {}), ...(flavor ? { flavor } : {}), at: t.at });
  }

  bindCps(ofType(m, VDU_CP), vdus, vlIds, { binding: 'virtual_binding', link: 'virtual_link', vdu: VDU_COMPUTE, vl: VNF_VL });

  const aspects = readSol001Aspects(m, vdus);
  return {
    form: 'sol001',
    ...identity,
    vdus: [...vdus.values()].map(({ at: _at, ...v }) => v),
    virtualLinks: vls,
    aspects,
  };
}

function imageName(props: Obj): string | undefined {
  const sw = props.sw_image_data;
  return isObj(sw) && typeof sw.name === 'string' && sw.name !== '' ? sw.name : undefined;
}

/** Tacker takes the flavor from requested_additional_capabilities.<any>.requested_additional_capability_name. */
function flavorName(def: Obj): string | undefined {
  const caps = def.capabilities;
  const vc = isObj(caps) ? caps.virtual_compute : undefined;
  const props = isObj(vc) ? vc.properties : undefined;
  const extra = isObj(props) ? props.requested_additional_capabilities : undefined;
  if (!isObj(extra)) return undefined;
  for (const cap of Object.values(extra)) {
    if (isObj(cap) && typeof cap.requested_additional_capability_name === 'string') return cap.requested_additional_capability_name;
  }
  return undefined;
}

/**
 * The identity properties of the VNF node, from the first place that gives each as a value:
 * the VNF node templates (top file first), the flavour's substitution_mappings properties, then
 * the VNF node type and its ancestors (`default`, else a single `valid_values` entry). A
 * function such as get_input is not a value here; the next place is asked.
 */
function readIdentity(m: Merged): Omit<Vnfd, 'form' | 'vdus' | 'virtualLinks' | 'aspects'> {
  const templates = m.templates.filter((t) => isVnf(m, t.def.type as string));
  const sub = m.substitution;
  const subType = sub && typeof sub.def.node_type === 'string' ? sub.def.node_type : undefined;
  const vnfType = (templates[0]?.def.type as string | undefined) ?? subType;
  if (vnfType === undefined || !isVnf(m, vnfType)) {
    fail(sub?.at ?? m.entry, `the VNFD has no VNF node: no node template and no substitution_mappings node_type is a ${VNF}`);
  }
  const value = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
  const fromType = (prop: string): string | undefined => {
    const seen = new Set<string>();
    for (let t: string | undefined = vnfType; t !== undefined && !seen.has(t); ) {
      seen.add(t);
      const def: Obj | undefined = m.nodeTypes.get(t)?.def;
      const pd = def && isObj(def.properties) ? def.properties[prop] : undefined;
      if (isObj(pd)) {
        const d = value(pd.default);
        if (d !== undefined) return d;
        const valid = Array.isArray(pd.constraints) ? pd.constraints.find((c) => isObj(c) && Array.isArray(c.valid_values)) : undefined;
        const vv = isObj(valid) ? (valid.valid_values as unknown[]) : [];
        if (vv.length === 1 && value(vv[0]) !== undefined) return value(vv[0]);
      }
      t = def && typeof def.derived_from === 'string' ? def.derived_from : undefined;
    }
    return undefined;
  };
  const get = (prop: (typeof IDENTITY)[number]): string => {
    for (const t of templates) {
      const v = value(isObj(t.def.properties) ? t.def.properties[prop] : undefined);
      if (v !== undefined) return v;
    }
    const sv = value(sub && isObj(sub.def.properties) ? sub.def.properties[prop] : undefined);
    if (sv !== undefined) return sv;
    const tv = fromType(prop);
    if (tv !== undefined) return tv;
    const where = templates[0]?.at ?? sub?.at ?? m.entry;
    fail(where, `the VNF node gives no ${prop}: not as a property of its node template${templates.length > 1 ? 's' : ''}, nor in substitution_mappings, nor as a default or single valid value of node type ${vnfType}`);
  };
  return {
    vnfdId: get('descriptor_id'),
    provider: get('provider'),
    productName: get('product_name'),
    softwareVersion: get('software_version'),
    vnfdVersion: get('descriptor_version'),
    flavourId: get('flavour_id'),
  };
}

interface AspectDef {
  id: string;
  name: string;
  maxScaleLevel: number;
  stepDeltas: string[];
  at: At;
}

function readSol001Aspects(m: Merged, vdus: Map<string, VnfdVdu & { at: At }>): VnfdAspect[] {
  const aspects = new Map<string, AspectDef>();
  for (const p of m.policies.filter((p) => p.type === SCALING_ASPECTS)) {
    const pAt = at(p.at, 'properties');
    const props = obj(p.def.properties, pAt, `properties of policy ${p.name}`);
    const asAt = at(pAt, 'aspects');
    for (const [id, raw] of Object.entries(obj(props.aspects, asAt, `aspects of policy ${p.name}`))) {
      const a = at(asAt, id);
      const def = obj(raw, a, `aspect ${id}`);
      const prev = aspects.get(id);
      if (prev) fail(a, `aspect ${id} is defined twice, first at ${placeText(prev.at)}`);
      const name = present(def.name) ? str(def.name, at(a, 'name'), `name of aspect ${id}`) : id;
      const maxScaleLevel = count(def.max_scale_level, at(a, 'max_scale_level'), `max_scale_level of aspect ${id}`);
      const sdAt = at(a, 'step_deltas');
      const stepDeltas = present(def.step_deltas) ? names(def.step_deltas, sdAt, `step_deltas of aspect ${id}`).map((n) => n.name) : [];
      if (maxScaleLevel > 0 && stepDeltas.length === 0) fail(sdAt, `aspect ${id} has max_scale_level ${maxScaleLevel} but no step_deltas`);
      aspects.set(id, { id, name, maxScaleLevel, stepDeltas, at: a });
    }
  }

  const targetsOf = (p: Policy): { vdu: VnfdVdu & { at: At }; at: At }[] => {
    const tAt = at(p.at, 'targets');
    if (!present(p.def.targets)) fail(p.at, `policy ${p.name} has no targets`);
    return names(p.def.targets, tAt, `targets of policy ${p.name}`).map(({ name, at: a }) => {
      const vdu = vdus.get(name);
      if (!vdu) fail(a, `policy ${p.name} targets ${name}, which is not a VDU (${VDU_COMPUTE})`);
      return { vdu, at: a };
    });
  };

  // initial: VduInitialDelta, else vdu_profile's min (already set).
  const initialFrom = new Map<string, Policy>();
  for (const p of m.policies.filter((p) => p.type === INITIAL_DELTA)) {
    const pAt = at(p.at, 'properties');
    const props = obj(p.def.properties, pAt, `properties of policy ${p.name}`);
    const idAt = at(pAt, 'initial_delta');
    const idelta = obj(props.initial_delta, idAt, `initial_delta of policy ${p.name}`);
    const n = count(idelta.number_of_instances, at(idAt, 'number_of_instances'), `initial_delta.number_of_instances of policy ${p.name}`);
    for (const { vdu, at: a } of targetsOf(p)) {
      const prev = initialFrom.get(vdu.id);
      if (prev) fail(a, `VDU ${vdu.id} is given an initial delta twice, by ${prev.name} and ${p.name}`);
      initialFrom.set(vdu.id, p);
      if (n < vdu.min || n > vdu.max) fail(idAt, `policy ${p.name} gives VDU ${vdu.id} an initial delta of ${n}, outside its [min ${vdu.min}, max ${vdu.max}] instances`);
      vdu.initial = n;
    }
  }

  // Per aspect, the VduScalingAspectDeltas policies that give its deltas.
  const deltaPolicies = new Map<string, { p: Policy; deltas: Obj; deltasAt: At; targets: VnfdVdu[] }[]>();
  for (const p of m.policies.filter((p) => p.type === ASPECT_DELTAS)) {
    const pAt = at(p.at, 'properties');
    const props = obj(p.def.properties, pAt, `properties of policy ${p.name}`);
    const aspect = str(props.aspect, at(pAt, 'aspect'), `aspect of policy ${p.name}`);
    if (!aspects.has(aspect)) {
      fail(at(pAt, 'aspect'), `policy ${p.name} gives deltas for aspect ${aspect}, which no ${SCALING_ASPECTS} policy defines${aspects.size ? ` (aspects: ${[...aspects.keys()].join(', ')})` : ''}`);
    }
    const deltasAt = at(pAt, 'deltas');
    const deltas = obj(props.deltas, deltasAt, `deltas of policy ${p.name}`);
    const targets = targetsOf(p);
    const list = deltaPolicies.get(aspect) ?? [];
    for (const { vdu, at: a } of targets) {
      const prev = list.find((d) => d.targets.includes(vdu));
      if (prev) fail(a, `VDU ${vdu.id} is given deltas for aspect ${aspect} twice, by ${prev.p.name} and ${p.name}`);
    }
    list.push({ p, deltas, deltasAt, targets: targets.map((x) => x.vdu) });
    deltaPolicies.set(aspect, list);
  }

  return [...aspects.values()].map((a) => {
    const deltas: Record<string, number[]> = {};
    const givers = deltaPolicies.get(a.id) ?? [];
    for (let step = 1; step <= a.maxScaleLevel; step++) {
      // SOL001: step_deltas lists the delta of each step; fewer ids than steps repeat the last.
      const i = Math.min(step - 1, a.stepDeltas.length - 1);
      const id = a.stepDeltas[i]!;
      const idAt = at(a.at, 'step_deltas', i);
      if (givers.length === 0) fail(idAt, `aspect ${a.id} has step delta ${id}, but no ${ASPECT_DELTAS} policy gives deltas for aspect ${a.id}`);
      for (const g of givers) {
        if (!present(g.deltas[id])) fail(g.deltasAt, `aspect ${a.id} has step delta ${id}, which policy ${g.p.name} does not give`);
        const dAt = at(g.deltasAt, id);
        const n = count(obj(g.deltas[id], dAt, `delta ${id} of policy ${g.p.name}`).number_of_instances, at(dAt, 'number_of_instances'), `number_of_instances of delta ${id} of policy ${g.p.name}`);
        for (const vdu of g.targets) (deltas[vdu.id] ??= []).push(n);
      }
    }
    if (a.maxScaleLevel === 0) for (const g of givers) for (const vdu of g.targets) deltas[vdu.id] = [];
    return { id: a.id, name: a.name, maxScaleLevel: a.maxScaleLevel, deltas };
  });
}

// ---------------------------------------------------------------------------------------------
// Tacker legacy

function readLegacy(m: Merged): Vnfd {
  const meta = isObj(m.entry.top.metadata) ? m.entry.top.metadata : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

  const vls = m.templates
    .filter((t) => t.def.type === LEGACY_VL)
    .map((t) => {
      const pAt = at(t.at, 'properties');
      const props = obj(t.def.properties, pAt, `properties of VL ${t.name}`);
      return { id: t.name, network: str(props.network_name, at(pAt, 'network_name'), `network_name of VL ${t.name}`) };
    });
  const vlIds = new Set(vls.map((v) => v.id));

  const vdus = new Map<string, VnfdVdu>();
  for (const t of m.templates.filter((t) => t.def.type === LEGACY_VDU)) {
    const props = optObj(t.def.properties, at(t.at, 'properties'), `properties of VDU ${t.name}`) ?? {};
    const image = typeof props.image === 'string' && props.image !== '' ? props.image : undefined;
    const flavor = typeof props.flavor === 'string' && props.flavor !== '' ? props.flavor : undefined;
    // A VDU no scaling policy targets runs one instance, as Tacker deploys it.
    vdus.set(t.name, { id: t.name, name: t.name, min: 1, max: 1, initial: 1, cps: [], virtualLinks: [], ...(image ? { image } : {}), ...(flavor ? { flavor } : {}) });
  }

  bindCps(m.templates.filter((t) => t.def.type === LEGACY_CP), vdus, vlIds, { binding: 'virtualBinding', link: 'virtualLink', vdu: LEGACY_VDU, vl: LEGACY_VL });

  const scaledBy = new Map<string, string>();
  const aspects: VnfdAspect[] = [];
  for (const p of m.policies.filter((p) => LEGACY_SCALING.includes(p.type))) {
    const pAt = at(p.at, 'properties');
    const props = obj(p.def.properties, pAt, `properties of policy ${p.name}`);
    const increment = count(props.increment, at(pAt, 'increment'), `increment of policy ${p.name}`, 1);
    const min = count(props.min_instances, at(pAt, 'min_instances'), `min_instances of policy ${p.name}`);
    const max = count(props.max_instances, at(pAt, 'max_instances'), `max_instances of policy ${p.name}`);
    const initial = count(props.default_instances, at(pAt, 'default_instances'), `default_instances of policy ${p.name}`);
    if (min > max) fail(at(pAt, 'min_instances'), `policy ${p.name} has min_instances ${min} greater than max_instances ${max}`);
    if (initial < min || initial > max) fail(at(pAt, 'default_instances'), `policy ${p.name} has default_instances ${initial}, outside [min_instances ${min}, max_instances ${max}]`);
    // targets beside type in Tacker's 2017 samples, under properties in its definitions.
    const tAt = present(p.def.targets) ? at(p.at, 'targets') : at(pAt, 'targets');
    const targets = p.def.targets ?? props.targets;
    if (!present(targets)) fail(p.at, `policy ${p.name} has no targets`);
    const maxScaleLevel = Math.floor((max - initial) / increment);
    const deltas: Record<string, number[]> = {};
    for (const { name, at: a } of names(targets, tAt, `targets of policy ${p.name}`)) {
      const vdu = vdus.get(name);
      if (!vdu) fail(a, `policy ${p.name} targets ${name}, which is not a VDU (${LEGACY_VDU})`);
      const other = scaledBy.get(name);
      if (other !== undefined && other !== p.name) fail(a, `VDU ${name} is targeted by two scaling policies, ${other} and ${p.name}`);
      scaledBy.set(name, p.name);
      Object.assign(vdu, { min, max, initial });
      deltas[name] = Array.from({ length: maxScaleLevel }, () => increment);
    }
    aspects.push({ id: p.name, name: p.name, maxScaleLevel, deltas });
  }

  return {
    form: 'tacker-legacy',
    vnfdId: text(meta.id),
    provider: '',
    productName: text(meta.template_name),
    softwareVersion: '',
    vnfdVersion: '',
    flavourId: 'default',
    vdus: [...vdus.values()],
    virtualLinks: vls,
    aspects,
  };
}
