/**
 * The retention Job's script (`ISM_APPLY_SCRIPT`), run with the machine's sh and curl against a
 * local fake of the ISM API: the same requests the Job sends through its signing sidecar. The
 * fake keeps one policy with ISM's optimistic concurrency (`_seq_no`, `_primary_term`).
 * Skipped where curl is not installed.
 */
import { strict as assert } from "assert";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { retentionPolicy } from "../infra/lib/ism";
import { ISM_APPLY_SCRIPT } from "../infra/logging/retention";
import { Loopback, RecordedRequest, Reply, startServer } from "./automation/loopback";

const POLICY_ID = "logs-retention";
const PATTERN = "logs-*";
const POLICY = retentionPolicy({ indexPrefix: "logs", retentionDays: 7 });

interface StoredPolicy {
  seqNo: number;
  primaryTerm: number;
  body: unknown;
}

/** The part of the ISM API the script uses; `override` answers a request first when it returns a reply. */
class FakeIsm {
  policy: StoredPolicy | undefined;
  private nextSeqNo = 0;

  constructor(
    existing?: StoredPolicy,
    private readonly override?: (req: RecordedRequest) => Reply | undefined,
  ) {
    this.policy = existing;
    this.nextSeqNo = existing === undefined ? 0 : existing.seqNo + 1;
  }

  handle(req: RecordedRequest): Reply {
    const overridden = this.override?.(req);
    if (overridden !== undefined) {
      return overridden;
    }
    const url = new URL(req.path, "http://fake");
    if (url.pathname === `/_plugins/_ism/policies/${POLICY_ID}`) {
      return req.method === "GET" ? this.get() : req.method === "PUT" ? this.put(url, req.body) : { status: 405 };
    }
    if (req.method === "POST" && (url.pathname === `/_plugins/_ism/add/${PATTERN}` || url.pathname === `/_plugins/_ism/change_policy/${PATTERN}`)) {
      return { status: 200, body: JSON.stringify({ updated_indices: 2, failures: false, failed_indices: [] }) };
    }
    return { status: 400, body: JSON.stringify({ error: `no handler for ${req.method} ${url.pathname}` }) };
  }

  private get(): Reply {
    const p = this.policy;
    if (p === undefined) {
      return { status: 404, body: JSON.stringify({ error: { reason: "Policy not found" }, status: 404 }) };
    }
    return { status: 200, body: JSON.stringify({ _id: POLICY_ID, _version: p.seqNo + 1, _primary_term: p.primaryTerm, _seq_no: p.seqNo, ...(p.body as object) }) };
  }

  private put(url: URL, body: string): Reply {
    const seqNo = url.searchParams.get("if_seq_no");
    const term = url.searchParams.get("if_primary_term");
    const p = this.policy;
    if (p !== undefined && (seqNo !== String(p.seqNo) || term !== String(p.primaryTerm))) {
      return { status: 409, body: JSON.stringify({ error: { type: "version_conflict_engine_exception" }, status: 409 }) };
    }
    this.policy = { seqNo: this.nextSeqNo++, primaryTerm: p?.primaryTerm ?? 1, body: JSON.parse(body) as unknown };
    return { status: p === undefined ? 201 : 200, body: JSON.stringify({ _id: POLICY_ID, _seq_no: this.policy.seqNo, _primary_term: this.policy.primaryTerm }) };
  }
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly requests: readonly RecordedRequest[];
}

