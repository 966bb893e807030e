/**
 * TOSCA ingestion for Senlin autoscaling (plugins/autoscaling/tosca.ts): the Tacker spec's own
 * example template, the later Gnocchi-era form, both policy-type spellings, the cooldown default,
 * every refusal with the path (and line) it names, and a large template.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { ingestTemplate, ToscaError, type Ingested, type ToscaErrorCode } from '../../plugins/autoscaling/tosca.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const SPEC = fixture('senlin-spec-example.yaml');
const GNOCCHI = fixture('senlin-gnocchi.yaml');

/** Replace `from` (which must occur exactly once, so an edit never silently misses) with `to`. */
function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`edit: '${from}' must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}
const edits = (text: string, ...pairs: [string, string][]) => pairs.reduce((s, [a, b]) => edit(s, a, b), text);

/** 1-based line of the first occurrence of `needle`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

function fails(t: Test, text: string, want: { path: string; code: ToscaErrorCode; message: RegExp; line?: number }) {
  let err: unknown;
  try {
    ingestTemplate(text);
  } catch (e) {
    err = e;
  }
  if (!(err instanceof ToscaError)) {
    t.fail(`expected a ToscaError at ${want.path}, got ${err === undefined ? 'success' : String(err)}`);
    return;
  }
  t.equal(err.path, want.path, `path: ${err.message}`);
  t.equal(err.code, want.code, `code: ${err.message}`);
  t.match(err.message, want.message);
  if (want.path) t.match(err.message, ` at ${want.path}`, 'the message names the path');
  if (want.line !== undefined) t.equal(err.line, want.line, 'line');
}

// The spec's example, as the spec's HOT mapping lays it out in Senlin terms.
const SPEC_EXPECTED: Ingested = {
  profile: {
    name: 'VDU1_profile',
    type: 'os.nova.server-1.0',
    spec: {
      type: 'os.nova.server',
      version: '1.0',
      properties: {
        networks: [{ network: 'net1' }],
        flavor: 'm1.tiny',
        image: 'cirros-0.3.4-x86_64-uec',
        availability_zone: 'nova',
        metadata: { 'metering.vnf': 'SG1' },
      },
    },
  },
  cluster: { name: 'VDU1_cluster', profile: 'VDU1_profile', minSize: 2, maxSize: 10, desiredCapacity: 3 },
  policies: [
    {
      name: 'cluster_scaling_scale_out',
      type: 'senlin.policy.scaling-1.0',
      cluster: 'VDU1_cluster',
      spec: {
        type: 'senlin.policy.scaling',
        version: '1.0',
        properties: { event: 'CLUSTER_SCALE_OUT', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 1, cooldown: 120 } },
      },
    },
    {
      name: 'cluster_scaling_scale_in',
      type: 'senlin.policy.scaling-1.0',
      cluster: 'VDU1_cluster',
      spec: {
        type: 'senlin.policy.scaling',
        version: '1.0',
        properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 1, cooldown: 120 } },
      },
    },
  ],
  receivers: [
    { name: 'cluster_scaling_scale_out_receiver', type: 'webhook', cluster: 'VDU1_cluster', action: 'CLUSTER_SCALE_OUT' },
    { name: 'cluster_scaling_scale_in_receiver', type: 'webhook', cluster: 'VDU1_cluster', action: 'CLUSTER_SCALE_IN' },
  ],
  alarms: [
    {
      name: 'vdu_hcpu_usage_scaling_out_alarm',
      form: 'ceilometer',
      meter: 'cpu_util',
      statistic: 'avg',
      period: 60,
      evaluationPeriods: 1,
      threshold: 50,
      comparisonOperator: 'gt',
      repeatActions: true,
      alarmActions: ['cluster_scaling_scale_out_receiver'],
      description: 'utilization greater_than 50%',
      metadata: 'SG1',
    },
  ],
  warnings: [
    "topology_template.policies[0].cluster_scaling: the fields of policy 'cluster_scaling' are indented level with its name (as in the spec's example); read as its body",
    'no alarm drives CLUSTER_SCALE_IN: receiver cluster_scaling_scale_in_receiver fires only when called by hand',
  ],
};

// The spec's cluster_scaling item indented as meant: its fields under its name.
const SPEC_NESTED = edit(
  SPEC,
  `    - cluster_scaling:
      type: tosca.policies.Tacker.Scaling
      description: Cluster node autoscaling
      driver: Senlin
      targets: [VDU1]
      properties:
        min_instances: 2
        max_instances: 10
        default_instances: 3
        increment: 1
`,
  `    - cluster_scaling:
        type: tosca.policies.Tacker.Scaling
        description: Cluster node autoscaling
        driver: Senlin
        targets: [VDU1]
        properties:
          min_instances: 2
          max_instances: 10
          default_instances: 3
          increment: 1
