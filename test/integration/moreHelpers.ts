// Small helpers of the integration tests beyond the shared harness: a PlatformStack whose SDK
// stack fails its first post-update output read, a traffic generator through the load-balancer
// double's router, a recorder of the live rule's weights as the double applies them, and the
// state's pending operations.

import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as assert from "assert";
import * as http from "http";
import { AutomationStack, resolveWorkspaceSettings } from "../../automation/adapters/workspace";
import { Outcome } from "../../automation/outcome";
import { PlatformStack, StackState } from "../../automation/ports";
import type { Harness } from "./harness";
import type { LoadBalancerDouble } from "./lbDouble/double";

/** The outcome must have the exit code; a failure prints the driver's own words and phases. */
export function assertExit(o: Outcome, code: number): void {
  assert.strictEqual(o.exitCode, code, `${o.operation} ${o.stack}: exit ${o.exitCode} (${o.result}): ${o.message}\n  ${o.remediation.join("\n  ")}\n  phases: ${o.phases.map((p) => `${p.name}${p.ok ? "" : "(failed)"}`).join(", ")}`);
}

/**
 * The driver's real PlatformStack over the fixture stack, except that the Automation API's own
 * `outputs()` fails once while the next `up` runs: after the CLI exits 0, `Stack.up` reads the
 * outputs (`stack output --json`, twice) and history before it resolves (@pulumi/pulumi 3.276.0
 * automation/stack.js:297-317), so a transient failure there rejects an update that succeeded.
 */
export async function stackFailingOutputsOnce(h: Harness, name: string): Promise<{ readonly stack: PlatformStack; readonly failures: () => number }> {
  const settings = resolveWorkspaceSettings({ ...process.env, ...h.sandbox.envVars }, h.projectDir);
  const sdk: Stack = await LocalWorkspace.selectStack(
    { stackName: name, workDir: h.projectDir },
    { pulumiCommand: h.sandbox.command, envVars: { ...settings.env }, secretsProvider: "passphrase" },
  );
  let armed = false;
  let failures = 0;
  const realUp = sdk.up.bind(sdk);
  const realOutputs = sdk.outputs.bind(sdk);
  sdk.up = async (opts) => {
    armed = failures === 0;
    try {
      return await realUp(opts);
    } finally {
      armed = false;
    }
  };
  sdk.outputs = async () => {
    if (armed) {
      armed = false;
      failures++;
      throw new Error("code: 255\n stderr: error: could not read the stack's outputs: transient backend error (injected)");
    }
    return realOutputs();
  };
  return { stack: new AutomationStack(sdk, h.sandbox.command, settings), failures: () => failures };
}

/** `deployment.pending_operations` of an export (apitype/core.go:149-164: `{resource: {urn}, type}`). */
export function pendingOperations(state: StackState): Array<{ readonly urn: string; readonly type: string }> {
  const dep = state.deployment as { pending_operations?: Array<{ resource?: { urn?: string }; type?: string }> } | null;
  return (dep?.pending_operations ?? []).map((p) => ({ urn: p.resource?.urn ?? "?", type: p.type ?? "?" }));
}

/** Requests to the double's router with the live host's Host header, `perSecond` of them, until stopped. */
export function trafficTo(double: LoadBalancerDouble, host: string, path: string, perSecond: number): { stop(): Promise<void>; readonly sent: () => number } {
  let sent = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const url = new URL(path, double.routerUrl);
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = http.request(url, { method: "GET", agent: false, headers: { host }, timeout: 5_000 }, (res) => {
        res.resume();
        res.on("end", resolve);
        res.on("error", () => resolve());
      });
      req.on("error", () => resolve());
      req.on("timeout", () => req.destroy());
      req.end();
    });
  const timer = setInterval(() => {
    if (double.isClosed) clearInterval(timer);
    if (stopped || double.isClosed) return;
    sent++;
    const p = one().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / perSecond);
  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * The weights of `service`'s live rule as the double applied them, sampled every 50 ms, in order,
 * consecutive duplicates dropped: `{ "<color Service>": weight }`.
 */
export function recordWeights(double: LoadBalancerDouble, namespace: string, service: string): { stop(): Array<Record<string, number>>; at(): number[] } {
  const seen: Array<Record<string, number>> = [];
  /** When each entry of `seen` was first observed (Date.now()), sampled every 50 ms. */
  const at: number[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const sample = (): void => {
    // Ends with the double (the harness's teardown), so a test that failed before stop() does not keep its worker alive.
    if (double.isClosed) clearInterval(timer);
    const alb = double.applied;
    if (alb === undefined) return;
    const nameOf = new Map(alb.targetGroups.map((tg) => [tg.description.TargetGroupArn ?? "", tg.backend]));
    for (const listener of alb.listeners) {
      for (const rule of listener.rules) {
        const groups = rule.description.Actions?.[0]?.ForwardConfig?.TargetGroups ?? [];
        const backends = groups.map((g) => nameOf.get(g.TargetGroupArn ?? ""));
        // The live rule: forwards to both colors of the service, from the service's own Ingress.
        if (groups.length === 2 && backends.every((b) => b?.namespace === namespace && b.ingress === service)) {
          const w: Record<string, number> = {};
          groups.forEach((g, i) => (w[backends[i]?.service ?? "?"] = g.Weight ?? 1));
          const last = seen[seen.length - 1];
          if (last === undefined || JSON.stringify(last) !== JSON.stringify(w)) {
            seen.push(w);
            at.push(Date.now());
          }
          return;
        }
      }
    }
  };
  sample();
  timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
    at: () => [...at],
  };
}
