/**
 * Test helpers for the policy pack: shipped and mutated stacks as the offline runner's input
 * (with the outputs test/mocks.ts computes, so references between resources resolve), and
 * synthetic resources for the per-rule cases.
 */
import type { Violation } from "../../infra/policy/engine";
import { fromDeclared, OfflineResource } from "../../infra/policy/offline";
import { ACCOUNT_ID, REGION, resourceMocks } from "../mocks";
import type { Evaluation } from "../stack";

type Props = Record<string, unknown>;

/** The state RecordingMocks returns for a resource: arn and id derived from the name, inputs, computed extras. */
function mockedOutputs(r: { type: string; name: string; inputs: Props }): Props {
  const service = r.type.split(":")[1]?.split("/")[0] ?? "svc";
  const id = r.type.startsWith("pulumi:providers:") ? `${r.name}-provider-id` : `${r.name}-id`;
  const arn = `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${r.type.split(":").pop()?.toLowerCase() ?? "r"}/${r.name}`;
  const extra = resourceMocks[r.type]?.(r.name, r.inputs, { availabilityZones: ["ap-northeast-2a", "ap-northeast-2c"] }) ?? {};
  return { arn, id, ...r.inputs, ...extra };
}

export function policyInput(ev: Evaluation): OfflineResource[] {
  return fromDeclared(ev.resources, mockedOutputs);
}

export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  [${v.enforcementLevel}] ${v.policy}: ${v.message}`).join("\n");
}
