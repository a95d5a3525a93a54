/**
 * The backup step: before the first change the stack is exported, so a bad update can be undone
 * with `pulumi stack import` even when the engine's own checkpoint is the thing that broke.
 */
import { DriverDeps } from "../deps";
import { StackState } from "../ports";
import { Tx } from "../tx";

export async function backupState(deps: DriverDeps, tx: Tx, stack: string, operation: string, state: StackState): Promise<void> {
  const file = await tx.phase("backup", () => deps.backups.save(stack, operation, state, deps.clock.now()));
  tx.backup = file;
  deps.log.info(`backup of "${stack}" written to ${file}`);
}
