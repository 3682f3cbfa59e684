/**
 * The lint's wrappers of `tsgi.input` and `tsgi.errors` (SPEC.md #input, #errors): the app must use them
 * correctly (sizes, one read at a time, not after the response) and the server's stream must answer as
 * promised (Buffers of the right size, TsgiError when it cannot block).
 */
import { TsgiError } from './errors.js';
import type { LintRuleId } from './lint-rules.js';
import type { ErrorStream, InputStream } from './types.js';

/** What the wrappers need from the request's lint state. */
export interface InputLintContext {
  /** Throw (and report) a violation. */
  raise(rule: LintRuleId, detail: string): never;
  /** True once the response ended (the server called close()). */
  readonly ended: boolean;
}

function checkSize(ctx: InputLintContext, method: string, size: unknown): void {
  if (size !== undefined && !Number.isInteger(size)) {
    ctx.raise('input.read-arg', `tsgi.input.${method}(${typeof size === 'string' ? JSON.stringify(size) : String(size)}): the size must be an integer or omitted`);
  }
}

function checkResult(ctx: InputLintContext, method: string, buf: unknown, size: number | undefined): Buffer {
  if (!Buffer.isBuffer(buf)) ctx.raise('input.result', `tsgi.input.${method}() gave ${buf === null ? 'null' : typeof buf}, not a Buffer`);
  if (size !== undefined && size >= 0 && buf.length > size) ctx.raise('input.result', `tsgi.input.${method}(${size}) gave ${buf.length} bytes`);
  return buf;
}

/** Wrap `tsgi.input`. */
export function lintInput(inner: InputStream, ctx: InputLintContext): InputStream {
  let pending: string | null = null;
  const enter = (method: string): void => {
    if (ctx.ended) ctx.raise('input.after-response', `tsgi.input.${method}() after the response ended; read the body before you finish the response`);
    if (pending !== null) ctx.raise('input.concurrent', `tsgi.input.${method}() while ${pending} is still pending; await each read before the next`);
  };
  return {
    async read(size?: number): Promise<Buffer> {
      checkSize(ctx, 'read', size);
      enter('read()');
      pending = 'read()';
      let buf: Buffer;
      try {
        buf = await inner.read(size);
      } finally {
        pending = null;
      }
      return checkResult(ctx, 'read', buf, size);
    },
    async readline(limit?: number): Promise<Buffer> {
      checkSize(ctx, 'readline', limit);
      enter('readline()');
      pending = 'readline()';
      let buf: Buffer;
      try {
        buf = await inner.readline(limit);
      } finally {
        pending = null;
      }
      checkResult(ctx, 'readline', buf, limit);
      const lf = buf.indexOf(10);
      if (lf !== -1 && lf !== buf.length - 1) ctx.raise('input.result', `tsgi.input.readline() gave a line with a LF at byte ${lf} of ${buf.length}: it must stop after the first LF`);
      return buf;
    },
    readSync(size?: number): Buffer {
      checkSize(ctx, 'readSync', size);
      enter('readSync()');
      let buf: Buffer;
      try {
        buf = inner.readSync(size);
      } catch (err) {
        if (!(err instanceof TsgiError)) {
          ctx.raise('input.sync-error', `tsgi.input.readSync() threw ${err instanceof Error ? err.name + ': ' + err.message : String(err)}; it must throw TsgiError TSGI_ERR_SYNC_INPUT where it cannot block`);
        }
        throw err;
      }
      return checkResult(ctx, 'readSync', buf, size);
    },
    [Symbol.asyncIterator](): AsyncIterator<Buffer> {
      let it: AsyncIterator<Buffer> | null = null;
      return {
        async next(): Promise<IteratorResult<Buffer>> {
          enter('iteration');
          pending = 'an iteration step';
          let r: IteratorResult<Buffer>;
          try {
            it ??= inner[Symbol.asyncIterator]();
            r = await it.next();
          } finally {
            pending = null;
          }
          if (r.done !== true) checkResult(ctx, 'iterator', r.value, undefined);
          return r;
        },
        async return(value?: unknown): Promise<IteratorResult<Buffer>> {
          await it?.return?.(value);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Wrap `tsgi.errors`. */
export function lintErrors(inner: ErrorStream, ctx: InputLintContext): ErrorStream {
  return {
    write(message: string): void {
      if (typeof message !== 'string') {
        ctx.raise('errors.write-arg', `tsgi.errors.write() takes a string, got ${message === null ? 'null' : typeof message}; use String(err) or err.stack`);
      }
      inner.write(message);
    },
    flush(): void {
      inner.flush();
    },
  };
}
