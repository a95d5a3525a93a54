/**
 * The driver: promote, release, flip, rollback, status, preview and up, as plain functions
 * over the interfaces in ./types. The CLI and the tests call exactly these functions.
 *
 * Invariants every mutating function keeps:
 * - nothing changes before the up-front checks pass (pending operations, convergence of config
 *   and deployed state, verified digests, flip targets present);
 * - the stack is exported to a timestamped backup before the first change;
 * - a failure after the first infrastructure change restores the previous colors and images
 *   with exactly one more `up`, then verifies the restored state through the live host;
 * - a lock held by someone else is waited on with bounded backoff, never cancelled;
 * - an interrupt aborts the running operation, waits for it, restores the config file and
 *   reports what may be half-done; it starts no further `up` (a CI runner kills the job
 *   seconds after SIGTERM, and a half-finished restore is worse than a clear report);
 * - promote, release, flip and rollback send exactly one notification, whatever the outcome.
 */
import { Color, COLORS } from "../infra/config/schema";
import { BackoffPolicy, backoffDelays, DEFAULT_BACKOFF } from "./backoff";
import {
  ChangeSummary,
  collectFindings,
  formatSummary,
  hasChanges,
  mandatory,
  PlannedStep,
  PolicyViolation,
  PreviewFindings,
  previewMarkdown,
  statefulHazards,
  summarize,
  urnName,
} from "./changes";
import {
  DriverError,
  InterruptedError,
  interruptOf,
  isConcurrentUpdate,
  LockedError,
  messageOf,
  OperationError,
  PolicyViolationError,
  RefusedError,
  throwIfInterrupted,
  UsageError,
} from "./errors";
import { ExitCode } from "./exitCodes";
import { formatDuration } from "./format";
import { healthGateFromConfig } from "./gates/health";
import { parseImageRef, sameDigest, shortImage } from "./images";
import {
  DeployItem,
  deployModeOf,
  flipEdits,
  flipTargets,
  parkEdits,
  pendingOperations,
  pendingRemediation,
  planFlip,
  planStaging,
  ServiceChange,
  StagingPlan,
  stagingEdits,
} from "./planning";
import {
  editReleases,
  editServices,
  ENVIRONMENT_KEY,
  HEALTH_GATE_KEY,
  colorServiceName,
  healthUrlOf,
  Host,
  imageOf,
  isParked,
  parseReleases,
  parseServices,
  ReleaseEntry,
  RELEASES_KEY,
  ServiceEdit,
  ServiceEntry,
  SERVICES_KEY,
  readStackOutputs,
} from "./stackConfig";
import { ServiceOutput, StackOutputs } from "../infra/outputs";
import {
  BackupStore,
  Clock,
  DeploymentKind,
  DeploymentResult,
  EngineEvent,
  HealthGateSettings,
  HealthProber,
  ImageResolver,
  Logger,
  Notifier,
  NotifyOutcome,
  OperationOptions,
  PhaseReport,
  PlatformStack,
  ServiceReport,
  StackState,
  TargetHealthChecker,
  UpOutcome,
} from "./ports";
import { Json } from "./types";

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
  readonly resolver: ImageResolver;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborted by the CLI on SIGINT/SIGTERM, with an `Interrupt` as reason. */
  readonly signal: AbortSignal;
  /** Where the pre-change state export goes. */
  readonly backups: BackupStore;
  readonly run: RunContext;
  readonly policyFor: (stack: string) => PolicyOptions;
  readonly backoff?: BackoffPolicy;
  /** [0, 1); injectable for deterministic backoff jitter. */
  readonly random?: () => number;
  /** Overrides on top of the stack's `platform:healthGate` config. */
  readonly healthGate?: Partial<HealthGateSettings>;
  /** How long the ALB may take to report every target of the new color healthy. */
  readonly targetHealthWait?: { readonly timeoutMs: number; readonly intervalMs: number };
  /** Receives Markdown for `$GITHUB_STEP_SUMMARY`. */
  readonly stepSummary?: (markdown: string) => void;
}

export type OutcomeResult = DeploymentResult | "drift";

export interface ServiceStatus {
  readonly service: string;
  readonly active: Color;
  /** The active color per the last update's outputs, when they say. */
  readonly deployedActive?: Color;
  readonly blue?: string;
  readonly green?: string;
  /** Colors scaled to 0 (`<color>.parked`). */
  readonly parked: readonly Color[];
  /** The idle-color policy: `parked` has the driver park the idle color after a switch. */
  readonly idle: "warm" | "parked";
  readonly converged: boolean;
  readonly release?: ReleaseEntry;
  readonly liveHealthUrl?: string;
  readonly previewHealthUrl?: string;
}

/** What every command returns; `--json` prints it as is. */
export interface Outcome {
  readonly operation: string;
  readonly stack: string;
  readonly exitCode: ExitCode;
  readonly result: OutcomeResult;
  readonly message: string;
  readonly remediation: readonly string[];
  readonly services: readonly ServiceReport[];
  readonly phases: readonly PhaseReport[];
  readonly backup?: string;
  readonly notification?: NotifyOutcome;
  readonly changes?: ChangeSummary;
  readonly violations?: readonly PolicyViolation[];
  readonly hazards?: readonly PlannedStep[];
  readonly status?: readonly ServiceStatus[];
}

/** A failed gate (health, target health) after a change; triggers the restore. */
class GateFailure extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = "GateFailure";
  }
}

/** A failed `up` after it started changing resources; triggers the restore. */
class UpFailure extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = "UpFailure";
  }
}

const DEFAULT_TARGET_WAIT = { timeoutMs: 180_000, intervalMs: 5_000 };

/** Tracks one command's phases and how far it got, for restore decisions and the report. */
class Tx {
  readonly phases: PhaseReport[] = [];
  /** The stack's config file was changed. */
  configTouched = false;
  /** An `up` ran (or may have run) against the stack. */
  infraTouched = false;
  backup?: string;

  constructor(private readonly deps: DriverDeps) {}

  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    throwIfInterrupted(this.deps.signal);
    const t0 = this.deps.clock.now();
    try {
      const value = await fn();
      this.phases.push({ name, durationMs: this.deps.clock.now() - t0, ok: true });
      return value;
    } catch (err) {
      this.phases.push({ name, durationMs: this.deps.clock.now() - t0, ok: false });
      if (this.deps.signal.aborted) {
        throw new InterruptedError(interruptOf(this.deps.signal));
      }
      throw err;
    }
  }
}

/* ----------------------------------------------------------------------------------------
 * Operations on a stack: locking, progress, classification of failures.
 * -------------------------------------------------------------------------------------- */

async function withLockRetry<T>(deps: DriverDeps, stack: string, what: string, fn: () => Promise<T>): Promise<T> {
  const policy = deps.backoff ?? DEFAULT_BACKOFF;
  const delays = backoffDelays(policy, deps.random);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (deps.signal.aborted) {
        throw new InterruptedError(interruptOf(deps.signal));
      }
      if (!isConcurrentUpdate(err)) {
        throw err;
      }
      const delay = delays[attempt - 1];
      if (delay === undefined) {
        throw new LockedError(stack, attempt);
      }
      deps.log.warn(
        `${what}: stack "${stack}" is locked by another update (attempt ${attempt}/${policy.attempts}); waiting ${formatDuration(delay)}. Not cancelling it.`,
      );
      try {
        await deps.clock.sleep(delay, deps.signal);
      } catch {
        throw new InterruptedError(interruptOf(deps.signal));
      }
    }
  }
}

