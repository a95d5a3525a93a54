import { strict as assert } from "assert";
import { contentHash, indexPattern, retentionPolicy, retentionPolicyId } from "../infra/lib/ism";

describe("ISM retention policy", () => {
  const cases: Array<{ prefix: string; days: number; priority?: number; pattern: string; id: string; age: string; expectedPriority: number }> = [
    { prefix: "logs", days: 7, pattern: "logs-*", id: "logs-retention", age: "7d", expectedPriority: 100 },
    { prefix: "logs", days: 30, pattern: "logs-*", id: "logs-retention", age: "30d", expectedPriority: 100 },
    { prefix: "app", days: 1, pattern: "app-*", id: "app-retention", age: "1d", expectedPriority: 100 },
    { prefix: "audit.v2", days: 365, priority: 0, pattern: "audit.v2-*", id: "audit.v2-retention", age: "365d", expectedPriority: 0 },
  ];
  for (const c of cases) {
    it(`${c.prefix}, ${c.days} day(s): hot -> delete at min_index_age ${c.age}, attached to ${c.pattern}`, () => {
      const doc = retentionPolicy({ indexPrefix: c.prefix, retentionDays: c.days, priority: c.priority });
      const { policy } = doc;
      assert.equal(policy.default_state, "hot");
      assert.deepEqual(policy.states, [
        { name: "hot", actions: [], transitions: [{ state_name: "delete", conditions: { min_index_age: c.age } }] },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ]);
      assert.deepEqual(policy.ism_template, [{ index_patterns: [c.pattern], priority: c.expectedPriority }]);
      assert.ok(policy.description.includes(c.pattern) && policy.description.includes(`${c.days} day(s)`), policy.description);
      assert.equal(indexPattern(c.prefix), c.pattern);
      assert.equal(retentionPolicyId(c.prefix), c.id);
      // What the Job sends: plain JSON that survives a round trip unchanged.
      assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
    });
  }

  it("every state a transition names exists, and only the last state has no transition", () => {
    const { policy } = retentionPolicy({ indexPrefix: "logs", retentionDays: 7 });
    const names = policy.states.map((s) => s.name);
    assert.ok(names.includes(policy.default_state));
    for (const s of policy.states) {
      for (const t of s.transitions) {
        assert.ok(names.includes(t.state_name), t.state_name);
      }
    }
    assert.deepEqual(
      policy.states.filter((s) => s.transitions.length === 0).map((s) => s.name),
      ["delete"],
    );
  });

  const rejected: Array<[string, { indexPrefix: string; retentionDays: number; priority?: number }, RegExp]> = [
    ["zero days", { indexPrefix: "logs", retentionDays: 0 }, /retentionDays 0 is not a whole number of days from 1 to 365/],
    ["negative days", { indexPrefix: "logs", retentionDays: -7 }, /retentionDays -7 is not a whole number/],
    ["fractional days", { indexPrefix: "logs", retentionDays: 1.5 }, /retentionDays 1\.5 is not a whole number/],
    ["more than a year", { indexPrefix: "logs", retentionDays: 366 }, /retentionDays 366 is not a whole number of days from 1 to 365/],
    ["NaN", { indexPrefix: "logs", retentionDays: Number.NaN }, /retentionDays NaN/],
    ["an upper-case prefix", { indexPrefix: "Logs", retentionDays: 7 }, /indexPrefix "Logs" is not a usable index prefix/],
    ["a wildcard prefix", { indexPrefix: "logs-*", retentionDays: 7 }, /indexPrefix "logs-\*" is not a usable index prefix/],
    ["an empty prefix", { indexPrefix: "", retentionDays: 7 }, /indexPrefix "" is not a usable index prefix/],
    ["a prefix starting with _", { indexPrefix: "_logs", retentionDays: 7 }, /indexPrefix "_logs"/],
    ["a prefix too long for the Job's name", { indexPrefix: "l".repeat(31), retentionDays: 7 }, /1-30 lower-case letters/],
    ["a negative priority", { indexPrefix: "logs", retentionDays: 7, priority: -1 }, /priority -1 is not a non-negative integer/],
  ];
  for (const [name, options, message] of rejected) {
    it(`rejects ${name}`, () => {
      assert.throws(() => retentionPolicy(options), message);
    });
  }
});

describe("contentHash", () => {
  const same: Array<[string, unknown, unknown]> = [
    ["key order", { a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }],
    ["undefined members", { a: 1, b: undefined }, { a: 1 }],
  ];
  for (const [name, x, y] of same) {
    it(`ignores ${name}`, () => {
      assert.equal(contentHash(x), contentHash(y));
    });
  }

  const different: Array<[string, unknown, unknown]> = [
    ["array order", [1, 2], [2, 1]],
    ["a changed retention", retentionPolicy({ indexPrefix: "logs", retentionDays: 7 }), retentionPolicy({ indexPrefix: "logs", retentionDays: 8 })],
    ["a changed prefix", retentionPolicy({ indexPrefix: "logs", retentionDays: 7 }), retentionPolicy({ indexPrefix: "app", retentionDays: 7 })],
    ["a number and its string", { a: 1 }, { a: "1" }],
  ];
  for (const [name, x, y] of different) {
    it(`changes with ${name}`, () => {
      assert.notEqual(contentHash(x), contentHash(y));
    });
  }

  it("is hex SHA-256", () => {
    assert.match(contentHash(retentionPolicy({ indexPrefix: "logs", retentionDays: 7 })), /^[0-9a-f]{64}$/);
  });
});
