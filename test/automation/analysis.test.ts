/**
 * The canary verdict on one analysis window (automation/analysis.ts), table-driven: too little
 * traffic (extend, then fail at the bound), values exactly at each threshold (pass) and just
 * above (fail), a stable color worse than the canary, zero requests, absent and NaN datapoints,
 * and which threshold failed with which numbers.
 */
import { strict as assert } from "assert";
import { Breach, cleanWindow, formatWindow, judgeWindow, Verdict } from "../../automation/analysis";
import { CanaryAnalysis } from "../../infra/lib/canary";
import { ColorWindow } from "../../automation/ports";

const T: CanaryAnalysis = { max5xxRatio: 0.01, maxP99Ms: 1000, maxP99Ratio: 1.5, minRequests: 100, maxExtensions: 2 };
const good: ColorWindow = { requests: 1000, target5xx: 0, p99Ms: 200, unhealthyHosts: 0 };

interface Case {
  readonly name: string;
  readonly canary: ColorWindow;
  readonly stable?: ColorWindow;
  readonly extensionsUsed?: number;
  readonly analysis?: Partial<CanaryAnalysis>;
  readonly verdict: Verdict;
  readonly breach?: Breach;
  readonly reason?: RegExp;
}

const cases: readonly Case[] = [
  { name: "a healthy canary passes", canary: { requests: 400, target5xx: 1, p99Ms: 250, unhealthyHosts: 0 }, verdict: "pass", reason: /within every threshold \(new color: 400 requests, 1 5xx \(0\.25%\), p99 250 ms, 0 unhealthy; stable: 1000 requests/ },
  // Traffic.
  { name: "zero requests: extend", canary: { requests: 0, target5xx: 0 }, verdict: "extend", breach: { metric: "requests", value: 0, threshold: 100 }, reason: /too little traffic to judge: 0 of 100 requests; extending the window \(1 of 2\)/ },
  { name: "too few requests with extensions left: extend", canary: { requests: 99, target5xx: 0, p99Ms: 100 }, extensionsUsed: 1, verdict: "extend", reason: /extending the window \(2 of 2\)/ },
  { name: "too few requests after the last extension: fail", canary: { requests: 99, target5xx: 0, p99Ms: 100 }, extensionsUsed: 2, verdict: "fail", breach: { metric: "requests", value: 99, threshold: 100 }, reason: /too little traffic to judge: 99 of 100 requests after 2 extension\(s\)/ },
  { name: "no extensions allowed: too little traffic fails at once", canary: { requests: 3, target5xx: 0 }, analysis: { maxExtensions: 0 }, verdict: "fail", breach: { metric: "requests", value: 3, threshold: 100 } },
  { name: "exactly minRequests is enough", canary: { requests: 100, target5xx: 1, p99Ms: 100 }, verdict: "pass" },
  { name: "too little traffic is not judged on its errors (3 of 3 failed, but 3 requests say little)", canary: { requests: 3, target5xx: 3, p99Ms: 100 }, verdict: "extend", breach: { metric: "requests", value: 3, threshold: 100 } },
  // 5xx.
  { name: "5xx ratio exactly at the maximum passes", canary: { requests: 1000, target5xx: 10, p99Ms: 100 }, verdict: "pass" },
  { name: "5xx ratio just above the maximum fails", canary: { requests: 1000, target5xx: 11, p99Ms: 100 }, verdict: "fail", breach: { metric: "5xxRatio", value: 0.011, threshold: 0.01 }, reason: /5xx ratio 1\.10% above the maximum 1\.00% \(new color: 1000 requests, 11 5xx \(1\.10%\)/ },
  { name: "the load balancer's 5xx for the color count too", canary: { requests: 1000, target5xx: 6, elb5xx: 6, p99Ms: 100 }, verdict: "fail", breach: { metric: "5xxRatio", value: 0.012, threshold: 0.01 }, reason: /12 5xx incl\. 6 from the load balancer \(1\.20%\)/ },
  { name: "a zero 5xx budget fails on the first error", canary: { requests: 5000, target5xx: 1, p99Ms: 100 }, analysis: { max5xxRatio: 0 }, verdict: "fail", breach: { metric: "5xxRatio", value: 0.0002, threshold: 0 } },
  { name: "errors are judged before latency: a fast failing build fails on 5xx", canary: { requests: 200, target5xx: 200, p99Ms: 3 }, verdict: "fail", breach: { metric: "5xxRatio", value: 1, threshold: 0.01 } },
  // Latency.
  { name: "p99 exactly at the maximum passes", canary: { requests: 500, target5xx: 0, p99Ms: 1000 }, stable: { requests: 1000, target5xx: 0, p99Ms: 900 }, verdict: "pass" },
  { name: "p99 just above the maximum fails", canary: { requests: 500, target5xx: 0, p99Ms: 1000.5 }, stable: { requests: 1000, target5xx: 0, p99Ms: 900 }, verdict: "fail", breach: { metric: "p99Ms", value: 1000.5, threshold: 1000 } },
  { name: "p99 exactly 1.5x the stable color's passes", canary: { requests: 500, target5xx: 0, p99Ms: 300 }, stable: { requests: 1000, target5xx: 0, p99Ms: 200 }, verdict: "pass" },
  { name: "p99 above 1.5x the stable color's fails", canary: { requests: 500, target5xx: 0, p99Ms: 301 }, stable: { requests: 1000, target5xx: 0, p99Ms: 200 }, verdict: "fail", breach: { metric: "p99Ratio", value: 1.505, threshold: 1.5 }, reason: /p99 1\.505x the stable color's \(301 vs 200 ms\), above the maximum 1\.5x/ },
  { name: "a stable color worse than the canary does not fail it", canary: { requests: 500, target5xx: 2, p99Ms: 400 }, stable: { requests: 5000, target5xx: 500, p99Ms: 950, unhealthyHosts: 1 }, verdict: "pass" },
  { name: "a stable color with too little traffic is not compared with (said so)", canary: { requests: 500, target5xx: 0, p99Ms: 900 }, stable: { requests: 10, target5xx: 0, p99Ms: 100 }, verdict: "pass", reason: /the stable color served too little to compare latency with/ },
  { name: "a stable color without a p99 is not compared with", canary: { requests: 500, target5xx: 0, p99Ms: 900 }, stable: { requests: 1000, target5xx: 0 }, verdict: "pass" },
  { name: "no latency datapoint for enough requests: extend (metrics still arriving)", canary: { requests: 500, target5xx: 0 }, verdict: "extend", breach: { metric: "latencyData", value: 0, threshold: 1 } },
  { name: "still no latency datapoint after the last extension: fail", canary: { requests: 500, target5xx: 0 }, extensionsUsed: 2, verdict: "fail", breach: { metric: "latencyData", value: 0, threshold: 1 } },
  // Health.
  { name: "an unhealthy target of the new color fails, whatever the traffic", canary: { requests: 0, target5xx: 0, unhealthyHosts: 1 }, verdict: "fail", breach: { metric: "unhealthyHosts", value: 1, threshold: 0 }, reason: /1 target\(s\) of the new color unhealthy at the load balancer/ },
  { name: "no UnHealthyHostCount datapoint is not a failure", canary: { requests: 500, target5xx: 0, p99Ms: 100 }, verdict: "pass" },
  // Broken numbers.
  { name: "NaN requests count as none", canary: { requests: Number.NaN, target5xx: 0, p99Ms: 100 }, verdict: "extend", breach: { metric: "requests", value: 0, threshold: 100 } },
  { name: "a NaN p99 counts as absent", canary: { requests: 500, target5xx: 0, p99Ms: Number.NaN }, verdict: "extend", breach: { metric: "latencyData", value: 0, threshold: 1 } },
  { name: "NaN errors count as none", canary: { requests: 500, target5xx: Number.NaN, p99Ms: 100 }, verdict: "pass" },
  { name: "an infinite p99 counts as absent, not as a pass", canary: { requests: 500, target5xx: 0, p99Ms: Number.POSITIVE_INFINITY }, extensionsUsed: 2, verdict: "fail", breach: { metric: "latencyData", value: 0, threshold: 1 } },
];

describe("automation: canary analysis verdict (pure)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const v = judgeWindow({ canary: c.canary, stable: c.stable ?? good }, { ...T, ...c.analysis }, c.extensionsUsed ?? 0);
      assert.equal(v.verdict, c.verdict, v.reason);
      if (c.breach !== undefined) {
        assert.ok(v.breach !== undefined, "the breached threshold is named");
        assert.equal(v.breach.metric, c.breach.metric);
        assert.ok(Math.abs(v.breach.value - c.breach.value) < 1e-9, `value ${v.breach.value}`);
        assert.equal(v.breach.threshold, c.breach.threshold);
      } else if (c.verdict === "pass") {
        assert.equal(v.breach, undefined);
      }
      if (c.reason !== undefined) {
        assert.match(v.reason, c.reason);
      }
    });
  }

  it("every verdict carries both colors' numbers, cleaned", () => {
    const v = judgeWindow({ canary: { requests: Number.NaN, target5xx: -1, p99Ms: Number.NaN }, stable: good }, T, 0);
    assert.deepEqual(v.canary, { requests: 0, target5xx: 0 });
    assert.deepEqual(v.stable, good);
  });

  it("formats a window on one line", () => {
    assert.equal(formatWindow({ requests: 300, target5xx: 3, p99Ms: 419.6, unhealthyHosts: 0 }), "300 requests, 3 5xx (1.00%), p99 420 ms, 0 unhealthy");
    assert.equal(formatWindow(cleanWindow({ requests: 0, target5xx: 0 })), "0 requests, 0 5xx, no p99");
  });
});