interface PreviewRun {
  readonly summary: ChangeSummary;
  readonly findings: PreviewFindings;
  readonly hazards: readonly PlannedStep[];
}

/** A policy-gated preview. Throws PolicyViolationError on a mandatory violation, OperationError on any other failure. */
async function runPreview(deps: DriverDeps, stack: PlatformStack, label: string, message: string): Promise<PreviewRun> {
  const events: EngineEvent[] = [];
  const policy = deps.policyFor(stack.name);
  const progress = deps.log.operation(label);
  const opts: OperationOptions = {
    message,
    policyPacks: policy.packs,
    policyPackConfigs: policy.configs,
    signal: deps.signal,
    onEvent: (e) => {
      events.push(e);
      progress.onEvent(e);
    },
  };
  try {
    const result = await withLockRetry(deps, stack.name, label, () => {
      events.length = 0;
      return stack.preview(opts);
    });
    const findings = collectFindings(events);
    const blocking = mandatory(findings.violations);
    if (blocking.length > 0) {
      throw new PolicyViolationError(blocking);
    }
    return { summary: summarize(result.changeSummary), findings, hazards: statefulHazards(findings.steps) };
  } catch (err) {
    if (err instanceof DriverError) {
      throw err;
    }
    // With a mandatory violation the CLI exits non-zero: the events say why.
    const findings = collectFindings(events);
    const blocking = mandatory(findings.violations);
    if (blocking.length > 0) {
      throw new PolicyViolationError(blocking);
    }
    const why = (findings.errors[0] ?? firstLine(messageOf(err))).replace(/\s+/g, " ").trim();
    throw new OperationError(`preview of "${stack.name}" failed: ${why}`, findings.errors.slice(1, 6));
  } finally {
    progress.end();
  }
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "" && !/^code: |^stdout: |^stderr: /.test(l.trim()));
  return (line ?? text).trim().slice(0, 500);
}

/** Whether an up failure came from the Kubernetes provider's readiness await. */
function readinessFailure(errors: readonly string[]): boolean {
  return errors.some((e) => /timed out|timeout|not ready|did not become ready|rollout/i.test(e));
}

/**
 * One `up`. Marks the transaction as having touched infrastructure unless the lock was never
 * acquired (LockedError: every attempt was refused before the engine started).
 */
async function runUp(
  deps: DriverDeps,
  tx: Tx,
  stack: PlatformStack,
  phase: string,
  opts: { readonly message: string; readonly target?: readonly string[]; readonly expectedSteps?: number },
): Promise<UpOutcome> {
  const events: EngineEvent[] = [];
  const progress = deps.log.operation(`${stack.name} ${phase}`, opts.expectedSteps);
  const touchedBefore = tx.infraTouched;
  try {
    const result = await withLockRetry(deps, stack.name, phase, () => {
      tx.infraTouched = true;
      return stack.up({
        message: opts.message,
        target: opts.target,
        signal: deps.signal,
        onEvent: (e) => {
          events.push(e);
          progress.onEvent(e);
        },
      });
    });
    return result;
  } catch (err) {
    if (err instanceof LockedError) {
      // withLockRetry only gives up on lock errors: no attempt got past the lock.
      tx.infraTouched = touchedBefore || events.some((e) => e.resourcePreEvent !== undefined);
      throw err;
    }
    if (err instanceof DriverError) {
      throw err;
    }
    const errors = collectFindings(events).errors;
    // One line: the message goes into logs, notifications and CI annotations.
    const why = (errors[0] ?? firstLine(messageOf(err))).replace(/\s+/g, " ").trim();
    const kind = readinessFailure(errors) ? "readiness" : "update";
    throw new UpFailure(phase, `${phase} up failed (${kind}): ${why}`);
  } finally {
    progress.end();
  }
}

/* ----------------------------------------------------------------------------------------
 * Gates.
 * -------------------------------------------------------------------------------------- */

interface GateCheck {
  readonly service: string;
  readonly out: ServiceOutput | undefined;
}

async function healthGate(deps: DriverDeps, phase: string, host: Host, checks: readonly GateCheck[], settings: HealthGateSettings): Promise<void> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const url = c.out === undefined ? undefined : healthUrlOf(c.out, host);
      if (url === undefined) {
        return `${c.service}: the stack outputs give no ${host} health URL (services[].${host}HealthUrl)`;
      }
      deps.log.info(`${phase}: probing ${c.service} at ${url} (${settings.successes} consecutive successes, each < ${settings.latencyMs} ms)`);
      const r = await deps.prober.probe(url, settings, deps.signal);
      if (r.ok) {
        deps.log.info(`${phase}: ${c.service} healthy after ${r.attempts} probe(s)`);
        return undefined;
      }
      return `${c.service}: ${r.reason}`;
    }),
  ).catch((err: unknown) => {
    if (deps.signal.aborted) {
      throw new InterruptedError(interruptOf(deps.signal));
    }
    throw err;
  });
  const failures = results.filter((r): r is string => r !== undefined);
  if (failures.length > 0) {
    throw new GateFailure(phase, `${host} health gate failed: ${failures.join("; ")}`);
  }
}

interface TargetCheck {
  readonly service: string;
  readonly color: Color;
  readonly out: ServiceOutput | undefined;
}

async function targetHealthGate(deps: DriverDeps, stack: string, region: string | undefined, outputs: StackOutputs | undefined, checks: readonly TargetCheck[]): Promise<void> {
  const wait = deps.targetHealthWait ?? DEFAULT_TARGET_WAIT;
  const deadline = deps.clock.now() + wait.timeoutMs;
  for (const c of checks) {
    const query = {
      stack,
      service: c.service,
      color: c.color,
      region,
      clusterName: outputs?.clusterName,
      namespace: c.out?.namespace,
      serviceName: colorServiceName(c.service, c.color, c.out),
    };
    for (;;) {
      throwIfInterrupted(deps.signal);
      let detail: string;
      try {
        const r = await deps.targetHealth.check(query, deps.signal);
        if (r.healthy) {
          deps.log.info(`target-health: ${c.service} (${c.color}): ${r.detail}`);
          break;
        }
        detail = r.detail;
      } catch (err) {
        throwIfInterrupted(deps.signal);
        detail = `target health check failed: ${messageOf(err)}`;
      }
      if (deps.clock.now() + wait.intervalMs > deadline) {
        throw new GateFailure("target-health", `${c.service} (${c.color}): ${detail}`);
      }
      deps.log.info(`target-health: ${c.service} (${c.color}) not yet healthy: ${detail}`);
      try {
        await deps.clock.sleep(wait.intervalMs, deps.signal);
      } catch {
        throw new InterruptedError(interruptOf(deps.signal));
      }
    }
  }
}

/* ----------------------------------------------------------------------------------------
 * Shared pieces.
 * -------------------------------------------------------------------------------------- */

function gateSettings(deps: DriverDeps, raw: Json | undefined): HealthGateSettings {
  return { ...healthGateFromConfig(raw), ...deps.healthGate };
}

function operationMessage(deps: DriverDeps, what: string): string {
  const by = deps.run.actor !== undefined ? ` by ${deps.run.actor}` : "";
  const run = deps.run.runUrl !== undefined ? ` (${deps.run.runUrl})` : "";
  return `${what}${by}${run}`;
}

async function checkPending(stack: string, state: StackState): Promise<void> {
  const pending = pendingOperations(state);
  if (pending.length > 0) {
    throw new RefusedError(`stack "${stack}" has ${pending.length} pending operation(s) from an interrupted update`, pendingRemediation(stack, pending));
  }
}

