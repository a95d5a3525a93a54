/**
 * The ports: the small interfaces the driver runs against, and the data they carry. The real
 * implementations (./adapters) wrap the Automation API, node's HTTP client, the AWS SDK, the
 * file system and Discord; the tests use in-memory and loopback stand-ins. Nothing outside
 * ./adapters and the CLI's wiring imports a concrete implementation.
 */
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import type { Color } from "../infra/config/schema";
import type { Json } from "./types";

export type { EngineEvent, OpMap };

/* ---- the stack --------------------------------------------------------------------- */

/** Options the driver passes to `preview` and `up`; a subset of the Automation API's. */
export interface OperationOptions {
  /** Recorded in the stack's history: what and why. */
  readonly message?: string;
  readonly policyPacks?: readonly string[];
  readonly policyPackConfigs?: readonly string[];
  /** URNs to operate on; everything else is left alone (used by flips). */
  readonly target?: readonly string[];
  readonly expectNoChanges?: boolean;
  /**
   * Refresh before diffing (`--refresh`; in a preview the refresh stays in memory). Without it
   * the Kubernetes provider diffs old state against new inputs, never the live cluster
   * (pulumi-kubernetes v4.25.0 pkg/provider/provider.go:1409-1440), so drift is invisible.
   */
  readonly refresh?: boolean;
  /**
   * Aborting sends one SIGINT to the Pulumi CLI, which cancels: in-flight steps finish, no new ones
   * start. A second signal would make it terminate (pulumi/pkg v3.276.0 backend/cancellation_scope.go:64-118).
   */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
  readonly onOutput?: (text: string) => void;
}

export interface PreviewOutcome {
  readonly changeSummary: OpMap;
}

export interface UpOutcome {
  readonly result: string;
  readonly resourceChanges: OpMap;
  /** Plain values (secrets already unwrapped by the adapter are never logged). */
  readonly outputs: Record<string, unknown>;
}

/** `pulumi stack export` output: `deployment` holds `resources[]` and `pending_operations[]`. */
export interface StackState {
  readonly version: number;
  readonly deployment: unknown;
  /** The export exactly as the CLI printed it (what a backup stores, for `pulumi stack import`). */
  readonly raw?: string;
}

/** One lock file of a DIY backend: `<backend>/.pulumi/locks/organization/<project>/<stack>/<uuid>.json`. */
export interface UpdateLock {
  readonly file: string;
  readonly pid?: number;
  readonly username?: string;
  readonly hostname?: string;
  /** RFC 3339, as the CLI writes it. */
  readonly timestamp?: string;
  /** Whether the process holding it still runs: known only on the host that wrote it. */
  readonly alive?: boolean;
}

export interface LockReport {
  /** False when the backend's locks cannot be listed here (e.g. Pulumi Cloud); `locks` is then empty. */
  readonly supported: boolean;
  readonly locks: readonly UpdateLock[];
}

/**
 * One Pulumi stack, as much of it as the driver needs. Deliberately no refresh, destroy or
 * cancel: the driver never refreshes a whole stack and never cancels someone else's update.
 */
export interface PlatformStack {
  readonly name: string;
  /** A config value, structured values already parsed; undefined when the key is not set. */
  getConfig(key: string): Promise<Json | undefined>;
  /** Sets structured config values (written to Pulumi.<stack>.yaml by LocalWorkspace). */
  setConfig(values: Readonly<Record<string, Json>>): Promise<void>;
  /** The outputs of the last update, secrets unwrapped. */
  outputs(): Promise<Record<string, unknown>>;
  preview(opts: OperationOptions): Promise<PreviewOutcome>;
  up(opts: OperationOptions): Promise<UpOutcome>;
  exportStack(): Promise<StackState>;
  /**
   * The update locks held on the stack now. DIY backends lock updates (up, refresh, destroy,
   * import, stack import), never previews or reads (pulumi/pkg v3.276.0 backend/diy/backend.go:
   * 1212-1305), so a lock means an update is (or was, if its holder died) in progress.
   */
  updateLocks(): Promise<LockReport>;
}

/* ---- the stacks this repository defines ------------------------------------------------ */

/** What the CLI checks its arguments against before anything slow (no backend, no Pulumi CLI). */
export interface StackDescription {
  readonly name: string;
  /** `platform:environment`, when set. */
  readonly environment?: string;
  /** `platform:services[].name`. */
  readonly services: readonly string[];
  /** The stack file's whole `config:` map as written (keys fully qualified; `secure:` values stay encrypted). */
  readonly config: Readonly<Record<string, unknown>>;
}

