/**
 * `preview` and `up` on a stack, the way every command runs them: a lock held by someone else
 * is waited on with bounded backoff (never cancelled), progress is streamed, and a failure is
 * classified from the engine's own events into one line for logs, notifications and CI.
 */
import { BackoffPolicy, backoffDelays, DEFAULT_BACKOFF } from "./backoff";
import { ChangeSummary, collectFindings, PlannedStep, PreviewFindings, statefulHazards, summarize } from "./changes";
import { DriverDeps } from "./deps";
import { DriverError, InterruptedError, interruptOf, isConcurrentUpdate, LockedError, messageOf, OperationError, UpFailure } from "./errors";
import { formatDuration } from "./format";
import { policyGate } from "./guards/policy";
import { EngineEvent, OperationOptions, PlatformStack, PreviewOutcome, UpOutcome } from "./ports";
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

export interface PreviewRun {
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
}

/** A policy-gated preview. Throws PolicyViolationError on a mandatory violation, OperationError on any other failure. */
export async function runPreview(deps: DriverDeps, stack: PlatformStack, label: string, message: string, popts: PreviewOptions = {}): Promise<PreviewRun> {
  const events: EngineEvent[] = [];
  const policy = deps.policyFor(stack.name);
  const progress = deps.log.operation(label);
  const opts: OperationOptions = {
    message,
    target: popts.target,
    policyPacks: policy.packs,
    policyPackConfigs: policy.configs,
    signal: deps.signal,
    onEvent: (e) => {
      events.push(e);
      progress.onEvent(e);
    },
  };
  try {
    const attempt = await withLockRetry(deps, stack.name, label, (): Promise<PreviewOutcome> => {
      events.length = 0;
      return stack.preview(opts);
    }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if ("error" in attempt && attempt.error instanceof DriverError) {
      throw attempt.error;
    }
    const findings = collectFindings(events);
    // Also when the preview failed: with a mandatory violation the CLI exits non-zero, and the events say why.
    policyGate(findings);
    if ("error" in attempt) {
      const why = oneLine(findings.errors[0] ?? firstLine(messageOf(attempt.error)));
      throw new OperationError(`preview of "${stack.name}" failed: ${why}`, findings.errors.slice(1, 6));
    }
    const hazards = statefulHazards(findings.steps);
    const changedSteps = findings.steps.filter((st) => st.op !== "same").length;
    return { events: [...events], summary: summarize(attempt.result.changeSummary), findings, hazards, changedSteps };
  } finally {
    progress.end();
  }
}

export interface UpOptions {
  readonly message: string;
  /** URNs of a targeted `up`; undefined for a full one. */
  readonly target?: readonly string[];
  readonly expectedSteps?: number;
}

/**
 * One `up`. Marks the transaction as having touched infrastructure unless the lock was never
 * acquired (LockedError: every attempt was refused before the engine started). Throws
 * UpFailure (readiness or update) for an engine failure.
 */
export async function runUp(deps: DriverDeps, tx: Tx, stack: PlatformStack, phase: string, req: UpOptions): Promise<UpOutcome> {
  const events: EngineEvent[] = [];
  const progress = deps.log.operation(`${stack.name} ${phase}`, req.expectedSteps);
  // The packs run in the up too: `up` skips the preview (the SDK passes --skip-preview), so per-resource
  // policies judge each step as it is generated and stack policies after every step; a mandatory
  // violation there fails the up, but only after other steps have changed things (pulumi/pkg
  // v3.276.0 resource/deploy/step_generator.go:1498-1575, deployment_executor.go:468-479). The
  // driver's own preview before each guarded up stays the gate that prevents changes.
  const policy = deps.policyFor(stack.name);
  const touchedBefore = tx.infraTouched;
  try {
    return await withLockRetry(deps, stack.name, phase, () => {
      tx.infraTouched = true;
      return stack.up({
        message: req.message,
        target: req.target,
        policyPacks: policy.packs,
        policyPackConfigs: policy.configs,
        signal: deps.signal,
        onEvent: (e) => {
          events.push(e);
          progress.onEvent(e);
        },
      });
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
