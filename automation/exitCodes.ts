/**
 * The driver's exit codes. CI branches on them (e.g. page someone on 4, not on 3), so a code's
 * meaning never changes once shipped; add new codes instead.
 */
export const ExitCode = {
  /** The operation succeeded (or there was nothing to do). */
  Ok: 0,
  /** Usage, config or environment error (bad flags, invalid stack config, no Pulumi CLI). Nothing was changed. */
  Error: 1,
  /** A mandatory policy violation in the preview. Nothing was changed. */
  PolicyViolation: 2,
  /** Failed after the first change; the previous colors and images were restored and verified. */
  RolledBack: 3,
  /** Failed and the restore failed, was refused by its targeted-plan check, or could not be verified: a human must look at the stack now. */
  ManualIntervention: 4,
  /**
   * A safety check refused the operation before any change (unverified digest, stateful replace,
   * pending operations of an interrupted update, unhealthy idle color, a targeted plan that does
   * more than it is for: "run a full up first").
   */
  Refused: 5,
  /** `--expect-no-changes` and the preview found changes (drift). */
  Drift: 6,
  /**
   * The stack stayed locked by someone else's update after every retry, or its pending operations
   * belong to an update still holding the lock. Nothing was changed by us; their update was not cancelled.
   */
  Locked: 7,
  /**
   * A plain `preview` or `up` failed (program error, provider error). `up` has no automatic restore: inspect and re-run.
   * Also the park step after a verified switch: traffic stays on the verified color, the idle one stays warm.
   */
  OperationFailed: 8,
  /** Interrupted by SIGINT (128 + 2). */
  Interrupted: 130,
  /** Interrupted by SIGTERM (128 + 15), e.g. a cancelled CI job. */
  Terminated: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One line per code, for `--help` and the README. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.Ok, "success, or nothing to do"],
  [ExitCode.Error, "usage, config or environment error; nothing changed"],
  [ExitCode.PolicyViolation, "mandatory policy violation; nothing changed"],
  [ExitCode.RolledBack, "failed after a change; previous colors and images restored and verified"],
  [ExitCode.ManualIntervention, "failed and the restore failed, was refused or is unverified: manual intervention needed"],
  [ExitCode.Refused, "refused by a safety check before any change (e.g. \"run a full up first\")"],
  [ExitCode.Drift, "--expect-no-changes and the preview found changes"],
  [ExitCode.Locked, "stack locked by another update (or its pending operations are that update's); nothing changed, their update not cancelled"],
  [ExitCode.OperationFailed, "preview/up failed (no automatic restore for a plain up), or the park step after a verified switch failed"],
  [ExitCode.Interrupted, "interrupted by SIGINT"],
  [ExitCode.Terminated, "interrupted by SIGTERM"],
];

export function formatExitCodes(): string {
  return EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join("\n");
}
