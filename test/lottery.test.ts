import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as path from "path";

/** The contract of infra/api/functions/lottery/index.js (plain CommonJS, shipped to Lambda as-is). */
interface Applicant {
  id: string;
  priority?: number;
}
interface DrawRequest {
  seed: string;
  seats: number;
  applicants: Applicant[];
}
interface DrawResult {
  algorithm: string;
  seed: string;
  seats: number;
  drawn: string[];
  waitlist: string[];
}
interface HttpEvent {
  routeKey?: string;
  rawPath?: string;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string; path?: string } };
}
interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
interface LotteryModule {
  handler(event: HttpEvent): Promise<HttpResponse>;
  draw(request: DrawRequest): DrawResult;
  tieBreak(seed: string, id: string): string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lottery = require(path.join(__dirname, "..", "infra", "api", "functions", "lottery", "index.js")) as LotteryModule;

const applicants = (...ids: string[]): Applicant[] => ids.map((id) => ({ id }));

function post(body: unknown, raw = false): HttpEvent {
  return {
    routeKey: "POST /draw",
    rawPath: "/draw",
    body: raw ? String(body) : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: "POST", path: "/draw" } },
  };
}

async function call(event: HttpEvent): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  const res = await lottery.handler(event);
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, headers: res.headers };
}

