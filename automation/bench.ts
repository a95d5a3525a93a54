/**
 * `npm run bench`: how long the offline evaluation (the program under the SDK's mocks, what
 * `plan` and every test run) takes for each shipped stack and for the prod stack with 1, 10 and
 * 50 synthetic services, whether that cost grows linearly with the number of services (a
 * quadratic term would make CI slower with every service added), and how many resources a
 * blue/green flip changes (the contract: exactly two).
 *
 *   npm run bench                      # median of 3 runs per row
 *   npm run bench -- --runs 5 --json
 */
import { parseArgs } from "util";
import { flipDiff } from "./offline/diff";
import { evaluateProgram, evaluateStack, Json, readStackConfig, StackConfig, STACKS } from "./offline/evaluate";

/* ----------------------------------------------------------------------------------------
 * Pure parts.
 * -------------------------------------------------------------------------------------- */

export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new Error("median of no values");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface LineFit {
  readonly slope: number;
  readonly intercept: number;
  /** Coefficient of determination: 1 is a perfect line. */
  readonly r2: number;
}

/** Least-squares line through (x, y). */
export function fitLine(points: ReadonlyArray<{ readonly x: number; readonly y: number }>): LineFit {
  const n = points.length;
  if (n < 2) {
    throw new Error("a line needs at least two points");
  }
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const syy = points.reduce((s, p) => s + (p.y - my) ** 2, 0);
  if (sxx === 0) {
    throw new Error("a line needs at least two distinct x values");
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residual = points.reduce((s, p) => s + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { slope, intercept, r2: syy === 0 ? 1 : 1 - residual / syy };
}

export interface ScalePoint {
  readonly services: number;
  readonly ms: number;
  readonly resources: number;
}

export interface Linearity {
  readonly fit: LineFit;
  /** Milliseconds each added service costs, from the fit. */
  readonly marginalMs: number;
  /** Marginal cost per service between the first two sizes, and between the last two. */
  readonly earlyMarginalMs: number;
  readonly lateMarginalMs: number;
  /** late / early: about 1 when linear, about (n3 + n2) / (n2 + n1) (5.5 for 1/10/50) when quadratic. */
  readonly ratio: number;
  /** Resources each added service declares (exact: the program is deterministic). */
  readonly resourcesPerService: number;
  readonly linear: boolean;
}

/** Ratio bound: halfway (geometrically) between linear (1) and quadratic (5.5 for 1/10/50). */
export const MAX_LINEAR_RATIO = 2;
export const MIN_LINEAR_R2 = 0.95;

/**
 * Whether time grows linearly with the service count: the line fits (R^2) and the marginal cost
 * per service does not grow from the small sizes to the large ones (a quadratic term would make
 * the late marginal cost several times the early one even where R^2 still looks fine).
 */
export function linearity(points: readonly ScalePoint[]): Linearity {
  const sorted = [...points].sort((a, b) => a.services - b.services);
  if (sorted.length < 3) {
    throw new Error("linearity needs at least three sizes");
  }
  const fit = fitLine(sorted.map((p) => ({ x: p.services, y: p.ms })));
  const slope = (a: ScalePoint, b: ScalePoint, f: (p: ScalePoint) => number): number => (f(b) - f(a)) / (b.services - a.services);
  const [first, second] = sorted;
  const [beforeLast, last] = sorted.slice(-2);
  if (first === undefined || second === undefined || beforeLast === undefined || last === undefined) {
    throw new Error("unreachable");
  }
  const earlyMarginalMs = slope(first, second, (p) => p.ms);
  const lateMarginalMs = slope(beforeLast, last, (p) => p.ms);
  // Over a span of a few services the early slope is within the noise: floor it at the fitted
  // slope's tenth so one lucky run cannot turn a linear series into a huge ratio.
  const ratio = lateMarginalMs / Math.max(earlyMarginalMs, fit.slope / 10, Number.EPSILON);
  const resources = fitLine(sorted.map((p) => ({ x: p.services, y: p.resources })));
  return {
    fit,
    marginalMs: fit.slope,
    earlyMarginalMs,
    lateMarginalMs,
    ratio,
    resourcesPerService: resources.slope,
    linear: fit.r2 >= MIN_LINEAR_R2 && ratio <= MAX_LINEAR_RATIO,
  };
}

/** A plain-text table; columns listed in `right` are right-aligned (numbers). */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

/**
 * `count` services shaped like `template` (the first shipped one), with distinct names, one
 * non-overlapping path each and both colors' images set, so every service declares both colors.
 * Each serves under its own path as its context path, so its health path (the template's, below
 * that context path) is routed to itself, as config requires.
 */
export function syntheticServices(count: number, template: { readonly [key: string]: Json }): Json[] {
  const image = (template["blue"] as { image?: string } | undefined)?.image ?? "registry.example.com/app:1.0.0";
  const repository = image.slice(0, image.lastIndexOf("/"));
  const health = appHealthPath(template);
  return Array.from({ length: count }, (_, i) => {
    const name = `bench-${String(i + 1).padStart(3, "0")}`;
    return {
      ...template,
      name,
      contextPath: `/${name}`,
      healthPath: `/${name}${health}`,
      paths: [`/${name}`],
      active: "blue",
      blue: { image: `${repository}/${name}:1.0.0` },
      green: { image: `${repository}/${name}:1.1.0` },
    };
  });
}

/** The template's health endpoint as the application serves it, without the template's context path. */
function appHealthPath(template: { readonly [key: string]: Json }): string {
  const healthPath = typeof template["healthPath"] === "string" ? template["healthPath"] : "/actuator/health";
  const contextPath = template["contextPath"];
  return typeof contextPath === "string" && healthPath.startsWith(`${contextPath}/`) ? healthPath.slice(contextPath.length) : healthPath;
}

/* ----------------------------------------------------------------------------------------
 * Measurements.
 * -------------------------------------------------------------------------------------- */

export interface Measurement {
  readonly label: string;
  readonly stack: string;
  readonly services: number;
  readonly resources: number;
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

export async function measure(label: string, stack: string, runs: number, mutate?: (c: StackConfig) => void): Promise<Measurement> {
  const runsMs: number[] = [];
  let resources = 0;
  let services = 0;
  const config = readStackConfig(stack);
  mutate?.(config);
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    // Uncached: `evaluateStack` would answer every run after the first from its cache.
    const ev = await evaluateProgram(stack, config);
    runsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    resources = ev.resources.length - 1;
    services = Array.isArray(ev.outputs["services"]) ? ev.outputs["services"].length : 0;
  }
  return { label, stack, services, resources, medianMs: median(runsMs), runsMs };
}

export interface FlipCount {
  readonly stack: string;
  readonly service: string;
  /** `type::name` of every resource that differs between blue and green active (added and removed included). */
  readonly changed: readonly string[];
}

/** The resources a flip of `service` (default: the stack's first) changes, under the mocks. */
export async function flipChangeCount(stack: string, service?: string): Promise<FlipCount> {
  const services = readStackConfig(stack)["platform:services"];
  const first = Array.isArray(services) ? services[0] : undefined;
  const name = service ?? (first !== null && typeof first === "object" && !Array.isArray(first) ? String(first["name"]) : undefined);
  if (name === undefined) {
    throw new Error(`stack "${stack}" has no services to flip`);
  }
  const { diff } = await flipDiff(stack, name);
  return { stack, service: name, changed: [...diff.added, ...diff.removed, ...diff.changed.keys()].sort() };
}

export interface BenchReport {
  readonly runs: number;
  readonly stacks: readonly Measurement[];
  readonly scaling: readonly Measurement[];
  readonly linearity: Linearity;
  readonly flip: FlipCount;
  readonly totalMs: number;
}

export const SIZES = [1, 10, 50] as const;

export async function runBench(options: { readonly runs: number; readonly sizes?: readonly number[]; readonly progress?: (line: string) => void }): Promise<BenchReport> {
  const started = Date.now();
  const progress = options.progress ?? ((): void => undefined);
  // One unmeasured evaluation: the first pays for loading the SDK and providers.
  await evaluateStack("prod");
  const stacks: Measurement[] = [];
  for (const stack of STACKS) {
    progress(`stack ${stack}`);
    stacks.push(await measure(stack, stack, options.runs));
  }
  const prodServices = readStackConfig("prod")["platform:services"];
  const template = Array.isArray(prodServices) ? prodServices[0] : undefined;
  if (template === null || typeof template !== "object" || Array.isArray(template) || template === undefined) {
    throw new Error("prod has no service to use as the synthetic services' template");
  }
  const scaling: Measurement[] = [];
  for (const n of options.sizes ?? SIZES) {
    progress(`prod with ${n} synthetic services`);
    scaling.push(
      await measure(`prod, ${n} service${n === 1 ? "" : "s"}`, "prod", options.runs, (c) => {
        c["platform:services"] = syntheticServices(n, template);
      }),
    );
  }
  progress("flip");
  const flip = await flipChangeCount("prod");
  return {
    runs: options.runs,
    stacks,
    scaling,
    linearity: linearity(scaling.map((m) => ({ services: m.services, ms: m.medianMs, resources: m.resources }))),
    flip,
    totalMs: Date.now() - started,
  };
}

/**
 * Operation counts of one traffic-moving command, as the driver ran it against stand-ins
 * (test/automation/rehearsal.ts): what a blue/green switch costs next to a canary.
 */
export interface OperationCount {
  readonly label: string;
  readonly previews: number;
  readonly ups: number;
  /** Of `ups`, those targeted at named resources (a switch, a canary step, a restore). */
  readonly targetedUps: number;
  /** Reads of the load balancer's live rule (the routing gate's polls). */
  readonly routingReads: number;
  /** Analysis windows read from the metrics source. */
  readonly metricsWindows: number;
  /** Time spent waiting (the controller's lag, analysis windows), on the rehearsal's clock. */
  readonly waitedMs: number;
}

export function renderOperations(rows: readonly OperationCount[], note: string): string {
  const table = renderTable(
    ["COMMAND", "PREVIEWS", "UPS", "TARGETED", "LB READS", "METRIC WINDOWS", "WAITED"],
    rows.map((r) => [r.label, String(r.previews), String(r.ups), String(r.targetedUps), String(r.routingReads), String(r.metricsWindows), `${Math.round(r.waitedMs / 1000)} s`]),
    new Set([1, 2, 3, 4, 5, 6]),
  );
  return `Operation counts per command (${note}):\n\n${table}`;
}

const ms = (v: number): string => v.toFixed(0);

export function renderBench(report: BenchReport): string {
  const rows = [...report.stacks, ...report.scaling].map((m) => [
    m.label,
    String(m.services),
    String(m.resources),
    ms(m.medianMs),
    m.runsMs.map(ms).join(" "),
    (m.medianMs / m.resources).toFixed(1),
  ]);
  const l = report.linearity;
  const out = [
    `Offline evaluation (program under the SDK's mocks), median of ${report.runs} run(s):`,
    "",
    renderTable(["STACK", "SERVICES", "RESOURCES", "MEDIAN MS", "RUNS MS", "MS/RESOURCE"], rows, new Set([1, 2, 3, 5])),
    `Scaling with services (prod, ${report.scaling.map((m) => m.services).join("/")} synthetic services):`,
    `  fit: time = ${ms(l.fit.intercept)} ms + ${l.marginalMs.toFixed(1)} ms x services (R^2 ${l.fit.r2.toFixed(3)})`,
    `  marginal cost per service: ${l.marginalMs.toFixed(1)} ms (fit); ${l.earlyMarginalMs.toFixed(1)} ms early, ${l.lateMarginalMs.toFixed(1)} ms late; ratio late/early ${l.ratio.toFixed(2)}`,
    `  resources per service: ${l.resourcesPerService.toFixed(1)}`,
    `  ${l.linear ? "linear" : "NOT linear"}: ${l.linear ? "R^2" : "needs R^2"} >= ${MIN_LINEAR_R2} and ratio <= ${MAX_LINEAR_RATIO} (quadratic growth would give ~5.5)`,
    "",
    `A flip (${report.flip.stack}, ${report.flip.service} blue -> green) changes ${report.flip.changed.length} resource(s):`,
    ...report.flip.changed.map((k) => `  ${k}`),
    "",
    `Total: ${(report.totalMs / 1000).toFixed(1)} s`,
  ];
  return `${out.join("\n")}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { runs: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write("Usage: npm run bench -- [--runs N] [--json]\n  --runs N  evaluations per row, the median is reported (default 3)\n  --json    print the report as JSON\n");
    return 0;
  }
  const runs = values.runs === undefined ? 3 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    process.stderr.write(`error: --runs must be a positive integer, got "${values.runs ?? ""}"\n`);
    return 1;
  }
  const report = await runBench({ runs, progress: (line) => process.stderr.write(`bench: ${line}\n`) });
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderBench(report));
  // Not a test: a non-linear result is reported, and signalled to scripts through the exit code.
  return report.linearity.linear && report.flip.changed.length === 2 ? 0 : 3;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
