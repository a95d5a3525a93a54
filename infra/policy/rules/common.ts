/**
 * Shared readers for the rules: references between resources, IAM policy documents and
 * Kubernetes pod templates.
 */
import type { PolicyResource } from "../engine";
import { obj, objs, Props, str, strs } from "../values";

/**
 * Reads a value that may be unknown during a real preview (the policy SDK's proxies throw an
 * UnknownValueError on access); `undefined` then. Only for following references: an unknown id
 * can equal nothing, and the property dependencies below still find the target.
 */
export function known(read: () => unknown): unknown {
  try {
    return read();
  } catch (err) {
    if (err instanceof Error && "unknownTypeSentinel" in err) {
      return undefined;
    }
    throw err;
  }
}

/** The strings other resources may use to refer to `r`: its id, ARN, physical name, URN, logical name. */
export function identities(r: PolicyResource): Set<string> {
  const ids = new Set<string>([r.name]);
  if (r.urn !== undefined) {
    ids.add(r.urn);
  }
  for (const source of [r.outputs ?? {}, r.props]) {
    for (const key of ["id", "arn", "name", "bucket"]) {
      const v = str(known(() => source[key]));
      if (v !== undefined && v !== "") {
        ids.add(v);
      }
    }
  }
  return ids;
}

/** Whether `reference` (an id, ARN or name held in another resource's input) points at `target`. */
export function refersTo(reference: unknown, target: PolicyResource): boolean {
  const ref = str(reference);
  return ref !== undefined && ref !== "" && identities(target).has(ref);
}

/** Whether `source`'s input `key` refers to `target`: by property dependency, else by value. */
export function references(source: PolicyResource, key: string, target: PolicyResource): boolean {
  const deps = source.propertyDependencies?.[key];
  if (deps !== undefined && target.urn !== undefined && deps.includes(target.urn)) {
    return true;
  }
  return refersTo(known(() => source.props[key]), target);
}

export function ofTypes(resources: readonly PolicyResource[], ...types: string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}

// ---------------------------------------------------------------------------------------------
// IAM policy documents (JSON strings in both the real pack and the offline runner).

export interface Statement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly principal: unknown;
  readonly condition: Props;
}

export function statementsOf(document: unknown): Statement[] {
  return objs(obj(document)["Statement"]).map((s) => ({
    sid: str(s["Sid"]),
    effect: str(s["Effect"]) ?? "Allow",
    actions: strs(s["Action"]),
    notActions: strs(s["NotAction"]),
    resources: strs(s["Resource"]),
    principal: s["Principal"],
    condition: obj(s["Condition"]),
  }));
}

/** Whether a principal element allows anyone: `"*"`, `{AWS: "*"}` or the mocks' `{"*": ["*"]}`. */
export function isAnyonePrincipal(principal: unknown): boolean {
  if (principal === "*") {
    return true;
  }
  return Object.values(obj(principal)).some((v) => strs(v).includes("*"));
}

// ---------------------------------------------------------------------------------------------
// Kubernetes workloads.

export const WORKLOAD_TYPES = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:batch/v1:CronJob",
] as const;

/** The pod template's spec of a workload object (CronJobs nest it one level deeper). */
export function podSpecOf(resource: PolicyResource): Props {
  const spec = obj(resource.props["spec"]);
  if (resource.type === "kubernetes:batch/v1:CronJob") {
    return obj(obj(obj(obj(spec["jobTemplate"])["spec"])["template"])["spec"]);
  }
  return obj(obj(spec["template"])["spec"]);
}

export function podLabelsOf(resource: PolicyResource): Record<string, string> {
  const spec = obj(resource.props["spec"]);
  const template = resource.type === "kubernetes:batch/v1:CronJob" ? obj(obj(obj(spec["jobTemplate"])["spec"])["template"]) : obj(spec["template"]);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(obj(template["metadata"])["labels"]))) {
    const s = str(v);
    if (s !== undefined) {
      labels[k] = s;
    }
  }
  return labels;
}

export interface ContainerView {
  readonly kind: "container" | "initContainer" | "ephemeralContainer";
  readonly name: string;
  readonly spec: Props;
}

export function containersOf(podSpec: Props): ContainerView[] {
  const view = (kind: ContainerView["kind"], key: string): ContainerView[] =>
    objs(podSpec[key]).map((c) => ({ kind, name: str(c["name"]) ?? "?", spec: c }));
  return [...view("container", "containers"), ...view("initContainer", "initContainers"), ...view("ephemeralContainer", "ephemeralContainers")];
}

/** `metadata.namespace`, or `default` (where an object without one is created). */
export function namespaceOf(resource: PolicyResource): string {
  return str(obj(resource.props["metadata"])["namespace"]) ?? "default";
}

export function k8sName(resource: PolicyResource): string | undefined {
  return str(obj(resource.props["metadata"])["name"]) ?? str(obj(obj(resource.outputs)["metadata"])["name"]);
}

/** Stands for an annotation whose value a real preview does not know yet (an Output not yet resolved). */
export const UNKNOWN_DURING_PREVIEW = "(unknown during preview)";

export function annotationsOf(resource: PolicyResource): Record<string, string> {
  const out: Record<string, string> = {};
  const annotations = obj(known(() => obj(resource.props["metadata"])["annotations"]));
  for (const k of Object.keys(annotations)) {
    const v = known(() => annotations[k]);
    out[k] = v === undefined ? UNKNOWN_DURING_PREVIEW : (str(v) ?? UNKNOWN_DURING_PREVIEW);
  }
  return out;
}

/** `matchLabels` of a label selector (`matchExpressions` are read by `selectorMatches`). */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const sel = obj(selector);
  const matchLabels = obj(sel["matchLabels"]);
  const expressions = objs(sel["matchExpressions"]);
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) {
    // An empty selector selects every pod of the namespace.
    return true;
  }
  for (const [k, v] of Object.entries(matchLabels)) {
    if (labels[k] !== str(v)) {
      return false;
    }
  }
  for (const e of expressions) {
    const key = str(e["key"]) ?? "";
    const values = strs(e["values"]);
    const op = str(e["operator"]);
    const has = key in labels;
    const ok =
      op === "In" ? has && values.includes(labels[key]) : op === "NotIn" ? !has || !values.includes(labels[key]) : op === "Exists" ? has : op === "DoesNotExist" ? !has : false;
    if (!ok) {
      return false;
    }
  }
  return true;
}

