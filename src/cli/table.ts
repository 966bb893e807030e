/** Plain-text tables for the CLI: a header row, columns padded to their widest cell. */

export type Cell = string | number | boolean | undefined;

export function table(headers: string[], rows: Cell[][]): string {
  const text = (c: Cell) => (c === undefined || c === '' ? '-' : String(c));
  const cells = [headers, ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** `key  value` lines. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v === undefined || v === '' ? '-' : String(v)}`).join('\n') + '\n';
}
