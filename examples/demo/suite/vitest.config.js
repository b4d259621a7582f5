import { defineConfig } from 'vitest/config';

export default defineConfig({
  // isolate: false — the workers keep their module graph from file to file (fast, as OpenClaw's
  // shared lanes); heaplens runs the suite as configured.
  test: { include: ['test/**/*.test.js'], isolate: false },
});