/**
 * Config and deployed state must agree on what serves traffic before traffic is moved:
 * with a stale config the "idle" color could be the live one, and staging into it would
 * replace the live image without any gate.
 */
function checkConverged(stack: string, services: readonly ServiceEntry[], outputs: StackOutputs | undefined, colorsToCheck: (s: ServiceEntry) => readonly Color[]): void {
  const problems: string[] = [];
  for (const s of services) {
    const out = outputs?.services.get(s.name);
    if (out === undefined) {
      continue; // never deployed: nothing to disagree with
    }
    if (out.active !== undefined && out.active !== s.active) {
      problems.push(`${s.name}: config says ${s.active} is active, the stack serves ${out.active}`);
    }
    for (const color of colorsToCheck(s)) {
      const deployed = out[color]?.image;
      const configured = imageOf(s, color);
      if (deployed !== undefined && configured !== undefined && deployed !== configured) {
        problems.push(`${s.name}: ${color} is ${shortImage(configured)} in config but ${shortImage(deployed)} in the stack`);
      }
      // A color the config thinks is running but the stack has parked would take traffic with no pods.
      const deployedParked = out[color]?.parked ?? false;
      if (deployedParked !== isParked(s, color)) {
        problems.push(`${s.name}: ${color} is ${isParked(s, color) ? "parked" : "running"} in config but ${deployedParked ? "parked" : "running"} in the stack`);
      }
    }
  }
  if (problems.length > 0) {
    throw new RefusedError(`stack "${stack}": config and deployed state disagree (${problems.join("; ")})`, [
      `run \`npm run platform -- preview ${stack}\` to see the difference, then \`up ${stack}\` (or revert Pulumi.${stack}.yaml) before moving traffic`,
    ]);
  }
}

function resultOf(err: unknown): { readonly result: OutcomeResult; readonly exitCode: ExitCode } {
  if (err instanceof PolicyViolationError) {
    return { result: "policy violation", exitCode: ExitCode.PolicyViolation };
  }
  if (err instanceof RefusedError) {
    return { result: "refused", exitCode: ExitCode.Refused };
  }
  if (err instanceof LockedError) {
    return { result: "locked", exitCode: ExitCode.Locked };
  }
  if (err instanceof InterruptedError) {
    return { result: "interrupted", exitCode: err.exitCode };
  }
  if (err instanceof DriverError) {
    return { result: "failed", exitCode: err.exitCode };
  }
  return { result: "failed", exitCode: ExitCode.Error };
}

function remediationOf(err: unknown): readonly string[] {
  return err instanceof DriverError ? err.remediation : [];
}

