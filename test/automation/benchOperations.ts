/**
 * `npm run bench`'s second part: the driver's operation counts per flip and promotion, blue/green
 * next to canary, measured against the unit tier's stand-ins (test/automation/rehearsal.ts). Not a
 * test: it prints the table (`--json` for the rows).
 */
import { renderOperations } from "../../automation/bench";
import { REHEARSAL, REHEARSED_CANARY, rehearse } from "./rehearsal";

async function main(argv: readonly string[]): Promise<void> {
  const rows = await rehearse();
  if (argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const steps = (REHEARSED_CANARY["steps"] as number[]).join("/");
  process.stdout.write(
    renderOperations(
      rows,
      `one service; canary steps ${steps}% with ${String(REHEARSED_CANARY["stepSeconds"])} s windows; the controller applies a change after ${REHEARSAL.lagMs / 1000} s, polled every ${REHEARSAL.intervalMs / 1000} s; the in-memory stack, so times are waits only`,
    ),
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`operation bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
