/**
 * Test helpers for the policy pack: shipped and mutated stacks as the offline runner's input
 * (`policyInput`, shared with the driver's `plan`, with the outputs automation/offline/mocks.ts
 * computes so references between resources resolve), and the violations' wording.
 */
import type { Violation } from "../../infra/policy/engine";

export { policyInput } from "../../automation/offline/policyInput";

export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  [${v.enforcementLevel}] ${v.policy}: ${v.message}`).join("\n");
}