interface RestoreResult {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * The common failure path of promote, release, flip and rollback. `restoreConfig` puts the
 * config file back; `restoreInfra` runs the one restoring `up` and verifies it.
 */
async function settleFailure(
  deps: DriverDeps,
  tx: Tx,
  stack: string,
  err: unknown,
  restoreConfig: (() => Promise<void>) | undefined,
  restoreInfra: (() => Promise<RestoreResult>) | undefined,
  handle?: PlatformStack,
): Promise<{ readonly result: OutcomeResult; readonly exitCode: ExitCode; readonly message: string; readonly remediation: string[] }> {
  const message = messageOf(err);
  const remediation = [...remediationOf(err)];
  const backupHint = tx.backup !== undefined ? [`state backup: ${tx.backup}`] : [];

  if (err instanceof InterruptedError || !tx.infraTouched || restoreInfra === undefined) {
    if (tx.configTouched && restoreConfig !== undefined) {
      try {
        await restoreConfig();
        tx.configTouched = false;
      } catch (restoreErr) {
        remediation.push(`could not restore the config: ${messageOf(restoreErr)}; \`git checkout Pulumi.${stack}.yaml\``);
      }
    }
    const base = resultOf(err);
    if (err instanceof InterruptedError && tx.infraTouched) {
      remediation.push(
        `the stack may be part-way through the change; Pulumi.${stack}.yaml is back to the previous colors and images`,
        ...(await stateReport(stack, handle)),
        `run \`npm run platform -- up ${stack}\` to converge to it, or re-run the command`,
        ...backupHint,
      );
    }
    if (base.exitCode === ExitCode.Error && tx.infraTouched) {
      // An unexpected error after an up without a restore path: a human must check.
      return { result: "manual intervention", exitCode: ExitCode.ManualIntervention, message, remediation: [...remediation, ...backupHint] };
    }
    return { ...base, message, remediation };
  }

  deps.log.warn(`${message}; restoring the previous colors and images`);
  let restored: RestoreResult;
  try {
    restored = await restoreInfra();
  } catch (restoreErr) {
    restored = { ok: false, detail: `restore failed: ${messageOf(restoreErr)}` };
  }
  if (restored.ok) {
    return { result: "rolled back", exitCode: ExitCode.RolledBack, message: `${message}; restored and verified: ${restored.detail}`, remediation };
  }
  return {
    result: "manual intervention",
    exitCode: ExitCode.ManualIntervention,
    message: `${message}; ${restored.detail}`,
    remediation: [
      ...remediation,
      `check the live service now; \`npm run platform -- status ${stack}\` shows colors and images`,
      `to return traffic to the previous color: \`npm run platform -- rollback ${stack} --service <name>\``,
      ...backupHint,
    ],
  };
}

/** After an interrupted update: what the state says now (pending operations need repair before anything else). */
async function stateReport(stack: string, handle: PlatformStack | undefined): Promise<string[]> {
  if (handle === undefined) {
    return [];
  }
  try {
    const pending = pendingOperations(await handle.exportStack());
    return pending.length === 0 ? ["the state has no pending operations: the engine stopped cleanly"] : pendingRemediation(stack, pending);
  } catch (err) {
    return [`could not read the state after the interrupt: ${messageOf(err)}`];
  }
}

async function notifyOnce(
  deps: DriverDeps,
  kind: DeploymentKind,
  stack: string,
  source: string | undefined,
  started: number,
  outcome: Omit<Outcome, "notification">,
): Promise<Outcome> {
  const result: DeploymentResult = outcome.result === "drift" ? "failed" : outcome.result;
  const notification = await deps.notifier.notify({
    kind,
    stack,
    source,
    services: outcome.services,
    result,
    exitCode: outcome.exitCode,
    startedAt: started,
    durationMs: deps.clock.now() - started,
    phases: outcome.phases,
    error: outcome.exitCode === ExitCode.Ok ? undefined : outcome.message,
    runUrl: deps.run.runUrl,
    actor: deps.run.actor,
  });
  if (!notification.delivered) {
    deps.log.warn(`notification: ${notification.detail}`);
  }
  return { ...outcome, notification };
}

/* ----------------------------------------------------------------------------------------
 * promote / release: put digests into a stack and move traffic to them.
 * -------------------------------------------------------------------------------------- */

export interface PromoteRequest {
  readonly from: string;
  readonly to: string;
  /** Default: every service of the source stack. */
  readonly services?: readonly string[];
  readonly allowReplace?: boolean;
}

/**
 * Takes the images live in `from` by digest, refuses any the source has not verified, and
 * deploys them into `to` (see `deploy`).
 */
export async function promote(deps: DriverDeps, req: PromoteRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const sourceLabel = `promote ${req.from}->${req.to}`;
  let items: DeployItem[];
  const loadPhase: PhaseReport[] = [];
  try {
    if (req.from === req.to) {
      throw new UsageError(`--from and --to are both "${req.from}"`);
    }
    const t0 = deps.clock.now();
    items = await verifiedSourceImages(deps, req.from, req.services);
    loadPhase.push({ name: "verify-source", durationMs: deps.clock.now() - t0, ok: true });
  } catch (err) {
    const { result, exitCode } = resultOf(err);
    return notifyOnce(deps, "promote", req.to, req.from, started, {
      operation: "promote",
      stack: req.to,
      exitCode,
      result,
      message: messageOf(err),
      remediation: remediationOf(err),
      services: (req.services ?? []).map((service) => ({ service })),
      phases: [{ name: "verify-source", durationMs: deps.clock.now() - started, ok: false }],
    });
  }
  return deploy(deps, { kind: "promote", stack: req.to, source: req.from, sourceLabel, items, allowReplace: req.allowReplace ?? false, started, phases: loadPhase });
}

async function verifiedSourceImages(deps: DriverDeps, from: string, only: readonly string[] | undefined): Promise<DeployItem[]> {
  const source = await deps.openStack(from);
  const [rawServices, rawReleases, rawOutputs] = await Promise.all([source.getConfig(SERVICES_KEY), source.getConfig(RELEASES_KEY), source.outputs()]);
  const { services } = parseServices(from, rawServices);
  const releases = parseReleases(from, rawReleases);
  const selected = only === undefined ? services : only.map((name) => services.find((s) => s.name === name) ?? name);
  const unknown = selected.filter((s): s is string => typeof s === "string");
  if (unknown.length > 0) {
    throw new UsageError(`source stack "${from}" has no service named ${unknown.join(", ")}`);
  }
  const entries = selected.filter((s): s is ServiceEntry => typeof s !== "string");
  checkConverged(from, entries, readStackOutputs(from, rawOutputs), (s) => [s.active]);
  const items: DeployItem[] = [];
  const problems: string[] = [];
  for (const s of entries) {
    const live = imageOf(s, s.active);
    if (live === undefined) {
      problems.push(`${s.name}: no image on the active color ${s.active}`);
      continue;
    }
    let digestRef: string;
    try {
      digestRef = await deps.resolver.resolve(live, deps.signal);
    } catch (err) {
      throwIfInterrupted(deps.signal);
      problems.push(`${s.name}: cannot resolve ${live} to a digest (${messageOf(err)})`);
      continue;
    }
    const record = releases[s.name];
    if (record === undefined) {
      problems.push(`${s.name}: ${shortImage(digestRef)} is live in ${from} but has no release record (never verified there)`);
    } else if (!sameDigest(record.image, digestRef)) {
      problems.push(`${s.name}: live ${shortImage(digestRef)} differs from the verified ${shortImage(record.image)} (${record.source}, ${record.verifiedAt})`);
    } else {
      items.push({ service: s.name, image: digestRef });
    }
  }
  if (problems.length > 0) {
    throw new RefusedError(`refusing to promote unverified images from "${from}": ${problems.join("; ")}`, [
      `only digests that passed ${from}'s health gates (recorded in platform:releases of Pulumi.${from}.yaml) are promoted`,
      `release or promote the image into ${from} first, or narrow the promotion with --service`,
    ]);
  }
  return items;
}

export interface ReleaseRequest {
  readonly stack: string;
  /** Images by tag or digest; tags are resolved to digests before anything changes. */
  readonly items: readonly DeployItem[];
  readonly allowReplace?: boolean;
}

/**
 * The first stage: CI built and pushed an image; put it into `stack` with the same gates as
 * a promotion and record its digest as verified there. There is no source stack to take a
 * verified digest from, so the registry's digest for what CI pushed is the source of truth.
 */
export async function release(deps: DriverDeps, req: ReleaseRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const items: DeployItem[] = [];
  try {
    for (const item of req.items) {
      const digestRef = await deps.resolver.resolve(item.image, deps.signal);
      if (parseImageRef(digestRef)?.digest === undefined) {
        throw new UsageError(`could not pin ${item.image} to a digest`);
      }
      items.push({ service: item.service, image: digestRef });
    }
  } catch (err) {
    const { result, exitCode } = err instanceof DriverError ? resultOf(err) : { result: "failed" as const, exitCode: ExitCode.Error };
    return notifyOnce(deps, "release", req.stack, "release", started, {
      operation: "release",
      stack: req.stack,
      exitCode,
      result,
      message: messageOf(err),
      remediation: remediationOf(err),
      services: req.items.map((i) => ({ service: i.service, newImage: i.image })),
      phases: [{ name: "resolve", durationMs: deps.clock.now() - started, ok: false }],
    });
  }
  return deploy(deps, { kind: "release", stack: req.stack, source: "release", sourceLabel: "release", items, allowReplace: req.allowReplace ?? false, started, phases: [] });
}

interface DeployRequest {
  readonly kind: "promote" | "release";
  readonly stack: string;
  readonly source: string;
  /** Written to the release record, e.g. "promote test->staging". */
  readonly sourceLabel: string;
  readonly items: readonly DeployItem[];
  readonly allowReplace: boolean;
  readonly started: number;
  readonly phases: readonly PhaseReport[];
}

function reportOf(c: ServiceChange): ServiceReport {
  return { service: c.service, fromColor: c.fromColor, toColor: c.toColor, oldImage: c.oldImage, newImage: c.newImage };
}

/**
 * Stage into the idle color (config + one `up`, the Kubernetes provider awaiting readiness),
 * gate through the preview host, flip with one targeted `up`, gate through the live host and
 * the ALB's target health, record the digests, and park the colors left idle where the
 * service's `idle` is `parked` (one more `up`). In `test` (one host, no blue/green) the
 * active color's image is replaced and gated through the live host instead.
 */
async function deploy(deps: DriverDeps, req: DeployRequest): Promise<Outcome> {
  const tx = new Tx(deps);
  tx.phases.push(...req.phases);
  let stack: PlatformStack | undefined;
  let originalServices: Json | undefined;
  let plan: StagingPlan | undefined;
  let settings: HealthGateSettings | undefined;
  const op = req.kind;

  const finish = (o: Omit<Outcome, "notification" | "operation" | "stack" | "phases" | "backup">): Promise<Outcome> =>
    notifyOnce(deps, op, req.stack, req.source, req.started, { ...o, operation: op, stack: req.stack, phases: tx.phases, backup: tx.backup });

  try {
    const s = await tx.phase("load", () => deps.openStack(req.stack));
    stack = s;
    const [rawServices, rawReleases, rawEnv, rawGate, rawRegion, rawOutputs, state] = await tx.phase("load-state", () =>
      Promise.all([
        s.getConfig(SERVICES_KEY),
        s.getConfig(RELEASES_KEY),
        s.getConfig(ENVIRONMENT_KEY),
        s.getConfig(HEALTH_GATE_KEY),
        s.getConfig("aws:region"),
        s.outputs(),
        s.exportStack(),
      ]),
    );
    const current = parseServices(req.stack, rawServices);
    parseReleases(req.stack, rawReleases);
    originalServices = current.raw;
    settings = gateSettings(deps, rawGate);
    const gate = settings;
    const mode = deployModeOf(typeof rawEnv === "string" ? rawEnv : undefined, req.stack);
    const region = typeof rawRegion === "string" ? rawRegion : undefined;
    await checkPending(req.stack, state);
    const p = planStaging(req.stack, mode, current.services, req.items);
    plan = p;
    if (p.changes.length === 0) {
      return finish({
        exitCode: ExitCode.Ok,
        result: "no-op",
        message: `nothing to do: ${p.unchanged.map((u) => `${u.service} already serves ${shortImage(u.image)}`).join("; ")}`,
        remediation: [],
        services: p.unchanged.map((u) => ({ service: u.service, newImage: u.image })),
      });
    }
    const changed = new Set(p.changes.map((c) => c.service));
    const affected = current.services.filter((sv) => changed.has(sv.name));
    checkConverged(req.stack, affected, readStackOutputs(req.stack, rawOutputs), (sv) => [sv.active]);
    // Computed before any change: a missing flip target must refuse, not fail half-way.
    const urns = mode === "blue-green" ? [...flipTargets(state, [...changed]), ...stackUrn(state)] : [];

    tx.backup = await tx.phase("backup", () => Promise.resolve(deps.backups.save(req.stack, op, state, deps.clock.now())));
    deps.log.info(`backup of "${req.stack}" written to ${tx.backup}`);

    const what = `${req.sourceLabel}: ${p.changes.map((c) => `${c.service} ${shortImage(c.newImage)} -> ${c.slot}`).join(", ")}`;
    const staged = editServices(current.raw, stagingEdits(p));
    const flipped = editServices(current.raw, mergeEdits(stagingEdits(p), flipEdits(p.changes)));
    await tx.phase("stage-config", async () => {
      tx.configTouched = true;
      await s.setConfig({ [SERVICES_KEY]: staged });
    });

    const pv = await tx.phase("policy", () => runPreview(deps, s, `${req.stack} policy preview`, operationMessage(deps, what)));
    deps.log.info(`preview of "${req.stack}": ${formatSummary(pv.summary)}`);
    if (pv.hazards.length > 0 && !req.allowReplace) {
      throw new RefusedError(
        `the update would ${pv.hazards.map((h) => `${h.op} ${h.type} ${urnName(h.urn)}`).join(", ")}`,
        ["stateful resources are never replaced or deleted implicitly; review the preview and re-run with --allow-replace if intended"],
      );
    }
    const expected = pv.findings.steps.filter((st) => st.op !== "same").length;

    const stagedUp = await tx.phase(mode === "single" ? "deploy" : "stage", () =>
      runUp(deps, tx, s, mode === "single" ? "deploy" : "stage", { message: operationMessage(deps, what), expectedSteps: expected }),
    );
    let outputs = readStackOutputs(req.stack, stagedUp.outputs);

    if (mode === "blue-green") {
      const stagedOutputs = outputs;
      await tx.phase("preview-health", () =>
        healthGate(
          deps,
          "preview-health",
          "preview",
          affected.map((sv) => ({ service: sv.name, out: stagedOutputs?.services.get(sv.name) })),
          gate,
        ),
      );
      await tx.phase("flip-config", () => s.setConfig({ [SERVICES_KEY]: flipped }));
      const flipMsg = `${req.sourceLabel}: flip ${p.changes.map((c) => `${c.service} ${c.fromColor}->${c.toColor}`).join(", ")}`;
      const flipUp = await tx.phase("flip", () => runUp(deps, tx, s, "flip", { message: operationMessage(deps, flipMsg), target: urns }));
      outputs = readStackOutputs(req.stack, flipUp.outputs) ?? outputs;
    }

    const liveOutputs = outputs;
    await tx.phase("live-health", () =>
      healthGate(
        deps,
        "live-health",
        "live",
        affected.map((sv) => ({ service: sv.name, out: liveOutputs?.services.get(sv.name) })),
        gate,
      ),
    );
    if (mode === "blue-green") {
      await tx.phase("target-health", () =>
        targetHealthGate(
          deps,
          req.stack,
          region,
          liveOutputs,
          p.changes.map((c) => ({ service: c.service, color: c.toColor, out: liveOutputs?.services.get(c.service) })),
        ),
      );
    }

    const verifiedAt = new Date(deps.clock.now()).toISOString();
    const records = new Map<string, ReleaseEntry>(
      p.changes.map((c) => [c.service, { image: c.newImage, verifiedAt, source: req.sourceLabel, runUrl: deps.run.runUrl }] as const),
    );
    try {
      await tx.phase("record", () => s.setConfig({ [RELEASES_KEY]: editReleases(rawReleases, records) }));
    } catch (err) {
      // Traffic already runs on the verified images; undoing a healthy deployment because a
      // config write failed would be worse than asking for the record by hand.
      return finish({
        exitCode: ExitCode.Error,
        result: "failed",
        message: `deployed and verified, but the release record could not be written: ${messageOf(err)}`,
        remediation: p.changes.map(
          (c) => `pulumi config set --path 'platform:releases.${c.service}.image' '${c.newImage}' --stack ${req.stack} (plus verifiedAt and source)`,
        ),
        services: p.changes.map(reportOf),
      });
    }
    const done = `${what}${mode === "blue-green" ? "; traffic flipped" : ""}; verified and recorded`;
    const toPark = mode === "blue-green" ? parkEdits(affected, p.changes) : new Map<string, ServiceEdit>();
    const parked = toPark.size > 0 ? await parkIdle(deps, tx, s, flipped, toPark, req.sourceLabel) : undefined;
    if (parked !== undefined && !parked.ok) {
      return finish({ ...parkFailure(req.stack, done, parked), services: p.changes.map(reportOf), changes: pv.summary, violations: pv.findings.violations });
    }
    return finish({
      exitCode: ExitCode.Ok,
      result: "succeeded",
      message: parked !== undefined ? `${done}; ${parked.detail}` : done,
      remediation: [],
      services: p.changes.map(reportOf),
      changes: pv.summary,
      violations: pv.findings.violations,
    });
  } catch (err) {
    const s = stack;
    const p = plan;
    const original = originalServices;
    const gate = settings;
    const restoreConfig = s !== undefined && original !== undefined ? () => s.setConfig({ [SERVICES_KEY]: original }) : undefined;
    const restoreInfra =
      s !== undefined && original !== undefined && p !== undefined && gate !== undefined
        ? () => restoreDeployment(deps, tx, s, original, p, gate)
        : undefined;
    const settled = await settleFailure(deps, tx, req.stack, err, restoreConfig, restoreInfra, s);
    return finish({
      exitCode: settled.exitCode,
      result: settled.result,
      message: settled.message,
      remediation: settled.remediation,
      services: p !== undefined ? p.changes.map(reportOf) : req.items.map((i) => ({ service: i.service, newImage: i.image })),
      violations: err instanceof PolicyViolationError ? err.violations.map((v) => ({ ...v, enforcement: "mandatory" as const })) : undefined,
    });
  }
}

function mergeEdits(a: ReadonlyMap<string, ServiceEdit>, b: ReadonlyMap<string, ServiceEdit>): Map<string, ServiceEdit> {
  const out = new Map<string, ServiceEdit>(a);
  for (const [k, v] of b) {
    out.set(k, { ...out.get(k), ...v });
  }
  return out;
}

/** The root stack resource, so a targeted flip also refreshes the `services` output. */
function stackUrn(state: StackState): string[] {
  const d = state.deployment;
  if (d === null || typeof d !== "object" || !("resources" in d) || !Array.isArray(d.resources)) {
    return [];
  }
  for (const r of d.resources as unknown[]) {
    if (r !== null && typeof r === "object" && "type" in r && r.type === "pulumi:pulumi:Stack" && "urn" in r && typeof r.urn === "string") {
      return [r.urn];
    }
  }
  return [];
}

/** Config back to `original`, one full `up`, then verify outputs and the live host. */
async function restoreDeployment(deps: DriverDeps, tx: Tx, stack: PlatformStack, original: Json, plan: StagingPlan, gate: HealthGateSettings): Promise<RestoreResult> {
  await stack.setConfig({ [SERVICES_KEY]: original });
  tx.configTouched = false;
  const t0 = deps.clock.now();
  let up: UpOutcome;
  try {
    up = await runUp(deps, tx, stack, "restore", {
      message: operationMessage(deps, `restore after failed ${plan.changes.map((c) => c.service).join(", ")} deployment`),
    });
  } catch (err) {
    tx.phases.push({ name: "restore", durationMs: deps.clock.now() - t0, ok: false });
    return { ok: false, detail: `restore up failed: ${messageOf(err)}` };
  }
  tx.phases.push({ name: "restore", durationMs: deps.clock.now() - t0, ok: true });
  return verifyRestored(deps, tx, plan.changes, readStackOutputs(stack.name, up.outputs), gate);
}

async function verifyRestored(
  deps: DriverDeps,
  tx: Tx,
  changes: readonly Pick<ServiceChange, "service" | "fromColor" | "oldImage">[],
  outputs: StackOutputs | undefined,
  gate: HealthGateSettings,
): Promise<RestoreResult> {
  const t0 = deps.clock.now();
  const problems: string[] = [];
  for (const c of changes) {
    const out = outputs?.services.get(c.service);
    if (out?.active !== undefined && out.active !== c.fromColor) {
      problems.push(`${c.service} still serves ${out.active}`);
    }
    const image = out?.[c.fromColor]?.image;
    if (image !== undefined && c.oldImage !== undefined && image !== c.oldImage) {
      problems.push(`${c.service} ${c.fromColor} runs ${shortImage(image)}, expected ${shortImage(c.oldImage)}`);
    }
  }
  if (problems.length === 0) {
    try {
      await healthGate(
        deps,
        "restore-health",
        "live",
        changes.map((c) => ({ service: c.service, out: outputs?.services.get(c.service) })),
        gate,
      );
    } catch (err) {
      if (err instanceof InterruptedError) {
        throw err;
      }
      problems.push(messageOf(err));
    }
  }
  tx.phases.push({ name: "verify-restore", durationMs: deps.clock.now() - t0, ok: problems.length === 0 });
  return problems.length === 0
    ? { ok: true, detail: `${changes.map((c) => `${c.service} on ${c.fromColor}`).join(", ")}, live host healthy` }
    : { ok: false, detail: `restore not verified: ${problems.join("; ")}` };
}

interface ParkResult {
  readonly ok: boolean;
  readonly detail: string;
  /** Set when the park step was interrupted. */
  readonly interrupted?: InterruptedError;
}

/**
 * The optional park step after a verified switch: scale the colors it left idle to 0 for
 * services whose `idle` is `parked` (config + one full `up`; the HPA goes with it). It never
 * undoes the switch: traffic already runs on verified pods, so a failed park puts the config
 * back to `base` (idle color warm) and reports, and the next `up` converges to that.
 */
async function parkIdle(deps: DriverDeps, tx: Tx, stack: PlatformStack, base: Json, edits: ReadonlyMap<string, ServiceEdit>, label: string): Promise<ParkResult> {
  const what = [...edits].map(([svc, e]) => `${svc} ${COLORS.filter((c) => e.parked?.[c] === true).join("+")}`).join(", ");
  try {
    await tx.phase("park", async () => {
      await stack.setConfig({ [SERVICES_KEY]: editServices(base, edits) });
      await runUp(deps, tx, stack, "park", { message: operationMessage(deps, `${label}: park idle ${what}`) });
    });
    return { ok: true, detail: `parked ${what}` };
  } catch (err) {
    let configNote = "the config keeps the idle color warm";
    try {
      await stack.setConfig({ [SERVICES_KEY]: base });
    } catch (configErr) {
      configNote = `the config could not be put back (${messageOf(configErr)}): \`git checkout Pulumi.${stack.name}.yaml\``;
    }
    const interrupted = err instanceof InterruptedError ? err : deps.signal.aborted ? new InterruptedError(interruptOf(deps.signal)) : undefined;
    return { ok: false, detail: `parking ${what} failed: ${messageOf(err)}; ${configNote}`, interrupted };
  }
}

/** The outcome fields of a switch that was verified but whose park step failed. */
function parkFailure(stack: string, done: string, park: ParkResult): { exitCode: ExitCode; result: OutcomeResult; message: string; remediation: string[] } {
  return {
    exitCode: park.interrupted?.exitCode ?? ExitCode.OperationFailed,
    result: park.interrupted !== undefined ? "interrupted" : "failed",
    message: `${done}; ${park.detail}`,
    remediation: [
      "traffic is on the verified color; nothing was rolled back",
      `\`npm run platform -- up ${stack}\` converges the idle color back to warm (or re-run the command after fixing the cause)`,
    ],
  };
}

/* ----------------------------------------------------------------------------------------
 * flip / rollback.
 * -------------------------------------------------------------------------------------- */

export interface FlipRequest {
  readonly stack: string;
  readonly service: string;
  /** Default: the idle color. */
  readonly to?: Color;
  /** Skip the preview-host check of the target color before the flip. */
  readonly force?: boolean;
}

/**
 * Moves one service's traffic to the other color with exactly one targeted `up`. A parked
 * target is first scaled up (one full `up`) and gated through the preview host; with
 * `idle: parked` the color left idle is parked afterwards.
 */
export function flip(deps: DriverDeps, req: FlipRequest): Promise<Outcome> {
  return switchColor(deps, "flip", req);
}

/** Moves traffic back to the color that is still running (the idle one). */
export function rollback(deps: DriverDeps, req: Omit<FlipRequest, "to">): Promise<Outcome> {
  return switchColor(deps, "rollback", req);
}

async function switchColor(deps: DriverDeps, kind: "flip" | "rollback", req: FlipRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const tx = new Tx(deps);
  let stack: PlatformStack | undefined;
  let original: Json | undefined;
  let urns: string[] | undefined;
  let change: (Pick<ServiceChange, "service" | "fromColor" | "oldImage"> & { readonly toColor: Color; readonly newImage?: string }) | undefined;
  let settings: HealthGateSettings | undefined;
  /** The target color was parked and this run started scaling it up. */
  let unparked = false;

  const finish = (o: Omit<Outcome, "notification" | "operation" | "stack" | "phases" | "backup" | "services">): Promise<Outcome> =>
    notifyOnce(deps, kind, req.stack, undefined, started, {
      ...o,
      operation: kind,
      stack: req.stack,
      phases: tx.phases,
      backup: tx.backup,
      services: [
        change !== undefined
          ? { service: change.service, fromColor: change.fromColor, toColor: change.toColor, oldImage: change.oldImage, newImage: change.newImage }
          : { service: req.service },
      ],
    });

  try {
    const s = await tx.phase("load", () => deps.openStack(req.stack));
    stack = s;
    const [rawServices, rawEnv, rawGate, rawRegion, rawOutputs, state] = await tx.phase("load-state", () =>
      Promise.all([s.getConfig(SERVICES_KEY), s.getConfig(ENVIRONMENT_KEY), s.getConfig(HEALTH_GATE_KEY), s.getConfig("aws:region"), s.outputs(), s.exportStack()]),
    );
    if (deployModeOf(typeof rawEnv === "string" ? rawEnv : undefined, req.stack) === "single") {
      throw new UsageError(`stack "${req.stack}" runs one color per service (test environment): there is nothing to ${kind}`);
    }
    const current = parseServices(req.stack, rawServices);
    original = current.raw;
    const svc = current.services.find((x) => x.name === req.service);
    if (svc === undefined) {
      throw new UsageError(`stack "${req.stack}" has no service named ${req.service}`);
    }
    settings = gateSettings(deps, rawGate);
    const gate = settings;
    await checkPending(req.stack, state);
    const planned = planFlip(svc, req.to);
    change = { service: svc.name, fromColor: planned.from, toColor: planned.to, oldImage: imageOf(svc, planned.from), newImage: planned.image };
    if (planned.to === planned.from) {
      return finish({ exitCode: ExitCode.Ok, result: "no-op", message: `${svc.name}: ${planned.to} is already active`, remediation: [] });
    }
    if (planned.image === undefined) {
      throw new RefusedError(`${svc.name}: ${planned.to} has no image; there is nothing running to ${kind} to`);
    }
    const outputs = readStackOutputs(req.stack, rawOutputs);
    checkConverged(req.stack, [svc], outputs, () => [planned.from, planned.to]);
    urns = [...flipTargets(state, [svc.name]), ...stackUrn(state)];
    const targetUrns = urns;

    if (planned.targetParked) {
      // A parked color runs no pods: nothing to probe yet. It is scaled up (and gated) below.
      deps.log.info(`${svc.name}: ${planned.to} is parked; it is scaled up and gated before traffic moves`);
    } else if (req.force !== true) {
      // The idle color is reachable through the preview host: prove it answers before moving traffic to it.
      try {
        await tx.phase("preview-health", () =>
          healthGate(deps, "preview-health", "preview", [{ service: svc.name, out: outputs?.services.get(svc.name) }], gate),
        );
      } catch (err) {
        if (err instanceof GateFailure) {
          throw new RefusedError(`${svc.name}: ${planned.to} is not healthy through the preview host, not flipping (${err.message})`, [
            `check ${planned.to}'s pods; --force skips this check`,
          ]);
        }
        throw err;
      }
    }

    tx.backup = await tx.phase("backup", () => Promise.resolve(deps.backups.save(req.stack, kind, state, deps.clock.now())));
    deps.log.info(`backup of "${req.stack}" written to ${tx.backup}`);
    const unpark: ServiceEdit = planned.targetParked ? { parked: { [planned.to]: false } } : {};
    if (planned.targetParked) {
      unparked = true;
      const woken = editServices(current.raw, new Map([[svc.name, unpark]]));
      await tx.phase("unpark-config", async () => {
        tx.configTouched = true;
        await s.setConfig({ [SERVICES_KEY]: woken });
      });
      // A full up: the Deployment's replicas and the HPA change, and the Kubernetes provider
      // awaits the new pods' readiness before the up returns.
      const woke = await tx.phase("unpark", () =>
        runUp(deps, tx, s, "unpark", { message: operationMessage(deps, `${kind} ${svc.name}: unpark ${planned.to} before moving traffic to it`) }),
      );
      const after = readStackOutputs(req.stack, woke.outputs) ?? outputs;
      if (req.force !== true) {
        // Past the first change, so a failure here restores (parks it again) instead of refusing.
        await tx.phase("preview-health", () =>
          healthGate(deps, "preview-health", "preview", [{ service: svc.name, out: after?.services.get(svc.name) }], gate),
        );
      }
    }
    const edited = editServices(current.raw, new Map([[svc.name, { ...unpark, active: planned.to }]]));
    await tx.phase("flip-config", async () => {
      tx.configTouched = true;
      await s.setConfig({ [SERVICES_KEY]: edited });
    });
    const what = `${kind} ${svc.name} ${planned.from}->${planned.to} (${shortImage(planned.image)})`;
    const up = await tx.phase("flip", () => runUp(deps, tx, s, "flip", { message: operationMessage(deps, what), target: targetUrns }));
    const liveOutputs = readStackOutputs(req.stack, up.outputs) ?? outputs;
    await tx.phase("live-health", () =>
      healthGate(deps, "live-health", "live", [{ service: svc.name, out: liveOutputs?.services.get(svc.name) }], gate),
    );
    await tx.phase("target-health", () =>
      targetHealthGate(deps, req.stack, typeof rawRegion === "string" ? rawRegion : undefined, liveOutputs, [
        { service: svc.name, color: planned.to, out: liveOutputs?.services.get(svc.name) },
      ]),
    );
    const done = `${what}: verified`;
    const toPark = parkEdits(current.services, [{ service: svc.name, fromColor: planned.from, toColor: planned.to }]);
    const parked = toPark.size > 0 ? await parkIdle(deps, tx, s, edited, toPark, kind) : undefined;
    if (parked !== undefined && !parked.ok) {
      return finish(parkFailure(req.stack, done, parked));
    }
    return finish({ exitCode: ExitCode.Ok, result: "succeeded", message: parked !== undefined ? `${done}; ${parked.detail}` : done, remediation: [] });
  } catch (err) {
    const s = stack;
    const orig = original;
    const c = change;
    // After an unpark the restore must scale the color down again: a full up, not the flip's targets.
    const targets = unparked ? undefined : urns;
    const gate = settings;
    const restoreConfig = s !== undefined && orig !== undefined ? () => s.setConfig({ [SERVICES_KEY]: orig }) : undefined;
    const restoreInfra =
      s !== undefined && orig !== undefined && c !== undefined && (targets !== undefined || unparked) && gate !== undefined
        ? async (): Promise<RestoreResult> => {
            await s.setConfig({ [SERVICES_KEY]: orig });
            tx.configTouched = false;
            const t0 = deps.clock.now();
            let up: UpOutcome;
            try {
              // Undoing a flip is itself a flip: the same targeted up, back to the previous color
              // (a full up when this run unparked the target, so that it is parked again).
              up = await runUp(deps, tx, s, "restore", {
                message: operationMessage(deps, `restore ${c.service} to ${c.fromColor} after failed ${kind}`),
                target: targets,
              });
            } catch (restoreErr) {
              tx.phases.push({ name: "restore", durationMs: deps.clock.now() - t0, ok: false });
              return { ok: false, detail: `restore up failed: ${messageOf(restoreErr)}` };
            }
            tx.phases.push({ name: "restore", durationMs: deps.clock.now() - t0, ok: true });
            return verifyRestored(deps, tx, [c], readStackOutputs(s.name, up.outputs), gate);
          }
        : undefined;
    const settled = await settleFailure(deps, tx, req.stack, err, restoreConfig, restoreInfra, s);
    return finish({ exitCode: settled.exitCode, result: settled.result, message: settled.message, remediation: settled.remediation });
  }
}

/* ----------------------------------------------------------------------------------------
 * status / preview / up.
 * -------------------------------------------------------------------------------------- */

export async function status(deps: DriverDeps, req: { readonly stack: string }): Promise<Outcome> {
  try {
    const s = await deps.openStack(req.stack);
    const [rawServices, rawReleases, rawOutputs] = await Promise.all([s.getConfig(SERVICES_KEY), s.getConfig(RELEASES_KEY), s.outputs()]);
    const { services } = parseServices(req.stack, rawServices);
    const releases = parseReleases(req.stack, rawReleases);
    const outputs = readStackOutputs(req.stack, rawOutputs);
    const rows: ServiceStatus[] = services.map((sv) => {
      const out = outputs?.services.get(sv.name);
      const converged =
        out === undefined ||
        ((out.active === undefined || out.active === sv.active) &&
          (out.blue?.image === undefined || out.blue.image === imageOf(sv, "blue")) &&
          (out.green?.image === undefined || out.green.image === imageOf(sv, "green")) &&
          COLORS.every((c) => (out[c]?.parked ?? false) === isParked(sv, c)));
      return {
        service: sv.name,
        active: sv.active,
        deployedActive: out?.active,
        blue: imageOf(sv, "blue"),
        green: imageOf(sv, "green"),
        parked: COLORS.filter((c) => isParked(sv, c)),
        idle: sv.idle ?? "warm",
        converged,
        release: releases[sv.name],
        liveHealthUrl: out?.liveHealthUrl,
        previewHealthUrl: out?.previewHealthUrl,
      };
    });
    const drifted = rows.filter((r) => !r.converged).map((r) => r.service);
    return {
      operation: "status",
      stack: req.stack,
      exitCode: ExitCode.Ok,
      result: "succeeded",
      message:
        drifted.length === 0
          ? `${rows.length} service(s); config matches the last update`
          : `${rows.length} service(s); config differs from the last update for ${drifted.join(", ")} (run preview)`,
      remediation: [],
      services: rows.map((r) => ({ service: r.service, toColor: r.active, newImage: r.active === "blue" ? r.blue : r.green })),
      phases: [],
      status: rows,
    };
  } catch (err) {
    const { result, exitCode } = resultOf(err);
    return { operation: "status", stack: req.stack, exitCode, result, message: messageOf(err), remediation: remediationOf(err), services: [], phases: [] };
  }
}

export interface PreviewRequest {
  readonly stack: string;
  readonly expectNoChanges?: boolean;
}

/** The policy-gated preview CI runs on pull requests (and for drift checks). */
export async function preview(deps: DriverDeps, req: PreviewRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const phases: PhaseReport[] = [];
  let run: PreviewRun | undefined;
  try {
    const s = await deps.openStack(req.stack);
    run = await runPreview(deps, s, `${req.stack} preview`, operationMessage(deps, `preview ${req.stack}`));
    phases.push({ name: "preview", durationMs: deps.clock.now() - started, ok: true });
    const drift = req.expectNoChanges === true && hasChanges(run.summary);
    const verdict = drift
      ? "Changes found where none were expected (drift)"
      : run.hazards.length > 0
        ? "Stateful resources would be replaced or deleted: `up` will refuse without --allow-replace"
        : hasChanges(run.summary)
          ? "Preview passed"
          : "No changes";
    deps.stepSummary?.(previewMarkdown({ stack: req.stack, summary: run.summary, findings: run.findings, hazards: run.hazards, verdict }));
    return {
      operation: "preview",
      stack: req.stack,
      exitCode: drift ? ExitCode.Drift : ExitCode.Ok,
      result: drift ? "drift" : "succeeded",
      message: `${verdict}: ${formatSummary(run.summary)}`,
      remediation: drift ? [`inspect the difference; \`npm run platform -- up ${req.stack}\` applies the code, \`pulumi refresh\` adopts out-of-band changes`] : [],
      services: [],
      phases,
      changes: run.summary,
      violations: run.findings.violations,
      hazards: run.hazards,
    };
  } catch (err) {
    phases.push({ name: "preview", durationMs: deps.clock.now() - started, ok: false });
    const { result, exitCode } = resultOf(err);
    const violations = err instanceof PolicyViolationError ? err.violations.map((v) => ({ ...v, enforcement: "mandatory" as const })) : undefined;
    if (violations !== undefined) {
      deps.stepSummary?.(
        previewMarkdown({
          stack: req.stack,
          summary: summarize({}),
          findings: { steps: [], violations, errors: [] },
          hazards: [],
          verdict: "Mandatory policy violations",
        }),
      );
    }
    return { operation: "preview", stack: req.stack, exitCode, result, message: messageOf(err), remediation: remediationOf(err), services: [], phases, violations };
  }
}

export interface UpRequest {
  readonly stack: string;
  readonly allowReplace?: boolean;
  /** Why: recorded in the stack history with the CI run link. */
  readonly message?: string;
}

/** The same policy gate as `preview`, the stateful-resource guard, then `up`. */
export async function up(deps: DriverDeps, req: UpRequest): Promise<Outcome> {
  const tx = new Tx(deps);
  const base = { operation: "up", stack: req.stack, services: [] as ServiceReport[] };
  let handle: PlatformStack | undefined;
  try {
    const s = await tx.phase("load", () => deps.openStack(req.stack));
    handle = s;
    const state = await tx.phase("load-state", () => s.exportStack());
    await checkPending(req.stack, state);
    const what = `up ${req.stack}: ${req.message ?? "apply the program and config"}`;
    const pv = await tx.phase("policy", () => runPreview(deps, s, `${req.stack} policy preview`, operationMessage(deps, what)));
    deps.log.info(`preview of "${req.stack}": ${formatSummary(pv.summary)}`);
    if (pv.hazards.length > 0 && req.allowReplace !== true) {
      throw new RefusedError(`the update would ${pv.hazards.map((h) => `${h.op} ${h.type} ${urnName(h.urn)}`).join(", ")}`, [
        "stateful resources are never replaced or deleted implicitly; review the preview and re-run with --allow-replace if intended",
      ]);
    }
    if (!hasChanges(pv.summary)) {
      return { ...base, exitCode: ExitCode.Ok, result: "no-op", message: "no changes", remediation: [], phases: tx.phases, changes: pv.summary, violations: pv.findings.violations };
    }
    tx.backup = await tx.phase("backup", () => Promise.resolve(deps.backups.save(req.stack, "up", state, deps.clock.now())));
    deps.log.info(`backup of "${req.stack}" written to ${tx.backup}`);
    const expected = pv.findings.steps.filter((st) => st.op !== "same").length;
    const result = await tx.phase("up", () => runUp(deps, tx, s, "up", { message: operationMessage(deps, what), expectedSteps: expected }));
    const done = summarize(result.resourceChanges);
    return {
      ...base,
      exitCode: ExitCode.Ok,
      result: "succeeded",
      message: `updated: ${formatSummary(done)}`,
      remediation: [],
      phases: tx.phases,
      backup: tx.backup,
      changes: done,
      violations: pv.findings.violations,
      hazards: pv.hazards,
    };
  } catch (err) {
    const remediation = [...remediationOf(err)];
    if (tx.backup !== undefined && tx.infraTouched) {
      remediation.push(`state backup: ${tx.backup}`);
    }
    if (err instanceof UpFailure) {
      return {
        ...base,
        exitCode: ExitCode.OperationFailed,
        result: "failed",
        message: err.message,
        remediation: [...remediation, "a plain up is not rolled back automatically: fix the cause and re-run, or revert the change and re-run"],
        phases: tx.phases,
        backup: tx.backup,
      };
    }
    const { result, exitCode } = resultOf(err);
    const violations = err instanceof PolicyViolationError ? err.violations.map((v) => ({ ...v, enforcement: "mandatory" as const })) : undefined;
    if (err instanceof InterruptedError && tx.infraTouched) {
      remediation.push(
        `the update was interrupted part-way; run \`npm run platform -- preview ${req.stack}\` to see what is left`,
        ...(await stateReport(req.stack, handle)),
      );
    }
    return { ...base, exitCode, result, message: messageOf(err), remediation, phases: tx.phases, backup: tx.backup, violations };
  }
}
