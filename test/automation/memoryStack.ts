/**
 * In-memory stand-in for the Automation API's Stack (the PlatformStack interface).
 *
 * It holds the stack file's config, a "deployed" copy of it (what the last successful `up`
 * applied: the cloud), the exported state with real-looking URNs following the blue/green
 * naming contract, and the outputs the program would export. Every call is recorded. Faults
 * can be injected at any operation; an `up` can be made slow so that an interrupt lands
 * while it runs. Previews and ups emit resource, policy, diagnostic and summary engine events
 * in the engine's shapes, so the driver's event parsing runs on realistic input.
 *
 * What it models of the engine (pulumi/pkg v3.276.0, pulumi-kubernetes v4.25.0):
 * - a targeted update gives each target its full desired state (pending program changes to it go
 *   along), targets providers implicitly, and fails a target that depends on a resource not yet
 *   created (diag 2013); untargeted resources are `same`;
 * - outputs are rewritten from the config by every update, targeted or not;
 * - the Ingress's forward action (all traffic to `active`, or a canary step's `canaryWeight` to the
 *   idle color, which changes only the live action's weights) reaches the load balancer (the
 *   routing fake) only after its lag;
 * - one signal to the CLI cancels (in-flight steps finish and are applied), a second terminates
 *   (pending operations left in the state);
 * - an update can succeed and the reads after it fail (`stack output`/`stack history`);
 * - once another field manager (the HPA's kube-controller-manager) owns `spec.replicas` of a
 *   color's Deployment, applying replicas to it fails with the server-side-apply conflict;
 * - previews take no lock; updates hold one while they run.
 */
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import type { DiffKind, EngineEvent, OpMap, OpType, StepEventMetadata, SummaryEvent } from "@pulumi/pulumi/automation";
import { LockReport, OperationOptions, PlatformStack, PreviewOutcome, StackState, UpdateLock, UpOutcome } from "../../automation/ports";
import { isJsonObject, Json, JsonObject } from "../../automation/types";
import { liveWeights } from "../../infra/lib/canary";
import { FakeLoadBalancer } from "./fakeRouting";

export type Color = "blue" | "green";

export interface ServiceSeed {
  readonly name: string;
  readonly active: Color;
  readonly blue?: string;
  readonly green?: string;
  readonly healthPath?: string;
  /** A color scaled to 0 (`<color>.parked`). */
  readonly parked?: Color;
  /** Extra fields the driver must preserve untouched. */
  readonly extra?: JsonObject;
}

export type Operation = "getConfig" | "setConfig" | "outputs" | "preview" | "up" | "exportStack" | "updateLocks";

export interface Call {
  readonly op: Operation;
  readonly key?: string;
  readonly keys?: readonly string[];
  readonly target?: readonly string[];
  readonly message?: string;
  readonly policyPacks?: readonly string[];
  readonly policyPackConfigs?: readonly string[];
  readonly expectNoChanges?: boolean;
  readonly refresh?: boolean;
}

export type FaultKind =
  /** A generic engine/provider error. */
  | "error"
  /** Someone else holds the stack lock. */
  | "concurrent"
  /** The Kubernetes provider's await timed out (changes applied, then failure). */
  | "readiness"
  /** A mandatory policy violation (preview only). */
  | "policy-mandatory"
  /** An advisory policy violation (preview only; does not fail). */
  | "policy-advisory"
  /** The preview plans to replace the RDS instance. */
  | "stateful-replace"
  /** The up succeeds but returns the outputs of an older program version (up only). */
  | "legacy-outputs"
  /** The update succeeded (summary event `result: succeeded`), then the SDK's `stack output` read failed (up only). */
  | "read-after-success"
  /** The engine ended without a summary event (preview only). */
  | "no-summary";

export interface Fault {
  readonly op: Operation;
  readonly kind: FaultKind;
  /** Which calls of `op` it hits (1-based count of that op); default: every call. */
  readonly on?: (n: number, call: Call) => boolean;
  /** How many times it fires; default 1. */
  readonly times?: number;
  readonly message?: string;
}

