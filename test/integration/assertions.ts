// Assertions the integration tests share: on the driver's outcome, and on the live API server.

import * as assert from "assert";
import { Outcome } from "../../automation/outcome";
import { FixtureStack, Harness } from "./harness";
import { KubeObject } from "./kube";
import { diffSnapshots, isDerivedEndpoints, ObjectVersion, Sample } from "./observe";

/** The outcome must have the exit code; the failure message carries the driver's own words. */
export function assertExit(o: Outcome, code: number): void {
  assert.strictEqual(o.exitCode, code, `${o.operation} ${o.stack}: exit ${o.exitCode} (${o.result}): ${o.message}\n  ${o.remediation.join("\n  ")}\n  phases: ${o.phases.map((p) => `${p.name}${p.ok ? "" : "(failed)"}`).join(", ")}`);
}

/**
 * Between `before` and `after`, exactly the service's Ingress and in-cluster Service were updated
 * in place; besides them only the endpoints controller's objects of that Service moved (they follow
 * its selector). Every other object kept its resourceVersion, or changed only its status through a
 * controller (the HPA controller records that it has no metrics), never through Pulumi. Nothing
 * replaced, added or removed.
 */
export function assertOnlySwitched(before: ReadonlyMap<string, ObjectVersion>, after: ReadonlyMap<string, ObjectVersion>, service: string): void {
  const d = diffSnapshots(before, after);
  assert.deepStrictEqual({ replaced: d.replaced, added: d.added, removed: d.removed }, { replaced: [], added: [], removed: [] }, "no object replaced, created or deleted");
  const written = d.changed.filter((k) => !isDerivedEndpoints(k, service, after.get(k)));
  assert.deepStrictEqual(written, [`Ingress/${service}`, `Service/${service}`], "only the service's Ingress and in-cluster Service changed");
  const byPulumi = d.statusOnly.filter((s) => / by pulumi/.test(s) || !/ by (kube-controller-manager|kwok)/.test(s));
  assert.deepStrictEqual(byPulumi, [], "other objects changed only by the cluster's controllers");
}

type Selectable = KubeObject & { spec: { selector: Record<string, string> } };

/** The flip's live state on the API server: the in-cluster Service's color, the forward action's weights, the preview backend. */
export async function liveColors(h: Harness, stack: FixtureStack, service: string): Promise<{ selector: string; weights: Record<string, number>; preview: string[] }> {
  const ns = h.namespace(stack);
  const svc = await h.kube.get<Selectable>(`/api/v1/namespaces/${ns}/services/${service}`);
  type Ing = KubeObject & { metadata: { annotations: Record<string, string> }; spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] } };
  const ing = await h.kube.get<Ing>(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${service}`);
  const action = JSON.parse(ing.metadata.annotations[`alb.ingress.kubernetes.io/actions.${service}-live`] ?? "{}") as { ForwardConfig?: { TargetGroups?: { ServiceName: string; Weight: number }[] } };
  const weights: Record<string, number> = {};
  for (const g of action.ForwardConfig?.TargetGroups ?? []) weights[g.ServiceName] = g.Weight;
  return { selector: svc.spec.selector["platform.io/color"] ?? "", weights, preview: ing.spec.rules[1].http.paths.map((p) => p.backend.service.name) };
}

export async function pendingOperations(h: Harness, stack: FixtureStack): Promise<unknown[]> {
  const state = await h.stacks.get(stack)?.exportStack();
  return (state?.deployment as { pending_operations?: unknown[] } | undefined)?.pending_operations ?? [];
}

/**
 * From the double's own record: the first application after the Ingress change moved the traffic.
 * Before it every answer came from `from` (even after the API server had the new Ingress); a
 * moment after it every answer comes from `to`.
 */
export function assertTrafficMovedAfterApply(history: readonly { at: number; type: string; seq?: number; detail: string }[], samples: readonly Sample[], t0: number, service: string, from: string, to: string): void {
  const observed = history.find((e) => e.at >= t0 && e.type === "observed" && new RegExp(`^ingress [^/]+/${service} modified`).test(e.detail));
  assert.ok(observed?.seq !== undefined, `the double observed the Ingress change: ${JSON.stringify(history.filter((e) => e.at >= t0))}`);
  const applied = history.find((e) => e.type === "applied" && (e.seq ?? 0) >= (observed.seq ?? 0));
  assert.ok(applied !== undefined, "the double applied it");
  const before = samples.filter((s) => s.at < applied.at);
  const after = samples.filter((s) => s.at > applied.at + 200);
  assert.ok(before.length > 0 && after.length > 0, `samples on both sides of the application (${before.length}/${after.length})`);
  assert.deepStrictEqual([...new Set(before.map((s) => `${s.status} ${s.color}`))], [`200 ${from}`], "before the double applied the weights");
  assert.ok(before.some((s) => s.at > observed.at), "the old color still answered after the API server had the new Ingress");
  assert.deepStrictEqual([...new Set(after.map((s) => `${s.status} ${s.color}`))], [`200 ${to}`], "after the double applied the weights");
}