describe("ISM retention Job script", function () {
  this.timeout(30_000);
  let tmp: string;

  before(function () {
    if (spawnSync("curl", ["--version"]).status !== 0) {
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ism-"));
  });
  after(() => {
    if (tmp !== undefined) {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  async function run(fake: FakeIsm): Promise<Run> {
    const server: Loopback = await startServer((req) => fake.handle(req));
    try {
      const from = server.requests.length;
      const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", TMPDIR: tmp, ISM_URL: `${server.url}/_plugins/_ism`, POLICY_ID, INDEX_PATTERN: PATTERN, POLICY: JSON.stringify(POLICY) };
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile("/bin/sh", ["-c", ISM_APPLY_SCRIPT], { env }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
          resolve({ code, stdout, stderr });
        });
      });
      return { ...result, requests: server.requests.slice(from) };
    } finally {
      await server.close();
    }
  }

  const calls = (r: Run): string[] => r.requests.map((q) => `${q.method} ${q.path}`);

  it("creates the policy on a fresh domain, then attaches it to the existing indices and moves hot ones onto it", async () => {
    const fake = new FakeIsm();
    const r = await run(fake);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(calls(r), [
      `GET /_plugins/_ism/policies/${POLICY_ID}`,
      `PUT /_plugins/_ism/policies/${POLICY_ID}`,
      `POST /_plugins/_ism/add/${PATTERN}`,
      `POST /_plugins/_ism/change_policy/${PATTERN}`,
    ]);
    assert.deepEqual(JSON.parse(r.requests[1].body), POLICY);
    assert.equal(r.requests[1].headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(r.requests[2].body), { policy_id: POLICY_ID });
    assert.deepEqual(JSON.parse(r.requests[3].body), { policy_id: POLICY_ID, include: [{ state: "hot" }] });
    assert.deepEqual(fake.policy?.body, POLICY);
    assert.match(r.stdout, /ISM policy logs-retention created/);
  });

  it("updates an existing policy with the _seq_no and _primary_term it read", async () => {
    const fake = new FakeIsm({ seqNo: 7, primaryTerm: 2, body: retentionPolicy({ indexPrefix: "logs", retentionDays: 30 }) });
    const r = await run(fake);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(calls(r)[1], `PUT /_plugins/_ism/policies/${POLICY_ID}?if_seq_no=7&if_primary_term=2`);
    assert.deepEqual(fake.policy?.body, POLICY);
    assert.match(r.stdout, /updated \(was at _seq_no 7, _primary_term 2\)/);
  });

  it("is idempotent: every re-run reads the current version and writes the same policy", async () => {
    const fake = new FakeIsm();
    const runs = [await run(fake), await run(fake), await run(fake)];
    assert.deepEqual(runs.map((r) => r.code), [0, 0, 0]);
    assert.deepEqual(
      runs.map((r) => calls(r)[1]),
      [`PUT /_plugins/_ism/policies/${POLICY_ID}`, `PUT /_plugins/_ism/policies/${POLICY_ID}?if_seq_no=0&if_primary_term=1`, `PUT /_plugins/_ism/policies/${POLICY_ID}?if_seq_no=1&if_primary_term=1`],
    );
    assert.deepEqual(fake.policy?.body, POLICY);
  });

  it("fails the attempt on a concurrent write (409), so the Job's next pod starts from a fresh GET", async () => {
    const fake = new FakeIsm({ seqNo: 3, primaryTerm: 1, body: POLICY }, (req) => (req.method === "PUT" ? { status: 409, body: '{"status":409}' } : undefined));
    const r = await run(fake);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PUT .*\/_plugins\/_ism\/policies\/logs-retention\?if_seq_no=3&if_primary_term=1 answered HTTP 409/);
    assert.ok(!calls(r).some((c) => c.startsWith("POST")), "nothing is attached to a policy that was not written");
  });

  it("stops before writing when the GET is refused (e.g. 403 while the new role propagates)", async () => {
    const fake = new FakeIsm(undefined, (req) => (req.method === "GET" ? { status: 403, body: '{"Message":"not authorized"}' } : undefined));
    const r = await run(fake);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GET .*\/_plugins\/_ism\/policies\/logs-retention answered HTTP 403/);
    assert.match(r.stderr, /not authorized/);
    assert.deepEqual(calls(r), [`GET /_plugins/_ism/policies/${POLICY_ID}`]);
  });

  it("treats a domain without matching indices yet (404 on add and change_policy) as done", async () => {
    const fake = new FakeIsm(undefined, (req) => (req.method === "POST" ? { status: 404, body: '{"status":404}' } : undefined));
    const r = await run(fake);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /add logs-\*: no index matches yet/);
    assert.match(r.stdout, /change_policy logs-\*: no index matches yet/);
  });

  it("fails when attaching fails otherwise", async () => {
    const fake = new FakeIsm(undefined, (req) => (req.method === "POST" && req.path.includes("/add/") ? { status: 403, body: "{}" } : undefined));
    const r = await run(fake);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /POST .*\/_plugins\/_ism\/add\/logs-\* answered HTTP 403/);
  });
});
