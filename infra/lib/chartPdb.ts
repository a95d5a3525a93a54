/**
 * What a Helm chart's PodDisruptionBudget templates render, from the chart's documented defaults
 * merged with the values a release passes, judged the way the API server and the disruption
 * controller judge it. Pure; tested table-driven (test/chartPdb.test.ts) and applied to every
 * Helm release the stacks declare (test/helmReleases.test.ts).
 *
 * Why: Helm merges a release's values over the chart's `values.yaml`, so a key the program never
 * sets (kube-prometheus-stack's `minAvailable: 1`) still reaches the template next to the one it
 * does set (`maxUnavailable: 1`), and a template that renders each key independently then
 * produces a PDB the API server rejects ("minAvailable and maxUnavailable cannot be both set",
 * kubernetes v1.35.4 `pkg/apis/policy/validation/validation.go:53-55`). Nothing of this is visible
 * in the values alone.
 */

import type { ImageProbeFacts } from "./probes";

/** A Helm values tree (or a part of one). */
export type Values = { readonly [key: string]: unknown };

/**
 * How a chart's PDB template turns its map into `spec.minAvailable` / `spec.maxUnavailable`:
 * - `each-if-truthy`: `{{ if .minAvailable }}minAvailable: ..{{ end }}{{ if .maxUnavailable }}maxUnavailable: ..{{ end }}`
 *   (or `with`): each key rendered when truthy, so both when both are.
 * - `to-yaml`: `toYaml` of the map (minus `enabled`): every key present, whatever its value.
 * - `max-else-min`: `{{ with .maxUnavailable }}maxUnavailable{{ else }}minAvailable: {{ .minAvailable | default 0 }}{{ end }}`.
 * - `fail-if-both`: the template `fail`s when both are truthy, else renders the truthy one.
 */
export type PdbTemplate = "each-if-truthy" | "to-yaml" | "max-else-min" | "fail-if-both";

/** One PodDisruptionBudget template of a chart, as read at the pinned chart version. */
export interface ChartPdb {
  /** The workload it protects, e.g. `alertmanager`. */
  readonly component: string;
  /** Dotted values path of the PDB map, e.g. `alertmanager.podDisruptionBudget`. */
  readonly values: string;
  /** Dotted values path of the workload's replica count, or the count its template hard-codes. */
  readonly replicas: string | number;
  readonly template: PdbTemplate;
  /**
   * What makes the template render at all: the map's `enabled` key, or the map being non-empty
   * (`{{ if .Values.podDisruptionBudget }}`).
   */
  readonly renderedWhen: "enabled" | "non-empty";
  /**
   * Values paths that must all be truthy for the workload (and so its PDB) to exist at all, e.g.
   * `thanosRuler.enabled`; `!path` must be falsy instead. Default: none.
   */
  readonly requires?: readonly string[];
  /** The template also requires more than one replica (`gt (int .Values.replicaCount) 1`). Default: false. */
  readonly onlyAboveOneReplica?: boolean;
  /** Template file (and lines) at the pinned version. */
  readonly source: string;
}

/**
 * A pinned chart's documented defaults that the program's guards rely on: a reviewed, dated fact
 * tied to one chart version. Bumping the chart without re-reading its `values.yaml` and templates
 * (and updating this) fails test/helmReleases.test.ts.
 */
export interface ChartDefaults {
  readonly chart: string;
  readonly version: string;
  /** When the facts below were read (YYYY-MM-DD). */
  readonly reviewed: string;
  /** Repository, tag and commit the facts were read at. */
  readonly source: string;
  /** The subset of the chart's `values.yaml` (subcharts' defaults under their keys) the guards read; same shape. */
  readonly values: Values;
  /** Every PDB template of the chart (and its subcharts) that can render. */
  readonly pdbs: readonly ChartPdb[];
  /**
   * What the chart's images serve, by the values path of each workload whose probes the program
   * sets in its values (e.g. `server`), with the image and its named ports. Needed only where
   * the program sets probes; the chart's own probes are the chart's business. Default: none.
   */
  readonly probeFacts?: Readonly<Record<string, ChartImageFacts>>;
}

/** A chart workload's image and what it serves, for probes the program sets in the chart's values. */
export interface ChartImageFacts extends ImageProbeFacts {
  readonly image: string;
  /** The container's named ports, so a probe naming one can be resolved. Default: none. */
  readonly namedPorts?: Readonly<Record<string, number>>;
}

