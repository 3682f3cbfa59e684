/**
 * `npm run bench:xml`: our XML-RPC parser (app-api/xmlrpc/xml-parse.ts) against the maintained
 * JS XML parsers, fast-xml-parser (v5, tree) and saxes (v6, SAX events, a tree built from them as ours
 * does), on what an XML-RPC server parses: a small methodCall (~1 KiB) and a large one (an array of 2,000
 * structs, ~1.4 MB). Each parser builds an ordered tree. Prints the median of 5 rounds per parser as a
 * ratio to ours (same run), then what each does with hostile input: a DOCTYPE with nested entities
 * (billion laughs), one big entity referenced many times (quadratic blowup), an external entity, and
 * 100,000 nested elements. The figures and verdict are recorded in xml-parse.ts.
 */
import { XMLParser } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { cpus, loadavg } from 'node:os';
import { parseXml } from '../app-api/xmlrpc/xml-parse.js';

type Parse = (xml: string) => unknown;

const ours: Parse = (xml) => parseXml(xml, { maxDepth: 64 });

const fxpParser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, parseTagValue: false, trimValues: false });
const fxp: Parse = (xml) => fxpParser.parse(xml);

interface Node {
  name: string;
  children: Array<Node | string>;
}
const saxes: Parse = (xml) => {
  const p = new SaxesParser();
  const root: Node = { name: '#document', children: [] };
  const stack: Node[] = [root];
  p.on('opentag', (t) => {
    const n: Node = { name: t.name, children: [] };
    stack[stack.length - 1].children.push(n);
    stack.push(n);
  });
  p.on('closetag', () => void stack.pop());
  p.on('text', (t) => stack[stack.length - 1].children.push(t));
  p.on('cdata', (t) => stack[stack.length - 1].children.push(t));
  p.write(xml).close();
  return root;
};

const PARSERS: Record<string, Parse> = { 'ours (xml-parse.ts)': ours, 'fast-xml-parser 5': fxp, 'saxes 6 + tree': saxes };

function member(i: number): string {
  return `<value><struct><member><name>id</name><value><int>${i}</int></value></member><member><name>name</name><value><string>item ${i} &amp; co</string></value></member><member><name>price</name><value><double>${i}.25</double></value></member><member><name>when</name><value><dateTime.iso8601>20261207T04:50:33</dateTime.iso8601></value></member><member><name>ok</name><value><boolean>1</boolean></value></member></struct></value>`;
}
const call = (values: string): string => `<?xml version="1.0"?><methodCall><methodName>store.put</methodName><params><param><value><array><data>${values}</data></array></value></param></params></methodCall>`;
const SMALL = call([0, 1, 2].map(member).join(''));
const LARGE = call(Array.from({ length: 2000 }, (_, i) => member(i)).join(''));

function timeIt(parse: Parse, xml: string, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) parse(xml);
  return Number(process.hrtime.bigint() - start) / 1e6 / iterations;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function speed(label: string, xml: string, iterations: number): void {
  for (const parse of Object.values(PARSERS)) timeIt(parse, xml, Math.ceil(iterations / 4)); // warm up
  const results: Record<string, number> = {};
  for (const [name, parse] of Object.entries(PARSERS)) {
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) rounds.push(timeIt(parse, xml, iterations));
    results[name] = median(rounds);
  }
  const base = results['ours (xml-parse.ts)'];
  console.log(`${label} (${xml.length} bytes, median of 5 rounds x ${iterations}):`);
  for (const [name, ms] of Object.entries(results)) console.log(`  ${name.padEnd(22)} ${ms.toFixed(4)} ms/parse  ${(ms / base).toFixed(2)}x ours`);
}

/** Characters of the strings in a parsed tree (text and names), walked without recursion (a deep tree must not overflow the probe). */
function textLength(tree: unknown): number {
  let n = 0;
  const todo: unknown[] = [tree];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'string') n += v.length;
    else if (Array.isArray(v)) todo.push(...v);
    else if (typeof v === 'object' && v !== null) todo.push(...Object.values(v));
  }
  return n;
}

/** Run `parse` on hostile input: refused (with why), or accepted (with time and output size). */
function probe(parse: Parse, xml: string): string {
  const start = process.hrtime.bigint();
  try {
    const out = parse(xml);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return `ACCEPTED in ${ms.toFixed(1)} ms, ${textLength(out)} characters of strings in the tree (names included)`;
  } catch (err) {
    return `refused: ${(err as Error).message.split('\n')[0].slice(0, 110)}`;
  }
}

const laughs = ['<!DOCTYPE lolz [', '<!ENTITY lol "lol">'];
for (let i = 1; i <= 9; i++) laughs.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
const HOSTILE: Record<string, string> = {
  'billion laughs (nested entities)': `<?xml version="1.0"?>${laughs.join('')}]><methodCall><methodName>&lol9;</methodName></methodCall>`,
  'quadratic blowup (one 9,000-char entity x 9,000)': `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "${'a'.repeat(9000)}">]><methodCall><methodName>${'&a;'.repeat(9000)}</methodName></methodCall>`,
  'an internal entity (<!ENTITY a "AAAA">, &a;&a;)': `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "AAAA">]><methodCall><methodName>&a;&a;</methodName></methodCall>`,
  'external entity (file:///etc/passwd)': `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>&x;</methodName></methodCall>`,
  '100,000 nested elements': `<methodCall>${'<value>'.repeat(100_000)}${'</value>'.repeat(100_000)}</methodCall>`,
};

console.log(`xml-parse bench: node ${process.version}, ${cpus().length} cpus, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
speed('small methodCall', SMALL, 20_000);
speed('large methodCall', LARGE, 3);
for (const [what, xml] of Object.entries(HOSTILE)) {
  console.log(`${what}:`);
  for (const [name, parse] of Object.entries(PARSERS)) console.log(`  ${name.padEnd(22)} ${probe(parse, xml)}`);
}
