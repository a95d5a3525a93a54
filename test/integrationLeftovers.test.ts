// The integration tier's sweep of control planes left by a test process that died (SIGKILL):
// real processes, a temp record dir. Unit tier: it needs only Node.js and the machine's `sleep`.

import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { recordRunning, sweepLeftovers } from "./integration/leftovers";

const SLEEP = fs.realpathSync(spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim() || "/bin/sleep");

/** A `sleep` in its own process group, as the control plane starts each component. */
function component(): ChildProcess {
  const child = spawn(SLEEP, ["300"], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (!running(child)) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The pid of a process that has exited (an owner that died). */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

describe("integration tier: control planes left by a dead test process", function () {
  let records: string;
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    records = fs.mkdtempSync(path.join(os.tmpdir(), "leftovers-records-"));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "platform-control-plane-"));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (running(c) && c.pid !== undefined) process.kill(c.pid, "SIGKILL");
    fs.rmSync(records, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("kills the components of a dead owner, removes its temp dir and its record", async () => {
    const etcd = component();
    children.push(etcd);
    recordRunning({ owner: deadPid(), dir: tmp, components: [{ name: "etcd", pid: etcd.pid ?? 0, binary: SLEEP }] }, records);
    const lines = sweepLeftovers(records);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /died with its control plane running: killed etcd \(\d+\), removed /);
    assert.ok(await exited(etcd, 5_000), "the component was killed");
    assert.equal(fs.existsSync(tmp), false, "its temp dir is gone");
    assert.deepEqual(fs.readdirSync(records), [], "its record is gone");
  });

  it("leaves a live owner's control plane alone (another run on the machine)", async () => {
    const etcd = component();
    children.push(etcd);
    recordRunning({ owner: process.ppid, dir: tmp, components: [{ name: "etcd", pid: etcd.pid ?? 0, binary: SLEEP }] }, records);
    assert.deepEqual(sweepLeftovers(records), []);
    assert.equal(await exited(etcd, 300), false, "still running");
    assert.ok(fs.existsSync(tmp));
    assert.equal(fs.readdirSync(records).length, 1);
  });

  it("never kills a pid that now runs another program", async () => {
    const other = component();
    children.push(other);
    // The record says the pid ran kube-apiserver; the process there now is `sleep`.
    recordRunning({ owner: deadPid(), dir: tmp, components: [{ name: "kube-apiserver", pid: other.pid ?? 0, binary: process.execPath }] }, records);
    const lines = sweepLeftovers(records);
    assert.match(lines[0] ?? "", /killed nothing \(already gone\)/);
    assert.equal(await exited(other, 300), false, "the other program still runs");
  });

  it("removes only a control plane's own kind of temp dir", () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "not-ours-"));
    try {
      recordRunning({ owner: deadPid(), dir: elsewhere, components: [] }, records);
      sweepLeftovers(records);
      assert.ok(fs.existsSync(elsewhere), "a dir the control plane did not create stays");
      assert.deepEqual(fs.readdirSync(records), []);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
