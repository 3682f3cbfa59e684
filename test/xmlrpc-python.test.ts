/**
 * XML-RPC against an independent client: Python's standard xmlrpc.client (test/fixtures/xmlrpc/
 * python-client.py, run as a child process) calls a tsgi server (built-in HTTP, xmlrpc() over
 * xmlrpcMethods(), lint on the app) with every XML-RPC type: int, i4, boolean, string (escaped and
 * non-ASCII, and an untyped <value>), double, dateTime.iso8601, base64, struct, array, nested values and
 * nil; and faults (the method's own, an exception, an unknown method, a malformed call). What the methods
 * received is checked on our side (`describe`), what Python decoded on its side (`echo`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { lint } from '../app-api/lint.js';
import { XmlRpcFault, xmlrpc, xmlrpcMethods } from '../app-api/index.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { findBinary } from './integration/harness/binaries.js';
import { requireInstalled } from './integration/harness/skip.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLIENT = path.join(ROOT, 'test/fixtures/xmlrpc/python-client.py');

/** How a method saw one param: JS type and value, recursively (what the codec decoded). */
function describeJs(v: unknown): unknown {
  if (v === null) return 'null';
  if (v instanceof Date) return `Date:${v.toISOString()}`;
  if (Buffer.isBuffer(v)) return `Buffer:${v.toString('base64')}`;
  if (Array.isArray(v)) return v.map(describeJs);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, describeJs(x)]));
  return `${typeof v}:${String(v)}`;
}

const app = lint(
  xmlrpc(
    xmlrpcMethods({
      'math.add': (a: number, b: number) => a + b,
      echo: (...params: unknown[]) => params,
      describe: (...params: unknown[]) => params.map(describeJs),
      refuse: (code: number) => {
        throw new XmlRpcFault(code, `refused with ${code}`);
      },
      boom: () => {
        throw new Error('boom on purpose');
      },
    }),
  ),
);

/** Run the Python client against `url`; resolves with its JSON output. */
function runPython(python: string, url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [CLIENT, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`python printed no JSON (${(e as Error).message}): ${out}\n${err}`));
      }
    });
  });
}

describe('XML-RPC with Python xmlrpc.client as the client', function () {
  this.timeout(60_000);
  let server: HttpServer | undefined;
  let got: Record<string, unknown>;
  const logs = new MemoryLog();

  before(async function () {
    const python = requireInstalled(this, 'python3', findBinary('python3'));
    const log = new ErrorLog(logs);
    server = await startHttpServer(new InlineDispatcher(app, { log }), { host: '127.0.0.1', port: 0, log });
    got = await runPython(python, `http://127.0.0.1:${server.port}/RPC2`);
  });
  after(() => server?.close(1000));

  it('system.listMethods and a plain call', () => {
    expect(got.listMethods).to.deep.equal(['boom', 'describe', 'echo', 'math.add', 'refuse', 'system.listMethods']);
    expect(got.add).to.deep.equal(['int', 42]);
  });

  it('every type Python sends arrives as the JS value the codec documents', () => {
    expect(got.describe).to.deep.equal([
      'number:42',
      'number:-7',
      'boolean:true',
      'boolean:false',
      'string:café <&> "q"',
      'string:',
      'number:3.25',
      'number:-0.5',
      'Date:2026-12-07T04:50:33.000Z',
      `Buffer:${Buffer.from([0, 1, ...Buffer.from('binary'), 0xff]).toString('base64')}`,
      { name: 'string:x', n: 'number:1', nested: { list: ['number:1', 'string:two', 'number:3.5'] } },
      ['number:1', ['number:2', ['number:3']], { k: 'null' }],
      'null',
    ]);
  });

  it('<i4> and an untyped <value> (raw calls) arrive as number and string', () => {
    expect(got.i4).to.deep.equal(['list', [['str', 'number:-123']]]);
    expect(got.untypedString).to.deep.equal(['list', [['str', 'string:plain']]]);
  });

  it('every type comes back as Python decodes it: int, bool, str, float, datetime, bytes, dict, list, None', () => {
    expect(got.echo).to.deep.equal([
      'list',
      [
        ['int', 42],
        ['int', -7],
        ['bool', true],
        ['bool', false],
        ['str', 'café <&> "q"'],
        ['str', ''],
        ['float', 3.25],
        ['float', -0.5],
        ['datetime', '2026-12-07T04:50:33'],
        ['bytes', Buffer.from([0, 1, ...Buffer.from('binary'), 0xff]).toString('base64')],
        ['dict', { name: ['str', 'x'], n: ['int', 1], nested: ['dict', { list: ['list', [['int', 1], ['str', 'two'], ['float', 3.5]]] }] }],
        ['list', [['int', 1], ['list', [['int', 2], ['list', [['int', 3]]]]], ['dict', { k: ['None', null] }]]],
        ['None', null],
      ],
    ]);
    expect(got.nil).to.deep.equal(['list', [['None', null]]]);
  });

  it('faults reach Python as xmlrpc.client.Fault with their code and string', () => {
    expect(got.faultOwn).to.deep.equal({ faultCode: 5, faultString: 'refused with 5' });
    expect(got.faultThrown).to.deep.equal({ faultCode: 1, faultString: 'boom on purpose' });
    expect(got.faultUnknown).to.deep.equal({ faultCode: -32601, faultString: 'method "no.such.method" is not supported' });
    expect(got.faultBadXml).to.deep.equal({ faultCode: -32700, faultString: 'XML-RPC parse error: the document ends inside <params>; a closing tag is missing' });
  });
});
