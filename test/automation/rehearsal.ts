/**
 * Operation counts of the driver's traffic-moving commands, measured by running them against the
 * unit tier's stand-ins (in-memory stacks, the fake load balancer with the controller's lag, fake
 * metrics, loopback health endpoints): previews, ups, load-balancer reads, metrics windows and the
 * time spent on the fake clock, for a blue/green and a canary flip and promotion. `npm run bench`
 * prints them (test/automation/benchOperations.ts, beside automation/bench.ts, because the
 * stand-ins are test code); test/automation/canary.test.ts asserts them.
 */
import { flip, promote } from "../../automation/commands";
import { OperationCount } from "../../automation/bench";
import { JsonObject } from "../../automation/types";
import { Harness } from "./harness";
import { image } from "./loopback";
import { MemoryStack } from "./memoryStack";

/** The rehearsed rollout: two steps, five-minute windows (the default window). */
export const REHEARSED_CANARY: JsonObject = { strategy: "canary", steps: [10, 50], stepSeconds: 300 };
/** The controller's lag and the routing gate's poll interval the counts are taken with. */
export const REHEARSAL = { lagMs: 10_000, intervalMs: 5_000 };

async function once(label: string, rollout: JsonObject | undefined, run: (h: Harness) => Promise<{ exitCode: number }>, kind: "flip" | "promote"): Promise<OperationCount> {
  const h = await Harness.start();
  try {
    h.lb.lagMs = REHEARSAL.lagMs;
    h.metrics.requestsPerSecond = 20;
    const extra: JsonObject = rollout !== undefined ? { rollout } : {};
    if (kind === "promote") {
      h.add(
        new MemoryStack({
          name: "staging",
          environment: "staging",
          baseUrl: h.world.url,
          services: [{ name: "student", active: "green", blue: image("student", "1"), green: image("student", "2") }],
          releases: { student: { image: image("student", "2"), verifiedAt: "2025-01-01T00:00:00.000Z", source: "release" } },
        }),
      );
    }
    const prod = h.add(
      new MemoryStack({
        name: "prod",
        environment: "prod",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: image("student", "1"), green: image("student", "0"), extra }],
      }),
    );
    const started = h.clock.now();
    const out = await run(h);
    if (out.exitCode !== 0) {
      throw new Error(`${label}: exit ${out.exitCode}`);
    }
    return {
      label,
      previews: prod.count("preview"),
      ups: prod.count("up"),
      targetedUps: prod.ups().filter((u) => u.target !== undefined).length,
      routingReads: h.lb.queries.length,
      metricsWindows: h.metrics.queries.length,
      waitedMs: h.clock.now() - started,
    };
  } finally {
    await h.close();
  }
}

/** The four rehearsals, blue/green next to canary. */
export async function rehearse(): Promise<OperationCount[]> {
  const wait = { routingWait: { timeoutMs: 300_000, intervalMs: REHEARSAL.intervalMs } };
  const flipIt = (h: Harness): Promise<{ exitCode: number }> => flip(h.deps(wait), { stack: "prod", service: "student" });
  const promoteIt = (h: Harness): Promise<{ exitCode: number }> => promote(h.deps(wait), { from: "staging", to: "prod" });
  return [
    await once("flip, blue/green", undefined, flipIt, "flip"),
    await once("flip, canary 10/50%", REHEARSED_CANARY, flipIt, "flip"),
    await once("promote, blue/green", undefined, promoteIt, "promote"),
    await once("promote, canary 10/50%", REHEARSED_CANARY, promoteIt, "promote"),
  ];
}
