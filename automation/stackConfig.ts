/**
 * The parts of a stack's config and outputs the driver reads and writes, pure. Outputs are
 * read with the program's own output contract (`infra/outputs.ts`); config is parsed here.
 *
 * `platform:services` is parsed loosely: the driver changes only `active`, `<color>.image`,
 * `<color>.parked` and `canaryWeight` and writes every other field back exactly as it found it, so fields added to the schema
 * later (replicas, env, ...) survive a promotion without the driver knowing about them.
 */
import { z } from "zod";
import { HEADER_SETTING } from "../infra/lib/identityHeaders";
import { COLORS, Color, rolloutSchema } from "../infra/config/schema";
import { normaliseRollout, Rollout } from "../infra/lib/canary";
import { OutputContractError, parseStackOutputs, ServiceOutput, StackOutputs } from "../infra/outputs";
import { UsageError } from "./errors";
import { isJsonObject, Json, JsonObject } from "./types";

export const SERVICES_KEY = "platform:services";
export const RELEASES_KEY = "platform:releases";
export const ENVIRONMENT_KEY = "platform:environment";
export const HEALTH_GATE_KEY = "platform:healthGate";

const colorSpec = z.looseObject({ image: z.string().optional(), parked: z.boolean().optional() });
/** A response header name (RFC 9110 token), or `none`: the service sends no such header. Same rule as the program's schema. */
const headerSetting = z.string().regex(HEADER_SETTING, "must be a header name or none");
/** Per-service settings of the live gate's identity check (automation/gates/identity.ts). */
const serviceGate = z.looseObject({ colorHeader: headerSetting.optional(), imageHeader: headerSetting.optional() });
const serviceEntry = z.looseObject({
  name: z.string().min(1),
  healthPath: z.string().startsWith("/"),
  active: z.enum(COLORS),
  blue: colorSpec,
  green: colorSpec,
  idle: z.enum(["warm", "parked"]).optional(),
  healthGate: serviceGate.optional(),
  /** How traffic moves to a new color (infra/config/schema/services.ts `rolloutSchema`). */
  rollout: rolloutSchema.optional(),
  /** Mid canary rollout: the percentage of live traffic the idle color gets (written by the driver). */
  canaryWeight: z.number().int().min(1).max(99).optional(),
});
export type ServiceEntry = z.infer<typeof serviceEntry>;

const releaseEntry = z.looseObject({
  image: z.string(),
  verifiedAt: z.string(),
  source: z.string(),
  runUrl: z.string().optional(),
});
export type ReleaseEntry = z.infer<typeof releaseEntry>;

