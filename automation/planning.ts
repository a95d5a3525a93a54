/**
 * Pure planning: which color receives an image, what a flip changes, which URNs a flip
 * targets. No I/O; table-tested.
 */
import { Color } from "../infra/config/schema";
import { RefusedError, UsageError } from "./errors";
import { parseImageRef, sameDigest } from "./images";
import { imageOf, isParked, otherColor, ServiceEdit, ServiceEntry } from "./stackConfig";
import { StackState } from "./ports";

/** test runs one host per service with only the active color; staging/prod run blue/green. */
export type DeployMode = "single" | "blue-green";

export function deployModeOf(environment: string | undefined, stack: string): DeployMode {
  return (environment ?? stack) === "test" ? "single" : "blue-green";
}

export interface DeployItem {
  readonly service: string;
  /** Digest-pinned reference. */
  readonly image: string;
}

/** What one service goes through in a promotion. */
export interface ServiceChange {
  readonly service: string;
  /** The color serving traffic before. */
  readonly fromColor: Color;
  /** The color serving traffic after (same as fromColor in single mode). */
  readonly toColor: Color;
  /** The color whose image is replaced (the idle one in blue/green, the active one in single mode). */
  readonly slot: Color;
  /** Image serving traffic before. */
  readonly oldImage: string | undefined;
  /** Image in `slot` before (restored on failure). */
  readonly slotImageBefore: string | undefined;
  /** `slot` was parked before: staging unparks it (and a restore parks it again). */
  readonly slotParked: boolean;
  readonly newImage: string;
}

export interface StagingPlan {
  readonly mode: DeployMode;
  readonly changes: readonly ServiceChange[];
  /** Services already serving the requested digest: nothing to do for them. */
  readonly unchanged: readonly DeployItem[];
}

export function planStaging(stack: string, mode: DeployMode, services: readonly ServiceEntry[], items: readonly DeployItem[]): StagingPlan {
  const byName = new Map(services.map((s) => [s.name, s] as const));
  const missing = items.filter((i) => !byName.has(i.service)).map((i) => i.service);
  if (missing.length > 0) {
    throw new UsageError(`stack "${stack}" has no service named ${missing.join(", ")}`, [
      `add the service to platform:services in Pulumi.${stack}.yaml and run \`up\` first`,
    ]);
  }
  const dupes = items.filter((i, n) => items.findIndex((j) => j.service === i.service) !== n);
  if (dupes.length > 0) {
    throw new UsageError(`service ${dupes[0]?.service ?? ""} is listed twice`);
  }
  const changes: ServiceChange[] = [];
  const unchanged: DeployItem[] = [];
  for (const item of items) {
    if (parseImageRef(item.image)?.digest === undefined) {
      throw new UsageError(`image for ${item.service} must be pinned by digest, got "${item.image}"`);
    }
    const svc = byName.get(item.service);
    if (svc === undefined) {
      continue;
    }
    const live = imageOf(svc, svc.active);
    if (sameDigest(live, item.image)) {
      unchanged.push(item);
      continue;
    }
    const slot = mode === "single" ? svc.active : otherColor(svc.active);
    changes.push({
      service: svc.name,
      fromColor: svc.active,
      toColor: slot,
      slot,
      oldImage: live,
      slotImageBefore: imageOf(svc, slot),
      slotParked: isParked(svc, slot),
      newImage: item.image,
    });
  }
  return { mode, changes, unchanged };
}

/** Config edits that put the new images into their slots, unparking parked ones (no traffic moves). */
export function stagingEdits(plan: StagingPlan): Map<string, ServiceEdit> {
  return new Map(
    plan.changes.map((c): [string, ServiceEdit] => [c.service, { [c.slot]: c.newImage, ...(c.slotParked ? { parked: { [c.slot]: false } } : {}) }]),
  );
}

/**
 * Config edits that park the colors a verified switch left idle, for the services whose
 * `idle` policy is `parked`. Empty when there is nothing to park (the park step is skipped).
 */
