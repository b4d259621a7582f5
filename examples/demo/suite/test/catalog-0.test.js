import { test, expect } from 'vitest';
import * as a from '../src/generated/catalog-0.js';
import * as b from '../src/generated/catalog-1.js';
import * as c from '../src/generated/catalog-2.js';

test('catalogs 0-2 resolve every entry', async () => {
  await new Promise((r) => setTimeout(r, 1200));
  for (const m of [a, b, c]) expect(m.all(1)).toBeGreaterThan(m.count);
});
