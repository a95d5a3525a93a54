/**
 * The HTTP health gate: N consecutive successes, each within a latency bound, before an
 * overall deadline. Consecutive (not "N of M") because a color that flaps under a handful of
 * probes will flap under real traffic; the latency bound catches a color that is up but
 * still warming (JIT, connection pools) and would time out real users after a flip.
 */
import { healthGateSchema } from "../infra/config/schema";
import { UsageError } from "./errors";
import { httpRequest, HttpTimeoutError } from "./http";
import { Clock, Json } from "./types";

export interface HealthGateSettings {
  /** Consecutive successful probes required. */
  readonly successes: number;
  /** A probe slower than this counts as a failure. */
  readonly latencyMs: number;
  /** The gate fails when it has not passed within this. */
  readonly timeoutMs: number;
  /** Pause between probes. */
  readonly intervalMs: number;
}

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

export interface HealthResult {
  readonly ok: boolean;
  readonly url: string;
  readonly attempts: number;
  /** Consecutive successes at the end. */
  readonly consecutive: number;
  readonly elapsedMs: number;
  /** Why the last failed probe failed (or "passed"). */
  readonly reason: string;
}

export interface HealthProber {
  /** Resolves with the verdict; rejects only when `signal` is aborted. */
  probe(url: string, settings: HealthGateSettings, signal: AbortSignal): Promise<HealthResult>;
}

const DEADLINE = Symbol("deadline");

export class HttpHealthProber implements HealthProber {
  constructor(private readonly clock: Clock) {}

  async probe(url: string, settings: HealthGateSettings, signal: AbortSignal): Promise<HealthResult> {
    const started = this.clock.now();
    const deadline = started + settings.timeoutMs;
    let attempts = 0;
    let consecutive = 0;
    let reason = "no probe completed before the deadline";
    for (;;) {
      if (signal.aborted) {
        throw signal.reason;
      }
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) {
        break;
      }
      attempts++;
      const budget = Math.min(settings.latencyMs, remaining);
      const failure = await this.once(url, budget, settings.latencyMs, signal);
      if (failure === DEADLINE) {
        // The gate's deadline, not the service, cut this probe short: it says nothing about
        // latency, so it must not replace the last real failure in the verdict.
        break;
      }
      if (failure === undefined) {
        consecutive++;
        if (consecutive >= settings.successes) {
          return { ok: true, url, attempts, consecutive, elapsedMs: this.clock.now() - started, reason: "passed" };
        }
      } else {
        consecutive = 0;
        reason = failure;
      }
      const pause = Math.min(settings.intervalMs, deadline - this.clock.now());
      if (pause > 0) {
        await this.clock.sleep(pause, signal);
      }
    }
    return {
      ok: false,
      url,
      attempts,
      consecutive,
      elapsedMs: this.clock.now() - started,
      reason: `${consecutive}/${settings.successes} consecutive successes within ${settings.timeoutMs} ms; last failure: ${reason}`,
    };
  }

  /** One probe; undefined on success, DEADLINE when the gate's deadline cut it short, else why it failed. */
  private async once(url: string, timeoutMs: number, boundMs: number, signal: AbortSignal): Promise<string | typeof DEADLINE | undefined> {
    try {
      const res = await httpRequest({ url, timeoutMs, signal, maxBodyBytes: 4096, headers: { accept: "application/json, */*" } });
      if (res.status < 200 || res.status > 299) {
        return `HTTP ${res.status}`;
      }
      if (res.elapsedMs > boundMs) {
        return `latency ${Math.round(res.elapsedMs)} ms over the ${boundMs} ms bound`;
      }
      return undefined;
    } catch (err) {
      if (signal.aborted) {
        throw signal.reason;
      }
      if (err instanceof HttpTimeoutError) {
        return timeoutMs < boundMs ? DEADLINE : `no response within the ${boundMs} ms latency bound`;
      }
      const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
      return code ?? (err instanceof Error ? err.message : String(err));
    }
  }
}
