/**
 * The pending-operations guard: an update that was interrupted leaves `pending_operations` in
 * the state, and the cloud may then hold resources the state does not know (or the reverse).
 * Nothing runs on such a state until a human has repaired it.
 */
import { RefusedError } from "../errors";
import { StackState } from "../ports";

export interface PendingOperation {
  readonly type: string;
  readonly urn: string;
}

/** Operations an interrupted update left in the state (`deployment.pending_operations`). */
export function pendingOperations(state: StackState): PendingOperation[] {
  const deployment = state.deployment;
  if (deployment === null || typeof deployment !== "object" || !("pending_operations" in deployment)) {
    return [];
  }
  const list: unknown = deployment.pending_operations;
  if (!Array.isArray(list)) {
    return [];
  }
  return (list as unknown[]).map((op): PendingOperation => {
    const o = op !== null && typeof op === "object" ? op : {};
    const type = "type" in o && typeof o.type === "string" ? o.type : "unknown";
    const resource = "resource" in o && o.resource !== null && typeof o.resource === "object" ? o.resource : {};
    const urn = "urn" in resource && typeof resource.urn === "string" ? resource.urn : "(unknown urn)";
    return { type, urn };
  });
}

export function pendingRemediation(stack: string, ops: readonly PendingOperation[]): string[] {
  const onlyCreates = ops.every((o) => o.type === "creating");
  return [
    ...ops.map((o) => `pending ${o.type}: ${o.urn}`),
    "an earlier update was interrupted; the cloud may hold resources the state does not know (or the reverse)",
    onlyCreates
      ? `all are pending creates: check each in the AWS console, then \`pulumi refresh --clear-pending-creates --stack ${stack}\` (or import the ones that exist)`
      : `inspect and repair the state: \`pulumi stack export --stack ${stack} > state.json\`, remove the entries from pending_operations after checking each resource, \`pulumi stack import --stack ${stack} --file state.json\``,
    "then re-run this command",
  ];
}

export function checkPending(stack: string, state: StackState): void {
  const pending = pendingOperations(state);
  if (pending.length > 0) {
    throw new RefusedError(`stack "${stack}" has ${pending.length} pending operation(s) from an interrupted update`, pendingRemediation(stack, pending));
  }
}
