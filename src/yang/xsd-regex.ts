/**
 * XSD regular expressions (XML Schema part 2, appendix F) as JS RegExps: YANG `pattern`
 * restrictions and the XPath `re-match()` function both use this dialect, which differs from
 * JS in anchoring, escapes, blocks and class subtraction.
 */

const regexCache = new Map<string, RegExp>();

const MULTI_ESCAPES: Record<string, string> = {
  s: '[ \\t\\n\\r]',
  S: '[^ \\t\\n\\r]',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  w: '[^\\p{P}\\p{Z}\\p{C}]',
  W: '[\\p{P}\\p{Z}\\p{C}]',
  i: '[\\p{L}_:]',
  I: '[^\\p{L}_:]',
  c: '[\\p{L}\\p{N}\\p{Mn}\\p{Mc}._:\\-\\u00B7]',
  C: '[^\\p{L}\\p{N}\\p{Mn}\\p{Mc}._:\\-\\u00B7]',
};

const BLOCKS: Record<string, string> = {
  BasicLatin: '\\u{0}-\\u{7F}',
  'Latin-1Supplement': '\\u{80}-\\u{FF}',
  'LatinExtended-A': '\\u{100}-\\u{17F}',
  'LatinExtended-B': '\\u{180}-\\u{24F}',
  IPAExtensions: '\\u{250}-\\u{2AF}',
  Greek: '\\u{370}-\\u{3FF}',
  Cyrillic: '\\u{400}-\\u{4FF}',
  Hebrew: '\\u{590}-\\u{5FF}',
  Arabic: '\\u{600}-\\u{6FF}',
  GeneralPunctuation: '\\u{2000}-\\u{206F}',
  CJKUnifiedIdeographs: '\\u{4E00}-\\u{9FFF}',
};

/** Characters escaped inside a `v`-mode class (syntax characters and reserved punctuators). */
const CLASS_ESCAPE = new Set('^$\\.*+?()[]{}|/&-!#%,:;<=>@`~'.split(''));
/** Characters that may follow `\` outside a class in `v`/`u` mode. */
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

/**
 * Translates an XSD regular expression (XML Schema part 2, appendix F) to an anchored JS RegExp.
 * Supports character class subtraction, multi-character escapes (`\s \d \w \i \c` and negations),
 * `\p{..}` categories and common `\p{Is..}` blocks. Throws on malformed patterns.
 */
export function xsdRegExp(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re) return re;
  const x = new XsdTranslator(pattern);
  re = new RegExp(`^(?:${x.translate()})$`, 'v');
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

class XsdTranslator {
  private i = 0;

  constructor(private readonly src: string) {}

  private fail(msg: string): never {
    throw new Error(`invalid XSD pattern "${this.src}" at position ${this.i + 1}: ${msg}`);
  }

  translate(): string {
    let out = '';
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '\\') {
        out += this.escape(false);
      } else if (c === '[') {
        out += this.charClass();
      } else if (c === '.') {
        out += '[^\\n\\r]';
        this.i++;
      } else if (c === '^' || c === '$') {
        out += '\\' + c;
        this.i++;
      } else if (c === ']' ) {
        this.fail('unbalanced "]"');
      } else {
        const cp = s.codePointAt(this.i)!;
        const ch = String.fromCodePoint(cp);
        out += c === '/' ? '\\/' : ch;
        this.i += ch.length;
      }
    }
    return out;
  }

  /** `\x` at this.i; returns the JS text for inside or outside a class. */
  private escape(inClass: boolean): string {
    const s = this.src;
    const c = s[this.i + 1];
    if (c === undefined) this.fail('trailing "\\"');
    this.i += 2;
    if (c === 'n' || c === 'r' || c === 't') return '\\' + c;
    if (c === 'p' || c === 'P') {
      if (s[this.i] !== '{') this.fail('expected "{" after \\p');
      const end = s.indexOf('}', this.i);
      if (end < 0) this.fail('unterminated \\p{');
      const name = s.slice(this.i + 1, end);
      this.i = end + 1;
      if (name.startsWith('Is')) {
        const range = BLOCKS[name.slice(2)];
        if (!range) this.fail(`unsupported block "${name}"`);
        return c === 'p' ? `[${range}]` : `[^${range}]`;
      }
      if (!/^[A-Z][a-z]?$/.test(name)) this.fail(`unknown category "${name}"`);
      return `\\${c}{${name}}`;
    }
    const multi = MULTI_ESCAPES[c];
    if (multi !== undefined) return multi;
    if ('\\|.-^?*+{}()[]'.includes(c)) {
      if (inClass) return CLASS_ESCAPE.has(c) ? '\\' + c : c;
      return SYNTAX_CHARS.has(c) ? '\\' + c : c;
    }
    this.fail(`unknown escape "\\${c}"`);
  }

  /** A character class at this.i (`[`), subtraction included. */
  private charClass(): string {
    const s = this.src;
    this.i++; // [
    let negated = false;
    if (s[this.i] === '^') {
      negated = true;
      this.i++;
    }
    let items = '';
    let first = true;
    let subtract: string | undefined;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated character class');
      const c = s[this.i]!;
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      if (c === '-' && s[this.i + 1] === '[' && !first) {
        this.i++;
        subtract = this.charClass();
        if (s[this.i] !== ']') this.fail('expected "]" after class subtraction');
        this.i++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (s[this.i] === '-' && s[this.i + 1] !== '[' && s[this.i + 1] !== ']' && lo.single) {
        this.i++;
        const hi = this.classAtom();
        if (!hi.single) this.fail('invalid range');
        items += `${lo.text}-${hi.text}`;
      } else {
        items += lo.text;
      }
    }
    if (items === '') this.fail('empty character class');
    const base = `[${negated ? '^' : ''}${items}]`;
    return subtract ? `[${base}--${subtract}]` : base;
  }

  private classAtom(): { text: string; single: boolean } {
    const s = this.src;
    const c = s[this.i]!;
    if (c === '\\') {
      const t = this.escape(true);
      return { text: t, single: t.length <= 2 && !t.startsWith('[') };
    }
    if (c === '[') this.fail('"[" must be escaped inside a character class');
    const cp = s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { text: CLASS_ESCAPE.has(ch) ? '\\' + ch : ch, single: true };
  }
}
