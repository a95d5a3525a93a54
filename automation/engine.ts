/**
 * `preview` and `up` on a stack, the way every command runs them: a lock held by someone else
 * is waited on with bounded backoff (never cancelled), progress is streamed, and a failure is
 * classified from the engine's own events into one line for logs, notifications and CI.
 */
import { BackoffPolicy, backoffDelays, DEFAULT_BACKOFF } from "./backoff";
import { ChangeSummary, collectFindings, NO_CHANGE_OPS, PlannedStep, PreviewFindings, statefulHazards, summarize } from "./changes";
import { DriverDeps } from "./deps";
import { DriverError, InterruptedError, interruptOf, isConcurrentUpdate, LockedError, messageOf, OperationError, throwIfInterrupted, UpFailure } from "./errors";
import { formatDuration } from "./format";
import { policyGate } from "./guards/policy";
import { EngineEvent, OperationOptions, OpMap, PlatformStack, UpOutcome } from "./ports";
import { Tx } from "./tx";

/** Runs `fn`, waiting out a lock held by another update; throws LockedError after the last attempt. */
async function withLockRetry<T>(deps: DriverDeps, stack: string, what: string, fn: () => Promise<T>): Promise<T> {
  const policy: BackoffPolicy = deps.backoff ?? DEFAULT_BACKOFF;
  // One entry per attempt: the wait after it fails, none after the last.
  const waits = [...backoffDelays(policy, deps.random), undefined];
  for (const [index, delay] of waits.entries()) {
    try {
      return await fn();
    } catch (err) {
      if (deps.signal.aborted) {
        throw new InterruptedError(interruptOf(deps.signal));
      }
      if (!isConcurrentUpdate(err)) {
        throw err;
      }
      if (delay === undefined) {
        throw new LockedError(stack, index + 1);
      }
      deps.log.warn(
        `${what}: stack "${stack}" is locked by another update (attempt ${index + 1}/${policy.attempts}); waiting ${formatDuration(delay)}. Not cancelling it.`,
      );
      await deps.clock.sleep(delay, deps.signal).catch(() => {
        throw new InterruptedError(interruptOf(deps.signal));
      });
    }
  }
  // Not reached: the last attempt either returns or throws.
  throw new LockedError(stack, waits.length);
}

/**
 * The engine's summary event as it arrives: besides the SDK's typed fields it carries `result`
 * and `isPreview`, which the SDK's typing omits (pulumi/sdk v3.276.0 go/common/apitype/events.go:
 * 180-197, emitted at pkg engine/deployment.go:507-515; @pulumi/pulumi 3.276.0 automation/events.d.ts:53-75).
 */
export interface EngineSummary {
  readonly resourceChanges: OpMap;
  readonly result?: "succeeded" | "failed" | "canceled";
  readonly isPreview?: boolean;
}

/** The last summary event among `events`; undefined when the engine sent none (e.g. it failed before starting). */
export function summaryOf(events: readonly EngineEvent[]): EngineSummary | undefined {
  let found: EngineSummary | undefined;
  for (const e of events) {
    const s: unknown = e.summaryEvent;
    if (s !== undefined && s !== null && typeof s === "object" && "resourceChanges" in s) {
      const result = "result" in s && (s.result === "succeeded" || s.result === "failed" || s.result === "canceled") ? s.result : undefined;
      const isPreview = "isPreview" in s && typeof s.isPreview === "boolean" ? s.isPreview : undefined;
      found = { resourceChanges: (s.resourceChanges ?? {}) as OpMap, result, isPreview };
    }
  }
  return found;
}

/** How many steps change something, counted as the engine counts them. */
export function engineChanges(changes: OpMap): number {
  return Object.entries(changes).reduce((n, [op, count]) => (NO_CHANGE_OPS.has(op) ? n : n + (count ?? 0)), 0);
}

/** The signal the Pulumi CLI gets: aborting it sends the CLI one SIGINT (see DriverDeps.cliSignal). */
function cliSignal(deps: DriverDeps): AbortSignal {
  return deps.cliSignal ?? deps.signal;
}