`,
);

t.test("the spec's example template", async (t) => {
  t.strictSame(ingestTemplate(SPEC), SPEC_EXPECTED, 'every field, as printed in the spec');
  t.strictSame(ingestTemplate(SPEC_NESTED), { ...SPEC_EXPECTED, warnings: SPEC_EXPECTED.warnings.slice(1) }, 'the same indented as meant, without the warning');
  t.strictSame(ingestTemplate(SPEC), ingestTemplate(SPEC), 'stable: the same text gives the same result');

  const named = ingestTemplate(SPEC, { name: 'vnf-7' });
  t.equal(named.profile.name, 'vnf-7_VDU1_profile');
  t.strictSame(
    [named.cluster.name, named.cluster.profile, ...named.policies.map((p) => p.name), ...named.policies.map((p) => p.cluster)],
    ['vnf-7_VDU1_cluster', 'vnf-7_VDU1_profile', 'vnf-7_cluster_scaling_scale_out', 'vnf-7_cluster_scaling_scale_in', 'vnf-7_VDU1_cluster', 'vnf-7_VDU1_cluster'],
  );
  t.strictSame(named.receivers.map((r) => [r.name, r.cluster]), [
    ['vnf-7_cluster_scaling_scale_out_receiver', 'vnf-7_VDU1_cluster'],
    ['vnf-7_cluster_scaling_scale_in_receiver', 'vnf-7_VDU1_cluster'],
  ]);
  t.strictSame(named.alarms.map((a) => [a.name, a.alarmActions]), [['vnf-7_vdu_hcpu_usage_scaling_out_alarm', ['vnf-7_cluster_scaling_scale_out_receiver']]]);
  t.throws(() => ingestTemplate(SPEC, { name: '' }), TypeError, 'an empty prefix is a caller error');
  t.throws(() => ingestTemplate(42 as unknown as string), TypeError);
});

t.test('the Gnocchi-era form: metric, granularity, aggregation_method, action; nfv_compute; CP order', async (t) => {
  t.strictSame(ingestTemplate(GNOCCHI, { name: 'vnf1' }), {
    profile: {
      name: 'vnf1_VDU1_profile',
      type: 'os.nova.server-1.0',
      spec: {
        type: 'os.nova.server',
        version: '1.0',
        properties: {
          networks: [{ network: 'net0' }, { network: 'net_mgmt' }],
          image: 'cirros-0.4.0-x86_64-disk',
          key_name: 'ops',
          config_drive: true,
          metadata: { 'metering.server_group': 'SG1' },
        },
      },
      compute: { numCpus: 2, memSize: '512 MB', diskSize: '1 GB' },
    },
    cluster: { name: 'vnf1_VDU1_cluster', profile: 'vnf1_VDU1_profile', minSize: 1, maxSize: 5, desiredCapacity: 1 },
    policies: [
      {
        name: 'vnf1_SP1_scale_out',
        type: 'senlin.policy.scaling-1.0',
        cluster: 'vnf1_VDU1_cluster',
        spec: { type: 'senlin.policy.scaling', version: '1.0', properties: { event: 'CLUSTER_SCALE_OUT', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 2, cooldown: 120 } } },
      },
      {
        name: 'vnf1_SP1_scale_in',
        type: 'senlin.policy.scaling-1.0',
        cluster: 'vnf1_VDU1_cluster',
        spec: { type: 'senlin.policy.scaling', version: '1.0', properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 2, cooldown: 120 } } },
      },
    ],
    receivers: [
      { name: 'vnf1_SP1_scale_out_receiver', type: 'webhook', cluster: 'vnf1_VDU1_cluster', action: 'CLUSTER_SCALE_OUT' },
      { name: 'vnf1_SP1_scale_in_receiver', type: 'webhook', cluster: 'vnf1_VDU1_cluster', action: 'CLUSTER_SCALE_IN' },
    ],
    alarms: [
      {
        name: 'vnf1_vdu_hcpu_usage_scaling_out_alarm',
        form: 'gnocchi',
        meter: 'cpu_util',
        statistic: 'mean',
        period: 300,
        evaluationPeriods: 1,
        threshold: 80,
        comparisonOperator: 'gt',
        repeatActions: true,
        alarmActions: ['vnf1_SP1_scale_out_receiver'],
        description: 'utilization greater_than 80%',
        resourceType: 'instance',
        metadata: 'SG1',
      },
      {
        name: 'vnf1_vdu_lcpu_usage_scaling_in_alarm',
        form: 'gnocchi',
        meter: 'cpu_util',
        statistic: 'max',
        period: 300,
        evaluationPeriods: 2,
        threshold: 10.5,
        comparisonOperator: 'le',
        repeatActions: true,
        alarmActions: ['vnf1_SP1_scale_in_receiver'],
        description: 'utilization less_than 10.5%',
        resourceType: 'instance',
        metadata: 'SG1',
      },
    ],
    warnings: [],
  });
});

t.test("the 2017 Ceilometer form: meter_name, method average, action (singular)", async (t) => {
  const text = edits(SPEC_NESTED, ['metrics: cpu_util', 'meter_name: cpu_util'], ['method: avg', 'method: average'], ['actions: [cluster_scaling]', 'action: [cluster_scaling]']);
  t.strictSame(ingestTemplate(text), ingestTemplate(SPEC_NESTED), 'the same alarm: average is the avg statistic');
  for (const [method, statistic] of [['summary', 'sum'], ['maximum', 'max'], ['minimum', 'min'], ['count', 'count'], ['max', 'max']]) {
    t.equal(ingestTemplate(edit(SPEC, 'method: avg', `method: ${method}`)).alarms[0]!.statistic, statistic, `method ${method}`);
  }
  const both = edit(SPEC, 'metrics: cpu_util', 'metrics: cpu_util\n            meter_name: cpu_util');
  t.equal(ingestTemplate(both).alarms[0]!.meter, 'cpu_util', 'metrics and meter_name agreeing');
  const lone = edit(SPEC, 'actions: [cluster_scaling]', 'actions: cluster_scaling');
  t.strictSame(ingestTemplate(lone).alarms, SPEC_EXPECTED.alarms, 'a lone action name is a list of one');
  const twice = edit(SPEC, 'actions: [cluster_scaling]', 'actions: [cluster_scaling, cluster_scaling]');
  t.strictSame(ingestTemplate(twice).alarms[0]!.alarmActions, ['cluster_scaling_scale_out_receiver'], 'named twice, one receiver');
});

t.test('both spellings of the policy types', async (t) => {
  const spellings = [
    ['tosca.policies.Tacker.Scaling', 'tosca.policies.tacker.Alarming'],
    ['tosca.policies.tacker.Scaling', 'tosca.policies.tacker.Alarming'],
    ['tosca.policies.Tacker.Scaling', 'tosca.policies.Tacker.Alarming'],
    ['tosca.policies.tacker.Scaling', 'tosca.policies.Tacker.Alarming'],
  ];
  for (const [scaling, alarming] of spellings) {
    const text = edits(SPEC_NESTED, ['type: tosca.policies.Tacker.Scaling', `type: ${scaling}`], ['type: tosca.policies.tacker.Alarming', `type: ${alarming}`]);
    t.strictSame(ingestTemplate(text), ingestTemplate(SPEC_NESTED), `${scaling} + ${alarming}`);
  }
  fails(t, edit(SPEC_NESTED, 'type: tosca.policies.Tacker.Scaling', 'type: tosca.policies.TACKER.Scaling'), {
    path: 'topology_template.policies[0].cluster_scaling.type',
    code: 'unknown-type',
    message: /unknown policy type 'tosca\.policies\.TACKER\.Scaling'.*did you mean 'tosca\.policies\.tacker\.Scaling'/,
  });
  fails(t, edit(SPEC_NESTED, 'type: tosca.policies.tacker.Alarming', 'type: tosca.policies.tacker.Placement'), {
    path: 'topology_template.policies[1].vdu_cpu_usage_monitoring_policy.type',
    code: 'unknown-type',
    message: /unknown policy type 'tosca\.policies\.tacker\.Placement'.*accepted: tosca\.policies\.tacker\.Scaling, tosca\.policies\.Tacker\.Scaling, tosca\.policies\.tacker\.Alarming, tosca\.policies\.Tacker\.Alarming/,
  });
});

t.test('cooldown: 120 when absent, else as given', async (t) => {
  const cooldowns = (text: string) => ingestTemplate(text).policies.map((p) => p.spec.properties.adjustment.cooldown);
  t.strictSame(cooldowns(SPEC), [120, 120], 'absent in the spec example');
  t.strictSame(cooldowns(edit(SPEC, 'increment: 1', 'increment: 1\n        cooldown: 30')), [30, 30]);
  t.strictSame(cooldowns(edit(SPEC, 'increment: 1', 'increment: 1\n        cooldown: 0')), [0, 0], 'zero is a cooldown');
  t.strictSame(cooldowns(edit(SPEC, 'increment: 1', 'increment: 1\n        cooldown:')), [120, 120], 'an empty value is absent');
});

t.test('driver: Senlin in any case, beside type or in properties', async (t) => {
  for (const d of ['senlin', 'SENLIN', "' Senlin '"]) {
    t.strictSame(ingestTemplate(edit(SPEC, 'driver: Senlin', `driver: ${d}`)).cluster, SPEC_EXPECTED.cluster, d);
  }
  const inProps = edits(SPEC_NESTED, ['        driver: Senlin\n', ''], ['          increment: 1', '          increment: 1\n          driver: Senlin']);
  t.strictSame(ingestTemplate(inProps).cluster, SPEC_EXPECTED.cluster, 'in properties');
  const bothPlaces = edit(SPEC_NESTED, '          increment: 1', '          increment: 1\n          driver: senlin');
  t.strictSame(ingestTemplate(bothPlaces).cluster, SPEC_EXPECTED.cluster, 'beside type and in properties, agreeing but for case');

  fails(t, edit(SPEC_NESTED, 'driver: Senlin', 'driver: Heat'), {
    path: 'topology_template.policies[0].cluster_scaling.driver',
    code: 'unsupported',
    message: /driver 'Heat' of cluster_scaling is not Senlin/,
  });
  fails(t, edit(SPEC_NESTED, 'driver: Senlin', 'driver: Senlin(Or some name else to distinguish Heat driver)'), {
    path: 'topology_template.policies[0].cluster_scaling.driver',
    code: 'unsupported',
    message: /is not Senlin/,
  });
  fails(t, edit(SPEC_NESTED, '        driver: Senlin\n', ''), {
    path: 'topology_template.policies[0].cluster_scaling.driver',
    code: 'missing',
    message: /has no driver.*Heat AutoScalingGroup/,
  });
  fails(t, edit(SPEC_NESTED, '          increment: 1', '          increment: 1\n          driver: Heat'), {
    path: 'topology_template.policies[0].cluster_scaling.properties.driver',
    code: 'invalid',
    message: /driver is given twice and differently/,
  });
});

t.test('targets beside type or in properties', async (t) => {
  const inProps = edits(SPEC_NESTED, ['        targets: [VDU1]\n', ''], ['          increment: 1', '          increment: 1\n          targets: [VDU1]']);
  t.strictSame(ingestTemplate(inProps), ingestTemplate(SPEC_NESTED));
  const agree = edit(SPEC_NESTED, '          increment: 1', '          increment: 1\n          targets: [VDU1]');
  t.strictSame(ingestTemplate(agree), ingestTemplate(SPEC_NESTED), 'both places agreeing');
  t.strictSame(ingestTemplate(edit(SPEC, 'targets: [VDU1]', 'targets: VDU1')).cluster, SPEC_EXPECTED.cluster, 'a lone name');
  t.strictSame(ingestTemplate(edit(SPEC, 'targets: [VDU1]', 'targets: [VDU1, VDU1]')).cluster, SPEC_EXPECTED.cluster, 'named twice');
  fails(t, edit(SPEC_NESTED, '          increment: 1', '          increment: 1\n          targets: [VDU2]'), {
    path: 'topology_template.policies[0].cluster_scaling.properties.targets',
    code: 'invalid',
    message: /targets is given twice and differently/,
  });
});

t.test('YAML and document errors', async (t) => {
  const broken = edit(SPEC, 'targets: [VDU1]', 'targets: [VDU1');
  fails(t, broken, { path: '', code: 'yaml', message: /^YAML syntax error at line \d+, column \d+: / });
  t.throws(
    () => ingestTemplate('tosca_definitions_version: tosca_simple_profile_for_nfv_1_0_0\ntopology_template:\n  node_templates: {\n'),
    { name: 'ToscaError', code: 'yaml', path: '', line: 4, message: /^YAML syntax error at line 4, column 1: / },
    'an unclosed flow map is reported where the text ends',
  );
  const dupKey = edit(SPEC, '        flavor: m1.tiny\n', '        flavor: m1.tiny\n        flavor: m1.small\n');
  fails(t, dupKey, { path: '', code: 'yaml', message: new RegExp(`line ${lineOf(dupKey, 'flavor: m1.small')}, column 9: Map keys must be unique`), line: lineOf(dupKey, 'flavor: m1.small') });
  fails(t, '', { path: '', code: 'missing', message: /missing the template/ });
  fails(t, '- a\n- b\n', { path: '', code: 'structure', message: /the template must be a map, got a list/ });
  fails(t, 'a: 1\n---\nb: 2\n', { path: '', code: 'yaml', message: /YAML syntax error/ });
});

t.test('tosca_definitions_version', async (t) => {
  fails(t, edit(SPEC, 'tosca_definitions_version: tosca_simple_profile_for_nfv_1_0_0', 'tosca_definitions_version: tosca_simple_yaml_1_0'), {
    path: 'tosca_definitions_version',
    code: 'version',
    message: /'tosca_simple_yaml_1_0' \(a string\) is not accepted.*accepted: tosca_simple_profile_for_nfv_1_0_0/,
    line: lineOf(SPEC, 'tosca_definitions_version'),
  });
  fails(t, edit(SPEC, 'tosca_definitions_version: tosca_simple_profile_for_nfv_1_0_0\n', ''), {
    path: 'tosca_definitions_version',
    code: 'version',
    message: /missing tosca_definitions_version.*accepted: tosca_simple_profile_for_nfv_1_0_0/,
  });
});

t.test('node templates', async (t) => {
  const typo = edit(SPEC, 'type: tosca.nodes.nfv.VDU.Tacker', 'type: tosca.nodes.nfv.VDU.Tackr');
  fails(t, typo, {
    path: 'topology_template.node_templates.VDU1.type',
    code: 'unknown-type',
    message: /^unknown node type 'tosca\.nodes\.nfv\.VDU\.Tackr' at topology_template\.node_templates\.VDU1\.type \(line \d+\): did you mean 'tosca\.nodes\.nfv\.VDU\.Tacker'\? accepted: tosca\.nodes\.nfv\.VDU\.Tacker, tosca\.nodes\.nfv\.CP\.Tacker, tosca\.nodes\.nfv\.VL$/,
    line: lineOf(typo, 'VDU.Tackr'),
  });
  fails(t, edit(SPEC, 'type: tosca.nodes.nfv.VL', 'type: tosca.nodes.Compute'), {
    path: 'topology_template.node_templates.VL1.type',
    code: 'unknown-type',
    message: /unknown node type 'tosca\.nodes\.Compute'/,
  });
  fails(t, edit(SPEC, '      type: tosca.nodes.nfv.VL\n', ''), {
    path: 'topology_template.node_templates.VL1.type',
    code: 'missing',
    message: /missing type of node template VL1/,
  });
  fails(t, edit(SPEC, '  node_templates:\n', '  node_template:\n'), {
    path: 'topology_template.node_templates',
    code: 'missing',
    message: /missing node_templates/,
  });
  fails(t, edit(SPEC, '        network_name: net1\n', ''), {
    path: 'topology_template.node_templates.VL1.properties.network_name',
    code: 'missing',
    message: /missing network_name of VL VL1/,
  });
  fails(t, edit(SPEC, '            node: VL1', '            node: VDU1'), {
    path: 'topology_template.node_templates.CP1.requirements[0].virtualLink.node',
    code: 'reference',
    message: /virtualLink of CP1 names 'VDU1', which is a tosca\.nodes\.nfv\.VDU\.Tacker, not a tosca\.nodes\.nfv\.VL/,
  });
  fails(t, edit(SPEC, '            node: VDU1', '            node: VDU9'), {
    path: 'topology_template.node_templates.CP1.requirements[1].virtualBinding.node',
    code: 'reference',
    message: /virtualBinding of CP1 names 'VDU9', which is no node template, not a tosca\.nodes\.nfv\.VDU\.Tacker/,
  });
  fails(t, edit(SPEC, '        - virtualBinding:\n            node: VDU1\n', ''), {
    path: 'topology_template.node_templates.CP1.requirements',
    code: 'missing',
    message: /CP CP1 has no virtualBinding requirement/,
  });
  fails(t, edit(SPEC, '        - virtualLink:\n', '        - virtuallink:\n'), {
    path: 'topology_template.node_templates.CP1.requirements[0].virtuallink',
    code: 'invalid',
    message: /unknown requirement 'virtuallink' of CP CP1/,
  });
  fails(t, edit(SPEC, '        flavor: m1.tiny\n', ''), {
    path: 'topology_template.node_templates.VDU1.properties.flavor',
    code: 'missing',
    message: /VDU VDU1 has neither a flavor nor capabilities\.nfv_compute/,
  });
  fails(t, edit(SPEC, 'flavor: m1.tiny', 'flavor: { get_input: flavor }'), {
    path: 'topology_template.node_templates.VDU1.properties.flavor',
    code: 'invalid',
    message: /flavor of VDU1 must be a non-empty string, got the function get_input \(intrinsic functions are not resolved here\)/,
  });
  fails(t, edit(GNOCCHI, 'num_cpus: 2', 'num_cpus: 0'), {
    path: 'topology_template.node_templates.VDU1.capabilities.nfv_compute.properties.num_cpus',
    code: 'invalid',
    message: /num_cpus of VDU1 must be an integer >= 1, got 0/,
  });
  fails(t, edit(GNOCCHI, 'mem_size: 512 MB', 'mem_size: 512 parsecs'), {
    path: 'topology_template.node_templates.VDU1.capabilities.nfv_compute.properties.mem_size',
    code: 'invalid',
    message: /mem_size of VDU1 must be a size like '512 MB', got '512 parsecs'/,
  });
  fails(t, edit(GNOCCHI, '        order: 0', '        order: 1'), {
    path: 'topology_template.node_templates.CP2.properties.order',
    code: 'invalid',
    message: /order 1 of CP2 is also the order of CP1, both bound to VDU1/,
  });
});

t.test('CPs: order first, then template order; a VDU without CP', async (t) => {
  const threeCps = edit(
    GNOCCHI,
    '    VL1:\n',
    `    CP3:
      type: tosca.nodes.nfv.CP.Tacker
      requirements:
        - virtualBinding: VDU1
        - virtualLink: VL1

    VL1:
