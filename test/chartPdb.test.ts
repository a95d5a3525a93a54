/**
 * The effective-PDB model (infra/lib/chartPdb.ts): Helm's value merge as a Pulumi Release feeds
 * it, Go template truthiness, each template shape, and the budgets the disruption controller
 * computes. Table-driven; the pinned charts' own rows are exercised in test/helmReleases.test.ts.
 */
import { strict as assert } from "assert";
import { allowedDisruptions, ChartDefaults, ChartPdb, effectivePdb, mergeValues, pdbProblems, truthy } from "../infra/lib/chartPdb";

const row = (template: ChartPdb["template"], renderedWhen: ChartPdb["renderedWhen"], extra: Partial<ChartPdb> = {}): ChartPdb => ({
  component: "web",
  values: "web.pdb",
  replicas: "web.replicas",
  template,
  renderedWhen,
  source: "test",
  ...extra,
});

const chart = (pdb: ChartPdb, defaults: Record<string, unknown>): ChartDefaults => ({
  chart: "example",
  version: "1.0.0",
  reviewed: "2026-11-30",
  source: "test",
  values: { web: defaults },
  pdbs: [pdb],
});

describe("chart PDB model", () => {
  it("merges release values over chart defaults like Helm, dropping nulls as the Pulumi Release does", () => {
    const merged = mergeValues(
      { a: { enabled: false, minAvailable: 1, keep: "x" }, list: [1, 2], scalar: 1 },
      { a: { enabled: true, minAvailable: null, maxUnavailable: 1 }, list: [3], scalar: undefined },
    );
    assert.deepEqual(merged, { a: { enabled: true, minAvailable: 1, keep: "x", maxUnavailable: 1 }, list: [3], scalar: 1 });
  });

  const truthiness: Array<[unknown, boolean]> = [
    [undefined, false], [null, false], [false, false], [0, false], ["", false], [{}, false], [[], false],
    [1, true], ["0", true], ["50%", true], [{ a: 1 }, true], [[0], true], [true, true],
  ];
  for (const [value, expected] of truthiness) {
    it(`Go template truthiness: ${JSON.stringify(value)} is ${expected ? "truthy" : "falsy"}`, () => {
      assert.equal(truthy(value), expected);
    });
  }

  const cases: Array<{ name: string; pdb: ChartPdb; defaults: Record<string, unknown>; values: Record<string, unknown>; expect: unknown }> = [
    {
      name: "each-if-truthy renders both when the chart defaults one and the release sets the other",
      pdb: row("each-if-truthy", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: false, minAvailable: 1 } },
      values: { web: { pdb: { enabled: true, maxUnavailable: 1 } } },
      expect: { component: "web", replicas: 2, rendered: true, minAvailable: 1, maxUnavailable: 1 },
    },
    {
      name: "each-if-truthy skips a key set to 0 (falsy), so 0 hides a default",
      pdb: row("each-if-truthy", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: false, minAvailable: 1 } },
      values: { web: { pdb: { enabled: true, minAvailable: 0, maxUnavailable: 1 } } },
      expect: { component: "web", replicas: 2, rendered: true, maxUnavailable: 1 },
    },
    {
      name: "to-yaml renders every key present, even a falsy one",
      pdb: row("to-yaml", "non-empty"),
      defaults: { replicas: 2, pdb: {} },
      values: { web: { pdb: { minAvailable: 0 } } },
      expect: { component: "web", replicas: 2, rendered: true, minAvailable: 0 },
    },
    {
      name: "non-empty gate: an empty map renders nothing",
      pdb: row("to-yaml", "non-empty"),
      defaults: { replicas: 1, pdb: {} },
      values: {},
      expect: { component: "web", replicas: 1, rendered: false, deployed: true },
    },
    {
      name: "max-else-min never renders both, and defaults minAvailable to 0",
      pdb: row("max-else-min", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: false, minAvailable: "", maxUnavailable: "" } },
      values: { web: { pdb: { enabled: true } } },
      expect: { component: "web", replicas: 2, rendered: true, minAvailable: 0 },
    },
    {
      name: "fail-if-both fails the release",
      pdb: row("fail-if-both", "non-empty"),
      defaults: { replicas: 1, pdb: { maxUnavailable: 1 } },
      values: { web: { pdb: { minAvailable: 1 } } },
      expect: { component: "web", replicas: 1, rendered: "template-fails", reason: "the chart's template fails when both minAvailable and maxUnavailable are set" },
    },
    {
      name: "onlyAboveOneReplica: nothing for one replica",
      pdb: row("to-yaml", "non-empty", { onlyAboveOneReplica: true }),
      defaults: { replicas: 2, pdb: {} },
      values: { web: { replicas: 1, pdb: { maxUnavailable: 1 } } },
      expect: { component: "web", replicas: 1, rendered: false, deployed: true },
    },
    {
      name: "a disabled workload (requires) has no PDB and is not a workload at all",
      pdb: row("to-yaml", "non-empty", { requires: ["web.enabled", "!other.enabled"] }),
      defaults: { enabled: true, replicas: 3, pdb: {} },
      values: { other: { enabled: true } },
      expect: { component: "web", replicas: 3, rendered: false, deployed: false },
    },
    {
      name: "a replica count the template hard-codes",
      pdb: row("each-if-truthy", "enabled", { replicas: 1 }),
      defaults: { pdb: { enabled: true, maxUnavailable: 1 } },
      values: {},
      expect: { component: "web", replicas: 1, rendered: true, maxUnavailable: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(effectivePdb(c.pdb, mergeValues({ web: c.defaults }, c.values)), c.expect);
    });
  }

  const budgets: Array<[number, { minAvailable?: number | `${number}%`; maxUnavailable?: number | `${number}%` }, number]> = [
    [2, { maxUnavailable: 1 }, 1],
    [2, { minAvailable: 1 }, 1],
    [2, { minAvailable: 2 }, 0],
    [1, { minAvailable: 1 }, 0],
    [1, { maxUnavailable: 1 }, 1],
    [3, { maxUnavailable: "50%" }, 2],
    [3, { minAvailable: "50%" }, 1],
    [2, { maxUnavailable: 0 }, 0],
    [2, {}, 2],
  ];
  for (const [replicas, budget, allowed] of budgets) {
    it(`${replicas} replicas with ${JSON.stringify(budget)} allow ${allowed} eviction(s)`, () => {
      assert.equal(allowedDisruptions(replicas, budget), allowed);
    });
  }

  const problems: Array<{ name: string; pdb: ChartPdb; defaults: Record<string, unknown>; values: Record<string, unknown>; expect: RegExp[] }> = [
    {
      name: "both keys",
      pdb: row("each-if-truthy", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: false, minAvailable: 1 } },
      values: { web: { pdb: { enabled: true, maxUnavailable: 1 } } },
      expect: [/^example 1\.0\.0 web \(web\.pdb\): renders both minAvailable \(1\) and maxUnavailable \(1\); the API server rejects/],
    },
    {
      name: "a budget that allows no eviction",
      pdb: row("each-if-truthy", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: true, minAvailable: 2 } },
      values: {},
      expect: [/minAvailable 2 with 2 replica\(s\) allows no eviction/],
    },
    {
      name: "replicas without a PDB",
      pdb: row("to-yaml", "non-empty"),
      defaults: { replicas: 3, pdb: {} },
      values: {},
      expect: [/3 replicas and no PodDisruptionBudget/],
    },
    {
      name: "neither key",
      pdb: row("to-yaml", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: true, unhealthyPodEvictionPolicy: "AlwaysAllow" } },
      values: {},
      expect: [/neither minAvailable nor maxUnavailable/],
    },
    {
      name: "a digit string toYaml keeps a string (not a valid IntOrString budget)",
      pdb: row("to-yaml", "non-empty"),
      defaults: { replicas: 2, pdb: {} },
      values: { web: { pdb: { maxUnavailable: "1" } } },
      expect: [/maxUnavailable "1" is not a non-negative integer or a percentage/],
    },
    {
      name: "an undocumented replica count",
      pdb: row("to-yaml", "non-empty"),
      defaults: { pdb: { maxUnavailable: 1 } },
      values: {},
      expect: [/the replica count at web\.replicas is null, not a count/],
    },
    {
      name: "nothing wrong: one key, one eviction allowed",
      pdb: row("each-if-truthy", "enabled"),
      defaults: { replicas: 2, pdb: { enabled: false, minAvailable: 1 } },
      values: { web: { pdb: { enabled: true } } },
      expect: [],
    },
  ];
  for (const c of problems) {
    it(`problems: ${c.name}`, () => {
      const found = pdbProblems(chart(c.pdb, c.defaults), c.values);
      assert.equal(found.length, c.expect.length, found.join("\n"));
      c.expect.forEach((re, i) => assert.match(found[i], re));
    });
  }
});
