/**
 * In-memory stand-in for the Automation API's Stack (the PlatformStack interface).
 *
 * It holds the stack file's config, a "deployed" copy of it (what the last successful `up`
 * applied: the cloud), the exported state with real-looking URNs following the blue/green
 * naming contract, and the outputs the program would export. Every call is recorded. Faults
 * can be injected at any operation; an `up` can be made slow so that an interrupt lands
 * while it runs. Previews emit resource and policy engine events like the real engine, so
 * the driver's event parsing runs on realistic input.
 */
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import type { EngineEvent, OpMap, OpType } from "@pulumi/pulumi/automation";
import { OperationOptions, PlatformStack, PreviewOutcome, StackState, UpOutcome } from "../../automation/ports";
import { isJsonObject, Json, JsonObject } from "../../automation/types";
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

export type Operation = "getConfig" | "setConfig" | "outputs" | "preview" | "up" | "exportStack";

export interface Call {
  readonly op: Operation;
  readonly key?: string;
  readonly keys?: readonly string[];
  readonly target?: readonly string[];
  readonly message?: string;
  readonly policyPacks?: readonly string[];
  readonly expectNoChanges?: boolean;
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
  | "legacy-outputs";

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
}

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

  constructor(readonly opts: MemoryStackOptions) {
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

  rdsUrn(): string {
    return this.urn("aws:rds/instance:Instance", `${this.name}-db`, "platform:data:Database");
  }

  private resources(): Array<{ urn: string; type: string }> {
    const out = [{ urn: this.stackUrn(), type: "pulumi:pulumi:Stack" }, { urn: this.rdsUrn(), type: "aws:rds/instance:Instance" }];
    for (const s of this.deployed()) {
      out.push({ urn: this.urn("platform:apps:BlueGreenService", s.name), type: "platform:apps:BlueGreenService" });
      if (!this.blueGreen) {
        continue;
      }
      for (const c of ["blue", "green"] as const) {
        out.push({ urn: this.deploymentUrn(s.name, c), type: "kubernetes:apps/v1:Deployment" });
        out.push({ urn: this.urn("kubernetes:core/v1:Service", `${s.name}-${c}`, "platform:apps:BlueGreenService"), type: "kubernetes:core/v1:Service" });
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

  private step(op: OpType, urn: string, type: string): { urn: string; type: string; op: OpType } {
    return { op, urn, type };
  }

  /** The steps that turn the deployed services into `desired` (optionally only flip targets). */
  private plan(desired: ServiceView[], target?: readonly string[]): Array<{ urn: string; type: string; op: OpType }> {
    const steps: Array<{ urn: string; type: string; op: OpType }> = [];
    const before = new Map(this.deployed().map((s) => [s.name, s] as const));
    for (const s of desired) {
      const old = before.get(s.name);
      if (old === undefined) {
        steps.push(this.step("create", this.urn("platform:apps:BlueGreenService", s.name), "platform:apps:BlueGreenService"));
        continue;
      }
      if (target === undefined) {
        for (const c of ["blue", "green"] as const) {
          if (old[c] !== s[c] || old.parked.includes(c) !== s.parked.includes(c)) {
            steps.push(
              this.blueGreen
                ? this.step("update", this.deploymentUrn(s.name, c), "kubernetes:apps/v1:Deployment")
                : this.step("update", this.urn("platform:compute:TestHost", "test-host"), "platform:compute:TestHost"),
            );
          }
        }
      }
      if (this.blueGreen && old.active !== s.active) {
        const ing = this.ingressUrn(s.name);
        const act = this.activeUrn(s.name);
        if (target === undefined || (target.includes(ing) && target.includes(act))) {
          steps.push(this.step("update", ing, "kubernetes:networking.k8s.io/v1:Ingress"), this.step("update", act, "kubernetes:core/v1:Service"));
        }
      }
    }
    return steps;
  }

  private summaryOf(steps: ReadonlyArray<{ op: OpType }>): OpMap {
    const map: OpMap = {};
    for (const s of steps) {
      map[s.op] = (map[s.op] ?? 0) + 1;
    }
    const total = this.resources().length;
    map.same = Math.max(0, total - steps.length);
    return map;
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
    this.begin({ op: "outputs" });
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
    return {
      environment: this.opts.environment,
      ...(this.blueGreen ? { cluster: { name: `${this.name}-cluster` } } : {}),
      services: this.deployed().map((s) => ({
        name: s.name,
        active: s.active,
        blue: color(s, "blue"),
        green: color(s, "green"),
        healthPath: s.healthPath,
        liveHealthUrl: `${base}/${this.name}/live/${s.name}${s.healthPath}`,
        ...(this.blueGreen ? { previewHealthUrl: `${base}/${this.name}/preview/${s.name}${s.healthPath}`, namespace: "apps" } : {}),
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
      pending_operations: (this.opts.pendingOperations ?? []).map((p) => ({ type: p.type, resource: { urn: p.urn, type: "aws:rds/instance:Instance" } })),
    };
    return Promise.resolve({ version: 3, deployment });
  }

  async preview(opts: OperationOptions): Promise<PreviewOutcome> {
    const call: Call = { op: "preview", message: opts.message, policyPacks: opts.policyPacks, target: opts.target, expectNoChanges: opts.expectNoChanges };
    const n = this.begin(call);
    if (opts.signal?.aborted === true) {
      throw new Error("preview canceled");
    }
    const concurrent = this.takeFault("preview", n, call, ["concurrent"]);
    if (concurrent !== undefined) {
      throw new ConcurrentUpdateError(`code: 255\nstderr: error: the stack is currently locked by 1 lock(s)`);
    }
    const steps = this.plan(this.configServices(), opts.target);
    const stateful = this.takeFault("preview", n, call, ["stateful-replace"]);
    if (stateful !== undefined) {
      steps.push(this.step("replace", this.rdsUrn(), "aws:rds/instance:Instance"));
    }
    for (const s of steps) {
      opts.onEvent?.(this.event({ resourcePreEvent: { metadata: { op: s.op, urn: s.urn, type: s.type, provider: "" }, planning: true } }));
    }
    const advisory = this.takeFault("preview", n, call, ["policy-advisory"]);
    if (advisory !== undefined) {
      opts.onEvent?.(this.event({ policyEvent: this.policy("warning", advisory.message ?? "resource lacks a cost-center tag") }));
    }
    const mandatoryFault = this.takeFault("preview", n, call, ["policy-mandatory"]);
    if (mandatoryFault !== undefined) {
      opts.onEvent?.(this.event({ policyEvent: this.policy("mandatory", mandatoryFault.message ?? "container image must be pinned by digest") }));
      opts.onEvent?.(this.event({ diagnosticEvent: { message: "preview failed: 1 mandatory policy violation", color: "never", severity: "error" } }));
      throw new Error("code: 255\nstderr: error: preview failed");
    }
    const error = this.takeFault("preview", n, call, ["error"]);
    if (error !== undefined) {
      opts.onEvent?.(this.event({ diagnosticEvent: { message: error.message ?? "program failed", color: "never", severity: "error" } }));
      throw new Error("code: 255\nstderr: error: preview failed");
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

  private apply(target?: readonly string[]): void {
    this.applyServices(target);
    // The Ingress now asks for the deployed active color; the controller applies it to the listener rule later.
    if (this.blueGreen) {
      for (const s of this.deployed()) {
        this.lb?.desire(this.name, s.name, s.active);
      }
    }
  }

  private applyServices(target?: readonly string[]): void {
    const desired = this.configServices();
    if (target === undefined) {
      this.deployedServices = structuredClone(this.config.get("platform:services") ?? []);
      this.deployedReleases = structuredClone(this.config.get("platform:releases") ?? {});
      return;
    }
    // A targeted update changes only the targeted resources: the active color of services
    // whose ingress and active Service are both targeted.
    const deployed = this.deployedServices;
    if (!Array.isArray(deployed)) {
      return;
    }
    for (const entry of deployed) {
      if (!isJsonObject(entry)) {
        continue;
      }
      const name = String(entry["name"]);
      const want = desired.find((d) => d.name === name);
      if (want !== undefined && target.includes(this.ingressUrn(name)) && target.includes(this.activeUrn(name))) {
        entry["active"] = want.active;
      }
    }
  }

  private wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new Error("update canceled"));
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        // The real CLI finishes in-flight steps on SIGINT and exits non-zero.
        reject(new Error("code: 255\nstderr: error: update canceled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async up(opts: OperationOptions): Promise<UpOutcome> {
    const call: Call = { op: "up", message: opts.message, target: opts.target, policyPacks: opts.policyPacks };
    const n = this.begin(call);
    if (opts.signal?.aborted === true) {
      throw new Error("update canceled");
    }
    if (this.takeFault("up", n, call, ["concurrent"]) !== undefined) {
      throw new ConcurrentUpdateError(`code: 255\nstderr: error: the stack is currently locked by 1 lock(s)`);
    }
    const steps = this.plan(this.configServices(), opts.target);
    for (const s of steps) {
      opts.onEvent?.(this.event({ resourcePreEvent: { metadata: { op: s.op, urn: s.urn, type: s.type, provider: "" } } }));
    }
    if (this.opts.upDelayMs !== undefined) {
      await this.wait(this.opts.upDelayMs, opts.signal);
    }
    const readiness = this.takeFault("up", n, call, ["readiness"]);
    if (readiness !== undefined) {
      // The new pods were created (the Deployment changed) but never became ready.
      this.apply(opts.target);
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
      throw new Error("code: 255\nstderr: error: update failed");
    }
    const error = this.takeFault("up", n, call, ["error"]);
    if (error !== undefined) {
      opts.onEvent?.(this.event({ diagnosticEvent: { message: error.message ?? "provider error: throttled", color: "never", severity: "error" } }));
      throw new Error("code: 255\nstderr: error: update failed");
    }
    this.apply(opts.target);
    for (const s of steps) {
      opts.onEvent?.(this.event({ resOutputsEvent: { metadata: { op: s.op, urn: s.urn, type: s.type, provider: "" } } }));
    }
    const changes = this.summaryOf(steps);
    opts.onEvent?.(this.event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: changes, policyPacks: {} } }));
    const legacy = this.takeFault("up", n, call, ["legacy-outputs"]) !== undefined;
    return { result: "succeeded", resourceChanges: changes, outputs: legacy ? this.legacyOutputs() : this.currentOutputs() };
  }
}