/** The stacks as their stack files declare them (Pulumi.<stack>.yaml), read locally. */
export interface StackCatalog {
  names(): readonly string[];
  describe(stack: string): StackDescription | undefined;
}

/* ---- time and progress ------------------------------------------------------------- */

/** Time, injectable so that backoff and timeouts run instantly in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Where human-readable progress goes (stderr in the CLI, a buffer in tests). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /**
   * Starts the progress display of one Pulumi operation; `expectedSteps` (from a preceding
   * preview) lets it show done/total. Returns the engine-event handler and a function that
   * ends the progress line.
   */
  operation(label: string, expectedSteps?: number): { readonly onEvent: (event: EngineEvent) => void; end(): void };
}

/* ---- the HTTP health prober -------------------------------------------------------- */

export interface HealthGateSettings {
  /** Consecutive successful probes required. */
  readonly successes: number;
  /** A probe slower than this counts as a failure. */
  readonly latencyMs: number;
  /** The gate fails when it has not passed within this. */
  readonly timeoutMs: number;
  /** Pause between probes. */
  readonly intervalMs: number;
}

export interface HealthResult {
  readonly ok: boolean;
  readonly url: string;
  readonly attempts: number;
  /** Consecutive successes at the end. */
  readonly consecutive: number;
  readonly elapsedMs: number;
  /** Why the last failed probe failed (or "passed"). */
  readonly reason: string;
}

/**
 * What a probe's response must say about who answered it: `header` (matched case-insensitively)
 * must carry `value`. An image matches another reference pinned to the same digest too.
 */
export interface ProbeExpectation {
  readonly header: string;
  readonly value: string;
  readonly kind: "color" | "image";
}

export interface HealthProber {
  /**
   * Resolves with the verdict; rejects only when `signal` is aborted. With `expect`, a 2xx
   * response whose headers do not match counts as a failed probe (the wrong color answered).
   */
  probe(url: string, settings: HealthGateSettings, signal: AbortSignal, expect?: readonly ProbeExpectation[]): Promise<HealthResult>;
}

/* ---- the load balancer's target health --------------------------------------------- */

export interface TargetHealthQuery {
  readonly stack: string;
  readonly service: string;
  readonly color: Color;
  readonly region?: string;
  /** From the `cluster.name` output; narrows discovery to this cluster's target groups. */
  readonly clusterName?: string;
  /** Kubernetes namespace of the service (from outputs), when known. */
  readonly namespace?: string;
  /** Kubernetes name of the color's own Service, whose target group is checked. */
  readonly serviceName: string;
  /** A caller that already knows the target group skips discovery. */
  readonly targetGroupArn?: string;
}

export interface TargetHealthResult {
  readonly healthy: boolean;
  readonly detail: string;
}

export interface TargetHealthChecker {
  check(query: TargetHealthQuery, signal: AbortSignal): Promise<TargetHealthResult>;
}

/* ---- the load balancer's routing -------------------------------------------------- */

/** Which listener rule to read: the live rule of one service in the stack's IngressGroup. */
export interface RoutingQuery {
  readonly stack: string;
  readonly region?: string;
  /** From the `cluster.name` output; the controller tags its load balancers with it. */
  readonly clusterName?: string;
  /**
   * The IngressGroup (`alb.ingress.kubernetes.io/group.name`) every Ingress of the stack joins:
   * the stack's environment name. One ALB per group.
   */
  readonly ingressGroup: string;
  /** Kubernetes namespace of the service's Ingress and Services, when known. */
  readonly namespace?: string;
  readonly service: string;
  /** Host of the live rule (from the service's `liveHealthUrl`). */
  readonly liveHost: string;
  /** Path the live rule matches for the health URL (from `liveHealthUrl`). */
  readonly livePath: string;
  /** The path prefixes the ALB routes to the service (the `paths` output): one live rule each. */
  readonly paths: readonly string[];
  /** Kubernetes names of each color's own Service, whose target groups the rule forwards to. */
  readonly colorServices: Readonly<Record<Color, string>>;
}

export interface RoutingReading {
  /**
   * The weight the live rule forwards to each color's target group, as the ALB holds it now
   * (not as the Ingress asks for it). A color the rule does not forward to is absent.
   */
  readonly weights: ReadonlyMap<Color, number>;
  /** What was read, for logs: rule ARN, priority, target groups. */
  readonly detail: string;
  /**
   * The load balancer holding the rule, and each color's target group, when the reader found them
   * (the ELBv2 reader does: automation/adapters/albRouting.ts `LiveRouting`). A canary's analysis
   * reads their metrics, so a canary step fails without them.
   */
  readonly loadBalancerArn?: string;
  readonly targetGroupArns?: Readonly<Record<Color, string>>;
}

