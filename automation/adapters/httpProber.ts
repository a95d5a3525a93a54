/**
 * The HTTP prober behind the health gates: N consecutive successes, each within a latency
 * bound, before an overall deadline. Consecutive (not "N of M") because a color that flaps
 * under a handful of probes will flap under real traffic; the latency bound catches a color
 * that is up but still warming (JIT, connection pools) and would time out real users after a flip.
 */
import { identityMismatch } from "../gates/identity";
import { Clock, HealthGateSettings, HealthProber, HealthResult, ProbeExpectation } from "../ports";
import { ConnectTo, httpRequest, HttpTimeoutError } from "./http";

const DEADLINE = Symbol("deadline");

export class HttpHealthProber implements HealthProber {
  /** `connectTo`: probe through another address than the URL's host (the integration tier's load-balancer double). */
  constructor(
    private readonly clock: Clock,
    private readonly connectTo?: ConnectTo,
  ) {}

  async probe(url: string, settings: HealthGateSettings, signal: AbortSignal, expect: readonly ProbeExpectation[] = []): Promise<HealthResult> {
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
      const failure = await this.once(url, budget, settings.latencyMs, signal, expect);
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
  private async once(url: string, timeoutMs: number, boundMs: number, signal: AbortSignal, expect: readonly ProbeExpectation[]): Promise<string | typeof DEADLINE | undefined> {
    try {
      const res = await httpRequest({ url, timeoutMs, signal, connectTo: this.connectTo, maxBodyBytes: 4096, headers: { accept: "application/json, */*" } });
      if (res.status < 200 || res.status > 299) {
        return `HTTP ${res.status}`;
      }
      if (res.elapsedMs > boundMs) {
        return `latency ${Math.round(res.elapsedMs)} ms over the ${boundMs} ms bound`;
      }
      // A healthy answer from the wrong color is a failure: consecutive successes must come from the color that should serve.
      return identityMismatch(res.headers, expect);
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