function isMap(v: unknown): v is Values {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value at a dotted path (`a.b.c`), or undefined. */
export function valueAt(values: Values, path: string): unknown {
  let here: unknown = values;
  for (const key of path.split(".")) {
    if (!isMap(here)) {
      return undefined;
    }
    here = here[key];
  }
  return here;
}

/**
 * The values a chart's templates see: `release` merged over `defaults` the way a Pulumi Helm
 * Release hands them to Helm. Maps merge key by key, anything else replaces. A `null` or
 * `undefined` in the release's values is dropped before Helm sees it, so it never removes a
 * default: pulumi-kubernetes v4.25.0 unmarshals inputs with `SkipNulls: true`
 * (`provider/pkg/provider/helm_release.go:333-346`) and `mergeMaps` drops nulls unless
 * `allowNullValues` (`:1328-1340`).
 */
export function mergeValues(defaults: Values, release: Values): Values {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(release)) {
    if (value === null || value === undefined) {
      continue;
    }
    const base = out[key];
    out[key] = isMap(base) && isMap(value) ? mergeValues(base, value) : value;
  }
  return out;
}

/** Go template truthiness (`if`, `with`, `default`): false, 0, "", nil and empty maps/lists are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") {
    return false;
  }
  if (Array.isArray(v)) {
    return v.length > 0;
  }
  if (isMap(v)) {
    return Object.keys(v).length > 0;
  }
  return true;
}

/** A rendered budget: an integer, or a percentage string such as `50%`. */
export type IntOrPercent = number | `${number}%`;

export type EffectivePdb =
  /** `deployed` false: the workload itself is off (`requires`), so neither it nor its PDB exists. */
  | { readonly component: string; readonly replicas: number; readonly rendered: false; readonly deployed: boolean }
  | {
      readonly component: string;
      readonly replicas: number;
      readonly rendered: true;
      readonly minAvailable?: unknown;
      readonly maxUnavailable?: unknown;
    }
  | { readonly component: string; readonly replicas: number; readonly rendered: "template-fails"; readonly reason: string };

/** What one PDB template renders from the merged values. */
export function effectivePdb(pdb: ChartPdb, merged: Values): EffectivePdb {
  const component = pdb.component;
  const replicasValue = typeof pdb.replicas === "number" ? pdb.replicas : valueAt(merged, pdb.replicas);
  const replicas = typeof replicasValue === "number" ? replicasValue : Number.NaN;
  const map = valueAt(merged, pdb.values);
  const spec = isMap(map) ? map : {};
  const holds = (path: string): boolean => (path.startsWith("!") ? !truthy(valueAt(merged, path.slice(1))) : truthy(valueAt(merged, path)));
  if (!(pdb.requires ?? []).every(holds)) {
    return { component, replicas, rendered: false, deployed: false };
  }
  const gate = pdb.renderedWhen === "enabled" ? truthy(spec["enabled"]) : truthy(map);
  if (!gate || (pdb.onlyAboveOneReplica === true && !(replicas > 1))) {
    return { component, replicas, rendered: false, deployed: true };
  }
  const min = spec["minAvailable"];
  const max = spec["maxUnavailable"];
  switch (pdb.template) {
    case "each-if-truthy":
      return { component, replicas, rendered: true, ...(truthy(min) ? { minAvailable: min } : {}), ...(truthy(max) ? { maxUnavailable: max } : {}) };
    case "to-yaml":
      return {
        component,
        replicas,
        rendered: true,
        ...(min !== undefined && min !== null ? { minAvailable: min } : {}),
        ...(max !== undefined && max !== null ? { maxUnavailable: max } : {}),
      };
    case "max-else-min":
      return truthy(max) ? { component, replicas, rendered: true, maxUnavailable: max } : { component, replicas, rendered: true, minAvailable: truthy(min) ? min : 0 };
    case "fail-if-both":
      if (truthy(min) && truthy(max)) {
        return { component, replicas, rendered: "template-fails", reason: "the chart's template fails when both minAvailable and maxUnavailable are set" };
      }
      return { component, replicas, rendered: true, ...(truthy(min) ? { minAvailable: min } : {}), ...(truthy(max) ? { maxUnavailable: max } : {}) };
  }
}

