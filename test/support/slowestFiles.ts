/**
 * The spec reporter, followed by the test files that took longest (their tests' and hooks'
 * time, stack evaluations included, with the hooks' share), so a slow file is visible on every
 * run, and the sum over all files. Five files by default; `--reporter-option slowest=all` lists
 * every file (the integration tier, whose budget is a total). Works in serial and in parallel
 * mode (the workers' tests and hooks carry their file and duration).
 */
import { reporters, Runner } from "mocha";
import type { MochaOptions } from "mocha";
import * as path from "path";

const { EVENT_HOOK_END, EVENT_RUN_END, EVENT_TEST_FAIL, EVENT_TEST_PASS } = Runner.constants;

/** How many of the slowest files are listed unless the reporter option says otherwise. */
const SHOWN = 5;

interface FileTime {
  total: number;
  hooks: number;
}

/** `slowest` reporter option: "all" or a positive count; anything else is the default. */
function shownOf(options: MochaOptions | undefined): number {
  const raw: unknown = (options?.reporterOptions as Record<string, unknown> | undefined)?.["slowest"];
  if (raw === "all") return Number.POSITIVE_INFINITY;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : SHOWN;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1).padStart(6);

class SpecWithSlowestFiles extends reporters.Spec {
  constructor(runner: Runner, options?: MochaOptions) {
    super(runner, options);
    const started = Date.now();
    const shown = shownOf(options);
    const byFile = new Map<string, FileTime>();
    const add =
      (hook: boolean) =>
      (r: { file?: string; duration?: number }): void => {
        if (r.file !== undefined && r.duration !== undefined) {
          const t = byFile.get(r.file) ?? { total: 0, hooks: 0 };
          t.total += r.duration;
          if (hook) t.hooks += r.duration;
          byFile.set(r.file, t);
        }
      };
    runner.on(EVENT_TEST_PASS, add(false));
    runner.on(EVENT_TEST_FAIL, add(false));
    runner.on(EVENT_HOOK_END, add(true));
    runner.once(EVENT_RUN_END, () => {
      const all = [...byFile].sort((a, b) => b[1].total - a[1].total);
      const slowest = all.slice(0, shown);
      const heading = slowest.length === all.length ? `All ${all.length} test files` : `Slowest ${slowest.length} test files`;
      process.stdout.write(`  ${heading} (time in their tests and hooks; hooks' share in brackets):\n`);
      for (const [file, t] of slowest) {
        process.stdout.write(`  ${seconds(t.total)} s  ${path.relative(process.cwd(), file)}  [hooks ${seconds(t.hooks).trim()} s]\n`);
      }
      const sum = all.reduce((s, [, t]) => s + t.total, 0);
      process.stdout.write(`  ${seconds(sum)} s  total of ${all.length} file(s); ${((Date.now() - started) / 1000).toFixed(1)} s since mocha started (global setup included)\n\n`);
    });
  }
}

export = SpecWithSlowestFiles;
