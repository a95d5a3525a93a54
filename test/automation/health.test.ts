/**
 * The HTTP health gate against real HTTP servers on 127.0.0.1: consecutive successes, the
 * latency bound, the overall deadline, refused connections, aborts.
 */
import { strict as assert } from "assert";
import * as net from "net";
import { systemClock } from "../../automation/adapters/clock";
import { resolveConnectTo } from "../../automation/adapters/http";
import { HttpHealthProber } from "../../automation/adapters/httpProber";
import { Loopback, Reply, startServer } from "./loopback";

const FAST = { successes: 3, latencyMs: 300, timeoutMs: 1_500, intervalMs: 5 };

describe("automation: HTTP health gate (loopback)", function () {
  const prober = new HttpHealthProber(systemClock);
  let server: Loopback | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A server answering with `script[i]` for the i-th request, then the last entry forever. */
  async function scripted(script: Reply[]): Promise<Loopback> {
    let n = 0;
    server = await startServer(() => script[Math.min(n++, script.length - 1)] ?? { status: 500 });
    return server;
  }

  it("passes after N consecutive successes", async () => {
    const s = await scripted([{ status: 200, body: '{"status":"UP"}' }]);
    const r = await prober.probe(`${s.url}/actuator/health`, FAST, new AbortController().signal);
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 3);
    assert.equal(r.consecutive, 3);
    assert.deepEqual(s.requests.map((q) => [q.method, q.path]), [
      ["GET", "/actuator/health"],
      ["GET", "/actuator/health"],
      ["GET", "/actuator/health"],
    ]);
  });

  it("a failure resets the count (a flapping color does not pass)", async () => {
    const s = await scripted([{ status: 200 }, { status: 200 }, { status: 502 }, { status: 200 }, { status: 200 }, { status: 200 }]);
    const r = await prober.probe(s.url, FAST, new AbortController().signal);
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 6, "2 successes, 1 failure, then 3 in a row");
  });

  it("fails on non-2xx until the deadline, within the deadline", async () => {
    const s = await scripted([{ status: 503, body: '{"status":"DOWN"}' }]);
    const t0 = Date.now();
    const r = await prober.probe(s.url, { ...FAST, timeoutMs: 300 }, new AbortController().signal);
    const elapsed = Date.now() - t0;
    assert.equal(r.ok, false);
    assert.match(r.reason, /0\/3 consecutive successes within 300 ms; last failure: HTTP 503/);
    assert.ok(r.attempts > 1);
    assert.ok(elapsed < 300 + 300 + 200, `bounded: ${elapsed} ms`);
  });

  it("a probe cut short by the deadline keeps the last real failure as the reason", async () => {
    // The second probe starts with ~240 ms left of the gate and a 300 ms latency bound; the
    // server would answer in 280 ms, so only the deadline stops it. That is not a latency failure.
    const s = await scripted([{ status: 503 }, { status: 200, delayMs: 280 }]);
    const r = await prober.probe(s.url, { successes: 1, latencyMs: 300, timeoutMs: 250, intervalMs: 5 }, new AbortController().signal);
    assert.equal(r.ok, false);
    assert.equal(r.attempts, 2);
    assert.equal(r.reason, "0/1 consecutive successes within 250 ms; last failure: HTTP 503");
  });

  it("a server that never answers before the deadline says so", async () => {
    const s = await scripted([{ status: 200, delayMs: 500 }]);
    const r = await prober.probe(s.url, { successes: 1, latencyMs: 300, timeoutMs: 100, intervalMs: 5 }, new AbortController().signal);
    assert.equal(r.ok, false);
    assert.equal(r.reason, "0/1 consecutive successes within 100 ms; last failure: no probe completed before the deadline");
  });

  it("a response slower than the latency bound is a failure", async () => {
    const s = await scripted([{ status: 200, delayMs: 250 }]);
    const r = await prober.probe(s.url, { successes: 1, latencyMs: 100, timeoutMs: 400, intervalMs: 5 }, new AbortController().signal);
    assert.equal(r.ok, false);
    assert.match(r.reason, /no response within the 100 ms latency bound/);
  });

  it("becomes healthy part-way through (a color still warming up)", async () => {
    const s = await scripted([{ status: 503 }, { status: 200, delayMs: 200 }, { status: 200 }]);
    const r = await prober.probe(s.url, { successes: 2, latencyMs: 100, timeoutMs: 1_500, intervalMs: 5 }, new AbortController().signal);
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 4);
  });

  it("reports a refused connection", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer();
      probe.listen(0, "127.0.0.1", () => {
        const addr = probe.address();
        probe.close(() => resolve(typeof addr === "object" && addr !== null ? addr.port : 0));
      });
    });
    const r = await prober.probe(`http://127.0.0.1:${port}/health`, { ...FAST, timeoutMs: 100 }, new AbortController().signal);
    assert.equal(r.ok, false);
    assert.match(r.reason, /ECONNREFUSED/);
  });

  it("rejects at once when aborted", async () => {
    const s = await scripted([{ status: 200, delayMs: 1_000 }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error("stop")), 30);
    const t0 = Date.now();
    await assert.rejects(prober.probe(s.url, { successes: 3, latencyMs: 2_000, timeoutMs: 5_000, intervalMs: 5 }, ctl.signal), /stop/);
    assert.ok(Date.now() - t0 < 500);
  });
});

describe("automation: HTTP connect-to seam (loopback)", function () {
  let server: Loopback | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("connects to the mapped origin, keeps the URL's host in Host and its path and query", async () => {
    server = await startServer(() => ({ status: 200 }));
    const prober = new HttpHealthProber(systemClock, new Map([["https://live.example.com", server.url]]));
    const r = await prober.probe("https://live.example.com/api/health?deep=1", { ...FAST, successes: 1 }, new AbortController().signal);
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.url, "https://live.example.com/api/health?deep=1", "the verdict names the URL asked for");
    assert.deepEqual(server.requests.map((q) => [q.path, q.headers.host]), [["/api/health?deep=1", "live.example.com"]]);
  });

  it("leaves other origins alone: an unmapped host is not sent to the mapped address", async () => {
    server = await startServer(() => ({ status: 200 }));
    const map = new Map([["https://live.example.com", server.url]]);
    const other = resolveConnectTo(new URL("https://preview.example.com/health"), map);
    assert.equal(other.target.href, "https://preview.example.com/health");
    assert.equal(other.host, undefined);
    // Same host, another port: another origin.
    assert.equal(resolveConnectTo(new URL("https://live.example.com:8443/x"), map).target.host, "live.example.com:8443");
  });

  it("refuses a mapping that is not a bare origin", () => {
    assert.throws(() => resolveConnectTo(new URL("https://a.example.com/"), new Map([["https://a.example.com", "http://127.0.0.1:1/base"]])), /bare http\(s\) origin/);
  });
});