/** What every preview and up passes the engine: the stack's policy packs, the CLI's signal, and its events into `events` and the progress line. */
function engineOptions(deps: DriverDeps, stackName: string, events: EngineEvent[], progress: { onEvent(e: EngineEvent): void }): OperationOptions {
  const policy = deps.policyFor(stackName);
  return {
    policyPacks: policy.packs,
    policyPackConfigs: policy.configs,
    signal: cliSignal(deps),
    onEvent: (e) => {
      events.push(e);
      progress.onEvent(e);
    },
  };
}

export interface PreviewRun {
  /** The summary's op counts as the engine sent them. */
  readonly changes: OpMap;
  /** The engine events of the preview, for checks that read step details (guards/targeted.ts). */
  readonly events: readonly EngineEvent[];
  readonly summary: ChangeSummary;
  readonly findings: PreviewFindings;
  readonly hazards: readonly PlannedStep[];
  /** Planned steps that change something: the progress total of the `up` that follows. */
  readonly changedSteps: number;
}

export interface PreviewOptions {
  /** URNs of a targeted preview (the plan of a targeted `up`). */
  readonly target?: readonly string[];
  /** Refresh (in memory) before diffing: what a drift check needs. */
  readonly refresh?: boolean;
}

/**
 * A policy-gated preview. Throws PolicyViolationError on a mandatory violation, OperationError on
 * any other failure, including a preview that ends without the engine's summary: the SDK then
 * returns an empty change summary (automation/stack.js:454-459), which would read as "no changes".
 * DIY backends do not lock previews (pulumi/pkg v3.276.0 backend/diy/backend.go:1212-1216), so
 * there is no lock to wait for.
 */
export async function runPreview(deps: DriverDeps, stack: PlatformStack, label: string, message: string, popts: PreviewOptions = {}): Promise<PreviewRun> {
  const events: EngineEvent[] = [];
  const progress = deps.log.operation(label);
  const opts: OperationOptions = { message, target: popts.target, refresh: popts.refresh, ...engineOptions(deps, stack.name, events, progress) };
  try {
    // The SDK's abort listener is added when the call starts: an already aborted signal would never reach the CLI.
    throwIfInterrupted(deps.signal);
    const attempt = await stack.preview(opts).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if ("error" in attempt && deps.signal.aborted) {
      throw new InterruptedError(interruptOf(deps.signal));
    }
    const findings = collectFindings(events);
    // Also when the preview failed: with a mandatory violation the CLI exits non-zero, and the events say why.
    policyGate(findings);
    if ("error" in attempt) {
      const why = oneLine(findings.errors[0] ?? firstLine(messageOf(attempt.error)));
      throw new OperationError(`preview of "${stack.name}" failed: ${why}`, findings.errors.slice(1, 6));
    }
    const summary = summaryOf(events);
    if (summary === undefined) {
      throw new OperationError(`preview of "${stack.name}" ended without the engine's summary of changes: whether anything would change is unknown`, [
        "re-run the preview; if it persists, run it with the Pulumi CLI directly (`pulumi preview --stack " + stack.name + "`) to see the engine's output",
      ]);
    }
    const hazards = statefulHazards(findings.steps);
    const changedSteps = findings.steps.filter((st) => !NO_CHANGE_OPS.has(st.op)).length;
    return { events: [...events], changes: summary.resourceChanges, summary: summarize(summary.resourceChanges), findings, hazards, changedSteps };
  } finally {
    progress.end();
  }
}

export interface UpOptions {
  readonly message: string;
  /** URNs of a targeted `up`; undefined for a full one. */
  readonly target?: readonly string[];
  readonly expectedSteps?: number;
  /** `--refresh`: refresh (and record) the live state before diffing. */
  readonly refresh?: boolean;
}

/**
 * One `up`. Marks the transaction as having touched infrastructure unless the lock was never
 * acquired (LockedError: every attempt was refused before the engine started). Throws
 * UpFailure (readiness or update) for an engine failure.
 */
