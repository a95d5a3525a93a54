/**
 * `npm run platform -- <command>`: the entry point CI and operators call. Parses flags with
 * node's util.parseArgs, builds the real dependencies (Automation API, HTTP prober, ELBv2,
 * registry, Discord), turns SIGINT/SIGTERM into an AbortSignal, and maps every outcome to
 * an exit code (see ./exitCodes.ts). All behaviour lives in the command functions (./commands);
 * the CLI's specs of them are in ./cli/commands.ts, the real dependencies in ./cli/realDeps.ts.
 */
import { FileStackCatalog } from "./adapters/catalog";
import { REPO_ROOT } from "./adapters/workspace";
import { suggest } from "../infra/lib/text";
import { ArgumentError, boolOpt, CliIo, CommandContext, commandHelp, commands, CommandSpec, findCommand, globalHelp, ParsedCommand, parseCommandArgs, stringOpt } from "./cli/registry";
import { registerBuiltins } from "./cli/commands";
import { realDeps } from "./cli/realDeps";
import { InterruptRelay } from "./cli/interrupts";
import { DriverError, messageOf } from "./errors";
import { ExitCode } from "./exitCodes";

/* ----------------------------------------------------------------------------------------
 * Main.
 * -------------------------------------------------------------------------------------- */

/** The outcome of a command that failed before it ran (usage, validation): the same shape as every outcome. */
function errorOutcome(operation: string, stack: string, message: string, remediation: readonly string[], exitCode: number): Record<string, unknown> {
  return { operation, stack, exitCode, result: "failed", message, remediation, services: [], phases: [] };
}

/** How one invocation reports: under --json every error, a usage error too, is one JSON object on stdout. */
class Report {
  stack = "";

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
    private readonly operation: string,
  ) {}

  /** A bad command line: one line naming the argument and the value, then the usage (the fix). */
  usage(spec: CommandSpec | undefined, message: string): number {
    const line = message.replace(/\s+/g, " ").trim();
    if (this.json) {
      const remediation = spec !== undefined ? [`usage: npm run platform -- ${spec.usage}`] : ["run `npm run platform -- --help` for the commands"];
      this.io.stdout(`${JSON.stringify(errorOutcome(this.operation, this.stack, line, remediation, ExitCode.Error), null, 2)}\n`);
    } else {
      this.io.stderr(`error: ${line}\n${spec !== undefined ? `Usage: npm run platform -- ${spec.usage}\n(--help for details)\n` : `\n${globalHelp()}`}`);
    }
    return ExitCode.Error;
  }

  /** Any other error: its message and remediation, never a stack trace. */
  failed(err: unknown): number {
    const code = err instanceof DriverError ? err.exitCode : ExitCode.Error;
    const remediation = err instanceof DriverError ? err.remediation : [];
    if (this.json) {
      this.io.stdout(`${JSON.stringify(errorOutcome(this.operation, this.stack, messageOf(err), remediation, code), null, 2)}\n`);
    } else {
      this.io.stderr(`error: ${messageOf(err)}\n${remediation.map((r) => `  - ${r}\n`).join("")}`);
    }
    return code;
  }

  /** ArgumentErrors are usage errors; the rest (a stack file's placeholders, an unreadable file) say their own fix. */
  error(spec: CommandSpec, err: unknown): number {
    return err instanceof ArgumentError ? this.usage(spec, err.message) : this.failed(err);
  }
}

function unknownCommand(name: string): string {
  const guess = suggest(name, commands().map((c) => c.name));
  return `unknown command "${name}"${guess !== undefined ? ` (did you mean "${guess}"?)` : ""}; the commands: ${commands().map((c) => c.name).join(", ")}`;
}

/** `--help`, `help` and `help <command>`. */
function help(io: CliIo, report: Report, topic: string | undefined): number {
  if (topic === undefined) {
    io.stdout(globalHelp());
    return ExitCode.Ok;
  }
  const spec = findCommand(topic);
  if (spec === undefined) {
    return report.usage(undefined, unknownCommand(topic));
  }
  io.stdout(commandHelp(spec));
  return ExitCode.Ok;
}

export async function main(argv: readonly string[], ctx: CommandContext): Promise<number> {
  registerBuiltins();
  // Known before parsing, wherever it stands (`--json status prod` too).
  const json = argv.includes("--json");
  const words = argv[0] === "--json" && argv.length > 1 ? [...argv.slice(1), "--json"] : [...argv];
  const [name, ...rest] = words;
  const report = new Report(ctx.io, json, name ?? "");
  if (name === undefined || name === "--json") {
    return report.usage(undefined, "missing <command>");
  }
  if (name === "--help" || name === "-h" || name === "help") {
    return help(ctx.io, report, name === "help" ? rest.find((w) => !w.startsWith("-")) : undefined);
  }
  const spec = findCommand(name);
  if (spec === undefined) {
    return report.usage(undefined, unknownCommand(name));
  }
  let args: ParsedCommand;
  try {
    args = parseCommandArgs(spec, rest);
  } catch (err) {
    return report.error(spec, err);
  }
  if (boolOpt(args.values, "help")) {
    ctx.io.stdout(commandHelp(spec));
    return ExitCode.Ok;
  }
  report.stack = args.positionals[0] ?? stringOpt(args.values, "to") ?? "";
  try {
    // Everything here is pure and fast (stack files, paths): nothing slow runs before it passes.
    for (const warning of spec.validate?.(args, ctx.catalog ?? new FileStackCatalog(REPO_ROOT)) ?? []) {
      ctx.io.stderr(`warning: ${warning}\n`);
    }
    const out = await spec.run(args, ctx);
    ctx.io.stdout(json ? `${JSON.stringify(out.json, null, 2)}\n` : out.human);
    return out.exitCode;
  } catch (err) {
    return report.error(spec, err);
  }
}

function installSignalHandlers(relay: InterruptRelay): () => void {
  const onInt = (): void => relay.onSignal("SIGINT");
  const onTerm = (): void => relay.onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}

async function runFromProcess(): Promise<void> {
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    isTTY: process.stderr.isTTY,
    columns: process.stderr.columns,
  };
  const relay = new InterruptRelay(process.stdin.isTTY === true, io.stderr, (sig) => process.exit(sig === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated));
  const uninstall = installSignalHandlers(relay);
  try {
    const code = await main(process.argv.slice(2), {
      io,
      signal: relay.driver.signal,
      deps: (req) => ({ ...realDeps(io, relay.driver.signal, req), cliSignal: relay.cli.signal }),
    });
    process.exitCode = code;
  } finally {
    uninstall();
  }
}

if (require.main === module) {
  // main reports every error itself; this is the last line of defence against a stack trace.
  runFromProcess().catch((err: unknown) => {
    process.stderr.write(`error: ${messageOf(err)}\n`);
    process.exitCode = ExitCode.Error;
  });
}
