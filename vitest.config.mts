import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file in its own process: the Temporal runtime and workers are per process.
    pool: 'forks',
    // Two files at a time on 2 cores: most of a test waits on Temporal, so two overlap well.
    maxWorkers: 2,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    setupFiles: ['test/setup/runtime.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A slow first build of the temporal CLI happens in globalSetup, which has no timeout.
  },
});
