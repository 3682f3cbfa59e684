/**
 * objectTree and methodDispatch through inject() under lint(): URL -> attribute walk, exposed-only, index and
 * default, positional segments and query/form params as arguments, return values, startResponse in a
 * handler, the 404 reason in tsgi.errors, 405 with Allow.
 */
import { expect } from 'chai';
import { inject } from '../../gateway/core/inject.js';
import { lint } from '../../app-api/lint.js';
import { expose, type HandlerContext, type Params } from '../../app-api/tools/dispatch/expose.js';
import { methodDispatch } from '../../app-api/tools/dispatch/method-dispatch.js';
import { objectTree } from '../../app-api/tools/dispatch/object-tree.js';

class Blog {
  posts = ['first', 'second'];
  index = expose(() => 'blog index');
  show = expose(function (this: Blog, id: string, params: Params) {
    return `post ${this.posts[Number(id)]} ${params.format ?? 'html'}`;
  });
  draft(): string {
    return 'not exposed';
  }
}

const root = {
  index: expose(() => 'home'),
  hello: expose((params: Params) => `hello ${String(params.name ?? 'world')}`),
  blog: new Blog(),
  secret: () => 'unexposed',
  bytes: expose(() => new Uint8Array([1, 2, 3])),
  nothing: expose(() => undefined),
  json: expose((_p: Params, ctx: HandlerContext) => {
    ctx.startResponse('201 Created', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ method: ctx.environ.REQUEST_METHOD })];
  }),
  form: expose((params: Params) => `form ${JSON.stringify(params)}`),
  files: {
    default: expose((...args: unknown[]) => `files ${JSON.stringify(args.slice(0, -2))}`),
  },
  asyncOne: expose(async () => 'later'),
};

describe('tools: objectTree', () => {
  const app = lint(objectTree(root));

  it('walks the object tree: index, nested objects, this = the handler\'s object', async () => {
    expect((await inject(app, '/')).text).to.equal('home');
    expect((await inject(app, '/blog')).text).to.equal('blog index');
    expect((await inject(app, '/blog/')).text).to.equal('blog index');
    expect((await inject(app, '/blog/show/1?format=txt')).text).to.equal('post second txt');
    expect((await inject(app, '/asyncOne')).text).to.equal('later');
    const page = await inject(app, '/hello?name=ann');
    expect(page.text).to.equal('hello ann');
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
  });

  it('default gets the remaining segments; query and urlencoded form params merge, repeats become lists', async () => {
    expect((await inject(app, '/files/a/b%20c')).text).to.equal('files ["a","b c"]');
    const res = await inject(app, { method: 'POST', url: '/form?a=1', body: 'a=2&b=x+y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.text).to.equal('form {"a":["1","2"],"b":"x y"}');
  });

  it('return values: bytes, undefined (204), a body after startResponse', async () => {
    const b = await inject(app, '/bytes');
    expect([...b.body]).to.deep.equal([1, 2, 3]);
    expect(b.headers['content-type']).to.equal('application/octet-stream');
    expect((await inject(app, '/nothing')).status).to.equal(204);
    const j = await inject(app, { method: 'PUT', url: '/json' });
    expect(j.status).to.equal(201);
    expect(j.json()).to.deep.equal({ method: 'PUT' });
  });

  it('404 for unexposed and missing handlers, with the reason in the error log only', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/secret', /root\.secret is not exposed/],
      ['/blog/draft', /root\.blog\.draft is not exposed/],
      ['/nope', /root has no "nope"/],
      ['/blog/show2', /root\.blog has no "show2"/],
      ['/constructor', /root has no "constructor"/],
      ['/__proto__', /root has no "__proto__"/],
      ['/toString', /root has no "toString"/],
    ];
    for (const [url, reason] of cases) {
      const res = await inject(app, url);
      expect(res.status, url).to.equal(404);
      expect(res.text).to.equal('Not Found\n');
      expect(res.errors, url).to.match(reason);
    }
  });
});

describe('tools: methodDispatch', () => {
  const resource = {
    GET: (params: Params) => `get ${String(params.id ?? '')}`,
    POST: (params: Params, ctx: HandlerContext) => {
      ctx.startResponse('201 Created', [['Content-Type', 'text/plain']]);
      return [`created ${String(params.name)}`];
    },
    helper: () => 'not a method',
  };
  const app = lint(methodDispatch(resource));

  it('dispatches on the request method; HEAD uses GET', async () => {
    expect((await inject(app, '/?id=7')).text).to.equal('get 7');
    const post = await inject(app, { method: 'POST', url: '/', body: 'name=n', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).to.equal(201);
    expect(post.text).to.equal('created n');
    const head = await inject(app, { method: 'HEAD', url: '/' });
    expect(head.status).to.equal(200);
    expect(head.body.length).to.equal(0);
  });

  it('405 with Allow for other methods (logged); OPTIONS answers Allow', async () => {
    const del = await inject(app, { method: 'DELETE', url: '/' });
    expect(del.status).to.equal(405);
    expect(del.headers['allow']).to.equal('GET, HEAD, OPTIONS, POST');
    expect(del.errors).to.match(/no DELETE handler/);
    const opt = await inject(app, { method: 'OPTIONS', url: '/' });
    expect(opt.status).to.equal(204);
    expect(opt.headers['allow']).to.equal('GET, HEAD, OPTIONS, POST');
  });
});
