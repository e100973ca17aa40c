// The `xfrmi:` section of the daemon's config (embedded in
// src/daemon/config-schema.ts) and its normalised form for the planner.
// Everything the kernel would refuse later, or that would make two if_ids
// fight over one name, is refused here with the key path and the reason.
import { z } from 'zod';
import { duration, ifname } from '../daemon/config-values.js';
import { templateIfIds, templateProblems } from './names.js';

/** The kernel's MTU floor for an IPv4-capable device is 68; IPv6 needs 1280 (it is disabled on the device below that). */
const mtu = z.number().int().min(68).max(65535);
/** `main` or a table number (0 is RT_TABLE_UNSPEC, not a table). */
const TABLE = 'a routing table: main, or a number 1..4294967295 (0 is not a table)';
const table = z.union([z.literal('main').transform(() => 254), z.number().int().min(1, TABLE).max(0xffffffff, TABLE)], { error: TABLE });
const metric = z.number().int().min(0).max(0xffffffff);

const overrideSchema = z
  .object({
    /** a fixed name instead of the template's */
    name: ifname.optional(),
    /** underlying device (IFLA_XFRM_LINK) for this if_id */
    link: ifname.optional(),
    mtu: mtu.optional(),
    /** install routes for this if_id (default: routes.install) */
    routes: z.boolean().optional(),
    table: table.optional(),
    metric: metric.optional(),
  })
  .strict();

const IF_ID_KEY = /^\d+$/;

export const xfrmiConfigSchema = z
  .object({
    /** follow CHILD_SAs with if_ids (false: leave every xfrm interface alone) */
    enabled: z.boolean().default(true),
    /** name template: {ifid}, {ifid_hex}, {dir} (in, out, io) */
    name: z.string().min(1).default('xfrm{ifid}'),
    /** underlying device for every interface; default: the device that owns the SA's local address */
    link: ifname.optional(),
    /** strongSwan's own xfrmi tool uses 1400 too: room for ESP + outer IP in a 1500-byte path */
    mtu: mtu.default(1400),
    /** how long an interface (and a route) outlives its last CHILD_SA: a rekey or a reauthentication never flaps it */
    grace: duration.default(30_000),
    /** how often the links and routes are re-read (besides rtnetlink events) */
    resync_interval: duration.default(30_000),
    routes: z
      .object({
        /** routes to each CHILD_SA's remote traffic selectors through its if_id_out interface (charon's install_routes_xfrmi) */
        install: z.boolean().default(false),
        table: table.default(254),
        metric: metric.optional(),
      })
      .strict()
      .default({ install: false, table: 254 }),
    /** per-if_id settings, keyed by the decimal if_id */
    interfaces: z.record(z.string(), overrideSchema).default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const p of templateProblems(c.name)) ctx.addIssue({ code: 'custom', path: ['name'], message: `name template ${JSON.stringify(c.name)}: ${p}` });
    const templateOk = templateProblems(c.name).length === 0;
    const byName = new Map<string, string>();
    for (const [key, o] of Object.entries(c.interfaces)) {
      const path = ['interfaces', key];
      if (!IF_ID_KEY.test(key)) {
        ctx.addIssue({ code: 'custom', path, message: `${JSON.stringify(key)} is not an if_id (a decimal number 1..4294967295)` });
        continue;
      }
      const ifId = Number(key);
      if (ifId === 0) {
        ctx.addIssue({ code: 'custom', path, message: 'if_id 0 is not an xfrm interface ID: the kernel refuses it, and traffic outside every xfrm interface uses if_id 0' });
        continue;
      }
      if (ifId > 0xffffffff) {
        ctx.addIssue({ code: 'custom', path, message: `if_id ${key} does not fit in 32 bits (1..4294967295)` });
        continue;
      }
      if (String(ifId) !== key) {
        ctx.addIssue({ code: 'custom', path, message: `write if_id ${key} as ${ifId}` });
        continue;
      }
      if (o.name === undefined) continue;
      const other = byName.get(o.name);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `"${o.name}" is already the name of if_id ${other}: two interfaces cannot share a name` });
      }
      byName.set(o.name, key);
      if (templateOk) {
        for (const id of templateIfIds(c.name, o.name)) {
          if (id !== ifId && c.interfaces[String(id)]?.name === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'name'],
              message: `"${o.name}" is what the name template ${JSON.stringify(c.name)} gives if_id ${id}: choose another name, or give if_id ${id} a name of its own`,
            });
          }
        }
      }
    }
  });

export type XfrmiConfig = z.output<typeof xfrmiConfigSchema>;

/** The section's defaults, as when it is absent. */
export const DEFAULT_XFRMI_CONFIG: XfrmiConfig = xfrmiConfigSchema.parse({});

export interface InterfaceSettings {
  /** fixed name, else the template's */
  name?: string;
  link?: string;
  mtu: number;
  routes: boolean;
  table: number;
  metric?: number;
}

/** What the planner needs from the config, per if_id resolved lazily. */
export interface XfrmiSettings {
  enabled: boolean;
  template: string;
  graceMs: number;
  /** the settings for one if_id (global values with its overrides) */
  forIfId(ifId: number): InterfaceSettings;
}

export function xfrmiSettings(c: XfrmiConfig): XfrmiSettings {
  return {
    enabled: c.enabled,
    template: c.name,
    graceMs: c.grace,
    forIfId(ifId) {
      const o = c.interfaces[String(ifId)] ?? {};
      const metricValue = o.metric ?? c.routes.metric;
      const link = o.link ?? c.link;
      return {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(link !== undefined ? { link } : {}),
        mtu: o.mtu ?? c.mtu,
        routes: o.routes ?? c.routes.install,
        table: o.table ?? c.routes.table,
        ...(metricValue !== undefined ? { metric: metricValue } : {}),
      };
    },
  };
}

/** Every routing table the config can put routes in (the edge reads these). */
export function configuredTables(c: XfrmiConfig): number[] {
  const t = new Set<number>([c.routes.table]);
  for (const o of Object.values(c.interfaces)) if (o.table !== undefined) t.add(o.table);
  return [...t].sort((a, b) => a - b);
}