export function parkEdits(services: readonly ServiceEntry[], switched: readonly Pick<ServiceChange, "service" | "fromColor" | "toColor">[]): Map<string, ServiceEdit> {
  const policy = new Map(services.map((s) => [s.name, s.idle] as const));
  return new Map(
    switched
      .filter((c) => c.fromColor !== c.toColor && policy.get(c.service) === "parked")
      .map((c): [string, ServiceEdit] => [c.service, { parked: { [c.fromColor]: true } }]),
  );
}

/** Config edits that move traffic to the staged colors. */
export function flipEdits(changes: readonly Pick<ServiceChange, "service" | "toColor">[]): Map<string, ServiceEdit> {
  return new Map(changes.map((c) => [c.service, { active: c.toColor }] as const));
}

/** Plans an operator flip of one service; `to` defaults to the idle color. */
export function planFlip(
  service: ServiceEntry,
  to: Color | undefined,
): { readonly from: Color; readonly to: Color; readonly image: string | undefined; readonly targetParked: boolean } {
  const target = to ?? otherColor(service.active);
  return { from: service.active, to: target, image: imageOf(service, target), targetParked: target !== service.active && isParked(service, target) };
}

export const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";

interface StateResource {
  readonly urn: string;
  readonly type: string;
}

function stateResources(state: StackState): StateResource[] {
  const deployment = state.deployment;
  if (deployment === null || typeof deployment !== "object" || !("resources" in deployment)) {
    return [];
  }
  const list: unknown = deployment.resources;
  if (!Array.isArray(list)) {
    return [];
  }
  const out: StateResource[] = [];
  for (const item of list as unknown[]) {
    if (item !== null && typeof item === "object" && "urn" in item && "type" in item) {
      const { urn, type } = item;
      if (typeof urn === "string" && typeof type === "string") {
        out.push({ urn, type });
      }
    }
  }
  return out;
}

/**
 * The URNs a flip of `services` changes: each service's `<svc>-ingress` and `<svc>-active`,
 * found in the exported state by type and `::<name>` suffix (the names the program's
 * `platform:apps:BlueGreenService` gives its Ingress and its active Service).
 * Throws RefusedError when any is missing: a targeted up with a wrong target list would
 * silently do nothing, which is worse than refusing.
 */
export function flipTargets(state: StackState, services: readonly string[]): string[] {
  const resources = stateResources(state);
  const urns: string[] = [];
  const missing: string[] = [];
  for (const svc of services) {
    for (const [type, name] of [
      [INGRESS_TYPE, `${svc}-ingress`],
      [SERVICE_TYPE, `${svc}-active`],
    ] as const) {
      const found = resources.filter((r) => r.type === type && r.urn.endsWith(`::${name}`));
      if (found.length !== 1) {
        missing.push(`${name} (${type}): ${found.length === 0 ? "not in state" : `${found.length} matches`}`);
      } else {
        urns.push(found[0]?.urn ?? "");
      }
    }
  }
  if (missing.length > 0) {
    throw new RefusedError(`cannot compute the flip target: ${missing.join("; ")}`, [
      "the stack has not been deployed with blue/green services yet: run `npm run platform -- up <stack>` first",
    ]);
  }
  return urns;
}

/**
 * What a targeted `up` may do to one of its targets, checked on the targeted preview before it
 * runs (guards/targeted.ts): a flip's Ingress and in-cluster Service may only move the service's
 * weights, preview backend and selector to `to`; a color's Deployment, HPA and PDB may change in
 * any way short of a replacement (a targeted resource gets its full desired state from the program).
 */
export type TargetRule =
  | { readonly kind: "flip-ingress"; readonly service: string; readonly to: Color }
  | { readonly kind: "flip-service"; readonly service: string; readonly to: Color }
  /** A canary step: only the live forward action's weights, to exactly `weights`. */
  | { readonly kind: "canary-ingress"; readonly service: string; readonly weights: Readonly<Record<Color, number>> }
  | { readonly kind: "color"; readonly service: string; readonly color: Color };

