/**
 * The guard before every targeted `up` (a switch, its restore, a canary step, an unpark, a park): a
 * targeted preview with the policy packs whose plan must do exactly what the targets are for. The engine
 * gives each target its full desired state from the program, so any pending program change to
 * that Ingress or Service goes with the flip; it targets the root stack and every provider
 * implicitly, so a provider change is applied mid-flip; and it fails a target that depends on a
 * resource not created yet (pulumi/pkg v3.276.0 resource/deploy/step_generator.go:153-205,
 * 1383-1447, 569-586, 1876-1880; diag 2013 at sdk/go/common/diag/errors.go:75-77). Each of these
 * is refused here, before anything changes, with "run a full up first".
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import { Color, COLORS } from "../../infra/config/schema";
import { COLOR_LABEL_KEY, liveActionAnnotation } from "./flipShape";
import { DriverDeps } from "../deps";
import { PreviewRun, runPreview } from "../engine";
import { DriverError, messageOf, RefusedError } from "../errors";
import { ExitCode } from "../exitCodes";
import { PlatformStack } from "../ports";
import { TargetPlan, TargetRule } from "../planning";
import { isJsonObject, Json } from "../types";

/** One planned step with what the check reads from its `resourcePreEvent`. */
export interface PlannedChange {
  readonly op: OpType;
  readonly urn: string;
  readonly type: string;
  /** Properties that force a replacement. */
  readonly replaceKeys: readonly string[];
  /** `detailedDiff`: property path -> diff kind. The Kubernetes provider leaves `diffs` empty (pulumi-kubernetes v4.25.0 pkg/provider/provider.go:1521-1529). */
  readonly diff: Readonly<Record<string, string>>;
  /** The step's new inputs, when the event carries them. */
  readonly newInputs?: Json;
}

export function plannedChanges(events: readonly EngineEvent[]): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (m === undefined) {
      continue;
    }
    const diff: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.detailedDiff ?? {})) {
      diff[k] = String(v.diffKind);
    }
    const inputs: unknown = m.new?.inputs;
    out.push({ op: m.op, urn: m.urn, type: m.type, replaceKeys: m.keys ?? [], diff, newInputs: inputs === undefined ? undefined : (inputs as Json) });
  }
  return out;
}

const RULE_BACKEND = /^spec\.rules\[(\d+)\]\.http\.paths\[(\d+)\]\.backend\.service\.name$/;
const PROVIDER_TYPE = /^pulumi:providers:/;

function at(value: Json | undefined, path: ReadonlyArray<string | number>): Json | undefined {
  let cur = value;
  for (const seg of path) {
    if (typeof seg === "number") {
      cur = Array.isArray(cur) ? cur[seg] : undefined;
    } else {
      cur = isJsonObject(cur) ? cur[seg] : undefined;
    }
  }
  return cur;
}

