/** "Did you mean ...?" for unknown option and section names. */

function squash(s: string): string {
  return s.toLowerCase().replace(/[-_.\s]/g, '');
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * The known name closest to `name`: same letters ignoring case, `_`, `-` and `.` (socket_port, socket-port,
 * SOCKETPORT -> socketPort), else the smallest edit distance within a quarter of the length (at least 2).
 */
export function nearest(name: string, known: Iterable<string>): string | undefined {
  const s = squash(name);
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(s.length / 4)) + 1;
  for (const k of known) {
    const ks = squash(k);
    if (ks === s) return k;
    const d = distance(s, ks);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** `; did you mean X?` or a pointer to the list of names. */
export function didYouMean(name: string, known: Iterable<string>, listHint: string): string {
  const n = nearest(name, known);
  return n !== undefined ? `did you mean ${n}?` : listHint;
}
