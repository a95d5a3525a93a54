/**
 * `npm run bench`'s pure parts (median, line fit, the linearity verdict, the table, the synthetic
 * services) on made-up numbers, and that the program accepts its synthetic services. The flip
 * count it reports is the flip contract, asserted once, in test/flip.test.ts.
 */
import { strict as assert } from "assert";
import {
  fitLine,
  linearity,
  MAX_LINEAR_RATIO,
  median,
  renderBench,
  renderOperations,
  renderTable,
  ScalePoint,
  syntheticServices,
} from "../../automation/bench";
import { evaluateStack, Json } from "../stack";

type Obj = { [key: string]: Json };

const points = (f: (n: number) => number): ScalePoint[] => [1, 10, 50].map((n) => ({ services: n, ms: f(n), resources: 160 + 16 * n }));

describe("automation: bench", () => {
  it("median of odd and even counts", () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), /no values/);
  });

  it("fits a line exactly and reports R^2", () => {
    const fit = fitLine([1, 10, 50].map((x) => ({ x, y: 1800 + 120 * x })));
    assert.ok(Math.abs(fit.slope - 120) < 1e-9 && Math.abs(fit.intercept - 1800) < 1e-9);
    assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
    assert.throws(() => fitLine([{ x: 1, y: 1 }]), /at least two points/);
  });

  it("calls linear growth linear, with the marginal cost per service and resources per service", () => {
    const l = linearity(points((n) => 1800 + 120 * n));
    assert.ok(l.linear);
    assert.ok(Math.abs(l.marginalMs - 120) < 1e-9);
    assert.ok(Math.abs(l.ratio - 1) < 1e-9);
    assert.ok(Math.abs(l.resourcesPerService - 16) < 1e-9);
    // A little noise on a linear series stays linear.
    assert.ok(linearity(points((n) => 1800 + 120 * n + (n === 10 ? -60 : 0))).linear);
  });

  it("calls quadratic growth not linear, even where the line's R^2 looks good", () => {
    const l = linearity(points((n) => 1800 + 3 * n * n));
    assert.ok(l.fit.r2 > 0.9, `R^2 ${l.fit.r2}`);
    assert.ok(l.ratio > MAX_LINEAR_RATIO, `ratio ${l.ratio}`);
    assert.equal(l.linear, false);
    assert.ok(Math.abs(l.ratio - 60 / 11) < 1e-9, "late/early marginal = (50+10)/(10+1) for n^2");
  });

  it("renders a right-aligned table and the report", () => {
    assert.equal(
      renderTable(["STACK", "MS"], [["test", "5"], ["prod, 50 services", "12345"]], new Set([1])),
      ["STACK                 MS", "-----------------  -----", "test                   5", "prod, 50 services  12345", ""].join("\n"),
    );
    const m = (label: string, services: number, ms: number): { label: string; stack: string; services: number; resources: number; medianMs: number; runsMs: number[] } => ({
      label,
      stack: "prod",
      services,
      resources: 160 + 16 * services,
      medianMs: ms,
      runsMs: [ms, ms + 1, ms - 1],
    });
    const scaling = [m("prod, 1 service", 1, 1920), m("prod, 10 services", 10, 3000), m("prod, 50 services", 50, 7800)];
    const text = renderBench({
      runs: 3,
      stacks: [m("prod", 2, 2000)],
      scaling,
      linearity: linearity(scaling.map((s) => ({ services: s.services, ms: s.medianMs, resources: s.resources }))),
      flip: { stack: "prod", service: "student", changed: ["a::b", "c::d"] },
      totalMs: 60_000,
    });
    assert.match(text, /\nprod, 50 services +50 +960 +7800 +7800 7801 7799 +8\.1\n/);
    assert.match(text, /marginal cost per service: 120\.0 ms \(fit\); 120\.0 ms early, 120\.0 ms late; ratio late\/early 1\.00/);
    assert.match(text, /\n {2}linear: R\^2 >= 0\.95/);
    assert.match(text, /changes 2 resource\(s\):\n {2}a::b\n {2}c::d\n/);
  });

  it("renders the operation counts with the conditions they were taken under", () => {
    const text = renderOperations(
      [
        { label: "flip, blue/green", previews: 1, ups: 1, targetedUps: 1, routingReads: 3, metricsWindows: 0, waitedMs: 10_000 },
        { label: "flip, canary 10/50%", previews: 3, ups: 3, targetedUps: 3, routingReads: 9, metricsWindows: 2, waitedMs: 630_000 },
      ],
      "lag 10 s",
    );
    assert.match(text, /^Operation counts per command \(lag 10 s\):\n/);
    assert.match(text, /\nflip, canary 10\/50% +3 +3 +3 +9 +2 +630 s\n/);
  });

  it("synthetic services have distinct names, one non-overlapping path each, a health path under it and both colors' images", () => {
    const template: Obj = { name: "student", port: 8080, healthPath: "/actuator/health", paths: ["/", "/student"], active: "green", blue: { image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.4.0" }, green: {}, replicas: 3 };
    const services = syntheticServices(12, template) as Obj[];
    for (const s of services) {
      assert.equal(s["contextPath"], `/${String(s["name"])}`);
      assert.equal(s["healthPath"], `/${String(s["name"])}/actuator/health`);
    }
    // A template under a context path of its own keeps only the application's part of its health path.
    const sugang = syntheticServices(1, { ...template, contextPath: "/sugang", healthPath: "/sugang/actuator/health", paths: ["/sugang"] }) as Obj[];
    assert.equal(sugang[0]?.["healthPath"], "/bench-001/actuator/health");
    assert.equal(new Set(services.map((s) => s["name"])).size, 12);
    const paths = services.flatMap((s) => s["paths"] as string[]);
    assert.equal(new Set(paths).size, 12);
    assert.ok(paths.every((p) => paths.every((q) => p === q || !q.startsWith(`${p}/`))), "no path is a prefix of another");
    for (const s of services) {
      assert.equal(s["active"], "blue");
      assert.equal(s["replicas"], 3);
      assert.match(String((s["blue"] as Obj)["image"]), /^123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\/bench-\d{3}:1\.0\.0$/);
      assert.match(String((s["green"] as Obj)["image"]), /:1\.1\.0$/);
    }
  });

  it("the program accepts 3 synthetic services and declares both colors of each", async () => {
    const ev = await evaluateStack("staging", (c) => {
      c["platform:services"] = syntheticServices(3, (c["platform:services"] as Obj[])[0] ?? {});
    });
    const deployments = ev.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment").map((r) => r.name).sort();
    assert.deepEqual(deployments.filter((n) => n.startsWith("bench-")), ["bench-001-blue", "bench-001-green", "bench-002-blue", "bench-002-green", "bench-003-blue", "bench-003-green"]);
  });
});
