/**
 * Progress output: a live, redrawn line in a terminal; plain timestamped lines in CI.
 */
import { strict as assert } from "assert";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { createLogger, isLiveTerminal } from "../../automation/adapters/progress";
import { FakeClock } from "./loopback";

function events(): EngineEvent[] {
  const meta = (name: string) => ({ op: "update" as const, urn: `urn:pulumi:prod::platform::kubernetes:apps/v1:Deployment::${name}`, type: "kubernetes:apps/v1:Deployment", provider: "" });
  return [
    { sequence: 1, timestamp: 0, resourcePreEvent: { metadata: meta("student-green") } },
    { sequence: 2, timestamp: 0, resourcePreEvent: { metadata: meta("subject-blue") } },
    { sequence: 3, timestamp: 0, resOutputsEvent: { metadata: meta("student-green") } },
    { sequence: 4, timestamp: 0, resOpFailedEvent: { metadata: meta("subject-blue"), status: 1, steps: 1 } },
    { sequence: 5, timestamp: 0, diagnosticEvent: { message: "<{%fg 1%}>timed out<{%reset%}>\n", color: "raw", severity: "error" } },
  ];
}

describe("automation: progress", () => {
  it("CI: one timestamped line per step, no carriage returns", () => {
    const out: string[] = [];
    const log = createLogger({ write: (t) => out.push(t), live: false, clock: new FakeClock() });
    const op = log.operation("prod stage", 2);
    events().forEach((e) => op.onEvent(e));
    op.end();
    const text = out.join("");
    assert.ok(!text.includes("\r"));
    const lines = text.trimEnd().split("\n");
    for (const l of lines) {
      assert.match(l, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z prod stage: /);
    }
    assert.deepEqual(
      lines.map((l) => l.replace(/^\S+ /, "")),
      [
        "prod stage: started",
        "prod stage: update student-green (kubernetes:apps/v1:Deployment)",
        "prod stage: update subject-blue (kubernetes:apps/v1:Deployment)",
        "prod stage: update student-green done (1/2)",
        "prod stage: update subject-blue FAILED",
        "prod stage: error: timed out",
        "prod stage: finished (1 change(s), 1 failed)",
      ],
    );
  });

  it("terminal: redraws one live line with done/total and what is in flight", () => {
    const out: string[] = [];
    const log = createLogger({ write: (t) => out.push(t), live: true, clock: new FakeClock(), columns: 80 });
    const op = log.operation("prod flip", 2);
    op.onEvent(events()[0] ?? assert.fail());
    op.onEvent(events()[2] ?? assert.fail());
    op.end();
    const live = out.filter((t) => t.startsWith("\r\x1b[K") && t.length > 4);
    assert.ok(live.some((t) => /prod flip: 0\/2 done · update student-green/.test(t)), JSON.stringify(out));
    assert.ok(live.some((t) => /prod flip: 1\/2 done/.test(t)));
    assert.ok(live.every((t) => t.length <= 80 + 4), "fits the terminal");
    assert.match(out.join(""), /prod flip: finished \(1 change\(s\)\)\n$/);
  });

  it("live only in an interactive terminal outside CI", () => {
    assert.equal(isLiveTerminal({ isTTY: true }, {}), true);
    assert.equal(isLiveTerminal({ isTTY: true }, { CI: "true" }), false);
    assert.equal(isLiveTerminal({ isTTY: false }, {}), false);
    assert.equal(isLiveTerminal({ isTTY: true }, { TERM: "dumb" }), false);
  });
});
