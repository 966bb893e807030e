/**
 * YANG statement parser (RFC 7950 section 6): text -> tree of statements, each with its source
 * line. It knows the lexical grammar only (keywords, quoted and concatenated arguments, comments);
 * the meaning of statements is the compiler's business.
 */
import { YangCompileError } from '../errors.ts';

export interface Statement {
  /** `container`, `leaf`, ... or `prefix:name` for extension statements. */
  keyword: string;
  arg?: string;
  subs: Statement[];
  file: string;
  line: number;
}

export function parseYang(text: string, file: string): Statement {
  const p = new Parser(text, file);
  p.skipSpace();
  const top = p.statement();
  p.skipSpace();
  if (!p.atEnd()) p.fail('unexpected text after the end of the module');
  if (top.keyword !== 'module' && top.keyword !== 'submodule') {
    throw new YangCompileError(file, top.line, `expected "module" or "submodule", found "${top.keyword}"`);
  }
  return top;
}

class Parser {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(reason: string, line = this.line): never {
    throw new YangCompileError(this.file, line, reason);
  }

  skipSpace(): void {
    const s = this.text;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
      } else if (c === '/' && s[this.pos + 1] === '/') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else if (c === '/' && s[this.pos + 1] === '*') {
        const startLine = this.line;
        const end = s.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated comment', startLine);
        this.countLines(this.pos, end + 2);
        this.pos = end + 2;
      } else {
        break;
      }
    }
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.text.charCodeAt(i) === 10) this.line++;
  }

  statement(): Statement {
    const line = this.line;
    const keyword = this.keyword();
    this.skipSpace();
    let arg: string | undefined;
    const c = this.text[this.pos];
    if (c !== ';' && c !== '{') {
      if (this.atEnd()) this.fail(`unexpected end of file after "${keyword}"`);
      arg = this.argument();
      this.skipSpace();
    }
    const stmt: Statement = { keyword, arg, subs: [], file: this.file, line };
    const t = this.text[this.pos];
    if (t === ';') {
      this.pos++;
      return stmt;
    }
    if (t !== '{') this.fail(`expected ";" or "{" after the argument of "${keyword}"`);
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) this.fail(`missing "}" for "${keyword}" opened at line ${line}`);
      if (this.text[this.pos] === '}') {
        this.pos++;
        return stmt;
      }
      stmt.subs.push(this.statement());
    }
  }

  private keyword(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!m) {
      const found = this.text.slice(this.pos, this.pos + 20).split('\n')[0];
      this.fail(`expected a statement keyword, found "${found}"`);
    }
    this.pos += m[0].length;
    return m[0];
  }

  private argument(): string {
    const c = this.text[this.pos];
    if (c !== '"' && c !== "'") return this.unquoted();
    let out = this.quoted();
    for (;;) {
      const save = this.pos;
      const saveLine = this.line;
      this.skipSpace();
      if (this.text[this.pos] !== '+') {
        this.pos = save;
        this.line = saveLine;
        return out;
      }
      this.pos++;
      this.skipSpace();
      const q = this.text[this.pos];
      if (q !== '"' && q !== "'") this.fail('expected a quoted string after "+"');
      out += this.quoted();
    }
  }

  private unquoted(): string {
    const s = this.text;
    const start = this.pos;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '{' || c === '}') break;
      if (c === '/' && (s[this.pos + 1] === '/' || s[this.pos + 1] === '*')) break;
      if (c === '"' || c === "'") this.fail('quote inside an unquoted argument');
      this.pos++;
    }
    if (this.pos === start) this.fail('expected an argument');
    return s.slice(start, this.pos);
  }

  private quoted(): string {
    const s = this.text;
    const quote = s[this.pos];
    const startLine = this.line;
    // Column of the opening quote: continuation lines of a double-quoted string lose that much
    // leading white space (RFC 7950 6.1.3).
    const lineStart = s.lastIndexOf('\n', this.pos - 1) + 1;
    const column = columnOf(s.slice(lineStart, this.pos)) + 1;
    this.pos++;
    if (quote === "'") {
      const end = s.indexOf("'", this.pos);
      if (end < 0) this.fail('unterminated single-quoted string', startLine);
      const value = s.slice(this.pos, end);
      this.countLines(this.pos, end);
      this.pos = end + 1;
      return value;
    }
    let out = '';
    while (true) {
      if (this.pos >= s.length) this.fail('unterminated double-quoted string', startLine);
      const c = s[this.pos];
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === 'n') out += '\n';
        else if (n === 't') out += '\t';
        else if (n === '"') out += '"';
        else if (n === '\\') out += '\\';
        else this.fail(`invalid escape "\\${n ?? ''}" in a double-quoted string`);
        this.pos += 2;
        continue;
      }
      if (c === '\n') {
        this.line++;
        out = out.replace(/[ \t]+$/, '') + '\n';
        this.pos++;
        // Strip indentation up to the opening quote's column.
        let col = 0;
        while (this.pos < s.length && col < column) {
          const w = s[this.pos];
          if (w === ' ') col++;
          else if (w === '\t') col += 8 - (col % 8);
          else break;
          this.pos++;
        }
        continue;
      }
      out += c;
      this.pos++;
    }
    return out;
  }
}

function columnOf(prefix: string): number {
  let col = 0;
  for (const ch of prefix) col = ch === '\t' ? col + 8 - (col % 8) : col + 1;
  return col;
}

/** First sub-statement with that keyword. */
export function sub(stmt: Statement, keyword: string): Statement | undefined {
  for (const s of stmt.subs) if (s.keyword === keyword) return s;
  return undefined;
}

export function subs(stmt: Statement, keyword: string): Statement[] {
  return stmt.subs.filter((s) => s.keyword === keyword);
}

export function subArg(stmt: Statement, keyword: string): string | undefined {
  return sub(stmt, keyword)?.arg;
}