`,
  );
  t.strictSame(ingestTemplate(threeCps).profile.spec.properties.networks, [{ network: 'net0' }, { network: 'net_mgmt' }, { network: 'net_mgmt' }], 'CP3 (no order) last; two NICs on one VL');
  const noCp = edit(SPEC, '            node: VDU1', '            node: VDU2\n    VDU2:\n      type: tosca.nodes.nfv.VDU.Tacker\n      properties: {flavor: m1.tiny}\n');
  const r = ingestTemplate(noCp);
  t.strictSame(r.profile.spec.properties.networks, []);
  t.ok(r.warnings.includes('VDUs not targeted by cluster_scaling are not part of the Senlin cluster and not ingested: VDU2'), 'untargeted VDU named');
  t.ok(r.warnings.includes('VDU1 has no connection point; its profile lists no networks'), 'no CP said');
});

const SP = 'topology_template.policies[0].cluster_scaling';

t.test('scaling policy: required properties', async (t) => {
  for (const k of ['min_instances', 'max_instances', 'default_instances', 'increment']) {
    fails(t, SPEC_NESTED.replace(new RegExp(`\\n +${k}: \\d+`), ''), { path: `${SP}.properties.${k}`, code: 'missing', message: new RegExp(`missing required ${k}`) });
  }
  fails(t, edit(SPEC_NESTED, '        targets: [VDU1]\n', ''), { path: `${SP}.properties.targets`, code: 'missing', message: /missing required targets of cluster_scaling/ });
  fails(t, edit(SPEC_NESTED, 'targets: [VDU1]', 'targets: []'), { path: `${SP}.targets`, code: 'invalid', message: /targets of cluster_scaling must not be empty/ });
  fails(t, edit(SPEC_NESTED, / {8}properties:\n {10}min_instances: 2\n {10}max_instances: 10\n {10}default_instances: 3\n {10}increment: 1\n/.exec(SPEC_NESTED)![0], ''), {
    path: `${SP}.properties`,
    code: 'missing',
    message: /scaling policy cluster_scaling has no properties/,
  });
  fails(t, edit(SPEC, '  policies:\n', '  policy:\n'), { path: 'topology_template.policies', code: 'missing', message: /missing policies/ });
  const noScaling = edit(SPEC_NESTED, /    - cluster_scaling:\n(?: {8}.*\n)+\n/.exec(SPEC_NESTED)![0], '');
  fails(t, noScaling, { path: 'topology_template.policies', code: 'missing', message: /no tosca\.policies\.tacker\.Scaling policy/ });
});

t.test('scaling policy: numbers', async (t) => {
  const bad: [string, string, RegExp][] = [
    ['min_instances: 2', 'min_instances: -1', /min_instances must be a non-negative integer, got -1/],
    ['max_instances: 10', 'max_instances: 2.5', /max_instances must be a non-negative integer, got 2\.5/],
    ['default_instances: 3', "default_instances: '3'", /default_instances must be a non-negative integer, got '3' \(a string\)/],
    ['increment: 1', 'increment: 0', /increment must be an integer >= 1, got 0/],
    ['increment: 1', 'increment: -2', /increment must be an integer >= 1, got -2/],
    ['increment: 1', 'increment: 1.0e+400', /increment must be an integer >= 1, got Infinity/],
  ];
  for (const [from, to, message] of bad) {
    fails(t, edit(SPEC_NESTED, from, to), { path: `${SP}.properties.${from.split(':')[0]}`, code: 'invalid', message });
  }
  fails(t, edit(SPEC_NESTED, 'increment: 1', 'increment: 1\n          cooldown: -5'), { path: `${SP}.properties.cooldown`, code: 'invalid', message: /cooldown must be a non-negative integer, got -5/ });
  fails(t, edit(SPEC_NESTED, 'increment: 1', 'increment: 1\n          cooldown: 1.5'), { path: `${SP}.properties.cooldown`, code: 'invalid', message: /cooldown must be a non-negative integer, got 1\.5/ });
  fails(t, edit(SPEC_NESTED, 'max_instances: 10', 'max_instances: 1'), {
    path: `${SP}.properties.min_instances`,
    code: 'range',
    message: /min_instances 2 is greater than max_instances 1/,
  });
  fails(t, edit(SPEC_NESTED, 'default_instances: 3', 'default_instances: 1'), {
    path: `${SP}.properties.default_instances`,
    code: 'range',
    message: /default_instances 1 is outside \[min_instances 2, max_instances 10\]/,
  });
  fails(t, edit(SPEC_NESTED, 'default_instances: 3', 'default_instances: 11'), {
    path: `${SP}.properties.default_instances`,
    code: 'range',
    message: /default_instances 11 is outside \[min_instances 2, max_instances 10\]/,
  });
  const edge = ingestTemplate(edits(SPEC_NESTED, ['min_instances: 2', 'min_instances: 0'], ['max_instances: 10', 'max_instances: 0'], ['default_instances: 3', 'default_instances: 0']));
  t.strictSame(edge.cluster, { name: 'VDU1_cluster', profile: 'VDU1_profile', minSize: 0, maxSize: 0, desiredCapacity: 0 }, 'all zero is in range');
  const flat = edit(SPEC, 'min_instances: 2', 'min_instances: -1');
  fails(t, flat, { path: `${SP}.properties.min_instances`, code: 'invalid', message: /non-negative/, line: lineOf(flat, 'min_instances') });
});

t.test('scaling policy: targets', async (t) => {
  fails(t, edit(SPEC_NESTED, 'targets: [VDU1]', 'targets: [VDU7]'), {
    path: `${SP}.targets[0]`,
    code: 'reference',
    message: /target 'VDU7' of cluster_scaling names no node template, not a tosca\.nodes\.nfv\.VDU\.Tacker/,
  });
  fails(t, edit(SPEC_NESTED, 'targets: [VDU1]', 'targets: [VDU1, CP1]'), {
    path: `${SP}.targets[1]`,
    code: 'reference',
    message: /target 'CP1' of cluster_scaling names a tosca\.nodes\.nfv\.CP\.Tacker, not a tosca\.nodes\.nfv\.VDU\.Tacker/,
  });
  fails(t, edit(SPEC_NESTED, 'targets: [VDU1]', 'targets: VL1'), { path: `${SP}.targets`, code: 'reference', message: /target 'VL1'.*tosca\.nodes\.nfv\.VL/ });
  fails(t, edit(SPEC_NESTED, 'targets: [VDU1]', 'targets: {VDU1: yes}'), { path: `${SP}.targets`, code: 'invalid', message: /must be a list of names, got a map/ });
  const twoVdus = edits(SPEC_NESTED, ['targets: [VDU1]', 'targets: [VDU1, VDU2]'], ['    CP1:\n', '    VDU2:\n      type: tosca.nodes.nfv.VDU.Tacker\n      properties: {flavor: m1.tiny}\n\n    CP1:\n']);
  fails(t, twoVdus, { path: `${SP}.targets`, code: 'unsupported', message: /cluster_scaling targets 2 VDUs \(VDU1, VDU2\).*one cluster scales one VDU/ });
  const second = edit(SPEC_NESTED, '    - vdu_cpu_usage_monitoring_policy:', '    - SP2:\n        type: tosca.policies.tacker.Scaling\n        driver: Senlin\n        targets: [VDU1]\n        properties: {min_instances: 1, max_instances: 2, default_instances: 1, increment: 1}\n    - vdu_cpu_usage_monitoring_policy:');
  fails(t, second, { path: 'topology_template.policies[1].SP2', code: 'unsupported', message: /a second scaling policy 'SP2'.*'cluster_scaling' is the first/ });
  fails(t, edit(second, 'SP2:', 'cluster_scaling:'), { path: 'topology_template.policies[1].cluster_scaling', code: 'invalid', message: /policy name 'cluster_scaling' is used twice.*first at topology_template\.policies\[0\]\.cluster_scaling/ });
});

const TR = 'topology_template.policies[1].vdu_cpu_usage_monitoring_policy.triggers.vdu_hcpu_usage_scaling_out';

t.test('alarms: actions and direction', async (t) => {
  fails(t, edit(SPEC, 'actions: [cluster_scaling]', 'actions: [SP1]'), {
    path: `${TR}.actions[0]`,
    code: 'reference',
    message: /action 'SP1' of trigger vdu_hcpu_usage_scaling_out names no scaling policy.*cluster_scaling/,
  });
  fails(t, edit(SPEC, 'actions: [cluster_scaling]', 'actions: [cluster_scaling, respawn]'), {
    path: `${TR}.actions[1]`,
    code: 'reference',
    message: /action 'respawn'.*names no scaling policy.*respawn\/log\/log_and_kill actions are not ingested/,
  });
  fails(t, edit(SPEC, 'actions: [cluster_scaling]', 'actions: [vdu_cpu_usage_monitoring_policy]'), {
    path: `${TR}.actions[0]`,
    code: 'reference',
    message: /names a tosca\.policies\.tacker\.Alarming policy, not a scaling policy/,
  });
  fails(t, edit(SPEC, '            actions: [cluster_scaling]\n', ''), { path: `${TR}.action`, code: 'missing', message: /trigger vdu_hcpu_usage_scaling_out has no action/ });
  fails(t, edit(SPEC, 'actions: [cluster_scaling]', 'actions: []'), { path: `${TR}.actions`, code: 'invalid', message: /must not be empty/ });
  fails(t, edit(SPEC, 'actions: [cluster_scaling]', 'actions: [cluster_scaling]\n            action: [SP1]'), { path: `${TR}.actions`, code: 'invalid', message: /both action and actions, differently/ });

  const dir = (op: string) => ingestTemplate(edit(SPEC, 'comparison_operator: gt', `comparison_operator: ${op}`)).alarms[0]!;
  t.strictSame([dir('ge').comparisonOperator, dir('ge').alarmActions], ['ge', ['cluster_scaling_scale_out_receiver']], 'ge scales out');
  t.strictSame(dir('lt').alarmActions, ['cluster_scaling_scale_in_receiver'], 'lt scales in');
  t.strictSame(dir('le').alarmActions, ['cluster_scaling_scale_in_receiver'], 'le scales in');
  t.match(ingestTemplate(edit(SPEC, 'comparison_operator: gt', 'comparison_operator: lt')).warnings, [/indented level/, /no alarm drives CLUSTER_SCALE_OUT/]);
  fails(t, edit(SPEC, 'comparison_operator: gt', 'comparison_operator: eq'), {
    path: `${TR}.condition.comparison_operator`,
    code: 'unsupported',
    message: /'eq'.*says neither scale out nor in/,
  });
  fails(t, edit(SPEC, 'comparison_operator: gt', 'comparison_operator: greater_than'), {
    path: `${TR}.condition.comparison_operator`,
    code: 'invalid',
    message: /'greater_than'.*is not an Aodh operator.*accepted: gt, ge, lt, le, eq, ne/,
  });
});

t.test('alarms: condition fields', async (t) => {
  const missing: [string, string, string][] = [
    ['              threshold: 50\n', 'condition.threshold', 'missing required threshold'],
    ['              period: 60\n', 'condition.period', 'missing required period'],
    ['              evaluations: 1\n', 'condition.evaluations', 'missing required evaluations'],
    ['              method: avg\n', 'condition.method', 'missing method'],
    ['              comparison_operator: gt\n', 'condition.comparison_operator', 'missing comparison_operator'],
    ['            metrics: cpu_util\n', 'metric', 'has no metric'],
  ];
  for (const [line, path, message] of missing) fails(t, edit(SPEC, line, ''), { path: `${TR}.${path}`, code: 'missing', message: new RegExp(message) });
  fails(t, edit(SPEC, / {12}condition:\n(?: {14}.*\n)+/.exec(SPEC)![0], ''), { path: `${TR}.condition`, code: 'missing', message: /missing condition of trigger/ });
  fails(t, edit(SPEC, / {12}event_type:\n(?: {14}.*\n)+/.exec(SPEC)![0], ''), { path: `${TR}.event_type`, code: 'missing', message: /missing event_type/ });
  fails(t, edit(SPEC, 'threshold: 50', "threshold: '50%'"), { path: `${TR}.condition.threshold`, code: 'invalid', message: /threshold of trigger vdu_hcpu_usage_scaling_out must be a number, got '50%'/ });
  fails(t, edit(SPEC, 'period: 60', 'period: 0'), { path: `${TR}.condition.period`, code: 'invalid', message: /must be an integer >= 1, got 0/ });
  fails(t, edit(SPEC, 'evaluations: 1', 'evaluations: 1.5'), { path: `${TR}.condition.evaluations`, code: 'invalid', message: /got 1\.5/ });
  fails(t, edit(SPEC, 'method: avg', 'method: mean'), { path: `${TR}.condition.method`, code: 'invalid', message: /method 'mean'.*is not known.*accepted: avg, sum/ });
  fails(t, edit(GNOCCHI, 'aggregation_method: mean', 'aggregation_method: avg'), {
    path: 'topology_template.policies[1].vdu_cpu_usage_monitoring_policy.triggers.vdu_hcpu_usage_scaling_out.condition.aggregation_method',
    code: 'invalid',
    message: /aggregation_method 'avg'.*is not known.*accepted: mean, median/,
  });
  fails(t, edit(SPEC, 'period: 60', 'granularity: 60'), { path: TR, code: 'invalid', message: /mixes the Ceilometer form \(metrics, method\) and the Gnocchi form \(granularity\)/ });
  fails(t, edit(SPEC, 'metrics: cpu_util', 'metrics: cpu_util\n            meter_name: memory'), { path: `${TR}.meter_name`, code: 'invalid', message: /both metrics and meter_name, differently/ });
  t.equal(ingestTemplate(edit(SPEC, 'threshold: 50', 'threshold: -0.5')).alarms[0]!.threshold, -0.5, 'any finite threshold');
  const noConstraint = ingestTemplate(edit(SPEC, '              constraint: utilization greater_than 50%\n', '')).alarms[0]!;
  t.notOk('description' in noConstraint, 'no constraint, no description');
  const gnocchiDefault = ingestTemplate(edit(GNOCCHI, '              resource_type: instance\n', '')).alarms[0]!;
  t.equal(gnocchiDefault.resourceType, 'instance', 'Gnocchi resource_type defaults to instance');
  const dupTrigger = edit(
    SPEC,
    '            actions: [cluster_scaling]\n',
    '            actions: [cluster_scaling]\n    - second_alarming:\n        type: tosca.policies.tacker.Alarming\n        triggers:\n          vdu_hcpu_usage_scaling_out: {}\n',
  );
  fails(t, dupTrigger, { path: 'topology_template.policies[2].second_alarming.triggers.vdu_hcpu_usage_scaling_out', code: 'invalid', message: /trigger name 'vdu_hcpu_usage_scaling_out' is used twice/ });
  fails(t, edit(SPEC, /        triggers:\n(?:(?: {10}.*)?\n)+/.exec(SPEC)![0], '        triggers:\n'), {
    path: 'topology_template.policies[1].vdu_cpu_usage_monitoring_policy.triggers',
    code: 'missing',
    message: /missing triggers of vdu_cpu_usage_monitoring_policy/,
  });
});

t.test('policy list items', async (t) => {
  fails(t, edit(SPEC, '    - cluster_scaling:\n', '    - cluster_scaling: x\n'), {
    path: 'topology_template.policies[0]',
    code: 'structure',
    message: /each policy must be a single-key map.*got keys cluster_scaling, type, description, driver, targets, properties/,
  });
  fails(t, edit(SPEC, '  policies:\n', '  policies:\n    - 42\n'), { path: 'topology_template.policies[0]', code: 'structure', message: /each policy must be a map, got 42/ });
  fails(t, edit(SPEC, '  policies:\n', '  policies: {}\n  unused:\n'), { path: 'topology_template.policies', code: 'structure', message: /policies must be a list/ });
});

/** A VNFD of `n` VDUs (each with its CP on its own VL), VDU1 also on `extraCps` more VLs, and `triggers` alarms. */
function large(n: number, extraCps: number, triggers: number): string {
  const out = ['tosca_definitions_version: tosca_simple_profile_for_nfv_1_0_0', 'topology_template:', '  node_templates:'];
  for (let i = 1; i <= n; i++) {
    out.push(`    VDU${i}:`, '      type: tosca.nodes.nfv.VDU.Tacker', '      properties:', `        image: img-${i}`, '        flavor: m1.small');
    out.push(`    CP${i}:`, '      type: tosca.nodes.nfv.CP.Tacker', `      properties: {order: 0}`, '      requirements:', `        - virtualLink: {node: VL${i}}`, `        - virtualBinding: {node: VDU${i}}`);
    out.push(`    VL${i}:`, '      type: tosca.nodes.nfv.VL', `      properties: {network_name: net${i}, vendor: Tacker}`);
  }
  for (let j = 1; j <= extraCps; j++) {
    out.push(`    CPX${j}:`, '      type: tosca.nodes.nfv.CP.Tacker', `      properties: {order: ${j}}`, '      requirements:', `        - virtualLink: VL${(j % n) + 1}`, '        - virtualBinding: VDU1');
  }
  out.push('  policies:', '    - SP1:', '        type: tosca.policies.tacker.Scaling', '        properties:');
  out.push('          driver: Senlin', '          targets: [VDU1]', '          min_instances: 1', '          max_instances: 50', '          default_instances: 5', '          increment: 2');
  out.push('    - alarms:', '        type: tosca.policies.tacker.Alarming', '        triggers:');
  for (let k = 1; k <= triggers; k++) {
    out.push(`          t${k}:`, '            event_type: {type: tosca.events.resource.utilization, implementation: ceilometer}', '            metric: cpu_util');
    out.push(`            condition: {threshold: ${k}, granularity: 60, evaluations: 1, aggregation_method: mean, comparison_operator: ${k % 2 ? 'gt' : 'lt'}}`, '            action: [SP1]');
  }
  return out.join('\n') + '\n';
}

t.test('a large template stays fast: ingest time grows linearly with the template', async (t) => {
  // Relative, not absolute: both sizes are timed back to back on the same (possibly loaded)
  // machine (the small one the best of three runs). Per KiB, the 20x larger template may cost at
  // most 5x the small one's; a quadratic step would make it ~20x.
  const best = (text: string) => {
    let ms = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      ingestTemplate(text);
      ms = Math.min(ms, performance.now() - t0);
    }
    return ms;
  };
  const text = large(50, 50, 50);
  ingestTemplate(text); // warm up
  const r = ingestTemplate(text);
  t.equal(r.profile.spec.properties.networks.length, 51, 'VDU1 on its own VL and 50 more');
  t.strictSame(r.profile.spec.properties.networks.slice(0, 3), [{ network: 'net1' }, { network: 'net2' }, { network: 'net3' }], 'in CP order');
  t.equal(r.alarms.length, 50);
  t.equal(r.alarms.filter((a) => a.alarmActions[0] === 'SP1_scale_out_receiver').length, 25);
  t.match(r.warnings[0], /^VDUs not targeted by SP1 .*: VDU2, VDU3, .*VDU50$/);

  const ms = best(text);
  const big = large(1000, 250, 250);
  const t1 = performance.now();
  const rb = ingestTemplate(big);
  const msBig = performance.now() - t1;
  t.equal(rb.profile.spec.properties.networks.length, 251);
  const perKib = ms / (text.length / 1024);
  const perKibBig = msBig / (big.length / 1024);
  t.ok(perKibBig <= 5 * perKib, `no superlinear step: ${(text.length / 1024).toFixed(0)} KiB in ${ms.toFixed(1)} ms, ${(big.length / 1024).toFixed(0)} KiB in ${msBig.toFixed(0)} ms (${(perKibBig / perKib).toFixed(2)}x per KiB)`);

  const broken = edit(text, '    VDU37:\n      type: tosca.nodes.nfv.VDU.Tacker', '    VDU37:\n      type: tosca.nodes.nfv.VDU.Tackr');
  fails(t, broken, { path: 'topology_template.node_templates.VDU37.type', code: 'unknown-type', message: /unknown node type/, line: lineOf(broken, 'VDU.Tackr') });
});
