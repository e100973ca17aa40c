// Three suites: unit (no kernel), host (this machine's kernel, root) and lab
// (a real Debian kernel with netdevsim under qemu). `npm test` runs all three.
import { defineConfig } from 'vitest/config';

const isRoot = process.getuid?.() === 0;
const inCI = Boolean(process.env.CI);

// Outside CI a non-root developer gets the unit suite and one line on how to
// run the rest; in CI a missing prerequisite is an error (see the global setups).
if (!isRoot && !inCI) {
  console.warn('ipsec-offload: host and lab suites need root; run them with: sudo npm test (unit tests only now)');
}
const privileged = isRoot || inCI;

export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
          // Groups run one after another: unit, then host, then lab (the lab's
          // VMs would otherwise compete with the host suite for two cores).
          sequence: { groupOrder: 0 },
        },
      },
      ...(privileged
        ? [
            {
              test: {
                name: 'host',
                include: ['test/host/**/*.test.ts'],
                globalSetup: ['test/host/support/global-setup.ts'],
                testTimeout: 60_000,
                hookTimeout: 60_000,
                pool: 'forks' as const,
                sequence: { groupOrder: 1 },
              },
            },
            {
              test: {
                name: 'lab',
                include: ['test/lab/**/*.test.ts'],
                globalSetup: ['test/lab/harness/global-setup.ts'],
                // Each file boots its own VMs; two at a time fit two cores.
                pool: 'forks' as const,
                maxWorkers: 2,
                sequence: { groupOrder: 2 },
                testTimeout: 900_000,
                hookTimeout: 1_800_000,
              },
            },
          ]
        : []),
    ],
  },
});
