import { describe, test, expect } from 'vitest';
import { openSession } from '../src/session-store.js';

const tick = () => new Promise((r) => setTimeout(r, 400));

describe('sessions', () => {
  for (let round = 0; round < 24; round++) {
    test(`round ${round} opens 1,000 sessions`, async () => {
      for (let i = 0; i < 1000; i++) openSession(`r${round}-${i}`, `user-${i % 97}`);
      await tick();
      expect(round).toBeGreaterThanOrEqual(0);
    });
  }
});
