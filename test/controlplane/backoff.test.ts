// The retry schedule: exponential growth, full jitter, never beyond the cap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from '../../src/controlplane/backoff.js';

describe('backoff', () => {
  const policy = { baseMs: 1_000, capMs: 60_000 };

  it('doubles the ceiling with each failure, up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map((n) => backoffDelayMs(n, policy, () => 1));
    assert.deepEqual(ceilings, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('draws the delay between 0 and the ceiling (full jitter)', () => {
    assert.equal(
      backoffDelayMs(3, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(3, policy, () => 0.5),
      2_000,
    );
    for (let i = 0; i < 1_000; i++) {
      const delay = backoffDelayMs(20, policy);
      assert.ok(delay >= 0 && delay <= policy.capMs, `${delay}`);
    }
  });
});
