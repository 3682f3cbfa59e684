/** Where a setting came from, so every config error can point at the line or flag to fix. */
import path from 'node:path';

/** A setting's origin. */
export type Source =
  | { kind: 'file'; file: string; line: number }
  | { kind: 'cli'; flag: string }
  | { kind: 'default' };

/** A file path as short as is still clear: relative to cwd when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** `server.cfg line 3`, `command line --socket-port`, `the default`. */
export function describeSource(s: Source): string {
  switch (s.kind) {
    case 'file':
      return `${displayPath(s.file)} line ${s.line}`;
    case 'cli':
      return `command line ${s.flag}`;
    case 'default':
      return 'the default';
  }
}
