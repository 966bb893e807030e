/**
 * VNFD reading (plugins/vnf-manager/vnfd.ts): a single-file SOL001 VNFD, a multi-file package in
 * Tacker's layout (read from files and through a zipped CSAR), a Tacker legacy VNFD, instance
 * counts at every scale level, and every refusal with the place it names.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { parseVnfd, parseVnfdPackage, instancesAt, VnfdError, type Vnfd } from '../../plugins/vnf-manager/vnfd.ts';
import { readCsar } from '../../plugins/vnf-manager/csar.ts';
import { zip } from '../helpers/zip.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const SINGLE = fixture('sol001-single.yaml');
const LEGACY = fixture('legacy.yaml');
const TOP = 'Definitions/edge_top.vnfd.yaml';
const TYPES = 'Definitions/edge_types.yaml';
const DF = 'Definitions/edge_df_compact.yaml';
const META = 'TOSCA-Metadata/TOSCA.meta';
const packageFiles = () => new Map([META, TOP, TYPES, DF].map((n) => [n, fixture(`package/${n}`)]));

/** Replace `from` (which must occur exactly once, so an edit never silently misses) with `to`. */
function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`edit: '${from}' must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}
/** 1-based line of the only occurrence of `needle`. */
function lineOf(text: string, needle: string): number {
  edit(text, needle, needle);
  return text.slice(0, text.indexOf(needle)).split('\n').length;
}

function fails(t: Test, run: () => unknown, message: string, where: { file?: string; line?: number } = {}) {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof VnfdError)) return t.fail(`expected a VnfdError '${message}', got ${err === undefined ? 'success' : String(err)}`);
  t.equal(err.message, message, err.message);
  t.equal(err.file, where.file, `file: ${err.message}`);
  t.equal(err.line, where.line, `line: ${err.message}`);
}
const failsText = (t: Test, text: string, message: string, line?: number) => fails(t, () => parseVnfd(text), message, line === undefined ? {} : { line });

const SINGLE_EXPECTED: Vnfd = {
  form: 'sol001',
  vnfdId: '7d2a5c1e-0000-4000-8000-000000000001',
  provider: 'Sextant Labs',
  productName: 'Test Worker VNF',
  softwareVersion: '3.0',
  vnfdVersion: '2.1',
  flavourId: 'small',
  vdus: [
    { id: 'VDU1', name: 'worker', min: 1, max: 3, initial: 1, cps: ['VDU1_CP1', 'VDU1_CP2'], virtualLinks: ['internal_net'], image: 'worker-image-1.0', flavor: 'm1.small' },
    { id: 'VDU2', name: 'VDU2', min: 1, max: 1, initial: 1, cps: ['VDU2_CP1'], virtualLinks: ['internal_net'], image: 'fixed-image-2.0' },
  ],
  virtualLinks: [{ id: 'internal_net', network: 'internal_net' }],
  aspects: [{ id: 'worker_instance', name: 'worker_instance_aspect', maxScaleLevel: 2, deltas: { VDU1: [1, 1] } }],
};

const PACKAGE_EXPECTED: Vnfd = {
  form: 'sol001',
  vnfdId: '3f9e0c2a-1111-4222-8333-444455556666', // the type's default
  provider: 'Sextant Labs', // the top file's template, before the type's default
  productName: 'Edge VNF',
  softwareVersion: '5.4', // the type's default
  vnfdVersion: '0.9', // the type's single valid value
  flavourId: 'compact', // substitution_mappings: the top file's get_input is no value, the base type's default comes last
  vdus: [{ id: 'edge_vdu', name: 'edge', min: 2, max: 10, initial: 2, cps: ['edge_cp'], virtualLinks: ['edge_vl'] }],
  virtualLinks: [{ id: 'edge_vl', network: 'edge-net' }],
  aspects: [{ id: 'edge_scale', name: 'edge_scale', maxScaleLevel: 4, deltas: { edge_vdu: [1, 2, 2, 2] } }],
};

const LEGACY_EXPECTED: Vnfd = {
  form: 'tacker-legacy',
  vnfdId: 'legacy-0001',
  provider: '',
  productName: 'legacy-web',
  softwareVersion: '',
  vnfdVersion: '',
  flavourId: 'default',
  vdus: [
    { id: 'WEB', name: 'WEB', min: 1, max: 8, initial: 3, cps: ['CP1', 'CP2'], virtualLinks: ['VL1', 'VL2'], image: 'web-image', flavor: 'm1.tiny' },
    { id: 'DB', name: 'DB', min: 1, max: 1, initial: 1, cps: ['CP3'], virtualLinks: ['VL2'], image: 'db-image' },
  ],
  virtualLinks: [
    { id: 'VL1', network: 'net_mgmt' },
    { id: 'VL2', network: 'net_private' },
  ],
  aspects: [{ id: 'web_scaling', name: 'web_scaling', maxScaleLevel: 2, deltas: { WEB: [2, 2] } }],
};

t.test('a single-file SOL001 VNFD', async (t) => {
  const vnfd = parseVnfd(SINGLE);
  t.strictSame(vnfd, SINGLE_EXPECTED);
  t.same([0, 1, 2].map((l) => instancesAt(vnfd, 'VDU1', { worker_instance: l })), [1, 2, 3], 'VDU1 at levels 0..2');
  t.same([0, 1, 2].map((l) => instancesAt(vnfd, 'VDU2', { worker_instance: l })), [1, 1, 1], 'VDU2 is not scaled by the aspect');
  t.equal(instancesAt(vnfd, 'VDU1', {}), 1, 'an absent aspect is at level 0');
  t.equal(parseVnfd(edit(SINGLE, 'tosca_simple_yaml_1_3', 'tosca_simple_yaml_1_2')).form, 'sol001', '1_2 is read too');
  t.throws(() => instancesAt(vnfd, 'VDU1', { worker_instance: 3 }), new VnfdError('scale level 3 of aspect worker_instance is outside [0, 2]'));
  t.throws(() => instancesAt(vnfd, 'VDU1', { worker_instance: -1 }), new VnfdError('scale level -1 of aspect worker_instance is outside [0, 2]'));
  t.throws(() => instancesAt(vnfd, 'VDU9', {}), new VnfdError('the VNFD has no VDU VDU9'));
  t.throws(() => instancesAt(vnfd, 'VDU1', { other: 1 }), new VnfdError('the VNFD has no scaling aspect other'));
});

t.test('SOL001 variants: policies as a map, no VduInitialDelta, several aspects on one VDU, level 0', async (t) => {
  const text = `tosca_definitions_version: tosca_simple_yaml_1_2
