/**
 * Tokens of YANG XPath (XPath 1.0 section 3.7). Kept apart from the parser because the lexical
 * rules (when `*` multiplies and a name is an operator) depend only on the previous token.
 */

export type TokKind = 'num' | 'lit' | 'name' | 'func' | 'nodetype' | 'axis' | 'op' | 'punct' | 'eof';

export interface Token {
  kind: TokKind;
  /** Operator or punctuation text, literal value, number text, or the local name. */
  value: string;
  prefix?: string;
  pos: number;
}

const NODE_TYPES = new Set(['node', 'text', 'comment', 'processing-instruction']);
const OPERATOR_NAMES = new Set(['and', 'or', 'mod', 'div']);

const NAME_START = /[\p{L}_]/u;
const NAME_CHAR = /[\p{L}\p{N}\p{Mn}\p{Mc}_.\-\u00B7]/u;

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export class XPathSyntaxError extends Error {
  constructor(text: string, pos: number, message: string) {
    super(`XPath error at position ${pos + 1} in "${text}": ${message}`);
    this.name = 'XPathSyntaxError';
  }
}

export function tokenize(text: string): Token[] {
  const toks: Token[] = [];
  const n = text.length;
  let i = 0;
  const fail = (pos: number, msg: string): never => {
    throw new XPathSyntaxError(text, pos, msg);
  };
  // XPath 1.0 section 3.7: after an operand, `*` is multiplication and a name is an operator name.
  const afterOperand = (): boolean => {
    const p = toks[toks.length - 1];
    if (!p || p.kind === 'op') return false;
    if (p.kind === 'punct') return p.value === ')' || p.value === ']' || p.value === '.' || p.value === '..';
    return p.kind === 'num' || p.kind === 'lit' || p.kind === 'name';
  };
  const readName = (): string => {
    const s = i;
    i++;
    while (i < n && NAME_CHAR.test(text[i]!)) i++;
    return text.slice(s, i);
  };
  const nextNonWs = (from: number): number => {
    let j = from;
    while (j < n && isWs(text[j])) j++;
    return j;
  };

  while (true) {
    while (i < n && isWs(text[i])) i++;
    if (i >= n) break;
    const c = text[i]!;
    const pos = i;
    switch (c) {
      case '(': case ')': case '[': case ']': case ',': case '@':
        toks.push({ kind: 'punct', value: c, pos });
        i++;
        continue;
      case '.':
        if (text[i + 1] === '.') {
          toks.push({ kind: 'punct', value: '..', pos });
          i += 2;
          continue;
        }
        if (isDigit(text[i + 1])) break; // a number such as .5
        toks.push({ kind: 'punct', value: '.', pos });
        i++;
        continue;
      case '"': case "'": {
        const end = text.indexOf(c, i + 1);
        if (end < 0) fail(pos, 'unterminated string literal');
        toks.push({ kind: 'lit', value: text.slice(i + 1, end), pos });
        i = end + 1;
        continue;
      }
      case ':':
        if (text[i + 1] === ':') {
          toks.push({ kind: 'punct', value: '::', pos });
          i += 2;
          continue;
        }
        fail(pos, 'unexpected ":"');
        break;
      case '/':
        if (text[i + 1] === '/') {
          toks.push({ kind: 'op', value: '//', pos });
          i += 2;
        } else {
          toks.push({ kind: 'op', value: '/', pos });
          i++;
        }
        continue;
      case '|': case '+': case '=': case '-':
        toks.push({ kind: 'op', value: c, pos });
        i++;
        continue;
      case '!':
        if (text[i + 1] !== '=') fail(pos, 'expected "!="');
        toks.push({ kind: 'op', value: '!=', pos });
        i += 2;
        continue;
      case '<': case '>':
        if (text[i + 1] === '=') {
          toks.push({ kind: 'op', value: c + '=', pos });
          i += 2;
        } else {
          toks.push({ kind: 'op', value: c, pos });
          i++;
        }
        continue;
      case '*':
        if (afterOperand()) toks.push({ kind: 'op', value: '*', pos });
        else toks.push({ kind: 'name', value: '*', pos });
        i++;
        continue;
      case '$':
        fail(pos, 'variable references are not supported in YANG XPath');
        break;
    }
    if (isDigit(c) || c === '.') {
      const m = /^(\d+(\.\d*)?|\.\d+)/.exec(text.slice(i))!;
      toks.push({ kind: 'num', value: m[0], pos });
      i += m[0].length;
      continue;
    }
    if (!NAME_START.test(c)) fail(pos, `unexpected character "${c}"`);
    const first = readName();
    if (afterOperand()) {
      if (!OPERATOR_NAMES.has(first)) fail(pos, `expected an operator, found "${first}"`);
      toks.push({ kind: 'op', value: first, pos });
      continue;
    }
    // QName or prefix:* (no whitespace around the colon); `a::b` is an axis.
    let prefix: string | undefined;
    let local = first;
    if (text[i] === ':' && text[i + 1] !== ':') {
      if (text[i + 1] === '*') {
        toks.push({ kind: 'name', value: '*', prefix: first, pos });
        i += 2;
        continue;
      }
      if (i + 1 < n && NAME_START.test(text[i + 1]!)) {
        i++;
        prefix = first;
        local = readName();
      } else {
        fail(i, 'expected a name or "*" after ":"');
      }
    }
    const j = nextNonWs(i);
    if (text[j] === '(') {
      if (prefix === undefined && NODE_TYPES.has(local)) toks.push({ kind: 'nodetype', value: local, pos });
      else toks.push({ kind: 'func', value: local, prefix, pos });
    } else if (text[j] === ':' && text[j + 1] === ':' && prefix === undefined) {
      toks.push({ kind: 'axis', value: local, pos });
    } else {
      toks.push({ kind: 'name', value: local, prefix, pos });
    }
  }
  toks.push({ kind: 'eof', value: '', pos: n });
  return toks;
}