/** The weight the forward action (annotation JSON) gives `color`'s Service; undefined when unreadable. */
function forwardWeights(text: Json | undefined, service: string): Map<string, number> | undefined {
  if (typeof text !== "string") {
    return undefined;
  }
  try {
    const action = JSON.parse(text) as Json;
    const groups = at(action, ["ForwardConfig", "TargetGroups"]);
    if (!Array.isArray(groups)) {
      return undefined;
    }
    const out = new Map<string, number>();
    for (const g of groups) {
      const name = at(g, ["ServiceName"]);
      if (typeof name === "string" && name.startsWith(`${service}-`)) {
        out.set(name.slice(service.length + 1), Number(at(g, ["Weight"])));
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** What is wrong with one diff key of a canary step's Ingress; undefined when it is the step's weights. */
function canaryKeyProblem(rule: Extract<TargetRule, { kind: "canary-ingress" }>, key: string, kind: string, inputs: Json | undefined): string | undefined {
  if (kind.endsWith("-replace")) {
    return `${key} forces a replacement`;
  }
  const annotation = liveActionAnnotation(rule.service);
  if (key !== `metadata.annotations["${annotation}"]`) {
    return `${key} changes (a canary step changes only the live forward action's weights)`;
  }
  if (inputs === undefined) {
    return undefined;
  }
  const weights = forwardWeights(at(inputs, ["metadata", "annotations", annotation]), rule.service);
  if (weights === undefined) {
    return `${key} is not a forward action the check can read`;
  }
  const wrong = COLORS.filter((c) => (weights.get(c) ?? 0) !== rule.weights[c]);
  return wrong.length === 0
    ? undefined
    : `${key} would forward ${COLORS.map((c) => `${c} ${weights.get(c) ?? 0}`).join(" / ")}, not ${COLORS.map((c) => `${c} ${rule.weights[c]}`).join(" / ")}`;
}

/** What is wrong with one diff key of a flip's Ingress or Service; undefined when it is the flip's. */
function flipKeyProblem(rule: Extract<TargetRule, { kind: "flip-ingress" | "flip-service" }>, key: string, kind: string, inputs: Json | undefined): string | undefined {
  if (kind.endsWith("-replace")) {
    return `${key} forces a replacement`;
  }
  const colorServices = [`${rule.service}-blue`, `${rule.service}-green`];
  if (rule.kind === "flip-service") {
    if (key !== `spec.selector["${COLOR_LABEL_KEY}"]`) {
      return `${key} changes (a flip changes only spec.selector["${COLOR_LABEL_KEY}"])`;
    }
    const to = at(inputs, ["spec", "selector", COLOR_LABEL_KEY]);
    return inputs === undefined || to === rule.to ? undefined : `the selector would pick ${String(to)}, not ${rule.to}`;
  }
  const annotation = liveActionAnnotation(rule.service);
  if (key === `metadata.annotations["${annotation}"]`) {
    const weights = forwardWeights(at(inputs, ["metadata", "annotations", annotation]), rule.service);
    if (inputs === undefined || weights === undefined) {
      return inputs === undefined ? undefined : `${key} is not a forward action the check can read`;
    }
    const other: Color = rule.to === "blue" ? "green" : "blue";
    return weights.get(rule.to) === 100 && (weights.get(other) ?? 0) === 0 ? undefined : `${key} would not forward 100 to ${rule.to}`;
  }
  const m = RULE_BACKEND.exec(key);
  if (m !== null) {
    // The preview host's rule points at the idle color's Service, so a flip moves it too.
    const name = at(inputs, ["spec", "rules", Number(m[1]), "http", "paths", Number(m[2]), "backend", "service", "name"]);
    return inputs === undefined || (typeof name === "string" && colorServices.includes(name)) ? undefined : `${key} would become ${String(name)}, not one of ${colorServices.join(", ")}`;
  }
  return `${key} changes (a flip changes only the live forward action and the preview rule's backend)`;
}

/**
 * Everything in a targeted preview's plan that the targets are not for. Pure; table-tested with
 * the engine's event shapes. Steps the engine leaves alone are `same` (untargeted resources, the
 * root stack, unchanged providers); `read` steps change nothing and are allowed too.
 */
export function targetedPlanProblems(steps: readonly PlannedChange[], rules: ReadonlyMap<string, TargetRule>): string[] {
  const problems: string[] = [];
  for (const st of steps) {
    if (st.op === "same" || st.op === "read") {
      continue;
    }
    const name = st.urn.slice(st.urn.lastIndexOf("::") + 2);
    const rule = rules.get(st.urn);
    if (rule === undefined) {
      problems.push(
        PROVIDER_TYPE.test(st.type)
          ? `${st.op} of provider ${name}: a provider change would be applied with the targets`
          : `${st.op} of ${st.type} ${name}, which is not a target`,
      );
      continue;
    }
    if (st.replaceKeys.length > 0 || st.op === "replace" || st.op === "create-replacement" || st.op === "delete-replaced") {
      problems.push(`${st.op} of ${name} (replacement forced by ${st.replaceKeys.join(", ") || "the provider"})`);
      continue;
    }
    if (rule.kind === "color") {
      if (st.op !== "create" && st.op !== "update" && st.op !== "delete") {
        problems.push(`${st.op} of ${name}`);
      }
      continue;
    }
    if (st.op !== "update") {
      problems.push(`${st.op} of ${name} (a ${rule.kind === "canary-ingress" ? "canary step" : "flip"} only updates it)`);
      continue;
    }
    for (const [key, kind] of Object.entries(st.diff)) {
      const p = rule.kind === "canary-ingress" ? canaryKeyProblem(rule, key, kind, st.newInputs) : flipKeyProblem(rule, key, kind, st.newInputs);
      if (p !== undefined) {
        problems.push(`${name}: ${p}`);
      }
    }
  }
  return problems;
}

export const FULL_UP_FIRST = "run a full up first";

/**
 * Runs the targeted, policy-gated preview of `plan` and refuses (RefusedError, exit 5 before any
 * change) unless its plan does only what the targets are for. A mandatory policy violation stays
 * a PolicyViolationError; a preview that fails (e.g. a target depending on a resource not yet
 * created) is a refusal too.
 */
export async function checkTargetedPlan(deps: DriverDeps, stack: PlatformStack, plan: TargetPlan, what: string, message: string): Promise<PreviewRun> {
  const remedy = [
    `${FULL_UP_FIRST}: \`npm run platform -- preview ${stack.name}\` shows the pending changes, \`npm run platform -- up ${stack.name}\` applies them (policy-gated, stateful resources guarded); then re-run`,
  ];
  const run = await runPreview(deps, stack, `${stack.name} ${what} check`, message, { target: plan.urns }).catch((err: unknown) => {
    // Policy violations (2) and interrupts keep their meaning; an engine failure of the targeted preview is the refusal.
    if (err instanceof DriverError && err.exitCode !== ExitCode.OperationFailed) {
      throw err;
    }
    throw new RefusedError(`the targeted ${what} cannot run on this stack as it is (${FULL_UP_FIRST}): ${messageOf(err)}`, remedy);
  });
  const problems = targetedPlanProblems(plannedChanges(run.events), plan.rules);
  if (problems.length > 0) {
    throw new RefusedError(`the targeted ${what} would do more than it is for (${FULL_UP_FIRST}): ${problems.join("; ")}`, remedy);
  }
  return run;
}