topology_template:
  substitution_mappings:
    node_type: tosca.nodes.nfv.VNF
    properties: { descriptor_id: d1, provider: p, product_name: n, software_version: 1.5, descriptor_version: '1', flavour_id: f }
  node_templates:
    V:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        vdu_profile: { min_number_of_instances: 0, max_number_of_instances: 6 }
  policies:
    aspects:
      type: tosca.policies.nfv.ScalingAspects
      properties:
        aspects:
          a: { name: A, max_scale_level: 2, step_deltas: [d1, d2] }
          b: { max_scale_level: 1, step_deltas: [x] }
          c: { max_scale_level: 0 }
    a_deltas:
      type: tosca.policies.nfv.VduScalingAspectDeltas
      properties: { aspect: a, deltas: { d1: { number_of_instances: 1 }, d2: { number_of_instances: 2 } } }
      targets: V
    b_deltas:
      type: tosca.policies.nfv.VduScalingAspectDeltas
      properties: { aspect: b, deltas: { x: { number_of_instances: 3 } } }
      targets: [V]
    levels:
      type: tosca.policies.nfv.InstantiationLevels
      properties: { levels: { l: { scale_info: { a: { scale_level: 0 } } } } }
`;
  const vnfd = parseVnfd(text);
  t.same(vnfd.vdus, [{ id: 'V', name: 'V', min: 0, max: 6, initial: 0, cps: [], virtualLinks: [] }], 'initial is min without a VduInitialDelta');
  t.equal(vnfd.softwareVersion, '1.5', 'a number read as its text');
  t.strictSame(vnfd.aspects, [
    { id: 'a', name: 'A', maxScaleLevel: 2, deltas: { V: [1, 2] } },
    { id: 'b', name: 'b', maxScaleLevel: 1, deltas: { V: [3] } },
    { id: 'c', name: 'c', maxScaleLevel: 0, deltas: {} },
  ]);
  t.equal(instancesAt(vnfd, 'V', { a: 2, b: 1 }), 6);
  t.equal(instancesAt(vnfd, 'V', { a: 1, c: 0 }), 1);
});

t.test('a multi-file package in Tacker layout', async (t) => {
  const vnfd = parseVnfdPackage({ entry: TOP, files: packageFiles() });
  t.strictSame(vnfd, PACKAGE_EXPECTED);
  t.same([0, 1, 2, 3, 4].map((l) => instancesAt(vnfd, 'edge_vdu', { edge_scale: l })), [2, 3, 5, 7, 9], 'step 1 adds 1, steps 2..4 repeat the last delta');

  // The same package zipped: readCsar then parseVnfdPackage.
  const pkg = zip([...packageFiles()].map(([name, data]) => ({ name, data })));
  t.strictSame(parseVnfdPackage(readCsar(pkg)), PACKAGE_EXPECTED, 'through a CSAR');

  // Import order does not matter: the flavour file before the types that say what a VNF is.
  const files = packageFiles();
  files.set(TOP, edit(files.get(TOP)!, '  - edge_types.yaml\n  - edge_df_compact.yaml\n', '  - edge_df_compact.yaml\n  - edge_types.yaml\n'));
  t.strictSame(parseVnfdPackage({ entry: TOP, files }), PACKAGE_EXPECTED, 'imports in the other order');
});

t.test('a Tacker legacy VNFD', async (t) => {
  const vnfd = parseVnfd(LEGACY);
  t.strictSame(vnfd, LEGACY_EXPECTED);
  t.same([0, 1, 2].map((l) => instancesAt(vnfd, 'WEB', { web_scaling: l })), [3, 5, 7]);
  t.same([0, 1, 2].map((l) => instancesAt(vnfd, 'DB', { web_scaling: l })), [1, 1, 1]);

  // Policies as a list, targets beside type, no metadata.id.
  const listed = edit(
    edit(LEGACY, '  id: legacy-0001\n', ''),
    `  policies:
    web_scaling:
      type: tosca.policies.tacker.Scaling
      properties:
        targets: [WEB]
