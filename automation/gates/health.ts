/**
 * The HTTP health gate: each service's health URL through the live or the preview host, as the
 * program exports it, must pass the prober (N consecutive successes within a latency bound);
 * and its settings, `platform:healthGate` over the defaults.
 */
import { healthGateSchema } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps } from "../deps";
import { GateFailure, InterruptedError, interruptOf, UsageError } from "../errors";
import { HealthGateSettings } from "../ports";
import { healthUrlOf, Host } from "../stackConfig";
import { expectationsFor, ServingIdentity } from "./identity";
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

/**
 * Probes every service in parallel; throws GateFailure naming each one that did not pass. With
 * `identities`, a probe passes only when the expected color (and image) answered it.
 */
export async function healthGate(
  deps: DriverDeps,
  phase: string,
  host: Host,
  outputs: StackOutputs | undefined,
  services: readonly string[],
  settings: HealthGateSettings,
  identities?: ReadonlyMap<string, ServingIdentity>,
): Promise<void> {
  const results = await Promise.all(
    services.map(async (service) => {
      const out = outputs?.services.get(service);
      const url = out === undefined ? undefined : healthUrlOf(out, host);
      if (url === undefined) {
        return `${service}: the stack outputs give no ${host} health URL (services[].${host}HealthUrl)`;
      }
      const id = identities?.get(service);
      const expect = id === undefined ? [] : expectationsFor(id);
      if (id !== undefined && expect.length === 0) {
        deps.log.warn(
          `${phase}: ${service}: color check skipped: its stack config says healthGate.colorHeader: none${id.image !== undefined ? " and imageHeader: none" : ""}; only health is checked, not which color answers`,
        );
      }
      const who = expect.length === 0 ? "" : `, answered by ${expect.map((e) => `${e.header}: ${e.kind === "color" ? e.value : "<image>"}`).join(", ")}`;
      deps.log.info(`${phase}: probing ${service} at ${url} (${settings.successes} consecutive successes, each < ${settings.latencyMs} ms${who})`);
      const r = await deps.prober.probe(url, settings, deps.signal, expect);
      if (r.ok) {
        deps.log.info(`${phase}: ${service} healthy after ${r.attempts} probe(s)`);
        return undefined;
      }
      return `${service}: ${r.reason}`;
    }),
  ).catch((err: unknown) => {
    if (deps.signal.aborted) {
      throw new InterruptedError(interruptOf(deps.signal));
    }
    throw err;
  });
  const failures = results.filter((r): r is string => r !== undefined);
  if (failures.length > 0) {
    throw new GateFailure(phase, `${host} health gate failed: ${failures.join("; ")}`);
  }
}