export interface StackServices {
  /** The value exactly as read, to restore it byte for byte. */
  readonly raw: Json;
  readonly services: readonly ServiceEntry[];
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

export function parseServices(stack: string, raw: Json | undefined): StackServices {
  const value = raw ?? [];
  const parsed = z.array(serviceEntry).safeParse(value);
  if (!parsed.success) {
    throw new UsageError(`stack "${stack}": ${SERVICES_KEY} is invalid (${describe(parsed.error)})`, [
      `fix Pulumi.${stack}.yaml; \`npm run platform -- plan ${stack}\` validates it offline`,
    ]);
  }
  return { raw: value, services: parsed.data };
}

export function parseReleases(stack: string, raw: Json | undefined): Record<string, ReleaseEntry> {
  const parsed = z.record(z.string(), releaseEntry).safeParse(raw ?? {});
  if (!parsed.success) {
    throw new UsageError(`stack "${stack}": ${RELEASES_KEY} is invalid (${describe(parsed.error)})`);
  }
  return parsed.data;
}

export function imageOf(service: ServiceEntry, color: Color): string | undefined {
  const image = service[color].image;
  return image === undefined || image === "" ? undefined : image;
}

/** The color runs no pods (`<color>.parked`, written by the driver's park step). */
export function isParked(service: ServiceEntry, color: Color): boolean {
  return service[color].parked === true;
}

/** The service's rollout strategy, with the documented defaults filled in. */
export function rolloutOf(service: ServiceEntry): Rollout {
  return normaliseRollout(service.rollout);
}

export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/** Edits to one service entry; absent fields stay as they are. */
export interface ServiceEdit {
  readonly active?: Color;
  readonly blue?: string;
  readonly green?: string;
  /** `true` parks the color, `false` removes the flag (the color runs at its HPA minimum). */
  readonly parked?: Partial<Record<Color, boolean>>;
  /** A canary step's weight to the idle color; `null` removes it (all traffic to `active`). */
  readonly canaryWeight?: number | null;
}

/** Returns a copy of the raw `platform:services` value with `edits` applied by service name. */
export function editServices(raw: Json, edits: ReadonlyMap<string, ServiceEdit>): Json {
  if (!Array.isArray(raw)) {
    throw new UsageError(`${SERVICES_KEY} is not a list`);
  }
  const seen = new Set<string>();
  const out = raw.map((entry): Json => {
    if (!isJsonObject(entry) || typeof entry["name"] !== "string") {
      return entry;
    }
    const edit = edits.get(entry["name"]);
    if (edit === undefined) {
      return structuredClone(entry);
    }
    seen.add(entry["name"]);
    const next: JsonObject = structuredClone(entry);
    if (edit.active !== undefined) {
      next["active"] = edit.active;
    }
    if (edit.canaryWeight === null) {
      delete next["canaryWeight"];
    } else if (edit.canaryWeight !== undefined) {
      next["canaryWeight"] = edit.canaryWeight;
    }
    for (const color of COLORS) {
      const image = edit[color];
      if (image !== undefined) {
        const spec = next[color];
        next[color] = { ...(isJsonObject(spec) ? spec : {}), image };
      }
      const parked = edit.parked?.[color];
      if (parked !== undefined) {
        const spec = next[color];
        const { parked: _old, ...rest } = isJsonObject(spec) ? spec : {};
        next[color] = parked ? { ...rest, parked: true } : rest;
      }
    }
    return next;
  });
  const missing = [...edits.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new UsageError(`${SERVICES_KEY} has no service named ${missing.join(", ")}`);
  }
  return out;
}

/** Returns a copy of the raw `platform:releases` value with `records` set. */
export function editReleases(raw: Json | undefined, records: ReadonlyMap<string, ReleaseEntry>): Json {
  const out: JsonObject = isJsonObject(raw) ? structuredClone(raw) : {};
  for (const [name, record] of records) {
    const entry: JsonObject = { image: record.image, verifiedAt: record.verifiedAt, source: record.source };
    if (record.runUrl !== undefined) {
      entry["runUrl"] = record.runUrl;
    }
    out[name] = entry;
  }
  return out;
}

/**
 * The stack's outputs per the output contract (`infra/outputs.ts`), or undefined when the stack
 * has none (never updated). Outputs that break the contract are a clear error, never skipped:
 * the gates would otherwise probe nothing and pass.
 */
export function readStackOutputs(stack: string, raw: Record<string, unknown>): StackOutputs | undefined {
  if (Object.keys(raw).length === 0) {
    return undefined;
  }
  try {
    return parseStackOutputs(raw);
  } catch (err) {
    if (err instanceof OutputContractError) {
      throw new UsageError(`stack "${stack}": ${err.message}`, [
        `the last update of "${stack}" ran a program that exports another shape; \`npm run platform -- preview ${stack}\` shows the difference, \`up ${stack}\` with this version brings the outputs back to the contract`,
      ]);
    }
    throw err;
  }
}

export type Host = "live" | "preview";

/** The URL the health gate probes for a service through `host`, as the program exports it. */
export function healthUrlOf(out: ServiceOutput, host: Host): string | undefined {
  return host === "live" ? out.liveHealthUrl : out.previewHealthUrl;
}

/**
 * Kubernetes name of a color's own Service (the backend of its ALB target group): the
 * exported `<color>.serviceName`, else the program's `<service>-<color>` naming.
 */
export function colorServiceName(service: string, color: Color, out: ServiceOutput | undefined): string {
  return out?.[color].serviceName ?? `${service}-${color}`;
}
