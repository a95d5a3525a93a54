/**
 * The pending-operations guard. A running update shows its in-flight steps as
 * `pending_operations` in `stack export` too, and an update that was terminated leaves them
 * behind (pulumi/pkg v3.276.0 backend/snapshot.go:189, 1093; engine/update.go:1408-1412). So the
 * lock comes first: DIY backends lock updates, not previews or reads (backend/diy/backend.go:
 * 1212-1305), one `<uuid>.json` per lock with `{pid, username, hostname, timestamp}`
 * (backend/diy/lock.go:38-61). A held lock means the operations belong to an update still
 * running, and nothing may touch them; only without a lock (or with a provably dead holder) are
 * they left over from an interrupted update.
 */
import { LockedError, RefusedError } from "../errors";
import { LockReport, StackState, UpdateLock } from "../ports";

export interface PendingOperation {
  readonly type: string;
  readonly urn: string;
}

/** Operations in the state (`deployment.pending_operations`). */
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

function describeLock(l: UpdateLock): string {
  const who = `${l.username ?? "?"}@${l.hostname ?? "?"} (pid ${l.pid ?? "?"})`;
  const state = l.alive === true ? "running" : l.alive === false ? "no longer running" : "liveness unknown from this host";
  return `${l.file}: ${who} since ${l.timestamp ?? "?"}, ${state}`;
}

/**
 * What to do about operations an interrupted update left. The driver's own commands refuse while
 * they exist (checkPending), so "the next `up` clears them" would be advice it cannot follow: the
 * repair is `pulumi refresh`. It records what the cloud holds and writes a state without the
 * non-create operations: a written snapshot keeps only the pending creates of its base
 * (pulumi/pkg v3.276.0 backend/snapshot.go:835-851), which the engine's own warning also says
 * (resource/deploy/deployment_executor.go:108-121). Pending creates need one of refresh's
 * pending-create flags (cmd/pulumi/operations/refresh.go:286-330), and that same refresh clears
 * the others too. No hand edit of the state either way.
 */
export function pendingRemediation(stack: string, ops: readonly PendingOperation[]): string[] {
  const creates = ops.filter((o) => o.type === "creating");
  const others = ops.length - creates.length;
  const lines = [
    ...ops.map((o) => `pending ${o.type}: ${o.urn}`),
    "an update was stopped while these steps ran; the cloud may have the change applied even though the state does not record it",
    "the driver refuses to run on this state; a `pulumi refresh` of the stack clears the operations (run it with the backend and passphrase the driver uses)",
  ];
  if (creates.length > 0) {
    lines.push(
      `pending creates: check in the AWS console / cluster whether each exists, then \`pulumi refresh --stack ${stack} --import-pending-creates <urn>=<id>\` for those that do and \`pulumi refresh --stack ${stack} --clear-pending-creates\` for the rest${others > 0 ? "; that refresh also clears the other operations (updating, deleting)" : ""}`,
    );
  } else {
    lines.push(`the operations (updating, deleting): \`pulumi refresh --stack ${stack}\` records what the cloud holds and clears them, no state edit needed`);
  }
  lines.push(`then \`npm run platform -- preview ${stack}\` shows what an \`up\` would still change, and re-run this command`);
  return lines;
}

/**
 * Refuses to run on a state with pending operations: LockedError (exit 7) while an update holds
 * the lock, never advising to touch its operations; RefusedError (exit 5) with the repair for
 * operations an interrupted update left.
 */
export function checkPending(stack: string, state: StackState, locks: LockReport): void {
  const pending = pendingOperations(state);
  if (pending.length === 0) {
    return;
  }
  const held = locks.locks.filter((l) => l.alive !== false);
  if (held.length > 0) {
    throw new LockedError(stack, 1, [
      `the ${pending.length} pending operation(s) belong to the update holding the lock: ${held.map(describeLock).join("; ")}`,
      "wait for it to finish (or for its CI job to end), then re-run; do not cancel it or edit the state while it runs",
    ]);
  }
  const stale = locks.locks.filter((l) => l.alive === false);
  throw new RefusedError(`stack "${stack}" has ${pending.length} pending operation(s) from an interrupted update`, [
    ...(stale.length > 0
      ? [`stale lock(s) of a process that no longer runs: ${stale.map(describeLock).join("; ")}; \`pulumi cancel --stack ${stack}\` deletes the lock files (it stops nothing)`]
      : locks.supported
        ? ["no update holds the stack's lock"]
        : ["this backend's locks cannot be listed here: make sure no update (CI job) is running on this stack before repairing"]),
    ...pendingRemediation(stack, pending),
  ]);
}
