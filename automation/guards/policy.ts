/** The policy gate: mandatory violations in a preview stop a command, and are reported with it. */
import { mandatory, PolicyViolation, PreviewFindings } from "../changes";
import { PolicyViolationError } from "../errors";

/** Throws PolicyViolationError when the preview's events carry a mandatory violation. */
export function policyGate(findings: PreviewFindings): void {
  const blocking = mandatory(findings.violations);
  if (blocking.length > 0) {
    throw new PolicyViolationError(blocking);
  }
}

/** The violations behind a policy failure, for the outcome; undefined for any other failure. */
export function violationsOf(err: unknown): PolicyViolation[] | undefined {
  return err instanceof PolicyViolationError ? err.violations.map((v) => ({ ...v, enforcement: "mandatory" as const })) : undefined;
}
