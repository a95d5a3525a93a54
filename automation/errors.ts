/**
 * Errors the driver raises on purpose. Each carries the exit code the CLI returns for it, so
 * the mapping lives in one place and the tests can assert it without running the CLI.
 */
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import { ExitCode } from "./exitCodes";

export class DriverError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Extra lines for the operator: what to do next. */
    readonly remediation: readonly string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, unknown stack or service, invalid config, missing tools. Nothing was changed. */
export class UsageError extends DriverError {
  constructor(message: string, remediation: readonly string[] = []) {
    super(message, ExitCode.Error, remediation);
  }
}

/** A safety check said no before anything was changed. */
export class RefusedError extends DriverError {
  constructor(message: string, remediation: readonly string[] = []) {
    super(message, ExitCode.Refused, remediation);
  }
}

/** The stack stayed locked by another update after every retry. */
export class LockedError extends DriverError {
  constructor(stack: string, attempts: number, remediation?: readonly string[]) {
    super(
      `stack "${stack}" is locked by another update; ${attempts > 1 ? `gave up after ${attempts} attempt(s)` : "not waiting for it"}. The other update was not cancelled.`,
      ExitCode.Locked,
      remediation ?? [
        "wait for the other update to finish (CI runs one job per stack at a time), then re-run",
        "if no update is running, the lock is stale: `pulumi cancel` deletes the lock files (it stops nothing), so run it only after confirming nobody is deploying",
      ],
    );
  }
}

/** `preview`/`up` itself failed (program or provider error). */
export class OperationError extends DriverError {
  constructor(message: string, remediation: readonly string[] = []) {
    super(message, ExitCode.OperationFailed, remediation);
  }
}

export type InterruptSignal = "SIGINT" | "SIGTERM";

/** The reason the CLI passes to `AbortController.abort` when a signal arrives. */
export class Interrupt {
  constructor(readonly signal: InterruptSignal) {}
}

export class InterruptedError extends DriverError {
  constructor(readonly signal: InterruptSignal) {
    super(`interrupted by ${signal}`, signal === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated);
  }
}

/** The interrupt behind an aborted signal, or SIGINT when something else aborted it. */
export function interruptOf(signal: AbortSignal): InterruptSignal {
  const reason: unknown = signal.reason;
  return reason instanceof Interrupt ? reason.signal : "SIGINT";
}

export function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new InterruptedError(interruptOf(signal));
  }
}

/**
 * The Automation API maps both the service's 409 and the file backend's lock message to
 * ConcurrentUpdateError; the name check also covers errors re-thrown across module copies.
 */
export function isConcurrentUpdate(err: unknown): boolean {
  return err instanceof ConcurrentUpdateError || (err instanceof Error && err.name === "ConcurrentUpdateError");
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Mandatory policy violations in the preview. */
export class PolicyViolationError extends DriverError {
  constructor(
    readonly violations: ReadonlyArray<{ readonly policyPack: string; readonly policy: string; readonly message: string; readonly urn?: string }>,
  ) {
    super(
      `${violations.length} mandatory policy violation(s): ${violations.map((v) => `${v.policyPack}/${v.policy}`).join(", ")}`,
      ExitCode.PolicyViolation,
      ["fix the program or the stack config; the preview output lists each violation with its resource"],
    );
  }
}

/** A gate (health, target health) failed after a change; the restore puts the previous state back. */
export class GateFailure extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = "GateFailure";
  }
}

/** An `up` failed after it may have started changing resources; a command with a restore point restores. */
export class UpFailure extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = "UpFailure";
  }
}
