/**
 * `npm run platform -- <command>`: the entry point CI and operators call. Parses flags with
 * node's util.parseArgs, builds the real dependencies (Automation API, HTTP prober, ELBv2,
 * registry, Discord), turns SIGINT/SIGTERM into an AbortSignal, and maps every outcome to
 * an exit code (see ./exitCodes.ts). All behaviour lives in the command functions (./commands);
 * the CLI's specs of them are in ./cli/commands.ts, the real dependencies in ./cli/realDeps.ts.
 */
import { FileStackCatalog } from "./adapters/catalog";
import { REPO_ROOT } from "./adapters/workspace";
import { ArgumentError, boolOpt, CliIo, CommandContext, commandHelp, CommandSpec, findCommand, globalHelp, ParsedCommand, parseCommandArgs, stringOpt } from "./cli/registry";
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

export async function main(argv: readonly string[], ctx: CommandContext): Promise<number> {
  registerBuiltins();
  const [name, ...rest] = argv;
  const io = ctx.io;
  // Known before parsing: under --json every error, a usage error too, is one JSON object on stdout.
  const json = argv.includes("--json");
  const usage = (spec: CommandSpec | undefined, message: string, stack = ""): number => {
    const line = message.replace(/\s+/g, " ").trim();
    if (json) {
      io.stdout(`${JSON.stringify(errorOutcome(name ?? "", stack, line, spec !== undefined ? [`usage: npm run platform -- ${spec.usage}`] : [], ExitCode.Error), null, 2)}\n`);
    } else {
      io.stderr(`error: ${line}\n${spec !== undefined ? `Usage: npm run platform -- ${spec.usage}\n(--help for details)\n` : `\n${globalHelp()}`}`);
    }
    return ExitCode.Error;
  };
  if (name === undefined || name === "--json" || name === "--help" || name === "-h" || name === "help") {
    if (name === undefined || name === "--json") {
      return usage(undefined, "missing <command>");
    }
    io.stdout(globalHelp());
    return ExitCode.Ok;
  }
  const spec = findCommand(name);
  if (spec === undefined) {
    return usage(undefined, `unknown command "${name}"`);
  }
  let args: ParsedCommand;
  try {
    args = parseCommandArgs(spec, rest);
  } catch (err) {
    return usage(spec, messageOf(err));
  }
  if (boolOpt(args.values, "help")) {
    io.stdout(commandHelp(spec));
    return ExitCode.Ok;
  }
  const stack = args.positionals[0] ?? stringOpt(args.values, "to") ?? "";
  const failed = (err: unknown): number => {
    const code = err instanceof DriverError ? err.exitCode : ExitCode.Error;
    const remediation = err instanceof DriverError ? err.remediation : [];
    if (json) {
      io.stdout(`${JSON.stringify(errorOutcome(name, stack, messageOf(err), remediation, code), null, 2)}\n`);
    } else {
      io.stderr(`error: ${messageOf(err)}\n${remediation.map((r) => `  - ${r}\n`).join("")}`);
    }
    return code;
  };
  try {
    for (const warning of spec.validate?.(args, ctx.catalog ?? new FileStackCatalog(REPO_ROOT)) ?? []) {
      io.stderr(`warning: ${warning}\n`);
    }
  } catch (err) {
    if (err instanceof ArgumentError) {
      return usage(spec, err.message, stack);
    }
    // A check of the stack file itself (placeholders): its own message and what to change, no usage text.
    if (err instanceof DriverError) {
      return failed(err);
    }
    throw err;
  }
  try {
    const out = await spec.run(args, ctx);
    io.stdout(json ? `${JSON.stringify(out.json, null, 2)}\n` : out.human);
    return out.exitCode;
  } catch (err) {
    if (err instanceof ArgumentError) {
      return usage(spec, err.message, stack);
    }
    return failed(err);
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
  void runFromProcess();
}
