// The config file's schema (YAML). Every key is documented in
// packaging/config.example.yaml; errors name the key path and the reason.
import { z } from 'zod';
import { duration, ifname, netnsName } from './config-values.js';
import { xfrmiConfigSchema } from '../xfrmi/config.js';
import { pfConfigSchema, roleProblems, roleSchema, vfAgentConfigSchema } from '../vf/config.js';
import { steerConfigSchema } from '../steer/config.js';

const netns = netnsName.optional();

const rule = z
  .object({
    match: z.string().min(1),
    offload: z.boolean(),
    device: ifname.optional(),
  })
  .strict();

const deviceOverride = z
  .object({
    capacity: z.number().int().positive().optional(),
    esn: z.boolean().optional(),
    offload: z.boolean().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    vici: z
      .object({
        socket: z.string().min(1).optional(),
        timeout: duration.default(30_000),
      })
      .strict()
      .default({ timeout: 30_000 }),
    netns,
    control: z
      .object({
        socket: z.string().min(1).default('/run/ipsec-offload/control.sock'),
        group: z.string().min(1).optional(),
      })
      .strict()
      .default({ socket: '/run/ipsec-offload/control.sock' }),
    log: z
      .object({
        file: z.string().min(1).default('/var/log/ipsec-offload/offload.log'),
        stderr: z.boolean().default(false),
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .default({ file: '/var/log/ipsec-offload/offload.log', stderr: false, level: 'info' }),
    offload: z
      .object({
        default: z.boolean().default(true),
        rules: z.array(rule).default([]),
        devices: z.record(ifname, deviceOverride).default({}),
        backoff: duration.default(30_000),
        seq_rekey_at: z.number().int().min(1).max(0xffffffff).default(0xf0000000),
        rekey_retry: duration.default(60_000),
        missing_grace: duration.default(5_000),
        zombie_grace: duration.default(30_000),
        replay_threshold: z.number().int().min(1).max(0x7fffffff).default(1024),
        aevent_interval: duration.default(1000),
        resync_interval: duration.default(10_000),
      })
      .strict()
      .default({
        default: true,
        rules: [],
        devices: {},
        backoff: 30_000,
        seq_rekey_at: 0xf0000000,
        rekey_retry: 60_000,
        missing_grace: 5_000,
        zombie_grace: 30_000,
        replay_threshold: 1024,
        aevent_interval: 1000,
        resync_interval: 10_000,
      }),
    /** xfrm interfaces for CHILD_SAs with if_ids (schema and docs in src/xfrmi/config.ts) */
    xfrmi: xfrmiConfigSchema.prefault({}),
    /** XDP VLAN/MAC steering per uplink (schema in src/steer/config.ts, docs in docs/steer.md) */
    steer: steerConfigSchema.prefault({}),
    /** host (default), pf (terminates its VFs' SAs) or vf (agent beside a tenant's charon); schemas and docs in src/vf/config.ts */
    role: roleSchema,
    pf: pfConfigSchema.optional(),
    vf: vfAgentConfigSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const p of roleProblems(c)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

export type Config = z.output<typeof configSchema>;
