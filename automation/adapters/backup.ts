/**
 * State backups: before every mutating operation the stack is exported to a timestamped
 * file, so a bad update can be undone with `pulumi stack import` even when the engine's own
 * checkpoint is the thing that broke. Files are owner-only: even with secrets left encrypted
 * a state file maps the whole environment.
 */
import * as fs from "fs";
import * as path from "path";
import { BackupStore, StackState } from "../ports";

/** `<dir>/<stack>/<UTC timestamp>-<operation>.json`; the timestamp sorts lexically. */
export function backupPath(dir: string, stack: string, operation: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  return path.join(dir, stack, `${stamp}-${operation.replace(/[^a-z0-9-]+/gi, "-")}.json`);
}

export function writeBackup(dir: string, stack: string, operation: string, state: StackState, now: number): string {
  let file = backupPath(dir, stack, operation, now);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Two operations in the same millisecond (tests, quick retries) must not overwrite each other.
  for (let n = 1; fs.existsSync(file); n++) {
    file = file.replace(/(-\d+)?\.json$/, `-${n}.json`);
  }
  fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return file;
}

/** The backup port on the local disk (under the state directory by default). */
export class FileBackupStore implements BackupStore {
  constructor(private readonly dir: string) {}

  save(stack: string, operation: string, state: StackState, at: number): string {
    return writeBackup(this.dir, stack, operation, state, at);
  }
}
