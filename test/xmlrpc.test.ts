/**
 * XML-RPC: the codec (every type both ways, escaping, encodings, refusals of hostile or malformed
 * documents as faults), the xmlrpc() middleware through inject() with lint() on both sides (routing to
 * PATH_INFO, marshalling of JSON/text/bytes answers, faults, pass-through of other requests), xmlrpcMethods(),
 * and `[server] xmlRpc = 1` through the real CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  lint,
  parseMethodCall,
  parseMethodResponse,
  serializeFault,
  serializeMethodCall,
  serializeMethodResponse,
  xmlrpc,
  XmlRpcFault,
  xmlrpcMethods,
  XMLRPC_FAULT,
  type App,
  type Environ,
  type XmlRpcOptions,
  type XmlRpcValue,
} from '../app-api/index.js';
import { inject, type InjectRequest, type InjectResponse } from '../gateway/core/inject.js';
import { sniffMethodCall } from '../app-api/xmlrpc/xmlrpc.js';

const FAULT = XMLRPC_FAULT;

/** The XmlRpcFault `fn` throws (fails the test if it throws nothing or something else). */
function faultOf(fn: () => unknown): XmlRpcFault {
  try {
    fn();
  } catch (err) {
    if (err instanceof XmlRpcFault) return err;
    throw new Error(`expected an XmlRpcFault, got ${String(err)}`);
  }
  throw new Error('expected an XmlRpcFault, nothing was thrown');
}