export interface MemoryStackOptions {
  readonly name: string;
  readonly environment: "test" | "staging" | "prod";
  readonly services: readonly ServiceSeed[];
  readonly releases?: Record<string, { image: string; verifiedAt: string; source: string; runUrl?: string }>;
  /** Loopback health server base URL; outputs point each service's live/preview health URL there. */
  readonly baseUrl: string;
  /** Outputs of an older program version that do not follow the output contract. */
  readonly legacyOutputs?: boolean;
  readonly healthGate?: JsonObject;
  /** Left by an interrupted update. */
  readonly pendingOperations?: ReadonlyArray<{ readonly type: string; readonly urn: string }>;
  /** Omit the flip targets of these services from the state (never deployed with blue/green). */
  readonly missingFlipTargets?: readonly string[];
  /** Milliseconds each `up` takes (abortable). */
  readonly upDelayMs?: number;
  readonly faults?: readonly Fault[];
  /**
   * Program changes not yet applied (the checkout differs from the last full up): another change
   * to these services' Ingresses, a change of the Kubernetes provider's config, or a resource the
   * Ingress now depends on that does not exist yet. A full up applies them all.
   */
  readonly programChanges?: {
    readonly ingress?: readonly string[];
    readonly provider?: boolean;
    readonly uncreated?: readonly string[];
    /** An immutable change to the RDS instance (engine version): a replace. */
    readonly rds?: boolean;
  };
  /** `<service>-<color>` Deployments whose replicas the HPA (kube-controller-manager) has taken over via /scale. */
  readonly scaledByHpa?: readonly string[];
  /**
   * `<service>-<color>` Deployments changed in the cluster behind Pulumi's back (kubectl edit):
   * only a refreshing preview or up sees them, since the provider diffs the stored state against
   * the program; a refreshing up re-applies them, a plain one leaves them.
   */
  readonly outOfBand?: readonly string[];
  /**
   * What the program builds its `services` output from. `resources` (the default on EKS, as the
   * program does): the Deployments' and Services' own outputs, i.e. what the cluster runs; an
   * untargeted resource keeps its state's outputs. `config` (the default for the test host, which
   * runs its configured images): the colors and images of the config the last up ran with; the
   * root stack is in every update, so every up, targeted or failed, re-registers them
   * (pulumi/pkg v3.276.0 resource/deploy/step_executor.go:232-239, 271-279).
   */
  readonly outputsFrom?: "config" | "resources";
  /** A lock another process holds (an update running elsewhere, or a dead holder's). */
  readonly foreignLock?: { readonly pid: number; readonly hostname: string; readonly alive?: boolean };
}

const PROJECT = "platform";

function seedToJson(s: ServiceSeed): JsonObject {
  const color = (c: Color, image: string | undefined): JsonObject => ({ ...(image === undefined ? {} : { image }), ...(s.parked === c ? { parked: true } : {}) });
  return {
    name: s.name,
    port: 8080,
    healthPath: s.healthPath ?? "/health",
    paths: [`/${s.name}`],
    active: s.active,
    blue: color("blue", s.blue),
    green: color("green", s.green),
    ...(s.extra ?? {}),
  };
}

interface ServiceView {
  readonly name: string;
  readonly active: Color;
  readonly blue?: string;
  readonly green?: string;
  readonly parked: readonly Color[];
  readonly healthPath: string;
  readonly paths: readonly string[];
  /** Mid canary rollout: the percentage of live traffic the Ingress sends to the idle color. */
  readonly canaryWeight?: number;
}

/**
 * The program declares a color's Deployment, HPA and PDB only when it runs (has an image, not
 * parked); its Service always. So parking deletes the workload and unparking creates it.
 */
function hasWorkload(s: ServiceView, c: Color): boolean {
  return s[c] !== undefined && !s.parked.includes(c);
}

const other = (c: Color): Color => (c === "blue" ? "green" : "blue");

function viewServices(raw: Json | undefined): ServiceView[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  return raw.filter(isJsonObject).map((s) => {
    const img = (c: Json | undefined): string | undefined => (isJsonObject(c) && typeof c["image"] === "string" ? c["image"] : undefined);
    const parked = (["blue", "green"] as const).filter((c) => {
      const spec = s[c];
      return isJsonObject(spec) && spec["parked"] === true;
    });
    return {
      name: String(s["name"]),
      active: s["active"] === "green" ? "green" : "blue",
      blue: img(s["blue"]),
      green: img(s["green"]),
      parked,
      healthPath: typeof s["healthPath"] === "string" ? s["healthPath"] : "/health",
      paths: Array.isArray(s["paths"]) ? s["paths"].map(String) : [`/${String(s["name"])}`],
      ...(typeof s["canaryWeight"] === "number" ? { canaryWeight: s["canaryWeight"] } : {}),
    };
  });
}

export class MemoryStack implements PlatformStack {
  readonly calls: Call[] = [];
  /** Pulumi.<stack>.yaml */
  readonly config = new Map<string, Json>();
  /** What the last `up` applied: services and releases as the cloud runs them. */
  deployedServices: Json;
  deployedReleases: Json;
  private readonly faults: Array<Fault & { remaining: number }>;
  private readonly counts = new Map<Operation, number>();
  private sequence = 0;
  /** Hook run at the start of every call (tests abort from here). */
  onCall?: (call: Call) => void;
  /** The load balancer whose controller follows this stack's Ingresses (set by the harness). */
  lb?: FakeLoadBalancer;
  /** Pending program changes (see MemoryStackOptions.programChanges). */
  readonly pendingIngress: Set<string>;
  pendingProvider: boolean;
  pendingRds: boolean;
  /** Set when an up replaced the database. */
  rdsReplaced = false;
  readonly uncreated: Set<string>;
  /** Pending operations in the state (an interrupted or terminated update leaves them). */
  readonly pending: Array<{ type: string; urn: string }>;
  /** Signals the running `up` has received as the CLI would (the terminal's and the SDK's). */
  private signals = 0;
  private running?: { readonly onSignal: () => void };
  private lockHeld = false;
  /** The config the last update's program registered the outputs from (mode `config`). */
  private registered?: Json;
  /** What `outOfBand` changed in the cluster and no refreshing up has put back yet. */
  private readonly drifted: Set<string>;

