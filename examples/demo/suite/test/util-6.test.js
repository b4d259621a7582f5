import { test, expect } from 'vitest';

test('util 6 sums', async () => {
  const xs = Array.from({ length: 20000 }, (_, k) => k * 6);
  await new Promise((r) => setTimeout(r, 400));
  expect(xs.reduce((s, x) => s + x, 0)).toBeGreaterThan(0);
});
