/**
 * Digest nonces that need no shared store: `time.random.mac`, the MAC an HMAC-SHA-256 of the rest under a
 * key. Any thread or process holding the same key accepts the nonce (curl's second request may reach
 * another pool thread); the time in it makes it expire (then the client is told `stale=true` and retries
 * without asking the user again). Replays are caught by the nonce-count check (see NonceCounts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Issues and checks nonces under one key. */
export class NonceIssuer {
  constructor(
    private readonly key: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 22);
  }

  /** A fresh nonce. */
  issue(): string {
    const body = `${this.now().toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** 'ok', 'stale' (ours but too old) or 'bad' (not ours: forged or from another key). */
  check(nonce: string): 'ok' | 'stale' | 'bad' {
    const parts = nonce.split('.');
    if (parts.length !== 3) return 'bad';
    const body = `${parts[0]}.${parts[1]}`;
    const want = Buffer.from(this.mac(body));
    const got = Buffer.from(parts[2]);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
    const issued = parseInt(parts[0], 36);
    if (!Number.isFinite(issued)) return 'bad';
    return this.now() - issued > this.ttlMs ? 'stale' : 'ok';
  }

  /** When a nonce was issued (ms), for pruning; NaN if malformed. */
  static issuedAt(nonce: string): number {
    return parseInt(nonce.split('.')[0], 36);
  }
}

/**
 * The highest nonce-count seen per nonce, so a captured request cannot be replayed (RFC 7616 3.4: nc must
 * grow). Kept in this thread/process only: with several workers, a replay sent to a worker that never saw
 * the nonce is caught only by expiry (keep nonce_ttl short there).
 */
export class NonceCounts {
  private readonly seen = new Map<string, number>();
  private sweeps = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record `nc` for `nonce`; false when it is not above the last one (a replay). */
  accept(nonce: string, nc: number): boolean {
    const last = this.seen.get(nonce) ?? 0;
    if (nc <= last) return false;
    this.seen.set(nonce, nc);
    if (++this.sweeps % 256 === 0) this.sweep();
    return true;
  }

  private sweep(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const nonce of this.seen.keys()) if (NonceIssuer.issuedAt(nonce) < cutoff) this.seen.delete(nonce);
  }
}