describe("lottery function", () => {
  describe("draw", () => {
    const twelve = applicants(...Array.from({ length: 12 }, (_, i) => `child-${i + 1}`));

    it("is deterministic: the same seed and applicants give the same result, whatever their order", () => {
      const first = lottery.draw({ seed: "2025-spring", seats: 5, applicants: twelve });
      const again = lottery.draw({ seed: "2025-spring", seats: 5, applicants: [...twelve].reverse() });
      assert.deepEqual(again, first);
    });

    it("is reproducible by an auditor from the published rule alone: sha256(seed NUL id), ascending", () => {
      const seed = "audit-seed";
      const expected = twelve
        .map((a) => ({ id: a.id, key: crypto.createHash("sha256").update(`${seed}\u0000${a.id}`).digest("hex") }))
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((a) => a.id);
      const result = lottery.draw({ seed, seats: 4, applicants: twelve });
      assert.deepEqual(result.drawn, expected.slice(0, 4));
      assert.deepEqual(result.waitlist, expected.slice(4));
    });

    it("changes with the seed", () => {
      const orders = new Set(["a", "b", "c", "d"].map((seed) => lottery.draw({ seed, seats: 12, applicants: twelve }).drawn.join(",")));
      assert.ok(orders.size > 1, "four seeds produced the same order of 12 applicants");
    });

    it("separates seed and id so that their concatenation cannot collide", () => {
      assert.notEqual(lottery.tieBreak("ab", "c"), lottery.tieBreak("a", "bc"));
    });

    const table: Array<{ title: string; request: DrawRequest; drawn: string[]; waitlist?: string[] }> = [
      {
        title: "higher priority is drawn first, regardless of hashes",
        request: { seed: "s", seats: 2, applicants: [{ id: "low", priority: 0 }, { id: "high", priority: 3 }, { id: "mid", priority: 1 }] },
        drawn: ["high", "mid"],
        waitlist: ["low"],
      },
      {
        title: "missing priority counts as 0, below any positive priority",
        request: { seed: "s", seats: 1, applicants: [{ id: "none" }, { id: "one", priority: 1 }] },
        drawn: ["one"],
        waitlist: ["none"],
      },
      {
        title: "negative priority ranks below missing priority",
        request: { seed: "s", seats: 1, applicants: [{ id: "neg", priority: -1 }, { id: "none" }] },
        drawn: ["none"],
        waitlist: ["neg"],
      },
      {
        title: "more seats than applicants admits everyone and leaves no waitlist",
        request: { seed: "s", seats: 10, applicants: [{ id: "x", priority: 1 }, { id: "y" }] },
        drawn: ["x", "y"],
        waitlist: [],
      },
      {
        title: "no applicants draws nobody",
        request: { seed: "s", seats: 3, applicants: [] },
        drawn: [],
        waitlist: [],
      },
    ];
    for (const { title, request, drawn, waitlist } of table) {
      it(title, () => {
        const result = lottery.draw(request);
        assert.deepEqual(result.drawn, drawn);
        if (waitlist !== undefined) assert.deepEqual(result.waitlist, waitlist);
        assert.equal(result.seats, request.seats);
        assert.equal(result.seed, request.seed);
      });
    }

    it("orders ties within a priority by the seeded hash, not by input order", () => {
      const group = applicants("p", "q", "r", "s", "t").map((a) => ({ ...a, priority: 2 }));
      const result = lottery.draw({ seed: "tie", seats: 5, applicants: [{ id: "first", priority: 5 }, ...group, { id: "last" }] });
      assert.equal(result.drawn[0], "first");
      const byHash = [...group].sort((a, b) => (lottery.tieBreak("tie", a.id) < lottery.tieBreak("tie", b.id) ? -1 : 1)).map((a) => a.id);
      assert.deepEqual(result.drawn.slice(1), byHash.slice(0, 4));
      assert.deepEqual(result.waitlist, [byHash[4], "last"]);
    });
  });

  describe("handler", () => {
    // The function logs one audit line per draw; capture it instead of printing it.
    let logged: string[] = [];
    const realLog = console.log;
    beforeEach(() => {
      logged = [];
      console.log = (...parts: unknown[]): void => {
        logged.push(parts.map(String).join(" "));
      };
    });
    afterEach(() => {
      console.log = realLog;
    });

    it("GET /health answers 200", async () => {
      const res = await call({ routeKey: "GET /health", rawPath: "/health", requestContext: { http: { method: "GET", path: "/health" } } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: "ok" });
      assert.equal(res.headers["content-type"], "application/json");
    });

    it("POST /draw answers 200 with the draw", async () => {
      const request = { seed: "s", seats: 1, applicants: [{ id: "a", priority: 2 }, { id: "b" }] };
      const res = await call(post(request));
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ...lottery.draw(request) });
      assert.deepEqual(res.body["drawn"], ["a"]);
      assert.deepEqual(
        logged.map((l) => JSON.parse(l) as unknown),
        [{ event: "draw", seed: "s", seats: 1, applicants: 2, drawn: ["a"] }],
        "each draw leaves one audit record with its seed and outcome",
      );
    });

    it("accepts a base64-encoded body", async () => {
      const request = { seed: "s", seats: 1, applicants: [{ id: "a" }] };
      const res = await call({ ...post(request), body: Buffer.from(JSON.stringify(request)).toString("base64"), isBase64Encoded: true });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body["drawn"], ["a"]);
    });

    it("routes by method and path when the event carries the $default route key", async () => {
      const res = await call({ routeKey: "$default", rawPath: "/health", requestContext: { http: { method: "GET", path: "/health" } } });
      assert.equal(res.status, 200);
    });

    it("answers 404 on any other route", async () => {
      const res = await call({ routeKey: "GET /draw", rawPath: "/draw" });
      assert.equal(res.status, 404);
      assert.match(String(res.body["error"]), /no route GET \/draw/);
    });

    const invalid: Array<[string, HttpEvent, RegExp]> = [
      ["malformed JSON", post("{not json", true), /body must be valid JSON/],
      ["empty body", { ...post({}), body: undefined }, /body must be valid JSON/],
      ["a JSON array", post([]), /body must be a JSON object/],
      ["missing seed", post({ seats: 1, applicants: [] }), /seed must be a non-empty string/],
      ["empty seed", post({ seed: "", seats: 1, applicants: [] }), /seed must be a non-empty string/],
      ["seats as a string", post({ seed: "s", seats: "3", applicants: [] }), /seats must be an integer from 1/],
      ["fractional seats", post({ seed: "s", seats: 1.5, applicants: [] }), /seats must be an integer from 1/],
      ["zero seats", post({ seed: "s", seats: 0, applicants: [] }), /seats must be an integer from 1/],
      ["applicants not an array", post({ seed: "s", seats: 1, applicants: {} }), /applicants must be an array/],
      ["applicant not an object", post({ seed: "s", seats: 1, applicants: ["a"] }), /applicants\[0\] must be an object/],
      ["applicant without id", post({ seed: "s", seats: 1, applicants: [{ priority: 1 }] }), /applicants\[0\]\.id must be a non-empty string/],
      ["duplicate id", post({ seed: "s", seats: 1, applicants: [{ id: "a" }, { id: "a" }] }), /applicants\[1\]\.id "a" appears more than once/],
      ["non-integer priority", post({ seed: "s", seats: 1, applicants: [{ id: "a", priority: "high" }] }), /applicants\[0\]\.priority must be an integer/],
    ];
    for (const [title, event, message] of invalid) {
      it(`answers 400 with a JSON error on ${title}`, async () => {
        const res = await call(event);
        assert.equal(res.status, 400);
        assert.equal(res.headers["content-type"], "application/json");
        assert.match(String(res.body["error"]), message);
      });
    }
  });
});
