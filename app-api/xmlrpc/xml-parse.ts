/**
 * A strict, small XML parser for the subset XML-RPC uses: elements, attributes (parsed, then ignored), text,
 * CDATA and comments. It exists so that the XML-RPC middleware never hands untrusted bytes to a general XML
 * engine: there is no DTD support at all (a DOCTYPE is refused, so no entity expansion, no external
 * entities, no billion-laughs), only the five predefined entities and numeric character references are
 * known, processing instructions other than the leading XML declaration are refused, and the element depth
 * is capped. The scan is linear in the input (indexOf and sticky regexes, no backtracking over the text).
 */

/** An element: its name and its children in order (text runs as strings, adjacent ones merged). */
export interface XmlElement {
  name: string;
  children: Array<XmlElement | string>;
}

/** Why the parser refused a document; `kind` maps to an XML-RPC fault code in the codec. */
export class XmlSyntaxError extends Error {
  constructor(
    readonly kind: 'syntax' | 'encoding' | 'character' | 'limit',
    message: string,
  ) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/** Limits of parseXml(). */
export interface XmlParseLimits {
  /** Deepest element nesting accepted (the root is depth 1). */
  maxDepth: number;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
// XML 1.0 Char production; with the u flag a lone surrogate is one code point outside these ranges.
const INVALID_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NAME = /[A-Za-z_:][A-Za-z0-9_:.-]*/y;
const ATTRIBUTE = /[ \t\n]+([A-Za-z_:][A-Za-z0-9_:.-]*)[ \t\n]*=[ \t\n]*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /[ \t\n]*(\/?)>/y;
const SPACE = /[ \t\n]*/y;
const XML_DECL = /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\3)?[ \t\n]*\?>/y;

/** True when `code` is a character XML 1.0 allows (the Char production). */
export function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function where(text: string, pos: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${pos - start + 1}`;
}

/** Replace entity and character references in `raw` (text or an attribute value). */
function decodeReferences(raw: string, text: string, at: number): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    const semi = raw.indexOf(';', amp);
    // A reference is short; looking further would make a stray '&' cost a scan of the whole rest.
    if (semi === -1 || semi - amp > 12) throw new XmlSyntaxError('syntax', `a '&' that does not start a reference at ${where(text, at + amp)}; write it as &amp;`);
    const ref = raw.slice(amp + 1, semi);
    let value: string;
    if (ref.startsWith('#')) {
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      const code = m === null ? -1 : m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      if (!isXmlChar(code)) throw new XmlSyntaxError('character', `character reference &${ref}; at ${where(text, at + amp)} is not a character XML allows`);
      value = String.fromCodePoint(code);
    } else {
      const known = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
      if (known === undefined) {
        throw new XmlSyntaxError('syntax', `unknown entity &${ref.slice(0, 20)}; at ${where(text, at + amp)}: only &lt; &gt; &amp; &quot; &apos; and numeric references (&#...;) are allowed`);
      }
      value = known;
    }
    out += raw.slice(from, amp) + value;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/** Skip whitespace, comments and (when `declAllowed`) the XML declaration before or after the root element. */
function skipMisc(text: string, pos: number, declAllowed: boolean): number {
  for (;;) {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
    if (text.startsWith('<!--', pos)) {
      pos = skipComment(text, pos);
    } else if (declAllowed && pos === 0 && text.startsWith('<?xml', pos)) {
      XML_DECL.lastIndex = pos;
      if (XML_DECL.exec(text) === null) throw new XmlSyntaxError('syntax', 'malformed XML declaration; expected <?xml version="1.0" encoding="..."?>');
      pos = XML_DECL.lastIndex;
    } else if (text.startsWith('<!DOCTYPE', pos) || text.startsWith('<!doctype', pos)) {
      throw new XmlSyntaxError('syntax', `a DOCTYPE at ${where(text, pos)}: document type declarations are not accepted (no DTDs, no entity definitions)`);
    } else if (text.startsWith('<?', pos)) {
      throw new XmlSyntaxError('syntax', `a processing instruction at ${where(text, pos)}: only the leading <?xml ...?> declaration is accepted`);
    } else {
      return pos;
    }
  }
}

function skipComment(text: string, pos: number): number {
  const end = text.indexOf('-->', pos + 4);
  if (end === -1) throw new XmlSyntaxError('syntax', `unterminated comment at ${where(text, pos)}`);
  if (text.slice(pos + 4, end).includes('--')) throw new XmlSyntaxError('syntax', `'--' inside the comment at ${where(text, pos)}`);
  return end + 3;
}

/**
 * Parse a whole document (already decoded to a string) into its root element. Line ends are normalised
 * (CR LF and lone CR become LF) as XML 1.0 requires, so `&#13;` is the only way a CR survives.
 * Throws XmlSyntaxError on anything outside the subset or not well-formed.
 */
export function parseXml(source: string, limits: XmlParseLimits): XmlElement {
  const text = source.replace(/\r\n?/g, '\n');
  const bad = INVALID_CHAR.exec(text);
  if (bad !== null) {
    throw new XmlSyntaxError('character', `character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${where(text, bad.index)} is not allowed in XML 1.0 (send binary data as base64)`);
  }
  let pos = skipMisc(text, text.charCodeAt(0) === 0xfeff ? 1 : 0, true);
  if (text[pos] !== '<') throw new XmlSyntaxError('syntax', pos >= text.length ? 'the document is empty: no root element' : `text before the root element at ${where(text, pos)}`);

  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const addText = (s: string): void => {
    if (s === '') return;
    const kids = stack[stack.length - 1].children;
    if (typeof kids[kids.length - 1] === 'string') kids[kids.length - 1] += s;
    else kids.push(s);
  };

  while (root === null || stack.length > 0) {
    if (pos >= text.length) throw new XmlSyntaxError('syntax', `the document ends inside <${stack[stack.length - 1].name}>; a closing tag is missing`);
    const lt = text.indexOf('<', pos);
    if (lt !== pos) {
      // Character data up to the next markup.
      const end = lt === -1 ? text.length : lt;
      const raw = text.slice(pos, end);
      if (raw.includes(']]>')) throw new XmlSyntaxError('syntax', `']]>' in text at ${where(text, pos)}; write it as ]]&gt;`);
      addText(decodeReferences(raw, text, pos));
      pos = end;
      continue;
    }
    if (root === null && !/^<[A-Za-z_:]/.test(text.slice(pos, pos + 2))) {
      throw new XmlSyntaxError('syntax', `expected the root element's start tag at ${where(text, pos)}`);
    }
    if (text.startsWith('<!--', pos)) {
      pos = skipComment(text, pos);
    } else if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos + 9);
      if (end === -1) throw new XmlSyntaxError('syntax', `unterminated CDATA section at ${where(text, pos)}`);
      addText(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (text.startsWith('<!', pos) || text.startsWith('<?', pos)) {
      throw new XmlSyntaxError('syntax', `markup declaration or processing instruction at ${where(text, pos)}: not accepted inside an XML-RPC document`);
    } else if (text.startsWith('</', pos)) {
      NAME.lastIndex = pos + 2;
      const m = NAME.exec(text);
      const open = stack[stack.length - 1];
      if (m === null || m[0] !== open.name) {
        throw new XmlSyntaxError('syntax', `closing tag at ${where(text, pos)} does not match <${open.name}>`);
      }
      SPACE.lastIndex = NAME.lastIndex;
      SPACE.exec(text);
      if (text[SPACE.lastIndex] !== '>') throw new XmlSyntaxError('syntax', `malformed closing tag </${open.name} at ${where(text, pos)}`);
      pos = SPACE.lastIndex + 1;
      stack.pop();
    } else {
      NAME.lastIndex = pos + 1;
      const m = NAME.exec(text);
      if (m === null) throw new XmlSyntaxError('syntax', `a '<' that does not start a tag at ${where(text, pos)}; write it as &lt;`);
      let at = NAME.lastIndex;
      const seen = new Set<string>();
      for (;;) {
        ATTRIBUTE.lastIndex = at;
        const a = ATTRIBUTE.exec(text);
        if (a === null) break;
        if (seen.has(a[1])) throw new XmlSyntaxError('syntax', `attribute ${a[1]} repeated at ${where(text, at)}`);
        seen.add(a[1]);
        decodeReferences(a[2] ?? a[3], text, at); // checked for well-formedness; XML-RPC gives attributes no meaning
        at = ATTRIBUTE.lastIndex;
      }
      TAG_END.lastIndex = at;
      const end = TAG_END.exec(text);
      if (end === null) throw new XmlSyntaxError('syntax', `malformed start tag <${m[0]} at ${where(text, pos)}`);
      pos = TAG_END.lastIndex;
      if (stack.length >= limits.maxDepth) throw new XmlSyntaxError('limit', `elements nested deeper than ${limits.maxDepth} at ${where(text, pos)}`);
      const el: XmlElement = { name: m[0], children: [] };
      if (root === null) root = el;
      else stack[stack.length - 1].children.push(el);
      if (end[1] !== '/') stack.push(el);
    }
  }
  pos = skipMisc(text, pos, false);
  if (pos < text.length) throw new XmlSyntaxError('syntax', `content after the root element at ${where(text, pos)}`);
  return root;
}
