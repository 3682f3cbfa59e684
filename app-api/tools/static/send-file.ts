/**
 * Answer a request with one file: Content-Type from the mime-types table, ETag / Last-Modified, 304 / 412,
 * a single Range as 206 (several ranges: the whole file, 200, which RFC 9110 14.2 allows), 416 for a range
 * past the end, HEAD without reading the file. The body is a FileBody, so the built-in HTTP server pipes
 * the file to the socket and the other fronts read it in chunks: the file is never loaded whole.
 */
import type { Stats } from 'node:fs';
import { extname } from 'node:path';
import mime from 'mime-types';
import { FileBody } from '../../file-body.js';
import type { Body, Environ, HeaderList, StartResponse } from '../../types.js';
import { etagOf, evaluate, lastModifiedOf } from './conditional.js';

/** The Content-Type of a file name: the mime-types table, charset added for text; unknown: octet-stream. */
export function contentTypeOf(file: string): string {
  return mime.contentType(extname(file)) || 'application/octet-stream';
}

function header(environ: Environ, name: string): string | undefined {
  const v = environ[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Serve `path` (already checked to be a regular file inside the root) with its `stat`; the Content-Type
 * follows `name`, the name the client asked for (a symlink `latest.tgz` keeps its type).
 */
export function sendFile(environ: Environ, startResponse: StartResponse, path: string, st: Stats, name: string = path): Body {
  const contentType = contentTypeOf(name);
  const etag = etagOf(st);
  const lastModified = lastModifiedOf(st);
  const validators: HeaderList = [['ETag', etag], ['Last-Modified', lastModified]];
  const outcome = evaluate(
    {
      method: environ.REQUEST_METHOD,
      ifMatch: header(environ, 'HTTP_IF_MATCH'),
      ifUnmodifiedSince: header(environ, 'HTTP_IF_UNMODIFIED_SINCE'),
      ifNoneMatch: header(environ, 'HTTP_IF_NONE_MATCH'),
      ifModifiedSince: header(environ, 'HTTP_IF_MODIFIED_SINCE'),
      range: header(environ, 'HTTP_RANGE'),
      ifRange: header(environ, 'HTTP_IF_RANGE'),
    },
    st.size,
    etag,
    Math.floor(st.mtimeMs / 1000),
  );
  const head = environ.REQUEST_METHOD === 'HEAD';
  switch (outcome.status) {
    case 304:
      startResponse('304 Not Modified', validators);
      return [];
    case 412:
      startResponse('412 Precondition Failed', [['Content-Type', 'text/plain; charset=utf-8'], ...validators]);
      return ['Precondition Failed\n'];
    case 416: {
      const text = 'Range Not Satisfiable\n';
      startResponse('416 Range Not Satisfiable', [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Range', `bytes */${st.size}`],
        ['Content-Length', String(Buffer.byteLength(text))],
        ...validators,
      ]);
      return [text];
    }
    case 206: {
      const length = outcome.end - outcome.start + 1;
      startResponse('206 Partial Content', [
        ['Content-Type', contentType],
        ['Content-Range', `bytes ${outcome.start}-${outcome.end}/${st.size}`],
        ['Content-Length', String(length)],
        ['Accept-Ranges', 'bytes'],
        ...validators,
      ]);
      return new FileBody({ path, start: outcome.start, end: outcome.end });
    }
    default:
      startResponse('200 OK', [
        ['Content-Type', contentType],
        ['Content-Length', String(st.size)],
        ['Accept-Ranges', 'bytes'],
        ...validators,
      ]);
      // HEAD: the headers of a GET and no body; an empty array, so nothing opens the file.
      return head ? [] : new FileBody({ path, start: 0, end: st.size - 1 });
  }
}
