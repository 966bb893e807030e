/**
 * The XPath 1.0 dialect of YANG (RFC 7950 sections 6.4, 9.9 and 10), one subsystem per file:
 * lexer, parser (and the syntax tree), evaluator over `DataCursor` trees, the function library,
 * leafref/deref references, and static analysis over the schema. Importers use this module only,
 * so the split stays an internal matter.
 */

export { parseXPath, type XPathExpr, type XPathStep } from './parser.ts';
export { evaluateXPath, toBool, type XPathContext, type XPathValue } from './evaluator.ts';
export { leafrefTargets } from './leafref.ts';
export { referencedSchemaNodes, schemaTarget } from './analysis.ts';