/** The URNs of a targeted `up` and what each may do. */
export interface TargetPlan {
  readonly urns: readonly string[];
  readonly rules: ReadonlyMap<string, TargetRule>;
}

/**
 * The targets of a switch: each service's Ingress and in-cluster active Service, nothing else.
 * Not the root stack: the engine targets it (and every provider) implicitly, so the outputs are
 * re-registered anyway, and listing it would target every resource once --target-dependents is
 * on (pulumi/pkg v3.276.0 resource/deploy/step_generator.go:1383-1396; resource/state.go:366-391).
 */
export function switchPlan(state: StackState, switches: ReadonlyArray<{ readonly service: string; readonly to: Color }>): TargetPlan {
  const urns = flipTargets(
    state,
    switches.map((s) => s.service),
  );
  const rules = new Map<string, TargetRule>();
  switches.forEach((s, i) => {
    const [ingress, active] = [urns[2 * i], urns[2 * i + 1]];
    if (ingress !== undefined && active !== undefined) {
      rules.set(ingress, { kind: "flip-ingress", service: s.service, to: s.to });
      rules.set(active, { kind: "flip-service", service: s.service, to: s.to });
    }
  });
  return { urns, rules };
}

/**
 * The target of one intermediate canary step: the service's Ingress alone, whose live forward
 * action may move to exactly `weights` and nothing else (the in-cluster Service and the preview
 * rule stay until the final step, which is `switchPlan`).
 */
export function canaryPlan(state: StackState, service: string, weights: Readonly<Record<Color, number>>): TargetPlan {
  const [ingress] = flipTargets(state, [service]);
  if (ingress === undefined) {
    throw new RefusedError(`cannot compute the canary target of ${service}`);
  }
  return { urns: [ingress], rules: new Map([[ingress, { kind: "canary-ingress", service, weights }]]) };
}

export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";
export const HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget";

/**
 * The resources that run one color: its Deployment, HPA and PDB. Their URNs are the color's own
 * Service's with the type swapped (`platform:apps:BlueGreenService` names all four
 * `<component>-<color>`); the Service is always in the state, the workload is not when the color
 * is parked or has no image yet. A target the program registers in the run counts as found
 * (pulumi/pkg v3.276.0 resource/deploy/deployment_executor.go:68-98), so unparking creates them
 * and parking deletes them.
 */
export function colorPlan(state: StackState, service: string, color: Color): TargetPlan {
  const name = `${service}-${color}`;
  const found = stateResources(state).filter((r) => r.type === SERVICE_TYPE && r.urn.endsWith(`::${name}`));
  const anchor = found[0]?.urn;
  if (found.length !== 1 || anchor === undefined) {
    throw new RefusedError(`cannot target ${service}'s ${color} color: its Service ${name} is ${found.length === 0 ? "not in the state" : `in the state ${found.length} times`}`, [
      "run a full up first: `npm run platform -- up <stack>`",
    ]);
  }
  const swap = (type: string): string => anchor.replace(`$${SERVICE_TYPE}::`, `$${type}::`).replace(`::${SERVICE_TYPE}::`, `::${type}::`);
  const urns = [swap(DEPLOYMENT_TYPE), swap(HPA_TYPE), swap(PDB_TYPE)];
  return { urns, rules: new Map(urns.map((u) => [u, { kind: "color", service, color } as const])) };
}

/** One targeted `up` that does what each plan does. */
export function mergePlans(...plans: readonly TargetPlan[]): TargetPlan {
  const rules = new Map<string, TargetRule>();
  for (const p of plans) {
    for (const [urn, rule] of p.rules) {
      rules.set(urn, rule);
    }
  }
  return { urns: [...rules.keys()], rules };
}
