/**
 * Interrupts cancel, never terminate; pending operations are judged by the stack's lock. The
 * in-memory stack counts the signals its running update receives as the Pulumi CLI would: the
 * first cancels (in-flight steps finish), the second terminates (pending operations left).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lockDir, readLocks } from "../../automation/adapters/workspace";
import { InterruptRelay } from "../../automation/cli/interrupts";
import { flip, up } from "../../automation/commands";
import { runUp } from "../../automation/engine";
import { Interrupt, InterruptedError } from "../../automation/errors";
import { ExitCode } from "../../automation/exitCodes";
import { Tx } from "../../automation/tx";
import { Harness } from "./harness";
import { image } from "./loopback";
import { MemoryStack } from "./memoryStack";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");

describe("automation: interrupts", function () {
  describe("the relay (pure)", () => {
    function relay(tty: boolean): { r: InterruptRelay; out: string[]; exits: string[] } {
      const out: string[] = [];
      const exits: string[] = [];
      return { r: new InterruptRelay(tty, (t) => out.push(t), (sig) => exits.push(sig)), out, exits };
    }

    it("Ctrl-C at a terminal: the driver stops, nothing is forwarded (the CLI got it already), ever", () => {
      const { r, out, exits } = relay(true);
      r.onSignal("SIGINT");
      assert.equal(r.driver.signal.aborted, true);
      assert.ok(r.driver.signal.reason instanceof Interrupt && r.driver.signal.reason.signal === "SIGINT");
      assert.equal(r.cli.signal.aborted, false);
      r.onSignal("SIGINT");
      assert.equal(r.cli.signal.aborted, false, "a second Ctrl-C reaches the CLI by itself; forwarding would add a third");
      assert.match(out.join(""), /terminates on a second Ctrl-C; waiting for it to exit/);
      assert.deepEqual(exits, []);
      r.onSignal("SIGINT");
      assert.deepEqual(exits, ["SIGINT"]);
    });

    it("SIGTERM (a cancelled CI job) is forwarded once", () => {
      const { r, out } = relay(false);
      r.onSignal("SIGTERM");
      assert.equal(r.cli.signal.aborted, true);
      assert.ok(r.cli.signal.reason instanceof Interrupt && r.cli.signal.reason.signal === "SIGTERM");
      r.onSignal("SIGTERM");
      assert.match(out.join(""), /already cancelling, not forwarding it/);
    });

    it("SIGINT without a terminal (kill -INT) is forwarded: the CLI did not get it", () => {
      const { r } = relay(false);
      r.onSignal("SIGINT");
      assert.equal(r.cli.signal.aborted, true);
    });

    it("SIGTERM at a terminal is forwarded too: it reached only the driver", () => {
      const { r } = relay(true);
      r.onSignal("SIGTERM");
      assert.equal(r.cli.signal.aborted, true);
    });
  });

  describe("commands", () => {
    let h: Harness;
    beforeEach(async () => {
      h = await Harness.start();
    });
    afterEach(async () => {
      await h.close();
    });

    function prod(opts: Partial<ConstructorParameters<typeof MemoryStack>[0]> = {}): MemoryStack {
      return h.add(new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B }], upDelayMs: 2_000, ...opts }));
    }

    /** Ctrl-C at the terminal while the flip's up runs: the CLI gets it from the terminal, the driver from the relay. */
    async function ctrlC(tty: boolean, times = 1): Promise<{ stack: MemoryStack; out: Awaited<ReturnType<typeof flip>> }> {
      const stack = prod();
      const r = new InterruptRelay(tty, () => undefined, () => undefined);
      stack.onCall = (c) => {
        if (c.op === "up") {
          setTimeout(() => {
            for (let i = 0; i < times; i++) {
              stack.terminalInterrupt();
              r.onSignal("SIGINT");
            }
          }, 10);
        }
      };
      const out = await flip(h.deps({ signal: r.driver.signal, cliSignal: r.cli.signal }), { stack: "prod", service: "student" });
      return { stack, out };
    }

    it("one Ctrl-C at a terminal cancels the update cleanly: no pending operations, exit 130, state reported", async () => {
      const { stack, out } = await ctrlC(true);
      assert.equal(out.exitCode, ExitCode.Interrupted, out.message);
      assert.deepEqual(stack.pending, [], "not terminated");
      assert.equal(stack.count("up"), 1, "no restore after an interrupt");
      assert.ok(out.remediation.some((r) => r.includes("the state has no pending operations: the engine stopped cleanly")), out.remediation.join("\n"));
    });

    it("forwarding the terminal's Ctrl-C (what a non-terminal relay does) would be a second signal: terminated, pending operations reported", async () => {
      const { stack, out } = await ctrlC(false);
      assert.equal(out.exitCode, ExitCode.Interrupted);
      assert.deepEqual(stack.pending.map((p) => p.type), ["updating", "updating"]);
      assert.ok(out.remediation.some((r) => r.startsWith("pending updating: ") && r.includes("student-ingress")), out.remediation.join("\n"));
      assert.ok(out.remediation.some((r) => r.includes("`pulumi refresh --stack prod` records what the cloud holds and clears them")));
    });

    it("never starts an SDK operation on an already aborted signal (the SDK's abort listener would never fire)", async () => {
      const stack = prod({ upDelayMs: undefined });
      const controller = new AbortController();
      controller.abort(new Interrupt("SIGTERM"));
      const deps = h.deps({ signal: controller.signal });
      await assert.rejects(runUp(deps, new Tx(deps), stack, "up", { message: "m" }), (e: unknown) => e instanceof InterruptedError && e.signal === "SIGTERM");
      assert.equal(stack.count("up"), 0);
    });
  });

  describe("pending operations and the lock", () => {
    let h: Harness;
    beforeEach(async () => {
      h = await Harness.start();
    });
    afterEach(async () => {
      await h.close();
    });
    const pending = [{ type: "updating", urn: "urn:pulumi:prod::platform::platform:apps:BlueGreenService$kubernetes:apps/v1:Deployment::student-green" }];

    it("operations of an update still running (its lock is held): exit 7, wait; never advise touching them", async () => {
      const s = h.add(
        new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B }], pendingOperations: pending, foreignLock: { pid: 4242, hostname: "ci-runner-7", alive: true } }),
      );
      const out = await up(h.deps(), { stack: "prod" });
      assert.equal(out.exitCode, ExitCode.Locked, out.message);
      assert.ok(out.remediation.some((r) => r.includes("belong to the update holding the lock") && r.includes("pid 4242")));
      assert.ok(!out.remediation.some((r) => /refresh|cancel|clear-pending/.test(r.replace("do not cancel it", ""))), out.remediation.join("\n"));
      assert.equal(s.count("preview") + s.count("up"), 0);
    });

    it("operations left by a dead holder: exit 5, the stale lock and the repair named", async () => {
      h.add(
        new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B }], pendingOperations: pending, foreignLock: { pid: 4242, hostname: "ci-runner-7", alive: false } }),
      );
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Refused, out.message);
      assert.ok(out.remediation.some((r) => r.includes("stale lock(s)") && r.includes("no longer running") && r.includes("pulumi cancel --stack prod")));
    });

    it("the file backend's lock files are read as the CLI writes them, with liveness on this host only", () => {
      const state = fs.mkdtempSync(path.join(os.tmpdir(), "locks-"));
      try {
        const dir = lockDir(state, "prod");
        assert.equal(dir, path.join(state, ".pulumi", "locks", "organization", "platform", "prod"));
        fs.mkdirSync(dir, { recursive: true });
        const write = (name: string, body: object): void => fs.writeFileSync(path.join(dir, name), JSON.stringify(body));
        write("a.json", { pid: process.pid, username: "me", hostname: "here", timestamp: "2026-03-04T05:06:07Z" });
        write("b.json", { pid: 1, username: "ci", hostname: "elsewhere", timestamp: "2026-03-04T05:06:07Z" });
        write("c.json", { pid: 999_999_999, username: "me", hostname: "here", timestamp: "2026-03-04T05:06:07Z" });
        const locks = readLocks(state, "prod", "here", (pid) => pid === process.pid);
        assert.deepEqual(
          locks.map((l) => [path.basename(l.file), l.hostname, l.alive]).sort(),
          [["a.json", "here", true], ["b.json", "elsewhere", undefined], ["c.json", "here", false]],
        );
        assert.deepEqual(readLocks(state, "staging"), [], "no lock directory: no locks");
      } finally {
        fs.rmSync(state, { recursive: true, force: true });
      }
    });
  });
});
