/**
 * Compute scale-in as a workflow test drives it: `scalein-computes-end` asked again until it says
 * DONE (or the attempts run out), the way an operator's script polls it.
 */
type Rpc = (name: string, input: Record<string, unknown>) => Promise<{ status: number; json: { 'scalein-api:output'?: { status?: string } } }>;

/** The last answer of scalein-computes-end for `computes`: DONE, or what it still said at the end. */
export async function endUntilDone(rpc: Rpc, computes: string[], attempts = 100, everyMs = 200): Promise<string | undefined> {
  let status: string | undefined;
  for (let i = 0; i < attempts; i++) {
    status = (await rpc('scalein-api:scalein-computes-end', { 'scalein-node-ids': computes })).json?.['scalein-api:output']?.status;
    if (status === 'DONE') break;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return status;
}
