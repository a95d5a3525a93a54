/**
 * What the driver's commands run with: the ports (./ports) and the settings of one invocation.
 * The CLI builds it from the real adapters; the tests from stand-ins.
 */
import {
  BackupStore,
  CanaryMetrics,
  Clock,
  HealthGateSettings,
  HealthProber,
  ImageResolver,
  LoadBalancerRouting,
  Logger,
  Notifier,
  PlatformStack,
  TargetHealthChecker,
} from "./ports";
import { BackoffPolicy } from "./backoff";

export interface PolicyOptions {
  /** Policy pack directories passed to `preview`/`up` (`--policy-pack`). */
  readonly packs: readonly string[];
  /** Per-stack policy config JSON files (`--policy-pack-config`). */
  readonly configs: readonly string[];
}

export interface RunContext {
  /** Link to the CI run, recorded in messages, release records and notifications. */
  readonly runUrl?: string;
  readonly actor?: string;
}

export interface DriverDeps {
  readonly openStack: (name: string) => Promise<PlatformStack>;
  readonly prober: HealthProber;
  readonly targetHealth: TargetHealthChecker;
  /** The listener rules as the load balancer holds them (a switch is verified there). */
  readonly routing: LoadBalancerRouting;
  /** The load balancer's per-color metrics a canary step is judged by. */
  readonly metrics: CanaryMetrics;
  readonly resolver: ImageResolver;
  readonly notifier: Notifier;
  readonly backups: BackupStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborted by the CLI on SIGINT/SIGTERM, with an `Interrupt` as reason: the driver stops at the next step. */
  readonly signal: AbortSignal;
  /**
   * What the Pulumi CLI child is sent on (the SDK sends it one SIGINT when this aborts). Separate
   * from `signal` because a terminal's Ctrl-C already reached the CLI, and a second SIGINT makes it
   * terminate instead of cancel; the CLI's entry point aborts it only for signals the child did not
   * get. Default: `signal`.
   */
  readonly cliSignal?: AbortSignal;
  readonly run: RunContext;
  readonly policyFor: (stack: string) => PolicyOptions;
  readonly backoff?: BackoffPolicy;
  /** [0, 1); injectable for deterministic backoff jitter. */
  readonly random?: () => number;
  /** Overrides on top of the stack's `platform:healthGate` config. */
  readonly healthGate?: Partial<HealthGateSettings>;
  /** How long the ALB may take to report every target of the new color healthy. */
  readonly targetHealthWait?: { readonly timeoutMs: number; readonly intervalMs: number };
  /** How long the load balancer may take to apply a switch to its listener rule. */
  readonly routingWait?: { readonly timeoutMs: number; readonly intervalMs: number };
  /**
   * Each canary step's analysis window in milliseconds, instead of the service's `stepSeconds`.
   * For the integration tier only: the config keeps whole minutes (the ALB's CloudWatch metrics
   * have 1-minute resolution), while the load-balancer double's counters are exact to the
   * millisecond, so a test can judge real traffic in seconds without weakening the config's rules.
   */
  readonly canaryWindowMs?: number;
  /** Receives Markdown for `$GITHUB_STEP_SUMMARY`. */
  readonly stepSummary?: (markdown: string) => void;
}

/** The message an operation records in the stack's history: what, by whom, from which CI run. */
export function operationMessage(deps: DriverDeps, what: string): string {
  const by = deps.run.actor !== undefined ? ` by ${deps.run.actor}` : "";
  const run = deps.run.runUrl !== undefined ? ` (${deps.run.runUrl})` : "";
  return `${what}${by}${run}`;
}