/**
 * The load balancer's routing, read back from the load balancer itself. The AWS Load Balancer
 * Controller applies an Ingress change to the listener rule asynchronously, after `up` returned;
 * only this read says that traffic really moved.
 */
export interface LoadBalancerRouting {
  /** Rejects when the rule cannot be read (no such load balancer or rule, API error). */
  liveWeights(query: RoutingQuery, signal: AbortSignal): Promise<RoutingReading>;
}

/* ---- the load balancer's per-color metrics ------------------------------------------ */

/** One analysis window of one service: the colors' target groups behind its live rule. */
export interface MetricsWindowQuery {
  readonly stack: string;
  readonly region?: string;
  readonly service: string;
  /** The load balancer's ARN (`...:loadbalancer/app/<name>/<id>`). */
  readonly loadBalancerArn: string;
  /** Each color's target group ARN (`...:targetgroup/<name>/<id>`). */
  readonly targetGroupArns: Readonly<Record<Color, string>>;
  /** Epoch milliseconds: the window is [from, to). */
  readonly from: number;
  readonly to: number;
}

/** What one color's targets got in a window, as the load balancer counted it. */
export interface ColorWindow {
  /** Requests the load balancer sent to the color's target group (0 when none were published). */
  readonly requests: number;
  /** Responses with a 5xx status from the color's targets. */
  readonly target5xx: number;
  /**
   * 5xx the load balancer itself answered for the color (502/503/504 from failed targets), where
   * the source can attribute them to a target group; undefined where it cannot (CloudWatch
   * publishes HTTPCode_ELB_5XX_Count per load balancer and zone only).
   */
  readonly elb5xx?: number;
  /** p99 of the targets' response time in milliseconds; undefined without a datapoint. */
  readonly p99Ms?: number;
  /** Most unhealthy targets seen in the window; undefined without a datapoint. */
  readonly unhealthyHosts?: number;
}

/**
 * The load balancer's own per-color metrics (production: CloudWatch `AWS/ApplicationELB`; the
 * integration tier's load-balancer double: its per-target-group counters).
 */
export interface CanaryMetrics {
  /** Rejects when the metrics cannot be read (API error, throttling); the step then aborts. */
  window(query: MetricsWindowQuery, signal: AbortSignal): Promise<Readonly<Record<Color, ColorWindow>>>;
}

/* ---- the image registry ------------------------------------------------------------ */

export interface ImageResolver {
  /** Returns `repo@sha256:<digest>` for `ref`; a digest-pinned ref is returned unchanged. */
  resolve(ref: string, signal: AbortSignal): Promise<string>;
}

/* ---- state backups ----------------------------------------------------------------- */

export interface BackupStore {
  /** Stores `state` verbatim (as exported, secrets still encrypted) and returns where it went. */
  save(stack: string, operation: string, state: StackState, at: number): Promise<string>;
}

/* ---- notifications ----------------------------------------------------------------- */

export type DeploymentKind = "promote" | "release" | "flip" | "rollback";

export type DeploymentResult =
  | "succeeded"
  | "no-op"
  | "rolled back"
  | "refused"
  | "policy violation"
  | "failed"
  | "manual intervention"
  | "locked"
  | "interrupted";

export interface ServiceReport {
  readonly service: string;
  readonly fromColor?: string;
  readonly toColor?: string;
  readonly oldImage?: string;
  readonly newImage?: string;
}

export interface PhaseReport {
  readonly name: string;
  readonly durationMs: number;
  readonly ok: boolean;
}

export interface DeploymentReport {
  readonly kind: DeploymentKind;
  readonly stack: string;
  /** Where the images came from: a source stack, or "release". */
  readonly source?: string;
  readonly services: readonly ServiceReport[];
  readonly result: DeploymentResult;
  readonly exitCode: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly phases: readonly PhaseReport[];
  readonly error?: string;
  readonly runUrl?: string;
  readonly actor?: string;
}

export interface NotifyOutcome {
  readonly delivered: boolean;
  readonly detail: string;
}

/**
 * A notification is a courtesy: its failure is reported in the driver's output but never
 * changes the deployment's result or exit code.
 */
export interface Notifier {
  /** Never rejects. */
  notify(report: DeploymentReport): Promise<NotifyOutcome>;
}
