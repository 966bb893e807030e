/**
 * RPC registry: `module:rpc` -> handler. Input is decoded and validated against the rpc's input
 * schema before the handler runs, and the handler's output against the output schema after, so
 * a handler only ever sees valid input and no protocol edge can return invalid output.
 */
import { trace } from '@opentelemetry/api';
import { inSpan } from '../telemetry/tracing.ts';
import { secondsSince, type Metrics } from '../telemetry/metrics.ts';
import { YangError } from '../errors.ts';
import { decodeObject, toJsonValue, withDefaults, type DecodeOptions } from '../yang/json.ts';
import type { DataObject, Schema, SchemaNode } from '../yang/schema.ts';
import { validateOperationBody } from '../yang/validate.ts';

/** A handler gets the input as JSON (RFC 7951 form, defaults filled) and returns the output. */
export type RpcHandler = (input: Record<string, unknown>, call: RpcCall) => unknown | Promise<unknown>;

export interface RpcCall {
  /** `module:rpc` */
  name: string;
}

const tracer = trace.getTracer('sextant.rpc');

/**
 * A defined rpc that nothing serves (no plugin registered a handler): operation-not-supported,
 * which RESTCONF answers 501. One definition, for the registry's invoke and for every edge that
 * refuses such an rpc before invoking it (e.g. RESTCONF's `GET /rests/operations/<rpc>`).
 */
export function rpcNotServed(name: string): YangError {
  return new YangError({ tag: 'operation-not-supported', message: `rpc "${name}" is defined but no plugin serves it` });
}

export class RpcRegistry {
  private readonly handlers = new Map<string, { handler: RpcHandler; owner: string }>();

  constructor(
    private readonly schema: Schema,
    /** The configuration tree that absolute paths and leafrefs in rpc input refer to. */
    private readonly dataRoot: () => DataObject = () => ({}),
    /** The controller's metrics: calls, errors and latency per rpc. */
    private readonly metrics?: Metrics,
  ) {}

  register(name: string, handler: RpcHandler, owner = 'platform'): void {
    if (!this.schema.rpcs.has(name)) {
      throw new YangError({ tag: 'unknown-element', message: `no rpc "${name}" in the loaded YANG modules` });
    }
    const existing = this.handlers.get(name);
    if (existing) {
      throw new YangError({ tag: 'in-use', message: `rpc "${name}" is already served by ${existing.owner}` });
    }
    this.handlers.set(name, { handler, owner });
  }

  unregisterOwner(owner: string): void {
    for (const [name, h] of this.handlers) if (h.owner === owner) this.handlers.delete(name);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  schemaOf(name: string): SchemaNode {
    const node = this.schema.rpcs.get(name);
    if (!node) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `unknown rpc "${name}"`, path: `/${name}` });
    return node;
  }

  /** Invokes with JSON input (RFC 7951 members of the input node); returns JSON output or undefined. */
  async invoke(name: string, input: unknown = {}, opts: DecodeOptions = {}): Promise<Record<string, unknown> | undefined> {
    const node = this.schemaOf(name);
    const inputNode = node.children.find((c) => c.kind === 'input')!;
    const decoded = decodeObject(this.schema, inputNode, input ?? {}, `/${name}/input`, opts);
    const out = await this.invokeDecoded(name, decoded);
    return out === undefined ? undefined : (toJsonValue(node.children.find((c) => c.kind === 'output'), out) as Record<string, unknown>);
  }

  /** Invokes with already decoded input; returns the decoded, validated output or undefined. */
  async invokeDecoded(name: string, input: DataObject): Promise<DataObject | undefined> {
    const node = this.schemaOf(name);
    const entry = this.handlers.get(name);
    if (!entry) throw rpcNotServed(name);
    const inputNode = node.children.find((c) => c.kind === 'input')!;
    const outputNode = node.children.find((c) => c.kind === 'output')!;
    const start = performance.now();
    return inSpan(tracer, `rpc ${name}`, async (span) => {
      span.setAttribute('rpc.method', name);
      try {
        const out = await this.run(name, entry.handler, inputNode, outputNode, input);
        this.metrics?.rpcCall(name, secondsSince(start));
        return out;
      } catch (e) {
        this.metrics?.rpcCall(name, secondsSince(start), e instanceof YangError ? e.tag : 'operation-failed');
        throw e;
      }
    });
  }

  /** Validates the input, runs the handler (a non-YANG error becomes operation-failed), validates the output. */
  private async run(name: string, handler: RpcHandler, inputNode: SchemaNode, outputNode: SchemaNode, input: DataObject): Promise<DataObject | undefined> {
    validateOperationBody(this.schema, inputNode, input, `/${name}/input`, this.dataRoot());
    const json = toJsonValue(inputNode, withDefaults(inputNode, input)) as Record<string, unknown>;
    let result: unknown;
    try {
      result = await handler(json, { name });
    } catch (e) {
      if (e instanceof YangError) throw e;
      throw new YangError({ tag: 'operation-failed', message: `${name} failed: ${(e as Error).message}` });
    }
    if (result === undefined || result === null) return undefined;
    const out = decodeObject(this.schema, outputNode, result, `/${name}/output`);
    validateOperationBody(this.schema, outputNode, out, `/${name}/output`, this.dataRoot());
    return out;
  }
}
