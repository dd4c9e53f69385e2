import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'edge/**/*.test.{js,ts}', 'bench/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Integration tests start relay processes with worker threads: on a 2-core machine, running
    // many files at once only makes each of them slower.
    maxWorkers: 2,
  },
});
