/**
 * The HTTP health gate through the live or the preview host, and its settings
 * (`platform:healthGate` over the defaults).
 */
import { healthGateSchema } from "../../infra/config/schema";
import { UsageError } from "../errors";
import { HealthGateSettings } from "../ports";
import { Json } from "../types";

/** Defaults sized for a Spring Boot service behind an ALB: 5 x 2 s apart, each under 2 s, within 3 minutes. */
export const DEFAULT_HEALTH_GATE: HealthGateSettings = { successes: 5, latencyMs: 2_000, timeoutMs: 180_000, intervalMs: 2_000 };

/** Reads the optional `platform:healthGate` config key over the defaults. */
export function healthGateFromConfig(raw: Json | undefined): HealthGateSettings {
  const parsed = healthGateSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new UsageError(
      `platform:healthGate is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      ["expected { successes?: int, latencyMs?: int, timeoutSeconds?: int, intervalMs?: int }"],
    );
  }
  const c = parsed.data;
  return {
    successes: c.successes ?? DEFAULT_HEALTH_GATE.successes,
    latencyMs: c.latencyMs ?? DEFAULT_HEALTH_GATE.latencyMs,
    timeoutMs: c.timeoutSeconds !== undefined ? c.timeoutSeconds * 1000 : DEFAULT_HEALTH_GATE.timeoutMs,
    intervalMs: c.intervalMs ?? DEFAULT_HEALTH_GATE.intervalMs,
  };
}
