import { defineConfig } from 'vitest/config'

const exclude = ['**/node_modules/**', '**/dist/**']

export default defineConfig({
  test: {
    // Two cores: integration suites share real brokers, so keep concurrency modest.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '**/src/**/*.test.ts',
            'bench/**/*.test.ts',
            'deploy/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.fault.test.ts'],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Broker restarts and network faults (docs/faults.md): after everything else, one file at
        // a time, so a restart or a namespace never meets another test's traffic.
        test: {
          name: 'faults',
          include: ['**/*.fault.test.ts'],
          exclude,
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
