/**
 * The command registry of the CLI. A command is a name, its options (node's util.parseArgs
 * format plus help text) and a `run` that returns an exit code with a human and a JSON
 * rendering. Driver commands are registered in ./commands.ts; the offline `plan` command plugs in
 * the same way (`registerCommand(planCommand)`), without the driver or a Pulumi CLI.
 */
import { parseArgs, ParseArgsConfig } from "util";
import { DriverDeps } from "../deps";
import { StackCatalog } from "../ports";
import { formatExitCodes } from "../exitCodes";
import { suggest } from "../../infra/lib/text";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** stderr is an interactive terminal (live progress line). */
  readonly isTTY: boolean;
  readonly columns?: number;
}

export interface DepsRequest {
  /** `up` and `preview` may create a stack that does not exist yet. */
  readonly create: boolean;
  readonly policyPacks: readonly string[];
  readonly policyConfigs: readonly string[];
}

export interface CommandContext {
  readonly io: CliIo;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** The driver's dependencies: real ones from the CLI, stand-ins in tests. Built only after the arguments passed `validate`. */
  readonly deps: (req: DepsRequest) => DriverDeps;
  /** The stacks the arguments are checked against; default: the repository's stack files. */
  readonly catalog?: StackCatalog;
}

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  readonly valueName?: string;
  readonly description: string;
}

export type OptionValues = { [name: string]: string | boolean | Array<string | boolean> | undefined };

export interface ParsedCommand {
  readonly positionals: readonly string[];
  readonly values: OptionValues;
}

export interface CommandOutput {
  readonly exitCode: number;
  /** Printed to stdout without --json. */
  readonly human: string;
  /** Printed to stdout (as JSON) with --json. */
  readonly json: unknown;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** e.g. `promote --from STACK --to STACK [--service NAME]...` */
  readonly usage: string;
  /** Longer help: what it does, in which order, what it refuses. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Names of the required positional arguments, in order. */
  readonly positionals: readonly string[];
  /**
   * Checks the arguments against the stack files before anything slow (passphrase, Pulumi CLI,
   * backend, network); throws ArgumentError naming the argument. May return warnings (a bootstrap
   * setting still on), which the CLI prints to stderr before the command runs.
   */
  validate?(args: ParsedCommand, catalog: StackCatalog): readonly string[] | void;
  run(args: ParsedCommand, ctx: CommandContext): Promise<CommandOutput>;
}

const registry = new Map<string, CommandSpec>();

export function registerCommand(spec: CommandSpec): void {
  if (registry.has(spec.name)) {
    throw new Error(`command "${spec.name}" is registered twice`);
  }
  registry.set(spec.name, spec);
}

export function commands(): CommandSpec[] {
  return [...registry.values()];
}

export function findCommand(name: string): CommandSpec | undefined {
  return registry.get(name);
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", description: "print the result as JSON on stdout (progress stays on stderr)" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

/**
 * node's util.parseArgs error as one line that names the option and says the fix. The messages
 * matched are node 20.20's (ERR_PARSE_ARGS_UNKNOWN_OPTION: "Unknown option '--x'. To specify a
 * positional ..."; ERR_PARSE_ARGS_INVALID_OPTION_VALUE: "Option '--x <value>' argument missing",
 * "Option '--x' argument is ambiguous. ...", "Option '--x' does not take an argument", as thrown
 * by node v20.20.2); another wording keeps node's own message, on one line.
 */
function parseErrorMessage(spec: CommandSpec, all: Readonly<Record<string, OptionSpec>>, err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
  const flags = Object.keys(all).map((n) => `--${n}`);
  const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message);
  if (unknown !== null) {
    const given = unknown[1] ?? "";
    const guess = suggest(given, flags);
    return `Unknown option '${given}' for ${spec.name}${guess !== undefined ? ` (did you mean ${guess}?)` : ""}; it takes ${flags.join(", ")}`;
  }
  const option = /^Option '(?:-\w, )?--([\w-]+)(?: <value>)?' (argument missing|argument is ambiguous|does not take an argument)/.exec(message);
  const name = option?.[1];
  const o = name !== undefined ? all[name] : undefined;
  if (name !== undefined && o !== undefined) {
    return option?.[2] === "does not take an argument"
      ? `--${name} is a switch and takes no value; give --${name} alone`
      : `--${name} needs a value; give it as --${name} ${o.valueName ?? "VALUE"}${option?.[2] === "argument is ambiguous" ? " (a value starting with a dash: --" + name + "=-VALUE)" : ""}`;
  }
  return message;
}

export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const all = { ...COMMON_OPTIONS, ...spec.options };
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, o] of Object.entries(all)) {
    options[name] = o.short !== undefined ? { type: o.type, multiple: o.multiple ?? false, short: o.short } : { type: o.type, multiple: o.multiple ?? false };
  }
  let parsed: ReturnType<typeof parseArgs> & { values: OptionValues };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new ArgumentError(parseErrorMessage(spec, all, err));
  }
  // util.parseArgs keeps the last of a repeated single-value option silently; a repeat is almost
  // always a mistake (two --to values), so it is refused.
  const counts = new Map<string, number>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind === "option") {
      counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      if (all[t.name]?.type === "string" && (t.value ?? "").trim() === "") {
        throw new ArgumentError(`--${t.name} needs a non-empty value`);
      }
    }
  }
  for (const [name, n] of counts) {
    if (n > 1 && all[name]?.multiple !== true) {
      throw new ArgumentError(all[name]?.type === "boolean" ? `--${name} given ${n} times; give it once` : `--${name} given ${n} times; it takes one value`);
    }
  }
  if (parsed.values["help"] !== true) {
    if (parsed.positionals.length < spec.positionals.length) {
      throw new ArgumentError(`missing ${spec.positionals.slice(parsed.positionals.length).map((p) => `<${p}>`).join(" ")}`);
    }
    if (parsed.positionals.length > spec.positionals.length) {
      throw new ArgumentError(`unexpected argument "${parsed.positionals[spec.positionals.length] ?? ""}"`);
    }
  }
  return { positionals: parsed.positionals, values: parsed.values };
}

export function stringOpt(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function stringsOpt(values: OptionValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) {
    return v.filter((x): x is string => typeof x === "string");
  }
  return typeof v === "string" ? [v] : [];
}

export function boolOpt(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function requireOpt(values: OptionValues, name: string): string {
  const v = stringOpt(values, name);
  if (v === undefined || v === "") {
    throw new ArgumentError(`--${name} is required`);
  }
  return v;
}

export function commandHelp(spec: CommandSpec): string {
  const all = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, o]) => {
    const flag = `${o.short !== undefined ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""}${o.multiple === true ? " (repeatable)" : ""}`;
    return `  ${flag.padEnd(36)} ${o.description}`;
  });
  return [
    `Usage: npm run platform -- ${spec.usage}`,
    "",
    spec.summary,
    "",
    spec.description,
    "",
    "Options:",
    ...rows,
    "",
    "Exit codes:",
    formatExitCodes(),
    "",
  ].join("\n");
}

export function globalHelp(): string {
  const rows = commands().map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: npm run platform -- <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Run `npm run platform -- <command> --help` for a command's options.",
    "",
    "Exit codes:",
    formatExitCodes(),
    "",
  ].join("\n");
}