const call = (body: string | Uint8Array, opts = {}) => parseMethodCall(body, opts);
const doc = (params: string, method = 'm') => `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
const param = (value: string) => doc(`<param><value>${value}</value></param>`);
const one = (value: string): XmlRpcValue => call(param(value)).params[0];

describe('xmlrpc codec: types', () => {
  it('decodes the spec example (i4 param, methodName with a dot)', () => {
    const body = '<?xml version="1.0"?>\n<methodCall>\n   <methodName>examples.getStateName</methodName>\n   <params>\n      <param>\n         <value><i4>41</i4></value>\n         </param>\n      </params>\n   </methodCall>\n';
    expect(call(body)).to.deep.equal({ method: 'examples.getStateName', params: [41] });
  });

  it('decodes every scalar type', () => {
    expect(one('<int>-7</int>')).to.equal(-7);
    expect(one('<i4> +12 </i4>')).to.equal(12);
    expect(one('<int>2147483647</int>')).to.equal(2147483647);
    expect(one('<i8>9007199254740993</i8>')).to.equal(9007199254740993n);
    expect(one('<ex:i8 xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">-5</ex:i8>')).to.equal(-5);
    expect(one('<boolean>1</boolean>')).to.equal(true);
    expect(one('<boolean>0</boolean>')).to.equal(false);
    expect(one('<string>hi there</string>')).to.equal('hi there');
    expect(one('<string/>')).to.equal('');
    expect(one('  untyped keeps its spaces ')).to.equal('  untyped keeps its spaces ');
    expect(one('')).to.equal('');
    expect(one('<double>-12.214</double>')).to.equal(-12.214);
    expect(one('<double>1.5e3</double>')).to.equal(1500);
    expect(one('<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>')).to.deep.equal(new Date(Date.UTC(1998, 6, 17, 14, 8, 55)));
    expect(one('<dateTime.iso8601>1998-07-17T14:08:55Z</dateTime.iso8601>')).to.deep.equal(new Date(Date.UTC(1998, 6, 17, 14, 8, 55)));
    expect(one('<dateTime.iso8601>19980717T16:08:55+02:00</dateTime.iso8601>')).to.deep.equal(new Date(Date.UTC(1998, 6, 17, 14, 8, 55)));
    expect(one('<base64>eW91IGNhbid0IHJlYWQgdGhpcyE=</base64>')).to.deep.equal(Buffer.from("you can't read this!"));
    expect(one('<base64>\n  aGk=\n</base64>')).to.deep.equal(Buffer.from('hi'));
    expect(one('<nil/>')).to.equal(null);
    expect(one('<ex:nil/>')).to.equal(null);
  });

  it('decodes struct and array, nested, as in the spec', () => {
    const v = one(
      '<struct><member><name>lowerBound</name><value><i4>18</i4></value></member>' +
        '<member><name>upperBound</name><value><i4>139</i4></value></member>' +
        '<member><name>list</name><value><array><data><value><i4>12</i4></value><value><string>Egypt</string></value>' +
        '<value><boolean>0</boolean></value><value><i4>-31</i4></value><value><array><data/></array></value></data></array></value></member></struct>',
    );
    expect(v).to.deep.equal({ lowerBound: 18, upperBound: 139, list: [12, 'Egypt', false, -31, []] });
  });

  it('round-trips every type through serializeMethodCall / parseMethodCall, nested', () => {
    const params: XmlRpcValue[] = [
      0, -1, 2147483647, -2147483648, 2.5, -0.125, 3e9, 1e300, 5e-324,
      true, false,
      '', 'plain', 'caf\u00e9 \u{1F600} \u4e2d', '<tag> & "quotes" \'apos\' ]]> \r\n\t line ends',
      new Date(Date.UTC(2024, 1, 29, 23, 59, 59)), new Date(Date.UTC(1, 0, 1)),
      Buffer.from([0, 1, 2, 253, 254, 255]), Buffer.alloc(0),
      null,
      9223372036854775807n, -9223372036854775808n,
      [], {}, [1, ['two', [3.5, [null, { deep: [true] }]]]],
      { name: 'x', nested: { list: [1, { a: { b: { c: 'd' } } }], when: new Date(0), bytes: Buffer.from('xyz') }, 'odd <name> &': 1, '': 'empty name' },
    ];
    const decoded = parseMethodCall(serializeMethodCall('a.b_c:d', params));
    expect(decoded.method).to.equal('a.b_c:d');
    expect(decoded.params).to.deep.equal(params);
  });

  it('round-trips values and faults through methodResponse', () => {
    const value = { ok: [1, 'two', new Date(Date.UTC(2000, 0, 1)), Buffer.from('b'), null] };
    expect(parseMethodResponse(serializeMethodResponse(value))).to.deep.equal({ value });
    expect(parseMethodResponse(serializeFault(4, 'Too many <parameters> & more'))).to.deep.equal({ fault: { faultCode: 4, faultString: 'Too many <parameters> & more' } });
    // A fault string is free text: characters XML cannot carry are replaced rather than losing the fault.
    expect(parseMethodResponse(serializeFault(1, 'bad \u0000 byte'))).to.deep.equal({ fault: { faultCode: 1, faultString: 'bad \ufffd byte' } });
  });

  it('escapes markup so that text never becomes structure', () => {
    const xml = serializeMethodResponse('</string></value><value><int>1</int>');
    expect(xml).to.include('&lt;/string&gt;&lt;/value&gt;');
    expect(parseMethodResponse(xml)).to.deep.equal({ value: '</string></value><value><int>1</int>' });
    expect(serializeMethodResponse('a\rb')).to.include('a&#13;b');
  });

  it('reads the 5 predefined entities, numeric references and CDATA; normalises raw line ends', () => {
    expect(one('<string>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</string>')).to.equal('<>&"\'AB\u{1F600}');
    expect(one('<string><![CDATA[<not> &markup;]]></string>')).to.equal('<not> &markup;');
    expect(one('<string>a\r\nb\rc&#13;</string>')).to.equal('a\nb\nc\r');
    expect(one('<string>a<!-- a comment -->b</string>')).to.equal('ab');
  });

  it('makes a member named __proto__ an own property, never the prototype', () => {
    const v = one('<struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct>') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
    expect(Object.keys(v)).to.deep.equal(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(v.polluted).to.equal(undefined);
  });

  it('reads ISO-8859-1 by the XML declaration or the charset parameter; refuses UTF-16 and unknown encodings', () => {
    const latin = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9</value></param></params></methodCall>', 'latin1');
    expect(call(latin).params).to.deep.equal(['caf\u00e9']);
    const noDecl = Buffer.from('<methodCall><methodName>m</methodName><params><param><value>caf\xe9</value></param></params></methodCall>', 'latin1');
    expect(parseMethodCall(noDecl, { charset: 'iso-8859-1' }).params).to.deep.equal(['caf\u00e9']);
    expect(faultOf(() => parseMethodCall(noDecl)).faultCode).to.equal(FAULT.INVALID_CHARACTER); // not UTF-8
    expect(faultOf(() => parseMethodCall(Buffer.from('\ufeff<methodCall/>', 'utf16le'))).faultCode).to.equal(FAULT.UNSUPPORTED_ENCODING);
    expect(faultOf(() => parseMethodCall(Buffer.from('<?xml version="1.0" encoding="EBCDIC"?><methodCall/>'))).faultCode).to.equal(FAULT.UNSUPPORTED_ENCODING);
  });
});

describe('xmlrpc codec: refusals are faults, never crashes', () => {
  const cases: Array<[string, string, number]> = [
    ['DOCTYPE (billion laughs)', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><methodCall><methodName>&lol2;</methodName></methodCall>', FAULT.PARSE_ERROR],
    ['external entity', '<!DOCTYPE methodCall [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>m</methodName><params><param><value>&xxe;</value></param></params></methodCall>', FAULT.PARSE_ERROR],
    ['unknown entity', param('<string>&nbsp;</string>'), FAULT.PARSE_ERROR],
    ['a bare ampersand', param('<string>a & b</string>'), FAULT.PARSE_ERROR],
    ['a character reference to NUL', param('<string>&#0;</string>'), FAULT.INVALID_CHARACTER],
    ['a raw control character', param('<string>\u0001</string>'), FAULT.INVALID_CHARACTER],
    ['a processing instruction', `<?xml version="1.0"?><?evil x?>${param('1').replace('<?xml version="1.0"?>', '')}`, FAULT.PARSE_ERROR],
    ['unterminated document', param('<string>x</string>').slice(0, -20), FAULT.PARSE_ERROR],
    ['mismatched tags', doc('<param><value><int>1</i4></value></param>'), FAULT.PARSE_ERROR],
    ['two roots', `${param('1')}<methodCall/>`, FAULT.PARSE_ERROR],
    ['empty body', '', FAULT.PARSE_ERROR],
    ['not XML', 'hello', FAULT.PARSE_ERROR],
    ['a different root', '<methodResponse><params/></methodResponse>', FAULT.INVALID_XMLRPC],
    ['no methodName', '<methodCall><params/></methodCall>', FAULT.INVALID_XMLRPC],
    ['a method name with a path traversal', doc('', 'a/../b'), FAULT.INVALID_XMLRPC],
    ['a method name with an empty part', doc('', 'a..b'), FAULT.INVALID_XMLRPC],
    ['a method name with a space', doc('', 'a b'), FAULT.INVALID_XMLRPC],
    ['int out of 32-bit range', param('<int>2147483648</int>'), FAULT.INVALID_XMLRPC],
    ['i8 out of 64-bit range', param('<i8>9223372036854775808</i8>'), FAULT.INVALID_XMLRPC],
    ['int with a fraction', param('<int>1.5</int>'), FAULT.INVALID_XMLRPC],
    ['boolean other than 0/1', param('<boolean>true</boolean>'), FAULT.INVALID_XMLRPC],
    ['NaN double', param('<double>NaN</double>'), FAULT.INVALID_XMLRPC],
    ['infinite double', param('<double>1e999</double>'), FAULT.INVALID_XMLRPC],
    ['31 February', param('<dateTime.iso8601>20240231T00:00:00</dateTime.iso8601>'), FAULT.INVALID_XMLRPC],
    ['bad base64', param('<base64>!!!</base64>'), FAULT.INVALID_XMLRPC],
    ['unknown type', param('<float>1</float>'), FAULT.INVALID_XMLRPC],
    ['two types in a value', param('<int>1</int><int>2</int>'), FAULT.INVALID_XMLRPC],
    ['text beside a type', param('x<int>1</int>'), FAULT.INVALID_XMLRPC],
    ['member without a value', param('<struct><member><name>a</name></member></struct>'), FAULT.INVALID_XMLRPC],
    ['array without data', param('<array><value>1</value></array>'), FAULT.INVALID_XMLRPC],
  ];
  for (const [what, body, code] of cases) {
    it(`${what} -> fault ${code}`, () => {
      expect(faultOf(() => parseMethodCall(body)).faultCode).to.equal(code);
    });
  }

  it('too deep: nesting past maxDepth is a fault; within it decodes', () => {
    const nest = (n: number) => param('<array><data><value>'.repeat(n) + '1' + '</value></data></array>'.repeat(n));
    expect(call(nest(20)).params).to.have.length(1); // methodCall/params/param/value + 3 per array = 64 deep
    const f = faultOf(() => parseMethodCall(nest(21)));
    expect(f.faultCode).to.equal(FAULT.PARSE_ERROR);
    expect(f.faultString).to.match(/deeper than 64/);
    expect(faultOf(() => parseMethodCall(nest(3), { maxDepth: 10 })).faultString).to.match(/deeper than 10/);
    // 100k levels: refused at the limit, no stack overflow.
    expect(faultOf(() => parseMethodCall(nest(100_000), { maxBytes: 8 * 1024 * 1024 })).faultCode).to.equal(FAULT.PARSE_ERROR);
  });

  it('too big: over maxBytes is a fault before any parsing', () => {
    const big = param(`<string>${'x'.repeat(2 * 1024 * 1024)}</string>`);
    const f = faultOf(() => parseMethodCall(big));
    expect(f.faultCode).to.equal(FAULT.INVALID_XMLRPC);
    expect(f.faultString).to.match(/over the 1048576-byte limit/);
    expect(faultOf(() => parseMethodCall(param('<string>1234</string>'), { maxBytes: 50 })).faultCode).to.equal(FAULT.INVALID_XMLRPC);
  });

  it('random truncations and byte flips of a valid call give a result or an XmlRpcFault, nothing else', () => {
    const valid = Buffer.from(serializeMethodCall('a.b', [1, 'two &amp; <three>', [true, { k: new Date(0), b: Buffer.from('z') }], null, 2.5]));
    fc.assert(
      fc.property(fc.nat({ max: valid.length }), fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (cut, flips) => {
        const bytes = Buffer.from(valid.subarray(0, cut));
        for (const [i, b] of flips) if (i < bytes.length) bytes[i] = b;
        try {
          parseMethodCall(bytes);
        } catch (err) {
          if (!(err instanceof XmlRpcFault)) throw err;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('values XML-RPC cannot carry are a -32603 fault when encoding', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [NaN, Infinity, () => 1, Symbol('s'), cyclic, 'lone \ud800 surrogate', 'NUL \u0000', new Date(NaN), 2n ** 64n]) {
      expect(faultOf(() => serializeMethodResponse(bad)).faultCode, String(typeof bad)).to.equal(FAULT.INTERNAL_ERROR);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

/** lint() on both sides: the middleware is checked as a server toward the app and as an app toward inject. */
const wrap = (app: App, opts?: XmlRpcOptions): App => lint(xmlrpc(lint(app), opts));

function post(app: App, body: string | Buffer, req: InjectRequest = {}): Promise<InjectResponse> {
  return inject(app, { method: 'POST', url: '/', headers: { 'content-type': 'text/xml' }, body, ...req });
}

function rpc(app: App, method: string, params: unknown[] = [], req: InjectRequest = {}): Promise<InjectResponse> {
  return post(app, serializeMethodCall(method, params), req);
}

/** The methodResponse of an XML-RPC answer, after checking it is one: 200, text/xml, a correct length. */
function answer(res: InjectResponse) {
  expect(res.status, res.text + res.errors).to.equal(200);
  expect(res.headers['content-type']).to.match(/^text\/xml/);
  expect(res.headers['content-length']).to.equal(String(res.body.length));
  return parseMethodResponse(res.body);
}

/** An app that answers a fixed response and records the environ it got. */
function fixed(status: string, headers: Array<[string, string]>, body: Array<string | Uint8Array>, seen: Environ[] = []): App {
  return (environ, startResponse) => {
    seen.push(environ);
    startResponse(status, headers);
    return body;
  };
}

describe('xmlrpc middleware: which bodies are methodCalls', () => {
  const cases: Array<[string, boolean, 'yes' | 'no' | 'more']> = [
    ['<methodCall><methodName>m</methodName></methodCall>', true, 'yes'],
    ['\xEF\xBB\xBF<?xml version="1.0"?>\r\n<!-- <soap:Envelope> -->\n  <methodCall>', false, 'yes'],
    ['<!DOCTYPE methodCall [<!ENTITY a "b">]><methodCall>', false, 'yes'], // refused by the parser: a fault, not a pass-through
    ['<methodCallX/>', true, 'no'],
    ['<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">', false, 'no'],
    ['<!DOCTYPE html><html>', false, 'no'],
    ['{"json": true}', false, 'no'],
    ['', true, 'no'],
    ['<meth', false, 'more'],
    ['<?xml version="1.0"', false, 'more'],
    ['<!-- a comment that goes on', false, 'more'],
    ['<!-- a comment that goes on', true, 'no'],
  ];
  for (const [head, complete, verdict] of cases) {
    it(`${JSON.stringify(head.slice(0, 50))}${complete ? ' (whole body)' : ''} -> ${verdict}`, () => {
      expect(sniffMethodCall(Buffer.from(head, 'latin1'), complete)).to.equal(verdict);
    });
  }
});

describe('xmlrpc middleware (inject, lint on both sides)', () => {
  it('routes math.add to PATH_INFO /math/add with the params in tsgi.xmlrpc; the JSON result is the response', async () => {
    const seen: Environ[] = [];
    const app: App = (environ, startResponse) => {
      seen.push(environ);
      const { params } = environ['tsgi.xmlrpc'] as { params: number[] };
      startResponse('200 OK', [['Content-Type', 'application/json']]);
      return [JSON.stringify(params[0] + params[1])];
    };
    expect(answer(await rpc(wrap(app), 'math.add', [2, 3]))).to.deep.equal({ value: 5 });
    expect(seen[0].PATH_INFO).to.equal('/math/add');
    expect(seen[0].SCRIPT_NAME).to.equal('');
    expect(seen[0]['tsgi.xmlrpc']).to.deep.equal({ method: 'math.add', params: [2, 3] });
    expect(seen[0].REQUEST_METHOD).to.equal('POST');
  });

  it('appends to the request path (CherryPy), drops a leading /RPC2, keeps SCRIPT_NAME', async () => {
    const seen: Environ[] = [];
    const app = wrap(fixed('200 OK', [['Content-Type', 'text/plain']], ['ok'], seen));
    await rpc(app, 'a.b', [], { url: '/api/' });
    await rpc(app, 'a.b', [], { url: '/RPC2' });
    await rpc(app, 'a.b', [], { url: '/RPC2/x' });
    await rpc(app, 'system.listMethods', [], { url: '/mnt/v1', scriptName: '/mnt' });
    expect(seen.map((e) => [e.SCRIPT_NAME, e.PATH_INFO])).to.deep.equal([
      ['', '/api/a/b'],
      ['', '/a/b'],
      ['', '/x/a/b'],
      ['/mnt', '/v1/system/listMethods'],
    ]);
  });

  it('the raw methodCall is still readable from tsgi.input', async () => {
    const body = serializeMethodCall('m', ['x']);
    const app: App = async (environ, startResponse) => {
      const raw = await environ['tsgi.input'].read();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [raw.toString('utf8')];
    };
    expect(answer(await post(wrap(app), body))).to.deep.equal({ value: body });
  });

  it('marshals JSON with the $base64 / $dateTime / $double conventions, text as a string, bytes as base64, no body as nil', async () => {
    const json = { n: 1, list: [1.5, 'x', null, true], bin: { $base64: 'aGk=' }, when: { $dateTime: '2020-01-02T03:04:05.678Z' }, d: { $double: 2 } };
    expect(answer(await rpc(wrap(fixed('200 OK', [['Content-Type', 'application/json; charset=utf-8']], [JSON.stringify(json)])), 'm'))).to.deep.equal({
      value: { n: 1, list: [1.5, 'x', null, true], bin: Buffer.from('hi'), when: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)), d: 2 },
    });
    const doubled = await rpc(wrap(fixed('200 OK', [['Content-Type', 'application/json']], ['{"$double": 2}'])), 'm');
    expect(doubled.text).to.include('<double>2</double>');
    expect(answer(await rpc(wrap(fixed('200 OK', [['Content-Type', 'text/plain; charset=utf-8']], ['caf\u00e9 ', Buffer.from('& more')])), 'm'))).to.deep.equal({ value: 'caf\u00e9 & more' });
    expect(answer(await rpc(wrap(fixed('200 OK', [['Content-Type', 'application/octet-stream']], [Buffer.from([0, 255])])), 'm'))).to.deep.equal({ value: Buffer.from([0, 255]) });
    expect(answer(await rpc(wrap(fixed('204 No Content', [], [])), 'm'))).to.deep.equal({ value: null });
  });

  it('passes a text/xml answer through (the app speaks XML-RPC itself), keeps other headers such as Set-Cookie', async () => {
    const xml = serializeMethodResponse(['own', new Date(0)]);
    const res = await rpc(wrap(fixed('200 OK', [['Content-Type', 'text/xml'], ['Set-Cookie', 'sid=1; HttpOnly'], ['ETag', '"x"']], [xml])), 'm');
    expect(answer(res)).to.deep.equal({ value: ['own', new Date(0)] });
    expect(res.headers['set-cookie']).to.equal('sid=1; HttpOnly');
    expect(res.headers.etag).to.equal(undefined);
  });

  it('a non-2xx status is a fault with the status as faultCode and the text body as faultString, in a 200', async () => {
    const notFound = await rpc(wrap(fixed('404 Not Found', [['Content-Type', 'text/plain']], ['No such method here\n'])), 'nope');
    expect(answer(notFound)).to.deep.equal({ fault: { faultCode: 404, faultString: 'No such method here' } });
    const denied = await rpc(wrap(fixed('403 Forbidden', [['Content-Type', 'image/png']], [Buffer.from([1, 2])])), 'm');
    expect(answer(denied)).to.deep.equal({ fault: { faultCode: 403, faultString: '403 Forbidden' } });
  });

  it('an exception becomes fault 1 with its message, logged with its stack; exposeErrors: false hides the message', async () => {
    const boom: App = () => {
      throw new Error('database password is hunter2');
    };
    const res = await rpc(wrap(boom), 'db.query');
    expect(answer(res)).to.deep.equal({ fault: { faultCode: 1, faultString: 'database password is hunter2' } });
    expect(res.errors).to.match(/xmlrpc: db\.query \(\/db\/query\) failed: Error: database password is hunter2\n\s+at /);
    const hidden = await rpc(wrap(boom, { exposeErrors: false }), 'db.query');
    expect(answer(hidden)).to.deep.equal({ fault: { faultCode: 1, faultString: 'internal error' } });
    expect(hidden.errors).to.include('hunter2');
  });

  it('an error while the body streams and a rejected promise are faults too; the body is closed once', async () => {
    let closed = 0;
    const streaming: App = (_e, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/json']]);
      return Object.assign(
        (async function* () {
          yield '[1,';
          throw new Error('lost the connection to the backend');
        })(),
        { close: () => void closed++ },
      );
    };
    expect(answer(await rpc(wrap(streaming), 'm'))).to.deep.equal({ fault: { faultCode: 1, faultString: 'lost the connection to the backend' } });
    expect(closed).to.equal(1);
    const rejected: App = async () => {
      throw new XmlRpcFault(42, 'the answer');
    };
    expect(answer(await rpc(wrap(rejected), 'm'))).to.deep.equal({ fault: { faultCode: 42, faultString: 'the answer' } });
  });

  it('a result that is not JSON, or too large, is a -32603 fault', async () => {
    expect(answer(await rpc(wrap(fixed('200 OK', [['Content-Type', 'application/json']], ['{nope'])), 'm'))).to.have.nested.property('fault.faultCode', FAULT.INTERNAL_ERROR);
    const big = wrap(fixed('200 OK', [['Content-Type', 'text/plain']], ['x'.repeat(200)]), { maxResponseBytes: 100 });
    expect(answer(await rpc(big, 'm'))).to.have.nested.property('fault.faultCode', FAULT.INTERNAL_ERROR);
  });

  it('a malformed, hostile or oversized methodCall is a 200 fault and never reaches the app', async () => {
    const seen: Environ[] = [];
    const app = wrap(fixed('200 OK', [['Content-Type', 'text/plain']], ['reached']), { maxBodyBytes: 4096 });
    const spy = wrap((environ, startResponse) => {
      seen.push(environ);
      return app(environ, startResponse);
    });
    const bad: Array<[string | Buffer, number]> = [
      ['<methodCall><methodName>x</methodName><params>', FAULT.PARSE_ERROR],
      ['<!DOCTYPE methodCall [<!ENTITY a "b">]><methodCall><methodName>&a;</methodName></methodCall>', FAULT.PARSE_ERROR],
      [param('<string>&bogus;</string>'), FAULT.PARSE_ERROR],
      [param('<array><data><value>'.repeat(30) + '1' + '</value></data></array>'.repeat(30)), FAULT.PARSE_ERROR],
      [param(`<string>${'x'.repeat(10_000)}</string>`), FAULT.INVALID_XMLRPC],
      [doc('', '../../etc/passwd'), FAULT.INVALID_XMLRPC],
      [Buffer.from([0x3c, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64, 0x43, 0x61, 0x6c, 0x6c, 0x3e, 0xff, 0xfe]), FAULT.INVALID_CHARACTER],
    ];
    for (const [body, code] of bad) {
      const res = await post(app, body);
      expect(answer(res), String(body).slice(0, 60)).to.have.nested.property('fault.faultCode', code);
    }
    expect(seen).to.have.length(0);
    // A declared Content-Length over the limit is refused without reading the body.
    let pulled = 0;
    const endless = (async function* () {
      yield Buffer.from('<methodCall><methodName>m</methodName><params><param><value>');
      for (;;) {
        pulled++;
        if (pulled > 100) throw new Error('the middleware kept reading');
        yield Buffer.alloc(1024, 0x78);
      }
    })();
    const res = await post(app, endless as unknown as string, { headers: { 'content-type': 'text/xml', 'content-length': '999999999' } });
    expect(answer(res)).to.have.nested.property('fault.faultCode', FAULT.INVALID_XMLRPC);
    expect(pulled, 'KiB pulled from a body declared over the limit').to.be.below(3);
  });

  it('passes other requests through untouched: GET, JSON POST, XML POST that is not a methodCall (body byte-exact)', async () => {
    const echo: App = async (environ, startResponse) => {
      const body = await environ['tsgi.input'].read();
      startResponse('201 Created', [['Content-Type', 'application/octet-stream'], ['X-Path', environ.PATH_INFO]]);
      return [body];
    };
    const app = wrap(echo);
    const get = await inject(app, { url: '/x' });
    expect([get.status, get.headers['x-path'], get.body.length]).to.deep.equal([201, '/x', 0]);
    const json = await inject(app, { method: 'POST', url: '/j', headers: { 'content-type': 'application/json' }, body: '{"methodCall": 1}' });
    expect([json.status, json.text]).to.deep.equal([201, '{"methodCall": 1}']);
    // SOAP: XML, but its root is not methodCall. 200 KiB in 7 KiB chunks: replayed past the sniffed head.
    const soap = Buffer.concat([
      Buffer.from('<?xml version="1.0"?>\n<!-- a SOAP call --><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'),
      Buffer.alloc(200 * 1024, 0x61),
      Buffer.from('</soap:Body></soap:Envelope>'),
    ]);
    const chunks = async function* () {
      for (let i = 0; i < soap.length; i += 7 * 1024) yield soap.subarray(i, i + 7 * 1024);
    };
    const res = await inject(app, { method: 'POST', url: '/soap', headers: { 'content-type': 'application/xml' }, body: chunks() });
    expect(res.status).to.equal(201);
    expect(res.headers['x-path']).to.equal('/soap');
    expect(res.body.equals(soap)).to.equal(true);
  });
});

describe('xmlrpcMethods', () => {
  const methods = xmlrpcMethods({
    'math.add': (a: number, b: number) => a + b,
    'math.divide': (a: number, b: number) => {
      if (b === 0) throw new XmlRpcFault(-32602, 'division by zero');
      return a / b;
    },
    'types.all': () => ({ when: new Date(Date.UTC(2001, 1, 3)), bytes: Buffer.from('raw'), big: 2n ** 40n, none: null }),
    async 'who.am.i'(this: { environ: Environ; method: string }) {
      return `${this.method} from ${String(this.environ.REMOTE_ADDR)}`;
    },
    crash: () => {
      throw new TypeError('not a number');
    },
  });
  const app = wrap(methods);

  it('calls the method by name, keeping every XML-RPC type of its result', async () => {
    expect(answer(await rpc(app, 'math.add', [40, 2]))).to.deep.equal({ value: 42 });
    expect(answer(await rpc(app, 'math.divide', [1, 4]))).to.deep.equal({ value: 0.25 });
    expect(answer(await rpc(app, 'types.all'))).to.deep.equal({ value: { when: new Date(Date.UTC(2001, 1, 3)), bytes: Buffer.from('raw'), big: 2 ** 40, none: null } });
    expect(answer(await rpc(app, 'who.am.i', [], { remoteAddress: '10.1.2.3' }))).to.deep.equal({ value: 'who.am.i from 10.1.2.3' });
  });

  it('system.listMethods, unknown methods (-32601), XmlRpcFault (its code) and other errors (fault 1)', async () => {
    expect(answer(await rpc(app, 'system.listMethods'))).to.deep.equal({ value: ['crash', 'math.add', 'math.divide', 'system.listMethods', 'types.all', 'who.am.i'] });
    expect(answer(await rpc(app, 'math.sub', [1, 2]))).to.have.nested.property('fault.faultCode', FAULT.METHOD_NOT_FOUND);
    expect(answer(await rpc(app, 'toString'))).to.have.nested.property('fault.faultCode', FAULT.METHOD_NOT_FOUND);
    expect(answer(await rpc(app, 'math.divide', [1, 0]))).to.deep.equal({ fault: { faultCode: -32602, faultString: 'division by zero' } });
    expect(answer(await rpc(app, 'crash'))).to.deep.equal({ fault: { faultCode: 1, faultString: 'not a number' } });
  });

  it('answers a GET with 405 and refuses bad method names up front', async () => {
    const res = await inject(app, { url: '/' });
    expect([res.status, res.headers.allow]).to.deep.equal([405, 'POST']);
    expect(() => xmlrpcMethods({ 'a..b': () => 1 })).to.throw(/not a valid XML-RPC method name/);
  });
});

// ---------------------------------------------------------------------------------------------------------

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
const FIXTURE = 'dist/test/fixtures/xmlrpc/app.js';

function httpPost(url: string, urlPath: string, body: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: Number(u.port), path: urlPath, method: body === '' ? 'GET' : 'POST', agent: false, headers: body === '' ? {} : { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('[server] xmlRpc = 1 through the CLI', function () {
  let dir: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-xmlrpc-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await new Promise((resolve) => c.once('exit', resolve));
      }
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Start `tsgi FIXTURE -C cfg` and resolve to its URL. */
  function start(extra: string): Promise<string> {
    const cfg = path.join(dir, `xmlrpc-${children.length}.cfg`);
    writeFileSync(cfg, `[server]\nsocketHost = 127.0.0.1\nsocketPort = 0\nxmlRpc = 1\n${extra}`);
    const proc = spawn(process.execPath, [CLI, FIXTURE, '-C', cfg], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(proc);
    let stderr = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line within 20 s: ${stderr}`)), 20_000);
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /^tsgi: serving \S+ on (\S+) \(/m.exec(stderr);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tsgi exited (${code}) before serving: ${stderr}`));
      });
    });
  }

  async function check(url: string): Promise<void> {
    const added = await httpPost(url, '/', serializeMethodCall('math.add', [2, 3]));
    expect([added.status, added.type]).to.deep.equal([200, 'text/xml; charset=utf-8']);
    expect(parseMethodResponse(added.body)).to.deep.equal({ value: 5 });
    expect(parseMethodResponse((await httpPost(url, '/RPC2', serializeMethodCall('time.epoch'))).body)).to.deep.equal({ value: new Date(0) });
    expect(parseMethodResponse((await httpPost(url, '/', serializeMethodCall('fail'))).body)).to.deep.equal({ fault: { faultCode: 1, faultString: 'failed on purpose' } });
    const routed = parseMethodResponse((await httpPost(url, '/api', serializeMethodCall('a.b', ['x', { y: [1] }]))).body) as { value: Record<string, unknown> };
    expect(routed.value).to.deep.include({ scriptName: '/api', pathInfo: '/a/b', method: 'a.b', params: ['x', { y: [1] }] });
    const malformed = await httpPost(url, '/', '<methodCall><methodName>x</methodName>');
    expect(malformed.status).to.equal(200);
    expect(parseMethodResponse(malformed.body)).to.have.nested.property('fault.faultCode', FAULT.PARSE_ERROR);
    expect(await httpPost(url, '/page', '')).to.deep.include({ status: 200, body: 'plain GET /page\n' });
  }

  it('serves XML-RPC calls from a method table and a routed JSON app; other requests pass through', async () => {
    await check(await start(''));
  });

  it('works in pool threads too (threadPool = 2: the middleware is applied in each thread)', async () => {
    await check(await start('threadPool = 2\n'));
  });
});
