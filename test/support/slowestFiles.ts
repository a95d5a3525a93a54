/**
 * The spec reporter, followed by the five test files that took longest (their tests' and hooks'
 * time, stack evaluations included), so a slow file is visible on every run. Works in serial and
 * in parallel mode (the workers' tests and hooks carry their file and duration).
 */
import { reporters, Runner } from "mocha";
import type { MochaOptions } from "mocha";
import * as path from "path";

const { EVENT_HOOK_END, EVENT_RUN_END, EVENT_TEST_FAIL, EVENT_TEST_PASS } = Runner.constants;

/** How many of the slowest files are listed. */
const SHOWN = 5;

class SpecWithSlowestFiles extends reporters.Spec {
  constructor(runner: Runner, options?: MochaOptions) {
    super(runner, options);
    const byFile = new Map<string, number>();
    const add = (r: { file?: string; duration?: number }): void => {
      if (r.file !== undefined && r.duration !== undefined) {
        byFile.set(r.file, (byFile.get(r.file) ?? 0) + r.duration);
      }
    };
    runner.on(EVENT_TEST_PASS, add);
    runner.on(EVENT_TEST_FAIL, add);
    runner.on(EVENT_HOOK_END, add);
    runner.once(EVENT_RUN_END, () => {
      const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
      process.stdout.write(`  Slowest ${slowest.length} test files (time in their tests and hooks):\n`);
      for (const [file, ms] of slowest) {
        process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${path.relative(process.cwd(), file)}\n`);
      }
      process.stdout.write("\n");
    });
  }
}

export = SpecWithSlowestFiles;