/**
 * An IntOrString budget as the API server validates it (`ValidatePositiveIntOrPercent`): a
 * non-negative integer or `<n>%` with n <= 100. Templates that print the value with `{{ . }}`
 * emit a digit string unquoted, so YAML reads it as an integer; `toYaml` keeps it a string.
 */
function parseBudget(v: unknown, template: PdbTemplate): IntOrPercent | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) {
    return v;
  }
  if (typeof v === "string") {
    if (/^\d{1,3}%$/.test(v) && Number(v.slice(0, -1)) <= 100) {
      return v as `${number}%`;
    }
    if (template !== "to-yaml" && /^\d+$/.test(v)) {
      return Number(v);
    }
  }
  return undefined;
}

/**
 * Pods the disruption controller lets be evicted when all `replicas` are healthy
 * (kubernetes v1.35.4 `pkg/controller/disruption/disruption.go:818-857`: percentages are scaled
 * rounding up, for both keys).
 */
export function allowedDisruptions(replicas: number, budget: { minAvailable?: IntOrPercent; maxUnavailable?: IntOrPercent }): number {
  const scaled = (v: IntOrPercent): number => (typeof v === "number" ? v : Math.ceil((Number(v.slice(0, -1)) * replicas) / 100));
  let desiredHealthy = 0;
  if (budget.maxUnavailable !== undefined) {
    desiredHealthy = Math.max(0, replicas - scaled(budget.maxUnavailable));
  } else if (budget.minAvailable !== undefined) {
    desiredHealthy = scaled(budget.minAvailable);
  }
  return Math.max(0, replicas - desiredHealthy);
}

/**
 * Everything wrong with the PDBs a release of `chart` renders given its `values`: a template
 * failure, both keys (the API server rejects it), neither key (it protects nothing), a value
 * that is no integer or percentage, a budget that allows no eviction (node drains and
 * cluster-autoscaler scale-downs wait forever), or a replicated workload with no PDB at all.
 */
export function pdbProblems(chart: ChartDefaults, values: Values): string[] {
  const merged = mergeValues(chart.values, values);
  const problems: string[] = [];
  for (const pdb of chart.pdbs) {
    const at = `${chart.chart} ${chart.version} ${pdb.component} (${pdb.values})`;
    const e = effectivePdb(pdb, merged);
    if (e.rendered === false && !e.deployed) {
      continue;
    }
    if (!Number.isInteger(e.replicas) || e.replicas < 0) {
      problems.push(`${at}: the replica count at ${String(pdb.replicas)} is ${JSON.stringify(e.replicas)}, not a count; state the chart's default in chartDefaults.values`);
      continue;
    }
    if (e.rendered === "template-fails") {
      problems.push(`${at}: ${e.reason}`);
      continue;
    }
    if (e.rendered === false) {
      if (e.replicas > 1) {
        problems.push(`${at}: ${e.replicas} replicas and no PodDisruptionBudget, so a node drain may evict all of them at once`);
      }
      continue;
    }
    const hasMin = e.minAvailable !== undefined;
    const hasMax = e.maxUnavailable !== undefined;
    if (hasMin && hasMax) {
      problems.push(
        `${at}: renders both minAvailable (${JSON.stringify(e.minAvailable)}) and maxUnavailable (${JSON.stringify(e.maxUnavailable)}); ` +
          "the API server rejects a PodDisruptionBudget with both. Set only the key the chart defaults, or null the other with a falsy value the template skips",
      );
      continue;
    }
    if (!hasMin && !hasMax) {
      problems.push(`${at}: renders a PodDisruptionBudget with neither minAvailable nor maxUnavailable, which protects nothing`);
      continue;
    }
    const raw = hasMin ? e.minAvailable : e.maxUnavailable;
    const budget = parseBudget(raw, pdb.template);
    if (budget === undefined) {
      problems.push(`${at}: ${hasMin ? "minAvailable" : "maxUnavailable"} ${JSON.stringify(raw)} is not a non-negative integer or a percentage`);
      continue;
    }
    const allowed = allowedDisruptions(e.replicas, hasMin ? { minAvailable: budget } : { maxUnavailable: budget });
    if (allowed < 1) {
      problems.push(
        `${at}: ${hasMin ? "minAvailable" : "maxUnavailable"} ${JSON.stringify(raw)} with ${e.replicas} replica(s) allows no eviction, ` +
          "so node drains and cluster-autoscaler scale-downs wait forever",
      );
    }
  }
  return problems;
}