  constructor(readonly opts: MemoryStackOptions) {
    this.drifted = new Set(opts.outOfBand ?? []);
    const services: Json = opts.services.map(seedToJson);
    this.config.set("platform:environment", opts.environment);
    this.config.set("aws:region", "ap-northeast-2");
    this.config.set("platform:services", services);
    if (opts.releases !== undefined) {
      this.config.set("platform:releases", structuredClone(opts.releases));
    }
    if (opts.healthGate !== undefined) {
      this.config.set("platform:healthGate", opts.healthGate);
    }
    this.deployedServices = structuredClone(services);
    this.deployedReleases = structuredClone(opts.releases ?? {});
    this.faults = (opts.faults ?? []).map((f) => ({ ...f, remaining: f.times ?? 1 }));
    if ((opts.faults ?? []).some((f) => f.op === "preview" && f.kind === "concurrent")) {
      throw new Error("previews take no lock on a DIY backend (pulumi/pkg v3.276.0 backend/diy/backend.go:1212-1216): a locked preview cannot be modelled");
    }
    this.pendingIngress = new Set(opts.programChanges?.ingress ?? []);
    this.pendingProvider = opts.programChanges?.provider === true;
    this.pendingRds = opts.programChanges?.rds === true;
    this.uncreated = new Set(opts.programChanges?.uncreated ?? []);
    this.pending = (opts.pendingOperations ?? []).map((p) => ({ ...p }));
  }

  get name(): string {
    return this.opts.name;
  }

  get blueGreen(): boolean {
    return this.opts.environment !== "test";
  }

  /* ---- views for assertions ---------------------------------------------------------- */

  configServices(): ServiceView[] {
    return viewServices(this.config.get("platform:services"));
  }

  deployed(): ServiceView[] {
    return viewServices(this.deployedServices);
  }

  count(op: Operation): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  ups(): Call[] {
    return this.calls.filter((c) => c.op === "up");
  }

  /* ---- URNs ------------------------------------------------------------------------ */

  stackUrn(): string {
    return `urn:pulumi:${this.name}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${this.name}`;
  }

  urn(type: string, name: string, parentType?: string): string {
    const qualified = parentType === undefined ? type : `${parentType}$${type}`;
    return `urn:pulumi:${this.name}::${PROJECT}::${qualified}::${name}`;
  }

  ingressUrn(svc: string): string {
    return this.urn("kubernetes:networking.k8s.io/v1:Ingress", `${svc}-ingress`, "platform:apps:BlueGreenService");
  }

  activeUrn(svc: string): string {
    return this.urn("kubernetes:core/v1:Service", `${svc}-active`, "platform:apps:BlueGreenService");
  }

  deploymentUrn(svc: string, color: Color): string {
    return this.urn("kubernetes:apps/v1:Deployment", `${svc}-${color}`, "platform:apps:BlueGreenService");
  }

  hpaUrn(svc: string, color: Color): string {
    return this.urn("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", `${svc}-${color}`, "platform:apps:BlueGreenService");
  }

  pdbUrn(svc: string, color: Color): string {
    return this.urn("kubernetes:policy/v1:PodDisruptionBudget", `${svc}-${color}`, "platform:apps:BlueGreenService");
  }

  providerUrn(): string {
    return this.urn("pulumi:providers:kubernetes", "k8s");
  }

  rdsUrn(): string {
    return this.urn("aws:rds/instance:Instance", `${this.name}-db`, "platform:data:Database");
  }

