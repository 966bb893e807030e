/**
 * RPC invocation (`/rests/operations/<module>:<rpc>`, `/restconf/operations/...`): the input
 * wrapper decoded, the rpc registry called, the output encoded. RFC 8040 names the output
 * `<module>:output` and answers 204 without output; ODL's legacy URL said `output` and 200.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { YangError } from '../../errors.ts';
import { rpcNotServed } from '../../rpc/registry.ts';
import { decodeObject, readJson, toJsonValue } from '../../yang/json.ts';
import type { DataObject } from '../../yang/schema.ts';
import { decodeXmlObject, encodeXmlChildren, escapeXml, readXml } from '../../yang/xml.ts';
import { mismatch, RESTCONF_JSON_INPUT } from './body.ts';
import type { Dialect } from './errors.ts';
import { bodyEncoding, DATA_TYPE, responseEncoding } from './negotiation.ts';
import type { RestconfContext } from './server.ts';

const RESTCONF_NS = 'urn:ietf:params:xml:ns:yang:ietf-restconf';

/**
 * The operations resource (RFC 8040 section 3.3.2): every rpc the server runs, as an empty leaf
 * named `module:rpc`. Listed are the rpcs of the loaded modules that something serves: one a POST
 * would answer 501 is not "supported by the server". With `name`, that one rpc, inside the same
 * `operations` container (as OpenDaylight answers `GET /rests/operations/<module>:<rpc>`).
 * `dialect` legacy: the top member unqualified, as every legacy answer (ODL's draft-bierman-02
 * codec wrote its container's name alone: `{"operations": {...}}`).
 */
export function listOperations(ctx: RestconfContext, dialect: Dialect, req: FastifyRequest, reply: FastifyReply, name?: string): FastifyReply {
  const enc = responseEncoding(req);
  let names: string[];
  if (name === undefined) {
    names = [...ctx.schema.rpcs.keys()].filter((n) => ctx.rpc.has(n)).sort();
  } else {
    checkRpcName(name);
    ctx.rpc.schemaOf(name);
    if (!ctx.rpc.has(name)) throw rpcNotServed(name);
    names = [name];
  }
  if (enc === 'xml') {
    const items = names.map((n) => {
      const node = ctx.schema.rpcs.get(n)!;
      return `<${node.name} xmlns="${escapeXml(ctx.schema.modules.get(node.module)!.namespace)}"/>`;
    });
    return reply.code(200).type(DATA_TYPE.xml).send(`<operations xmlns="${RESTCONF_NS}">${items.join('')}</operations>`);
  }
  const operations = Object.fromEntries(names.map((n) => [n, [null]]));
  return reply
    .code(200)
    .type(DATA_TYPE.json)
    .send(JSON.stringify({ [dialect === 'legacy' ? 'operations' : 'ietf-restconf:operations']: operations }));
}

function checkRpcName(name: string): void {
  if (!/^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/.test(name)) {
    throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `"${name}" is not a module-qualified rpc name` });
  }
}

export async function invokeOperation(ctx: RestconfContext, name: string, dialect: Dialect, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const enc = responseEncoding(req);
  checkRpcName(name);
  const node = ctx.rpc.schemaOf(name);
  const inputNode = node.children.find((c) => c.kind === 'input')!;
  const outputNode = node.children.find((c) => c.kind === 'output')!;
  let input: DataObject = {};
  const text = typeof req.body === 'string' ? req.body.trim() : '';
  if (text) {
    const bodyEnc = bodyEncoding(req);
    if (!bodyEnc) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unsupported content-type ${String(req.headers['content-type'])}` });
    if (bodyEnc === 'xml') {
      const [root] = readXml(text);
      if (root.name !== 'input') throw mismatch(`the body must be an <input> element, not <${root.name}>`, `/${name}`);
      input = decodeXmlObject(ctx.schema, inputNode, root.children, `/${name}/input`);
    } else {
      const raw = readJson(text) as Record<string, unknown>;
      const keys = typeof raw === 'object' && raw !== null ? Object.keys(raw) : [];
      const wrapper = keys.find((k) => k === 'input' || k === `${node.module}:input`);
      if (keys.length !== 1 || !wrapper) throw mismatch(`the body must be {"${node.module}:input": {...}}`, `/${name}`);
      input = decodeObject(ctx.schema, inputNode, raw[wrapper], `/${name}/input`, RESTCONF_JSON_INPUT);
    }
  }
  const output = await ctx.rpc.invokeDecoded(name, input);
  const hasOutput = output !== undefined && Object.keys(output).length > 0;
  if (!hasOutput) return reply.code(dialect === 'legacy' ? 200 : 204).send();
  if (enc === 'xml') {
    const ns = ctx.schema.modules.get(node.module)!.namespace;
    return reply.code(200).type(DATA_TYPE.xml).send(`<output xmlns="${ns}">${encodeXmlChildren(ctx.schema, outputNode, output)}</output>`);
  }
  const key = dialect === 'legacy' ? 'output' : `${node.module}:output`;
  return reply.code(200).type(DATA_TYPE.json).send(JSON.stringify({ [key]: toJsonValue(outputNode, output) }));
}
