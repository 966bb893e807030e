/**
 * A TOSCA template in, Senlin objects out (tosca.ts reads it), written in one config commit: the
 * profile (its network resolved from the VL's network_name to a Neutron network here), the
 * cluster, the two scaling policies bound to it, the two webhook receivers, and one threshold
 * alarm per alarming trigger (alarms.ts evaluates them), its actions the receivers made here. The
 * VNF manager hands its VDUs' scaling policies to this same code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { neutron } from '../../src/bindings/neutron.ts';
import { clusterPath, policyPath, profilePath, CLUSTERING } from './model.ts';
import { ingestTemplate, ToscaError, type Alarm } from './tosca.ts';
import type { ClusteringAlarm } from '../../src/bindings/sextant-clustering.ts';

/** A receiver id is its webhook's capability: long and random. */
export const receiverId = () => randomBytes(24).toString('hex');

/** Gnocchi's aggregation methods and Ceilometer's statistics as the alarm evaluator computes them. */
const STATISTIC: Record<string, ClusteringAlarm['statistic']> = { avg: 'avg', mean: 'avg', max: 'max', min: 'min', sum: 'sum', count: 'count' };

/** A TOSCA trigger's alarm as config, its actions the ids of the receivers made in the same commit. */
function alarmEntry(a: Alarm, id: string, cluster: string, receiverIds: Map<string, string>): ClusteringAlarm {
  const statistic = STATISTIC[a.statistic];
  if (!statistic) throw new YangError({ tag: 'invalid-value', appTag: 'bad-template', message: `alarm ${a.name}: statistic '${a.statistic}' is not evaluated here (accepted: ${Object.keys(STATISTIC).join(', ')})` });
  return {
    id,
    name: a.name,
    ...(a.description !== undefined ? { description: a.description } : {}),
    meter: a.meter,
    statistic,
    period: a.period,
    'evaluation-periods': a.evaluationPeriods,
    threshold: String(Number(a.threshold.toFixed(6))),
    'comparison-operator': a.comparisonOperator,
    'repeat-actions': a.repeatActions,
    'alarm-actions': a.alarmActions.map((name) => receiverIds.get(name)!),
    cluster,
  };
}

export async function ingest(ctx: PluginContext, text: string, prefix?: string) {
  let parsed;
  try {
    parsed = ingestTemplate(text, prefix ? { name: prefix } : {});
  } catch (e) {
    if (e instanceof ToscaError) throw new YangError({ tag: 'invalid-value', appTag: 'bad-template', message: `${e.message} (at ${e.path})` });
    throw e;
  }
  const wanted = parsed.profile.spec.properties.networks?.[0]?.network;
  const networks = ctx.data.read('config', neutron().networks().network()) ?? [];
  const network = networks.find((n) => n.uuid === wanted) ?? networks.find((n) => n.name === wanted);
  if (!network) throw new YangError({ tag: 'invalid-value', appTag: 'bad-template', message: `the template's network "${wanted}" (a VL's network_name) is no Neutron network here` });
  const ids = { profile: randomUUID(), cluster: randomUUID(), policies: parsed.policies.map(() => randomUUID()), receivers: parsed.receivers.map(() => receiverId()), alarms: parsed.alarms.map(() => randomUUID()) };
  const receiverIds = new Map(parsed.receivers.map((r, i) => [r.name, ids.receivers[i]]));
  const alarms = parsed.alarms.map((a, i) => alarmEntry(a, ids.alarms[i], ids.cluster, receiverIds));
  const tx = ctx.data.transaction('config');
  const props = parsed.profile.spec.properties;
  tx.create(profilePath(ids.profile), {
    id: ids.profile,
    name: parsed.profile.name,
    type: 'os.nova.server-1.0',
    network: network.uuid,
    ...(props.flavor !== undefined ? { flavor: String(props.flavor) } : {}),
    ...(props.image !== undefined ? { image: String(props.image) } : {}),
    spec: JSON.stringify(parsed.profile.spec),
  });
  parsed.policies.forEach((p, i) => {
    const a = p.spec.properties.adjustment;
    tx.create(policyPath(ids.policies[i]), { id: ids.policies[i], name: p.name, spec: JSON.stringify(p.spec), scaling: { event: p.spec.properties.event, 'adjustment-type': a.type, number: a.number, cooldown: a.cooldown } });
  });
  tx.create(clusterPath(ids.cluster), {
    id: ids.cluster,
    name: parsed.cluster.name,
    profile: ids.profile,
    'min-size': parsed.cluster.minSize,
    'max-size': parsed.cluster.maxSize,
    'desired-capacity': parsed.cluster.desiredCapacity,
    policy: ids.policies.map((policy) => ({ policy })),
  });
  parsed.receivers.forEach((r, i) => {
    tx.create(CLUSTERING.receiver(ids.receivers[i]), { id: ids.receivers[i], name: r.name, type: 'webhook', cluster: ids.cluster, action: r.action, ...(r.params ? { param: Object.entries(r.params).map(([name, value]) => ({ name, value })) } : {}) });
  });
  for (const a of alarms) tx.create(CLUSTERING.alarm(a.id), a);
  await tx.commit();
  const warnings = parsed.warnings;
  return { profile: ids.profile, cluster: ids.cluster, policy: ids.policies, receiver: ids.receivers, ...(warnings.length ? { warning: warnings } : {}) };
}