  private resources(): Array<{ urn: string; type: string }> {
    const out = [
      { urn: this.stackUrn(), type: "pulumi:pulumi:Stack" },
      { urn: this.providerUrn(), type: "pulumi:providers:kubernetes" },
      { urn: this.rdsUrn(), type: "aws:rds/instance:Instance" },
    ];
    for (const s of this.deployed()) {
      out.push({ urn: this.urn("platform:apps:BlueGreenService", s.name), type: "platform:apps:BlueGreenService" });
      if (!this.blueGreen) {
        continue;
      }
      for (const c of ["blue", "green"] as const) {
        out.push({ urn: this.urn("kubernetes:core/v1:Service", `${s.name}-${c}`, "platform:apps:BlueGreenService"), type: "kubernetes:core/v1:Service" });
        if (hasWorkload(s, c)) {
          out.push({ urn: this.deploymentUrn(s.name, c), type: "kubernetes:apps/v1:Deployment" });
          out.push({ urn: this.pdbUrn(s.name, c), type: "kubernetes:policy/v1:PodDisruptionBudget" });
          out.push({ urn: this.hpaUrn(s.name, c), type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" });
        }
      }
      if (!(this.opts.missingFlipTargets ?? []).includes(s.name)) {
        out.push({ urn: this.activeUrn(s.name), type: "kubernetes:core/v1:Service" });
        out.push({ urn: this.ingressUrn(s.name), type: "kubernetes:networking.k8s.io/v1:Ingress" });
      }
    }
    return out;
  }

  /* ---- PlatformStack ----------------------------------------------------------------- */

  private begin(call: Call): number {
    this.calls.push(call);
    const n = (this.counts.get(call.op) ?? 0) + 1;
    this.counts.set(call.op, n);
    this.onCall?.(call);
    return n;
  }

  private takeFault(op: Operation, n: number, call: Call, kinds?: readonly FaultKind[]): Fault | undefined {
    const f = this.faults.find((x) => x.op === op && x.remaining > 0 && (kinds === undefined || kinds.includes(x.kind)) && (x.on === undefined || x.on(n, call)));
    if (f !== undefined) {
      f.remaining--;
    }
    return f;
  }

  private event(partial: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent {
    return { sequence: this.sequence++, timestamp: Math.floor(Date.now() / 1000), ...partial };
  }

  /**
   * The steps that turn the deployed services into `desired`, in the engine's event shapes. With
   * `target`, only targeted resources (and providers, targeted implicitly) change; the rest is `same`.
   */
  private plan(desired: ServiceView[], target?: readonly string[]): Step[] {
    const steps: Step[] = [];
    const included = (urn: string): boolean => target === undefined || target.includes(urn);
    if (this.pendingProvider) {
      steps.push({ op: "update", urn: this.providerUrn(), type: "pulumi:providers:kubernetes", diff: { kubeconfig: "update" } });
    }
    if (this.pendingRds && included(this.rdsUrn())) {
      steps.push({ op: "replace", urn: this.rdsUrn(), type: "aws:rds/instance:Instance", diff: { engineVersion: "update-replace" } });
    }
    const before = new Map(this.deployed().map((s) => [s.name, s] as const));
    for (const s of desired) {
      const old = before.get(s.name);
      if (old === undefined) {
        if (target === undefined) {
          steps.push({ op: "create", urn: this.urn("platform:apps:BlueGreenService", s.name), type: "platform:apps:BlueGreenService", diff: {} });
        }
        continue;
      }
      if (!this.blueGreen) {
        if (target === undefined && (old.blue !== s.blue || old.green !== s.green)) {
          steps.push({ op: "update", urn: this.urn("platform:compute:TestHost", "test-host"), type: "platform:compute:TestHost", diff: { userData: "update" } });
        }
        continue;
      }
      for (const c of ["blue", "green"] as const) {
        const workload: Array<[string, string]> = [
          [this.deploymentUrn(s.name, c), "kubernetes:apps/v1:Deployment"],
          [this.hpaUrn(s.name, c), "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"],
          [this.pdbUrn(s.name, c), "kubernetes:policy/v1:PodDisruptionBudget"],
        ];
        if (hasWorkload(old, c) !== hasWorkload(s, c)) {
          // Park deletes the color's workload, unpark (or a first image) creates it.
          for (const [urn, type] of workload.filter(([urn]) => included(urn))) {
            steps.push({ op: hasWorkload(s, c) ? "create" : "delete", urn, type, diff: {} });
          }
        } else if (hasWorkload(s, c) && old[c] !== s[c] && included(this.deploymentUrn(s.name, c))) {
          steps.push({ op: "update", urn: this.deploymentUrn(s.name, c), type: "kubernetes:apps/v1:Deployment", diff: { "spec.template.spec.containers[0].image": "update" } });
        }
      }
      const ing = this.ingressUrn(s.name);
      const act = this.activeUrn(s.name);
      if (included(ing) && (old.active !== s.active || old.canaryWeight !== s.canaryWeight || this.pendingIngress.has(s.name))) {
        const diff: Record<string, string> = {};
        if (old.canaryWeight !== s.canaryWeight) {
          // A canary step (or its end): the live forward action's weights, nothing else.
          diff[`metadata.annotations["alb.ingress.kubernetes.io/actions.${s.name}-live"]`] = "update";
        }
        if (old.active !== s.active) {
          diff[`metadata.annotations["alb.ingress.kubernetes.io/actions.${s.name}-live"]`] = "update";
          for (let i = 0; i < this.pathCount(s.name); i++) {
            diff[`spec.rules[1].http.paths[${i}].backend.service.name`] = "update";
          }
        }
        if (this.pendingIngress.has(s.name)) {
          // Another program change to the same Ingress: it goes with any up that targets the Ingress.
          diff[`metadata.annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]`] = "update";
        }
        steps.push({ op: "update", urn: ing, type: "kubernetes:networking.k8s.io/v1:Ingress", diff, newInputs: this.ingressInputs(s) });
      }
      if (included(act) && old.active !== s.active) {
        steps.push({
          op: "update",
          urn: act,
          type: "kubernetes:core/v1:Service",
          diff: { 'spec.selector["platform.io/color"]': "update" },
          newInputs: { spec: { selector: { "app.kubernetes.io/name": s.name, "platform.io/color": s.active } } },
        });
      }
    }
    return steps;
  }

  /** How many path prefixes the service routes (one Ingress path per prefix and host). */
  private pathCount(service: string): number {
    const raw = this.config.get("platform:services");
    const entry = Array.isArray(raw) ? raw.find((e) => isJsonObject(e) && e["name"] === service) : undefined;
    const paths = isJsonObject(entry) ? entry["paths"] : undefined;
    return Array.isArray(paths) ? paths.length : 1;
  }

  /** The Ingress's inputs as the program declares them (infra/apps/blueGreenService.ts), trimmed to what a flip touches. */
  private ingressInputs(s: ServiceView): Json {
    const weights = liveWeights(s.active, s.canaryWeight);
    const weight = (c: Color): number => weights[c];
    const action = {
      Type: "forward",
      ForwardConfig: {
        TargetGroups: (["blue", "green"] as const).map((c) => ({ ServiceName: `${s.name}-${c}`, ServicePort: "8080", Weight: weight(c) })),
        TargetGroupStickinessConfig: { Enabled: false },
      },
    };
    const paths = (backend: JsonObject): Json[] => Array.from({ length: this.pathCount(s.name) }, () => ({ pathType: "Prefix", backend }));
    return {
      metadata: { annotations: { [`alb.ingress.kubernetes.io/actions.${s.name}-live`]: JSON.stringify(action) } },
      spec: {
        rules: [
          { host: "live.example", http: { paths: paths({ service: { name: `${s.name}-live`, port: { name: "use-annotation" } } }) } },
          { host: "preview.example", http: { paths: paths({ service: { name: `${s.name}-${other(s.active)}`, port: { number: 8080 } } }) } },
        ],
      },
    };
  }

  private summaryOf(steps: ReadonlyArray<{ op: OpType; type: string }>): OpMap {
    const map: OpMap = {};
    // Default and explicit provider steps are not counted by the engine's summary when internal;
    // an explicit provider's update is (pulumi/pkg v3.276.0 engine/update.go:1440-1466, 1577-1585).
    for (const s of steps) {
      map[s.op] = (map[s.op] ?? 0) + 1;
    }
    const total = this.resources().length;
    map.same = Math.max(0, total - steps.length);
    return map;
  }

  private preEvent(s: Step, planning: boolean): EngineEvent {
    const detailedDiff: Record<string, { diffKind: DiffKind; inputDiff: boolean }> = {};
    for (const [k, v] of Object.entries(s.diff)) {
      detailedDiff[k] = { diffKind: v as DiffKind, inputDiff: false };
    }
    const metadata: StepEventMetadata = {
      op: s.op,
      urn: s.urn,
      type: s.type,
      provider: this.providerUrn(),
      // The Kubernetes provider leaves `diffs` empty and reports paths in `detailedDiff`.
      diffs: [],
      detailedDiff,
      keys: [],
      logical: true,
      ...(s.newInputs !== undefined ? { new: { type: s.type, urn: s.urn, id: "", parent: "", provider: this.providerUrn(), inputs: s.newInputs as Record<string, unknown>, outputs: {} } } : {}),
    };
    return this.event({ resourcePreEvent: { metadata, planning } });
  }

  private summaryEvent(steps: readonly Step[], result: "succeeded" | "failed" | "canceled", isPreview: boolean): EngineEvent {
    // The engine's summary carries `result` and `isPreview` at runtime although the SDK's typing omits them.
    const summary: SummaryEvent & { result: string; isPreview: boolean } = {
      maybeCorrupt: false,
      durationSeconds: 1,
      resourceChanges: this.summaryOf(steps),
      policyPacks: {},
      result,
      isPreview,
    };
    return this.event({ summaryEvent: summary });
  }

  /** Diagnostic 2013 for a target that depends on a resource the targeted run would not create. */
  private untargetedDependency(target: readonly string[] | undefined): string | undefined {
    if (target === undefined) {
      return undefined;
    }
    for (const svc of this.uncreated) {
      const ing = this.ingressUrn(svc);
      if (target.includes(ing)) {
        const dep = this.urn("aws:acm/certificate:Certificate", `${svc}-cert`, "platform:edge:Edge");
        return `Resource '${ing}' depends on '${dep}' which was was not specified in --target list.`;
      }
    }
    return undefined;
  }

  getConfig(key: string): Promise<Json | undefined> {
    this.begin({ op: "getConfig", key });
    const v = this.config.get(key);
    return Promise.resolve(v === undefined ? undefined : structuredClone(v));
  }

  setConfig(values: Readonly<Record<string, Json>>): Promise<void> {
    const call: Call = { op: "setConfig", keys: Object.keys(values) };
    const n = this.begin(call);
    const fault = this.takeFault("setConfig", n, call);
    if (fault !== undefined) {
      return Promise.reject(new Error(fault.message ?? "could not write Pulumi.<stack>.yaml"));
    }
    for (const [k, v] of Object.entries(values)) {
      this.config.set(k, structuredClone(v));
    }
    return Promise.resolve();
  }

  outputs(): Promise<Record<string, unknown>> {
    const call: Call = { op: "outputs" };
    const n = this.begin(call);
    const fault = this.takeFault("outputs", n, call);
    if (fault !== undefined) {
      return Promise.reject(new Error(fault.message ?? "code: 255\nstderr: error: failed to get stack outputs: read tcp: connection reset by peer"));
    }
    return Promise.resolve(this.currentOutputs());
  }

  /**
   * The outputs the program exports, in the shape of the output contract (`infra/outputs.ts`):
   * EKS stacks (staging, prod) add the preview host's health URL, the namespace and the cluster
   * name; the test host has neither. Health URLs point at the loopback health world.
   */
  currentOutputs(): Record<string, unknown> {
    const base = this.opts.baseUrl.replace(/\/$/, "");
    if (this.opts.legacyOutputs === true) {
      return this.legacyOutputs();
    }
    const color = (s: ServiceView, c: Color): JsonObject => ({ ...(s[c] !== undefined ? { image: s[c] } : {}), ...(s.parked.includes(c) ? { parked: true } : {}) });
    // The program reports an EKS stack's colors from the cluster's resources, the test host's from config.
    const fromResources = (this.opts.outputsFrom ?? (this.blueGreen ? "resources" : "config")) === "resources";
    const services = fromResources ? this.deployed() : viewServices(this.registered ?? this.deployedServices);
    return {
      environment: this.opts.environment,
      ...(this.blueGreen ? { cluster: { name: `${this.name}-cluster` } } : {}),
      services: services.map((s) => ({
        name: s.name,
        active: s.active,
        blue: color(s, "blue"),
        green: color(s, "green"),
        healthPath: s.healthPath,
        paths: s.paths,
        liveHealthUrl: `${base}/${this.name}/live/${s.name}${s.healthPath}`,
        ...(this.blueGreen ? { previewHealthUrl: `${base}/${this.name}/preview/${s.name}${s.healthPath}`, namespace: "apps" } : {}),
        ...(s.canaryWeight !== undefined ? { canaryWeight: s.canaryWeight } : {}),
      })),
      releases: structuredClone(this.deployedReleases),
    };
  }

  /** An older program's outputs: base URLs instead of health URLs, which the contract does not know. */
  legacyOutputs(): Record<string, unknown> {
    const base = this.opts.baseUrl.replace(/\/$/, "");
    return {
      environment: this.opts.environment,
      services: this.deployed().map((s) => ({ name: s.name, active: s.active, blue: {}, green: {}, healthPath: s.healthPath, liveUrl: `${base}/${this.name}/live/${s.name}` })),
    };
  }

  exportStack(): Promise<StackState> {
    const call: Call = { op: "exportStack" };
    const n = this.begin(call);
    const fault = this.takeFault("exportStack", n, call);
    if (fault !== undefined) {
      return Promise.reject(new Error(fault.message ?? "stack export failed"));
    }
    const deployment = {
      manifest: { time: new Date().toISOString(), magic: "memory", version: "v3" },
      resources: this.resources(),
      pending_operations: this.pending.map((p) => ({ type: p.type, resource: { urn: p.urn, type: p.urn.split("::")[2] ?? "" } })),
    };
    return Promise.resolve({ version: 3, deployment });
  }

  updateLocks(): Promise<LockReport> {
    this.begin({ op: "updateLocks" });
    const dir = `file:///state/.pulumi/locks/organization/${PROJECT}/${this.name}`;
    const locks: UpdateLock[] = [];
    if (this.lockHeld) {
      locks.push({ file: `${dir}/self.json`, pid: process.pid, username: "ci", hostname: "runner", timestamp: new Date().toISOString(), alive: true });
    }
    const f = this.opts.foreignLock;
    if (f !== undefined) {
      locks.push({ file: `${dir}/other.json`, pid: f.pid, username: "someone", hostname: f.hostname, timestamp: "2026-03-04T05:06:07Z", alive: f.alive });
    }
    return Promise.resolve({ supported: true, locks });
  }

  /** The updates a refresh reveals: each drifted Deployment the plan does not already update. */
  private driftSteps(planned: readonly Step[]): Step[] {
    if (!this.blueGreen) {
      return [];
    }
    return [...this.drifted]
      .map((name): Step => {
        const [svc, color] = [name.slice(0, name.lastIndexOf("-")), name.slice(name.lastIndexOf("-") + 1) as Color];
        return { op: "update", urn: this.deploymentUrn(svc, color), type: "kubernetes:apps/v1:Deployment", diff: { "spec.template.spec.containers[0].image": "update" } };
      })
      .filter((d) => !planned.some((p) => p.urn === d.urn));
  }

  async preview(opts: OperationOptions): Promise<PreviewOutcome> {
    const call: Call = { op: "preview", message: opts.message, policyPacks: opts.policyPacks, policyPackConfigs: opts.policyPackConfigs, target: opts.target, expectNoChanges: opts.expectNoChanges, refresh: opts.refresh };
    const n = this.begin(call);
    if (opts.signal?.aborted === true) {
      throw new Error("preview canceled");
    }
    // No lock check: the DIY backend does not lock previews.
    const steps = this.plan(this.configServices(), opts.target);
    if (opts.refresh === true) {
      steps.push(...this.driftSteps(steps));
    }
    const stateful = this.takeFault("preview", n, call, ["stateful-replace"]);
    if (stateful !== undefined) {
      steps.push({ op: "replace", urn: this.rdsUrn(), type: "aws:rds/instance:Instance", diff: { engineVersion: "update-replace" } });
    }
    for (const s of steps) {
      opts.onEvent?.(this.preEvent(s, true));
    }
    const advisory = this.takeFault("preview", n, call, ["policy-advisory"]);
    if (advisory !== undefined) {
      opts.onEvent?.(this.event({ policyEvent: this.policy("warning", advisory.message ?? "resource lacks a cost-center tag") }));
    }
    const mandatoryFault = this.takeFault("preview", n, call, ["policy-mandatory"]);
    if (mandatoryFault !== undefined) {
      opts.onEvent?.(this.event({ policyEvent: this.policy("mandatory", mandatoryFault.message ?? "container image must be pinned by digest") }));
      opts.onEvent?.(this.event({ diagnosticEvent: { message: "preview failed: 1 mandatory policy violation", color: "never", severity: "error" } }));
      opts.onEvent?.(this.summaryEvent(steps, "failed", true));
      throw new Error("code: 255\nstderr: error: preview failed");
    }
    // In preview the engine keeps going past an untargeted dependency, then ends failed.
    const dependency = this.untargetedDependency(opts.target);
    const error = this.takeFault("preview", n, call, ["error"]);
    if (error !== undefined || dependency !== undefined) {
      opts.onEvent?.(this.event({ diagnosticEvent: { message: dependency ?? error?.message ?? "program failed", color: "never", severity: "error" } }));
      opts.onEvent?.(this.summaryEvent(steps, "failed", true));
      throw new Error("code: 255\nstderr: error: preview failed");
    }
    if (this.takeFault("preview", n, call, ["no-summary"]) === undefined) {
      opts.onEvent?.(this.summaryEvent(steps, "succeeded", true));
    }
    return { changeSummary: this.summaryOf(steps) };
  }

  private policy(level: "warning" | "mandatory", message: string): NonNullable<EngineEvent["policyEvent"]> {
    return {
      resourceUrn: this.rdsUrn(),
      message,
      color: "never",
      policyName: level === "mandatory" ? "images-pinned-by-digest" : "cost-center-tag",
      policyPackName: "platform-policies",
      policyPackVersion: "1.0.0",
      policyPackVersionTag: "1.0.0",
      enforcementLevel: level,
    };
  }

  /** Applies the planned steps to the "cloud" (the deployed config). */
  private apply(steps: readonly Step[], target?: readonly string[]): void {
    this.applyServices(steps, target);
    this.pendingProvider = false;
    if (steps.some((st) => st.urn === this.rdsUrn() && st.op === "replace")) {
      this.rdsReplaced = true;
      this.pendingRds = false;
    }
    // The Ingress now asks for the deployed active color; the controller applies it to the listener rule later.
    if (this.blueGreen) {
      for (const s of this.deployed()) {
        this.lb?.desireWeights(this.name, s.name, liveWeights(s.active, s.canaryWeight));
      }
    }
  }

  private applyServices(steps: readonly Step[], target?: readonly string[]): void {
    if (target === undefined) {
      this.deployedServices = structuredClone(this.config.get("platform:services") ?? []);
      this.deployedReleases = structuredClone(this.config.get("platform:releases") ?? {});
      this.pendingIngress.clear();
      this.uncreated.clear();
      return;
    }
    // A targeted update gives each target its full desired state: a targeted Ingress and Service
    // move the active color; a targeted Deployment takes its color's image and parked flag.
    const desired = this.configServices();
    const deployed = this.deployedServices;
    if (!Array.isArray(deployed)) {
      return;
    }
    const changed = new Set(steps.map((s) => s.urn));
    for (const entry of deployed) {
      if (!isJsonObject(entry)) {
        continue;
      }
      const name = String(entry["name"]);
      const want = desired.find((d) => d.name === name);
      if (want === undefined) {
        continue;
      }
      if (changed.has(this.ingressUrn(name))) {
        entry["active"] = want.active;
        if (want.canaryWeight === undefined) {
          delete entry["canaryWeight"];
        } else {
          entry["canaryWeight"] = want.canaryWeight;
        }
        this.pendingIngress.delete(name);
      }
      for (const c of ["blue", "green"] as const) {
        if (changed.has(this.deploymentUrn(name, c))) {
          entry[c] = { ...(want[c] !== undefined ? { image: want[c] } : {}), ...(want.parked.includes(c) ? { parked: true } : {}) };
        }
      }
    }
  }

  /**
   * Another field manager owns `spec.replicas` of a color the step would re-apply replicas to:
   * the apiserver refuses the apply (pulumi-kubernetes v4.25.0 pkg/await/await.go:700-716).
   */
  private ssaConflict(steps: readonly Step[]): string | undefined {
    for (const st of steps) {
      const name = st.urn.slice(st.urn.lastIndexOf("::") + 2);
      if (st.type === "kubernetes:apps/v1:Deployment" && "spec.replicas" in st.diff && (this.opts.scaledByHpa ?? []).includes(name)) {
        return [
          "Server-Side Apply field conflict detected. See https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/#handle-field-conflicts-on-existing-resources for troubleshooting help.",
          `The resource managed by field manager "pulumi-kubernetes-4a1b2c3d" had an apply conflict: Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "scale" using apps/v1: .spec.replicas`,
        ].join("\n");
      }
    }
    return undefined;
  }

  /**
   * The terminal's Ctrl-C reaching the CLI directly (it is in the terminal's foreground process
   * group, like the driver). Counted with the signals the SDK sends on abort.
   */
  terminalInterrupt(): void {
    this.running?.onSignal();
  }

  /**
   * Runs an update's steps over `ms`. The first signal cancels: no new step starts, the in-flight
   * ones end at once (the Kubernetes provider cancels every await, and its PATCH has already been
   * sent, so the change is applied while the step is reported failed) and the CLI exits non-zero.
   * The second terminates: the CLI exits without writing the checkpoint, so the steps stay pending
   * operations in the state (pulumi/pkg v3.276.0 backend/cancellation_scope.go:64-118,
   * engine/update.go:1408-1412; pulumi-kubernetes v4.25.0 pkg/provider/provider.go:2365-2368).
   * `signals` counts both the terminal's Ctrl-C (`terminalInterrupt`) and the SDK's SIGINT on abort.
   */
  private run(ms: number, signal: AbortSignal | undefined, steps: readonly Step[], target: readonly string[] | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.signals = 0;
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onSignal);
        this.running = undefined;
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      let cancelling: NodeJS.Timeout | undefined;
      const onSignal = (): void => {
        this.signals++;
        if (this.signals === 1) {
          // The provider's awaits end on cancel; the CLI then writes the checkpoint and exits (a moment later).
          cancelling = setTimeout(() => {
            finish();
            this.apply(steps, target);
            reject(new Error("code: 255\nstderr: error: update canceled"));
          }, 20);
          return;
        }
        clearTimeout(cancelling);
        finish();
        for (const st of steps) {
          this.pending.push({ type: st.op === "create" ? "creating" : st.op === "delete" ? "deleting" : "updating", urn: st.urn });
        }
        reject(new Error("code: 255\nstderr: error: ^C received; terminating"));
      };
      this.running = { onSignal };
      if (signal?.aborted === true) {
        onSignal();
      } else {
        signal?.addEventListener("abort", onSignal, { once: true });
      }
    });
  }