`,
    `  policies:
    - web_scaling:
        type: tosca.policies.tacker.Scaling
        targets: [WEB]
        properties:
`,
  );
  const nested = listed.replace(/^ {8}(increment|cooldown|min_instances|max_instances|default_instances):/gm, '          $1:');
  const v2 = parseVnfd(nested);
  t.equal(v2.vnfdId, '');
  t.strictSame(v2.aspects, LEGACY_EXPECTED.aspects);
  t.strictSame(v2.vdus, LEGACY_EXPECTED.vdus);
});

t.test('refusals: not YAML, not TOSCA, an unknown version', async (t) => {
  failsText(t, 'a: [1, 2\nb: }\n', 'the VNFD is not YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 2)', 2);
  failsText(t, 'key: value\nkey: again\n', 'the VNFD is not YAML: Map keys must be unique (line 2)', 2);
  failsText(t, 'description: a plain YAML file\n', 'the VNFD is YAML but not TOSCA: it has no tosca_definitions_version');
  failsText(t, '- just\n- a list\n', 'the VNFD is YAML but not TOSCA: it has no tosca_definitions_version');
  failsText(
    t,
    '# comment\ntosca_definitions_version: tosca_simple_yaml_9_9\n',
    "the VNFD has tosca_definitions_version 'tosca_simple_yaml_9_9', which is not known; accepted: tosca_simple_yaml_1_2, tosca_simple_yaml_1_3, tosca_simple_profile_for_nfv_1_0_0 (line 2)",
    2,
  );
});

t.test('refusals: VDUs and CPs', async (t) => {
  const vnfOnly = SINGLE.slice(0, SINGLE.indexOf('    VDU1:\n'));
  failsText(t, vnfOnly, 'the VNFD has no VDU: no node template is a tosca.nodes.nfv.Vdu.Compute');
  failsText(t, 'tosca_definitions_version: tosca_simple_profile_for_nfv_1_0_0\ntopology_template:\n  node_templates: {}\n', 'the VNFD has no VDU: no node template is a tosca.nodes.nfv.VDU.Tacker');

  const minMax = edit(SINGLE, 'min_number_of_instances: 1\n          max_number_of_instances: 1', 'min_number_of_instances: 2\n          max_number_of_instances: 1');
  failsText(t, minMax, 'VDU VDU2 has min_number_of_instances 2 greater than max_number_of_instances 1 (line 55)', lineOf(SINGLE, '          max_number_of_instances: 1') - 2);

  const initial = edit(SINGLE, 'number_of_instances: 1\n        targets: [ VDU1 ]\n\n    - VDU2', 'number_of_instances: 4\n        targets: [ VDU1 ]\n\n    - VDU2');
  failsText(t, initial, 'policy VDU1_initial_delta gives VDU VDU1 an initial delta of 4, outside its [min 1, max 3] instances (line 116)', lineOf(SINGLE, '    - VDU1_initial_delta:') + 3);

  const unbound = edit(SINGLE, '- virtual_binding: VDU2', '- virtual_binding: VDU3');
  failsText(t, unbound, 'CP VDU2_CP1 is bound to VDU3, which is not a VDU (tosca.nodes.nfv.Vdu.Compute) (line 89)', lineOf(SINGLE, '- virtual_binding: VDU2'));
  const toVl = edit(SINGLE, '- virtual_binding: VDU2', '- virtual_binding: internal_net');
  failsText(t, toVl, 'CP VDU2_CP1 is bound to internal_net, which is not a VDU (tosca.nodes.nfv.Vdu.Compute) (line 89)', 89);
  const noVl = edit(SINGLE, '- virtual_link: internal_net', '- virtual_link: other_net');
  failsText(t, noVl, 'CP VDU1_CP1 links to other_net, which is not a virtual link (tosca.nodes.nfv.VnfVirtualLink) (line 75)', lineOf(SINGLE, '- virtual_link: internal_net'));

  const legacyUnbound = edit(LEGACY, 'node: DB', 'node: CACHE');
  failsText(t, legacyUnbound, 'CP CP3 is bound to CACHE, which is not a VDU (tosca.nodes.nfv.VDU.Tacker) (line 45)', lineOf(LEGACY, 'node: DB') - 1);
});

t.test('refusals: aspects and deltas', async (t) => {
  const unknownAspect = edit(SINGLE, 'aspect: worker_instance', 'aspect: worker_instances');
  failsText(
    t,
    unknownAspect,
    'policy VDU1_scaling_aspect_deltas gives deltas for aspect worker_instances, which no tosca.policies.nfv.ScalingAspects policy defines (aspects: worker_instance) (line 130)',
    lineOf(SINGLE, 'aspect: worker_instance'),
  );

  const targetNotVdu = edit(SINGLE, 'number_of_instances: 1\n        targets: [ VDU1 ]\n\n    - instantiation_levels', 'number_of_instances: 1\n        targets: [ VDU1, VDU1_CP1 ]\n\n    - instantiation_levels');
  failsText(t, targetNotVdu, 'policy VDU1_scaling_aspect_deltas targets VDU1_CP1, which is not a VDU (tosca.nodes.nfv.Vdu.Compute) (line 134)', lineOf(SINGLE, '        targets: [ VDU1 ]\n\n    - instantiation_levels'));

  const stepNotGiven = edit(SINGLE, '                - delta_1\n', '                - delta_1\n                - delta_2\n');
  failsText(
    t,
    stepNotGiven,
    'aspect worker_instance has step delta delta_2, which policy VDU1_scaling_aspect_deltas does not give (line 132)',
    lineOf(stepNotGiven, '          deltas:'),
  );
  const noGiver = edit(SINGLE, 'type: tosca.policies.nfv.VduScalingAspectDeltas', 'type: tosca.policies.nfv.SomethingElse');
  failsText(t, noGiver, 'aspect worker_instance has step delta delta_1, but no tosca.policies.nfv.VduScalingAspectDeltas policy gives deltas for aspect worker_instance (line 111)', lineOf(SINGLE, '- delta_1'));

  for (const [bad, shown] of [['-1', '-1'], ['1.5', '1.5'], ['two', "'two'"]] as const) {
    failsText(
      t,
      edit(SINGLE, 'max_scale_level: 2', `max_scale_level: ${bad}`),
      `max_scale_level of aspect worker_instance must be a non-negative integer, got ${shown} (line 109)`,
      lineOf(SINGLE, 'max_scale_level: 2'),
    );
  }
  failsText(t, edit(SINGLE, '              step_deltas:\n                - delta_1\n', ''), 'aspect worker_instance has max_scale_level 2 but no step_deltas (line 106)', lineOf(SINGLE, '          aspects:\n') + 1);

  const legacyMinMax = edit(LEGACY, 'min_instances: 1', 'min_instances: 9');
  failsText(t, legacyMinMax, 'policy web_scaling has min_instances 9 greater than max_instances 8 (line 67)', lineOf(LEGACY, 'min_instances: 1'));
  const legacyDefault = edit(LEGACY, 'default_instances: 3', 'default_instances: 0');
  failsText(t, legacyDefault, 'policy web_scaling has default_instances 0, outside [min_instances 1, max_instances 8] (line 69)', lineOf(LEGACY, 'default_instances: 3'));
  const legacyTarget = edit(LEGACY, 'targets: [WEB]', 'targets: [WEB, VL1]');
  failsText(t, legacyTarget, 'policy web_scaling targets VL1, which is not a VDU (tosca.nodes.nfv.VDU.Tacker) (line 64)', lineOf(LEGACY, 'targets: [WEB]'));
});

t.test('refusals in a package: an imported file, identity, duplicates', async (t) => {
  const notYaml = packageFiles();
  notYaml.set(TYPES, 'tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types: [\n');
  fails(
    t,
    () => parseVnfdPackage({ entry: TOP, files: notYaml }),
    `${TYPES}, imported (${TOP} line 11), is not YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (${TYPES} line 3)`,
    { file: TYPES, line: 3 },
  );
  const notTosca = packageFiles();
  notTosca.set(TYPES, 'node_types: {}\n');
  fails(t, () => parseVnfdPackage({ entry: TOP, files: notTosca }), `${TYPES}, imported (${TOP} line 11), is YAML but not TOSCA: it has no tosca_definitions_version`, { file: TYPES });

  const noDefault = packageFiles();
  noDefault.set(TYPES, edit(noDefault.get(TYPES)!, "        constraints: [ valid_values: [ '0.9' ] ]\n", "        constraints: [ valid_values: [ '0.9', '1.0' ] ]\n"));
  fails(
    t,
    () => parseVnfdPackage({ entry: TOP, files: noDefault }),
    `the VNF node gives no descriptor_version: not as a property of its node templates, nor in substitution_mappings, nor as a default or single valid value of node type sextant.test.EdgeVNF (${TOP} line 20)`,
    { file: TOP, line: lineOf(packageFiles().get(TOP)!, '    VNF:') },
  );

  const twice = packageFiles();
  twice.set(TOP, edit(twice.get(TOP)!, '        product_name: Edge VNF\n', '        product_name: Edge VNF\n    edge_vl:\n      type: tosca.nodes.nfv.VnfVirtualLink\n'));
  fails(t, () => parseVnfdPackage({ entry: TOP, files: twice }), `node template edge_vl is defined twice, first at ${TOP} line 26 (${DF} line 37)`, { file: DF, line: lineOf(packageFiles().get(DF)!, '    edge_vl:') });

  fails(t, () => parseVnfdPackage({ entry: 'Definitions/missing.yaml', files: packageFiles() }), 'the package has no file Definitions/missing.yaml, which is its entry definitions');
});
