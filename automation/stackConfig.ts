/**
 * The parts of a stack's config and outputs the driver reads and writes, pure.
 *
 * `platform:services` is parsed loosely: the driver changes only `active`, `<color>.image` and
 * `<color>.parked` and writes every other field back exactly as it found it, so fields added to the schema
 * later (replicas, env, ...) survive a promotion without the driver knowing about them.
 */
import { z } from "zod";
import { COLORS, Color } from "../infra/config/schema";
import { UsageError } from "./errors";
import { isJsonObject, Json, JsonObject } from "./types";

export const SERVICES_KEY = "platform:services";
export const RELEASES_KEY = "platform:releases";
export const ENVIRONMENT_KEY = "platform:environment";
export const HEALTH_GATE_KEY = "platform:healthGate";

const colorSpec = z.looseObject({ image: z.string().optional(), parked: z.boolean().optional() });
const serviceEntry = z.looseObject({
  name: z.string().min(1),
  healthPath: z.string().startsWith("/"),
  active: z.enum(COLORS),
  blue: colorSpec,
  green: colorSpec,
  idle: z.enum(["warm", "parked"]).optional(),
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

/** The `services` stack output, per the blue/green contract; every field optional but `name`. */
const outputColor = z.looseObject({
  image: z.string().optional(),
  /** Present (true) only when the color was deployed parked. */
  parked: z.boolean().optional(),
  /** Optional: lets the target-health check skip target-group discovery. */
  targetGroupArn: z.string().optional(),
  /** Kubernetes name of the color's Service (default `<svc>-<color>`), for target-group discovery. */
  serviceName: z.string().optional(),
});
const outputService = z.looseObject({
  name: z.string(),
  active: z.enum(COLORS).optional(),
  blue: outputColor.optional(),
  green: outputColor.optional(),
  liveUrl: z.string().optional(),
  previewUrl: z.string().optional(),
  /** Full URLs override `<url> + healthPath` when the routing needs them. */
  liveHealthUrl: z.string().optional(),
  previewHealthUrl: z.string().optional(),
  healthPath: z.string().optional(),
  namespace: z.string().optional(),
});
export type OutputService = z.infer<typeof outputService>;

export interface StackOutputs {
  readonly services: ReadonlyMap<string, OutputService>;
  readonly clusterName?: string;
}

export function parseOutputs(outputs: Record<string, unknown>): StackOutputs {
  const services = new Map<string, OutputService>();
  const list = outputs["services"];
  // Element by element: one malformed entry (an older program version) must not hide the rest.
  for (const item of Array.isArray(list) ? (list as unknown[]) : []) {
    const parsed = outputService.safeParse(item);
    if (parsed.success) {
      services.set(parsed.data.name, parsed.data);
    }
  }
  // `cluster.name` is the EKS cluster's name (absent in the test environment, which has none).
  const cluster = outputs["cluster"];
  const clusterName = cluster !== null && typeof cluster === "object" ? (cluster as Record<string, unknown>)["name"] : undefined;
  return { services, clusterName: typeof clusterName === "string" ? clusterName : undefined };
}

/** `base` + `path` without a doubled or missing slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export type Host = "live" | "preview";

/** The URL the health gate probes for `service` through `host`, or undefined when the outputs lack it. */
export function healthUrl(out: OutputService | undefined, config: ServiceEntry, host: Host): string | undefined {
  if (out === undefined) {
    return undefined;
  }
  const explicit = host === "live" ? out.liveHealthUrl : out.previewHealthUrl;
  if (explicit !== undefined) {
    return explicit;
  }
  const base = host === "live" ? out.liveUrl : out.previewUrl;
  return base === undefined ? undefined : joinUrl(base, out.healthPath ?? config.healthPath);
}
