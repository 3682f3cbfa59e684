/**
 * Value parsers for config options. Each takes the text as written (in the file or on the command line) and
 * returns the typed value, or throws a BadValue whose message completes the sentence "<option> ...", so the
 * caller can prefix it with the file, the line and the option name.
 */
import net from 'node:net';

/** A value did not parse; `message` says what a valid value looks like. */
export class BadValue extends Error {}

const TRUE_WORDS = new Set(['1', 'true', 'on', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'off', 'no']);

/** The words a boolean option accepts, for messages and the docs. */
export const BOOLEAN_WORDS = '1/0, true/false, on/off, yes/no';

/** True when `raw` is one of the boolean words (used by the CLI to decide whether a flag took a value). */
export function isBooleanWord(raw: string): boolean {
  const w = raw.trim().toLowerCase();
  return TRUE_WORDS.has(w) || FALSE_WORDS.has(w);
}

/** 1/0, true/false, on/off, yes/no (any case). */
export function parseBoolean(raw: string): boolean {
  const w = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  throw new BadValue(`must be a boolean (${BOOLEAN_WORDS}), got ${JSON.stringify(raw)}`);
}

/** A decimal integer in [min, max]. */
export function integerIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const t = raw.trim();
    const n = Number(t);
    if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new BadValue(`must be an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

/** A duration in seconds (decimals allowed): at least 0, or greater than 0 when `positive`. */
export function seconds(positive: boolean): (raw: string) => number {
  return (raw) => {
    const t = raw.trim();
    const n = Number(t);
    if (!/^\+?(\d+(\.\d*)?|\.\d+)$/.test(t) || !Number.isFinite(n) || (positive && n === 0)) {
      throw new BadValue(`must be a number of seconds ${positive ? 'greater than 0' : 'of at least 0'}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

/** One of a fixed list of words. */
export function oneOf<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    const w = raw.trim();
    if ((choices as readonly string[]).includes(w)) return w as T;
    throw new BadValue(`must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  };
}

/** A non-empty file system path. */
export function parsePath(raw: string): string {
  const t = raw.trim();
  if (t === '') throw new BadValue('must be a file path, got an empty value');
  if (t.includes('\0')) throw new BadValue('must be a file path without NUL');
  return t;
}

/** An IP address or a host name to bind to. `[::1]` is accepted for `::1`. */
export function parseHost(raw: string): string {
  let t = raw.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (net.isIP(t) !== 0) return t;
  if (/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(t)) return t;
  throw new BadValue(`must be an IP address or a host name (e.g. 127.0.0.1, 0.0.0.0, ::, localhost), got ${JSON.stringify(raw)}`);
}

/** A mount point: '' (the root) or `/a/b` (leading slash, no trailing slash). */
export function parseScriptName(raw: string): string {
  const t = raw.trim();
  if (t === '' || t === '/') return '';
  if (!t.startsWith('/') || t.endsWith('/') || t.includes('//') || /[?#\s\0%]/.test(t)) {
    throw new BadValue(`must be a URL path like /app (leading slash, no trailing slash, no ?, #, % or spaces), got ${JSON.stringify(raw)}`);
  }
  return t;
}
