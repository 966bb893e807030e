/**
 * RPC invocation (`/rests/operations/<module>:<rpc>`, `/restconf/operations/...`): the input
 * wrapper decoded, the rpc registry called, the output encoded. RFC 8040 names the output
 * `<module>:output` and answers 204 without output; ODL's legacy URL said `output` and 200.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { YangError } from '../../errors.ts';
import { decodeObject, readJson, toJsonValue } from '../../yang/json.ts';
import type { DataObject } from '../../yang/schema.ts';
import { decodeXmlObject, encodeXmlChildren, readXml } from '../../yang/xml.ts';
import { mismatch, RESTCONF_JSON_INPUT } from './body.ts';
import type { Dialect } from './errors.ts';
import { bodyEncoding, DATA_TYPE, responseEncoding } from './negotiation.ts';
import type { RestconfContext } from './server.ts';

export async function invokeOperation(ctx: RestconfContext, name: string, dialect: Dialect, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const enc = responseEncoding(req);
  if (!/^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/.test(name)) {
    throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `"${name}" is not a module-qualified rpc name` });
  }
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
