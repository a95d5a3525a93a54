// A record of each running control plane, so that one left behind by a test process that died
// without running its handlers (SIGKILL, an OOM kill, a closed CI step) is stopped by the next run
// instead of holding etcd, the API server, the controllers and kwok until the machine restarts.
//
// One file per test process under .cache/integration-running/: the owner's pid, the temp dir, and
// each component's pid and binary. A record whose owner is alive belongs to another run and is
// left alone. A component is killed only when /proc/<pid>/exe is still that binary (a pid the
// kernel has since given to another program is not touched); each runs in its own process group.

import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../../tools/tools";

export interface RunningRecord {
  readonly owner: number;
  readonly dir: string;
  readonly components: ReadonlyArray<{ readonly name: string; readonly pid: number; readonly binary: string }>;
}

/** Where the records are; tests pass a temp dir. */
export const RUNNING_DIR = path.join(repoRoot, ".cache", "integration-running");

function recordPath(owner: number, dir: string): string {
  return path.join(dir, `${owner}.json`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function runs(pid: number, binary: string): boolean {
  try {
    return fs.realpathSync(`/proc/${pid}/exe`) === fs.realpathSync(binary);
  } catch {
    return false;
  }
}

/** Writes (or rewrites, as components start) this process's record. */
export function recordRunning(record: RunningRecord, dir = RUNNING_DIR): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(recordPath(record.owner, dir), JSON.stringify(record));
}

export function forgetRunning(owner: number, dir = RUNNING_DIR): void {
  fs.rmSync(recordPath(owner, dir), { force: true });
}

/** Stops what dead owners left running and removes their temp dirs; returns one line per record swept. */
export function sweepLeftovers(dir = RUNNING_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  const swept: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    let record: RunningRecord;
    try {
      record = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as RunningRecord;
    } catch {
      fs.rmSync(path.join(dir, file), { force: true });
      continue;
    }
    if (record.owner === process.pid || alive(record.owner)) continue;
    const killed: string[] = [];
    for (const c of record.components) {
      if (!runs(c.pid, c.binary)) continue;
      try {
        process.kill(-c.pid, "SIGKILL");
        killed.push(`${c.name} (${c.pid})`);
      } catch {
        // gone meanwhile
      }
    }
    // Only a dir this module's records name: the control plane's mkdtemp under the temp dir.
    if (path.basename(record.dir).startsWith("platform-control-plane-")) {
      fs.rmSync(record.dir, { recursive: true, force: true });
    }
    fs.rmSync(path.join(dir, file), { force: true });
    swept.push(`process ${record.owner} died with its control plane running: killed ${killed.length > 0 ? killed.join(", ") : "nothing (already gone)"}, removed ${record.dir}`);
  }
  return swept;
}
