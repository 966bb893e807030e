/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: what Prometheus would
 * refuse to scrape, it refuses too (with the line number), so a test that reads `/metrics` through
 * it also proves the exposition is well formed. Checked: metric and label names, label value
 * escapes (only \\, \" and \n), sample values (floats, NaN, +Inf, -Inf), optional integer
 * timestamps, one HELP and one TYPE per family given before its samples, a family's samples in
 * one block, no series twice, sample names fitting their family's type (a counter's name, a
 * histogram's _bucket with le, _sum, _count), and each histogram's buckets cumulative, ending with
 * le="+Inf" equal to its _count.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: PromSample[];
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class Exposition {
  constructor(readonly families: Map<string, PromFamily>) {}

  /** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const hits = this.samples(name, labels);
    if (hits.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${hits.length} samples`);
    return hits[0]?.value;
  }

  /** Every sample named `name` whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): PromSample[] {
    const out: PromSample[] = [];
    for (const f of this.families.values()) {
      for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
    return out;
  }
}

/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string, where: string): number {
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new ExpositionError(`${where}: "${text}" is not a sample value`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` from position `i` of `line`; returns the labels and the position after `}`. */
function parseLabels(line: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!m) throw new ExpositionError(`${where}: a label name was expected at column ${i + 1}`);
    const name = m[0];
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new ExpositionError(`${where}: label ${name} must be followed by ="`);
    i += 2;
    let value = '';
    for (;;) {
      const ch = line[i];
      if (ch === undefined) throw new ExpositionError(`${where}: label ${name}'s value is not closed`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = line[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new ExpositionError(`${where}: label ${name}: "\\${next ?? ''}" is not an escape of the format`);
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    i++; // closing quote
    if (name in labels) throw new ExpositionError(`${where}: label ${name} given twice`);
    labels[name] = value;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new ExpositionError(`${where}: "," or "}" expected after label ${name}`);
  }
}

/** The family a sample name belongs to, given the types declared so far. */
function familyOf(name: string, families: Map<string, PromFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return name;
}

export function parseExposition(text: string): Exposition {
  if (text !== '' && !text.endsWith('\n')) throw new ExpositionError('the exposition must end with a line feed');
  const families = new Map<string, PromFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  lines.pop();
  const enter = (name: string) => {
    if (current === name) return;
    if (current !== undefined) finished.add(current);
    if (finished.has(name)) throw new ExpositionError(`family ${name}: its lines are not in one block`);
    current = name;
  };
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new ExpositionError(`${where}: "${name}" is not a metric name`);
      enter(name);
      const f = families.get(name) ?? { name, type: 'untyped' as const, samples: [] };
      families.set(name, f);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new ExpositionError(`${where}: a second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) throw new ExpositionError(`${where}: HELP of ${name} has an escape the format does not know`);
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (!TYPES.has(rest.trim())) throw new ExpositionError(`${where}: "${rest}" is not a metric type`);
        if ((f as { typed?: boolean }).typed) throw new ExpositionError(`${where}: a second TYPE for ${name}`);
        if (f.samples.length) throw new ExpositionError(`${where}: TYPE of ${name} after its samples`);
        f.type = rest.trim() as PromFamily['type'];
        (f as { typed?: boolean }).typed = true;
      }
      return;
    }
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!m) throw new ExpositionError(`${where}: a sample must start with a metric name`);
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i, where);
    const rest = line.slice(i);
    const parts = /^ +(\S+)(?: +(-?\d+))? *$/.exec(rest);
    if (!parts) throw new ExpositionError(`${where}: "${rest}" is not " value [timestamp]"`);
    const value = parseValue(parts[1], where);
    const family = familyOf(name, families);
    enter(family);
    const f = families.get(family) ?? { name: family, type: 'untyped' as const, samples: [] };
    families.set(family, f);
    if (f.type === 'counter' && name !== family) throw new ExpositionError(`${where}: ${name} in counter ${family}`);
    if (f.type === 'histogram') {
      if (name === family) throw new ExpositionError(`${where}: histogram ${family} has a bare sample`);
      if (name.endsWith('_bucket') && labels.le === undefined) throw new ExpositionError(`${where}: ${name} without an le label`);
    }
    if ((f.type === 'counter' || name.endsWith('_count') || name.endsWith('_bucket')) && f.type !== 'untyped' && f.type !== 'gauge' && (value < 0 || Number.isNaN(value))) {
      throw new ExpositionError(`${where}: ${name} is a count and cannot be ${value}`);
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
    if (series.has(key)) throw new ExpositionError(`${where}: the series ${name}${JSON.stringify(labels)} appears twice`);
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return new Exposition(families);
}

/** Buckets cumulative in le order, the +Inf bucket present and equal to _count, per label set. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) g.buckets.push([parseValue(le, `histogram ${f.name}`), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
    else if (s.name.endsWith('_sum')) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${f.name}${key}`;
    if (g.count === undefined || g.sum === undefined) throw new ExpositionError(`${where}: _count and _sum are both required`);
    g.buckets.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new ExpositionError(`${where}: bucket le=${g.buckets[i][0]} counts fewer than le=${g.buckets[i - 1][0]}`);
    }
    const inf = g.buckets.at(-1);
    if (!inf || inf[0] !== Infinity) throw new ExpositionError(`${where}: no le="+Inf" bucket`);
    if (inf[1] !== g.count) throw new ExpositionError(`${where}: the +Inf bucket (${inf[1]}) differs from _count (${g.count})`);
  }
}
