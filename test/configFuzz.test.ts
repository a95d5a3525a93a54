/**
 * The property-based config test: random mutations of the shipped stack files (wrong types,
 * removed keys, out-of-range and nearby numbers, quoted numbers, random strings, duplicated
 * entries, whole sections replaced, unknown keys), one or two per case, from a seeded generator.
 * Each case must end in exactly one of two ways: a ConfigError naming key, value and fix for every
 * problem, with no resource declared and no stack trace; or a plan whose Kubernetes objects are
 * schema-valid and whose policy run completes (exit 0, or 2 when a mandatory rule refuses it).
 *
 *   CONFIG_FUZZ_CASES=5000 CONFIG_FUZZ_SEED=7 npx mocha test/configFuzz.test.ts
 *
 * A failure names the case's seed and mutations; rerun with those to reproduce it.
 */
import { strict as assert } from "assert";
import { Prng } from "./support/prng";
import { judge, mutateOnce } from "./support/configFuzz";
import { readStackConfig, STACKS } from "./stack";

const CASES = Number(process.env["CONFIG_FUZZ_CASES"] ?? 300);
const SEED = Number(process.env["CONFIG_FUZZ_SEED"] ?? 13);

describe(`config property test (${CASES} random mutations of the stack files, seed ${SEED})`, function () {
  // Bounded: about 90% of the cases are refused in milliseconds; each distinct accepted config is
  // evaluated once (a fraction of a second).
  this.timeout(Math.max(60_000, CASES * 400));

  it("every case ends in a clean ConfigError with nothing declared, or in a schema-valid plan", async () => {
    const seen = new Set<string>();
    const counts = { refused: 0, accepted: 0 };
    const failures: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const rng = new Prng(SEED * 1_000_003 + i);
      const stack = rng.pick(STACKS);
      const config = readStackConfig(stack);
      const steps = rng.next() < 0.25 ? 2 : 1;
      const what = Array.from({ length: steps }, () => mutateOnce(config, rng));
      const verdict = await judge(stack, config, seen);
      counts[verdict.outcome]++;
      if (verdict.failure !== undefined) {
        failures.push(`case ${i} (CONFIG_FUZZ_SEED=${SEED}), ${stack}: ${what.join("; ")}\n    ${verdict.failure}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${CASES} cases broke the property:\n${failures.slice(0, 10).join("\n")}`);
    // The generator must reach both sides of the property, or it tests nothing.
    assert.ok(counts.refused > CASES / 4 && counts.accepted > CASES / 50, JSON.stringify(counts));
  });
});
