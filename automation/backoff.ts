/**
 * Bounded exponential backoff, pure. Used only for a stack lock held by someone else: waiting
 * is the one safe response (cancelling their update could leave pending operations).
 */
export interface BackoffPolicy {
  /** Total attempts including the first. */
  readonly attempts: number;
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  /** Fraction of each delay randomised (0..1), so two waiting jobs do not retry in lockstep. */
  readonly jitter: number;
}

/** CI's per-stack concurrency group makes contention rare; ~5 minutes covers a queued flip or promotion. */
export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 8, initialMs: 5_000, factor: 2, maxMs: 60_000, jitter: 0.2 };

/** The waits between attempts: `attempts - 1` delays. `random` returns [0, 1). */
export function backoffDelays(policy: BackoffPolicy, random: () => number = Math.random): number[] {
  const delays: number[] = [];
  for (let i = 0; i < policy.attempts - 1; i++) {
    const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** i);
    const spread = base * policy.jitter;
    delays.push(Math.min(policy.maxMs, Math.round(base - spread + 2 * spread * random())));
  }
  return delays;
}