  async up(opts: OperationOptions): Promise<UpOutcome> {
    const call: Call = { op: "up", message: opts.message, target: opts.target, policyPacks: opts.policyPacks, policyPackConfigs: opts.policyPackConfigs, refresh: opts.refresh };
    const n = this.begin(call);
    if (opts.signal?.aborted === true) {
      // The SDK adds its abort listener when the call starts: an already-aborted signal never fires,
      // so the update would run to completion. The driver must not call up then.
      throw new Error("test stand-in: up called with an already aborted signal (the real SDK would run it uninterrupted)");
    }
    if (this.takeFault("up", n, call, ["concurrent"]) !== undefined || (this.opts.foreignLock !== undefined && this.opts.foreignLock.alive !== false)) {
      throw new ConcurrentUpdateError(`code: 255\nstderr: error: the stack is currently locked by 1 lock(s)`);
    }
    const dependency = this.untargetedDependency(opts.target);
    if (dependency !== undefined) {
      opts.onEvent?.(this.event({ diagnosticEvent: { message: dependency, color: "never", severity: "error" } }));
      throw new Error("code: 255\nstderr: error: update failed");
    }
    const steps = this.plan(this.configServices(), opts.target);
    if (opts.refresh === true) {
      steps.push(...this.driftSteps(steps));
    }
    // The program ran: its outputs (from config) are registered whatever happens to the steps.
    this.registered = structuredClone(this.config.get("platform:services") ?? []);
    this.lockHeld = true;
    try {
      for (const s of steps) {
        opts.onEvent?.(this.preEvent(s, false));
      }
      if (this.opts.upDelayMs !== undefined) {
        await this.run(this.opts.upDelayMs, opts.signal, steps, opts.target);
      }
      const conflict = this.ssaConflict(steps);
      if (conflict !== undefined) {
        opts.onEvent?.(this.event({ diagnosticEvent: { message: conflict, color: "never", severity: "error" } }));
        opts.onEvent?.(this.summaryEvent(steps, "failed", false));
        throw new Error("code: 255\nstderr: error: update failed");
      }
      const readiness = this.takeFault("up", n, call, ["readiness"]);
      if (readiness !== undefined) {
        // The new pods were created (the Deployment changed) but never became ready.
        this.apply(steps, opts.target);
        const urn = steps[0]?.urn ?? this.stackUrn();
        opts.onEvent?.(
          this.event({
            diagnosticEvent: {
              urn,
              message: readiness.message ?? "1 error occurred:\n\t* timed out waiting for the condition: Deployment not ready (0/2 replicas available)",
              color: "never",
              severity: "error",
            },
          }),
        );
        opts.onEvent?.(this.event({ resOpFailedEvent: { metadata: { op: "update", urn, type: "kubernetes:apps/v1:Deployment", provider: "" }, status: 1, steps: 1 } }));
        opts.onEvent?.(this.summaryEvent(steps, "failed", false));
        throw new Error("code: 255\nstderr: error: update failed");
      }
      const error = this.takeFault("up", n, call, ["error"]);
      if (error !== undefined) {
        opts.onEvent?.(this.event({ diagnosticEvent: { message: error.message ?? "provider error: throttled", color: "never", severity: "error" } }));
        opts.onEvent?.(this.summaryEvent(steps, "failed", false));
        throw new Error("code: 255\nstderr: error: update failed");
      }
      this.apply(steps, opts.target);
      if (opts.refresh === true && opts.target === undefined) {
        this.drifted.clear();
      }
      for (const s of steps) {
        opts.onEvent?.(this.event({ resOutputsEvent: { metadata: { op: s.op, urn: s.urn, type: s.type, provider: "" } } }));
      }
      opts.onEvent?.(this.summaryEvent(steps, "succeeded", false));
    } finally {
      this.lockHeld = false;
    }
    // After the CLI exited 0 the SDK reads `stack output` and `stack history`; either can fail.
    const readFailure = this.takeFault("up", n, call, ["read-after-success"]);
    if (readFailure !== undefined) {
      throw new Error(readFailure.message ?? "code: 255\nstderr: error: could not read stack history: 503 Service Unavailable");
    }
    const changes = this.summaryOf(steps);
    const legacy = this.takeFault("up", n, call, ["legacy-outputs"]) !== undefined;
    return { result: "succeeded", resourceChanges: changes, outputs: legacy ? this.legacyOutputs() : this.currentOutputs() };
  }
}

interface Step {
  readonly op: OpType;
  readonly urn: string;
  readonly type: string;
  /** detailedDiff: property path -> diff kind. */
  readonly diff: Readonly<Record<string, string>>;
  readonly newInputs?: Json;
}