export async function runUp(deps: DriverDeps, tx: Tx, stack: PlatformStack, phase: string, req: UpOptions): Promise<UpOutcome> {
  const events: EngineEvent[] = [];
  const progress = deps.log.operation(`${stack.name} ${phase}`, req.expectedSteps);
  const touchedBefore = tx.infraTouched;
  try {
    return await withLockRetry(deps, stack.name, phase, async () => {
      // The SDK's abort listener is added when the call starts: an already aborted signal never
      // fires, and the update would run to completion (@pulumi/pulumi 3.276.0 automation/cmd.js:181-185).
      throwIfInterrupted(deps.signal);
      events.length = 0;
      tx.infraTouched = true;
      try {
        return await stack.up({
          message: req.message,
          target: req.target,
          ...(req.refresh === true ? { refresh: true } : {}),
          // The packs run in the up too: `up` skips the preview (the SDK passes --skip-preview), so
          // per-resource policies judge each step as it is generated and stack policies after every
          // step; a mandatory violation there fails the up, but only after other steps have changed
          // things (pulumi/pkg v3.276.0 resource/deploy/step_generator.go:1498-1575,
          // deployment_executor.go:468-479). The driver's own preview before each guarded up stays
          // the gate that prevents changes.
          ...engineOptions(deps, stack.name, events, progress),
        });
      } catch (err) {
        // After the CLI exits 0 the SDK still runs `stack output` (twice) and `stack history`; any of
        // them failing rejects the whole call (automation/stack.js:297-317). The engine's own summary
        // says whether the update succeeded: if it did, it did, and nothing may be restored.
        const summary = summaryOf(events);
        if (summary?.result === "succeeded") {
          deps.log.warn(`${stack.name} ${phase}: the update succeeded, but reading its results failed (${oneLine(firstLine(messageOf(err)))}); reading the outputs again`);
          return { result: "succeeded", resourceChanges: summary.resourceChanges, outputs: await outputsAfterSuccess(deps, stack, phase) };
        }
        throw err;
      }
    });
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
    const kind = readinessFailure(errors) ? "readiness" : "update";
    throw new UpFailure(phase, `${phase} up failed (${kind}): ${oneLine(errors[0] ?? firstLine(messageOf(err)))}`);
  } finally {
    progress.end();
  }
}

/**
 * The outputs after an update that succeeded but whose results could not be read: retried with
 * the lock backoff; still failing, `{}` (callers then use the outputs they read before the change,
 * whose URLs an update of colors and images does not move). Never throws but for an interrupt.
 */
async function outputsAfterSuccess(deps: DriverDeps, stack: PlatformStack, phase: string): Promise<Record<string, unknown>> {
  const policy: BackoffPolicy = deps.backoff ?? DEFAULT_BACKOFF;
  const waits = [...backoffDelays(policy, deps.random), undefined];
  let last = "";
  for (const delay of waits) {
    throwIfInterrupted(deps.signal);
    try {
      return await stack.outputs();
    } catch (err) {
      last = oneLine(firstLine(messageOf(err)));
    }
    if (delay !== undefined) {
      await deps.clock.sleep(delay, deps.signal).catch(() => {
        throw new InterruptedError(interruptOf(deps.signal));
      });
    }
  }
  deps.log.warn(`${stack.name} ${phase}: the outputs could not be read after ${waits.length} attempts (${last}); continuing with the outputs read before the change`);
  return {};
}

/** The first line of a CLI error that says something (not the `code:`/`stdout:` framing). */
function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "" && !/^code: |^stdout: |^stderr: /.test(l.trim()));
  return (line ?? text).trim().slice(0, 500);
}

/** One line: the message goes into logs, notifications and CI annotations. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Whether an up failure came from the Kubernetes provider's readiness await. */
function readinessFailure(errors: readonly string[]): boolean {
  return errors.some((e) => /timed out|timeout|not ready|did not become ready|rollout/i.test(e));
}
