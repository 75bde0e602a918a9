// Exponential backoff with full jitter: the n-th consecutive failure waits a random time between
// 0 and min(cap, base * 2^(n-1)). Callers that failed together (every result of an outage) do
// not all come back at the same instant, and no wait ever exceeds the cap.

export interface Backoff {
  baseMs: number;
  capMs: number;
}

export function backoffDelayMs(failures: number, policy: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(random() * ceiling);
}
