/**
 * The CLI's argument checks against the stack files, pure and fast: unknown stacks, services and
 * colors, the pipeline's stage order, and paths, all refused before the passphrase check, the
 * Pulumi CLI lookup or any network call. Each throws ArgumentError with one line naming the argument.
 */
import * as fs from "fs";
import * as path from "path";
import { COLORS } from "../../infra/config/schema";
import { bootstrapWarnings } from "../bootstrap";
import { DEPLOY_ORDER } from "../deployOrder";
import { UsageError } from "../errors";
import { stepProblems } from "../../infra/lib/canary";
import { suggest } from "../../infra/lib/text";
import { parseImageRef } from "../images";
import { describePlaceholder, findPlaceholders, placeholdersIn } from "../placeholders";
import { StackCatalog, StackDescription } from "../ports";
import { ArgumentError } from "./registry";
import { Environment, environmentOfStack } from "../../infra/policy/engine";
import { configFile, loadPolicyConfig } from "../../infra/policy/offline";

/** The pipeline, first stage first: images enter at test and move one stage at a time (also the first-deploy order). */
export const STAGES: readonly string[] = DEPLOY_ORDER;

export function knownStack(catalog: StackCatalog, stack: string, arg: string): StackDescription {
  const d = catalog.describe(stack);
  if (d === undefined) {
    const guess = suggest(stack, catalog.names());
    throw new ArgumentError(
      `${arg} "${stack}": no such stack (there is no Pulumi.${stack}.yaml; ${guess !== undefined ? `did you mean "${guess}"? ` : ""}known: ${catalog.names().join(", ") || "none"})`,
    );
  }
  return d;
}

function stageOf(d: StackDescription): number {
  return STAGES.indexOf(d.environment ?? d.name);
}

export function knownServices(d: StackDescription, services: readonly string[], arg: string): void {
  const repeated = services.find((s, i) => services.indexOf(s) !== i);
  if (repeated !== undefined) {
    throw new ArgumentError(`${arg} "${repeated}": given twice; name each service once`);
  }
  for (const s of services) {
    if (!d.services.includes(s)) {
      throw new ArgumentError(`${arg} "${s}": stack "${d.name}" has no such service (it has ${d.services.join(", ") || "none"})`);
    }
  }
}

export function color(value: string | undefined, arg: string): void {
  if (value !== undefined && !(COLORS as readonly string[]).includes(value)) {
    throw new ArgumentError(`${arg} "${value}": must be ${COLORS.join(" or ")}`);
  }
}

/** promote moves one stage forward: test -> staging -> prod. */
export function promotion(catalog: StackCatalog, from: string, to: string): { readonly source: StackDescription; readonly target: StackDescription } {
  const source = knownStack(catalog, from, "--from");
  const target = knownStack(catalog, to, "--to");
  const [a, b] = [stageOf(source), stageOf(target)];
  if (a < 0 || b !== a + 1) {
    const next = a >= 0 ? STAGES[a + 1] : undefined;
    throw new ArgumentError(
      `--to "${to}": promote goes ${STAGES.join(" -> ")}, one stage at a time; ${next !== undefined ? `from ${from} the next stage is ${next}` : `nothing is promoted from ${from}`}`,
    );
  }
  if (source.services.length === 0) {
    throw new ArgumentError(`--from "${from}": it has no services to promote`);
  }
  return { source, target };
}

/** The services a promotion moves (the given ones, else all of the source's) exist in the target too. */
export function promotedServices(source: StackDescription, target: StackDescription, given: readonly string[], arg: string): void {
  knownServices(source, given, arg);
  const moving = given.length > 0 ? given : source.services;
  const missing = moving.filter((s) => !target.services.includes(s));
  if (missing.length > 0) {
    throw new ArgumentError(
      `${given.length > 0 ? arg : "--to"} "${given.length > 0 ? missing.join(", ") : target.name}": stack "${target.name}" has no service ${missing.join(", ")} (it has ${target.services.join(", ") || "none"}); add it to Pulumi.${target.name}.yaml first, or promote only --service names both stacks have`,
    );
  }
}

/** release puts new images into the first stage only. */
export function releaseTarget(catalog: StackCatalog, stack: string): StackDescription {
  const d = knownStack(catalog, stack, "<stack>");
  if (stageOf(d) !== 0) {
    throw new ArgumentError(`<stack> "${stack}": release goes into the first stage (${STAGES[0]}) only; later stages get images by promote`);
  }
  return d;
}

/** flip and rollback need a blue/green stack with services. */
export function switchable(catalog: StackCatalog, stack: string, command: string): StackDescription {
  const d = knownStack(catalog, stack, "<stack>");
  if (d.services.length === 0) {
    throw new ArgumentError(`<stack> "${stack}": it has no services to ${command}`);
  }
  if ((d.environment ?? d.name) === STAGES[0]) {
    throw new ArgumentError(`<stack> "${stack}": it runs one color per service (test environment), there is nothing to ${command}`);
  }
  return d;
}

/**
 * Canary steps for one run, `10,50`: whole percentages to the new color, strictly increasing,
 * 1-99 (the final 100 is the switch). Returns them parsed.
 */
export function steps(value: string | undefined, arg: string): number[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  const parts = value.split(",").map((p) => p.trim());
  const parsed = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  const bad = parts.filter((_, i) => Number.isNaN(parsed[i]));
  if (bad.length > 0) {
    throw new ArgumentError(`${arg} "${value}": ${bad.map((b) => JSON.stringify(b)).join(", ")} is not a whole percent; give them comma-separated, e.g. 10,50`);
  }
  const problems = stepProblems(parsed);
  if (problems.length > 0) {
    throw new ArgumentError(`${arg} "${value}": ${problems.join("; ")}`);
  }
  return parsed;
}

export function imageRef(value: string, arg: string): void {
  if (parseImageRef(value) === undefined) {
    throw new ArgumentError(`${arg} "${value}": not an image reference (<registry>/<repo>:<tag> or <registry>/<repo>@sha256:<digest>)`);
  }
  const placeholder = placeholdersIn(value)[0];
  if (placeholder !== undefined) {
    throw new ArgumentError(`${arg} "${value}": ${placeholder.found} is a placeholder (${placeholder.kind}); give the image your build pushed to this account's registry`);
  }
}

/**
 * A stack a real operation may touch: its stack file holds no placeholder (an example account id,
 * a documentation address range, an example domain, a template marker), which AWS would reject
 * half-way through an update or which would deploy nothing real. Refused with exit 1 (a config
 * error, nothing changed), one remediation line per placeholder: the key, the value, what to put.
 * The offline `plan` lists the same placeholders as warnings and runs. Returns the stack's bootstrap
 * warnings (a setting of the one-time bootstrap still on).
 */
export function deployable(d: StackDescription, arg: string): string[] {
  const found = findPlaceholders(d.config);
  if (found.length > 0) {
    throw new UsageError(
      `${arg} "${d.name}": Pulumi.${d.name}.yaml holds ${found.length} placeholder${found.length === 1 ? "" : "s"} (example accounts, documentation addresses or domains, template markers) that AWS would reject; replace ${found.length === 1 ? "it" : "them"} with your own values before a real operation`,
      [...found.map(describePlaceholder), `\`npm run platform -- plan ${d.name}\` lists them offline`],
    );
  }
  const policy = policyConfigPlaceholders(environmentOfStack(d.name));
  if (policy.found.length > 0) {
    throw new UsageError(
      `${arg} "${d.name}": its policy config ${policy.file} holds ${policy.found.length} placeholder${policy.found.length === 1 ? "" : "s"} (e.g. the platform's ECR registry of an example account); the pack would refuse every real image there`,
      policy.found.map((p) => `${policy.file}: ${describePlaceholder(p)}`),
    );
  }
  return bootstrapWarnings(d.config).map((w) => `${d.name}: ${w}`);
}

/** Placeholders in the environment's policy config (infra/policy/config/<env>.json); an unreadable one has none here (the pack refuses it). */
function policyConfigPlaceholders(environment: Environment): { readonly file: string; readonly found: ReturnType<typeof findPlaceholders> } {
  const file = path.relative(process.cwd(), configFile(environment));
  try {
    return { file, found: findPlaceholders(loadPolicyConfig(environment)) };
  } catch {
    return { file, found: [] };
  }
}

export function existingDir(value: string, arg: string): void {
  if (!fs.existsSync(value) || !fs.statSync(value).isDirectory()) {
    throw new ArgumentError(`${arg} "${value}": no such directory`);
  }
}

export function existingFile(value: string, arg: string): void {
  if (!fs.existsSync(value)) {
    throw new ArgumentError(`${arg} "${value}": no such file`);
  }
  if (!fs.statSync(value).isFile()) {
    throw new ArgumentError(`${arg} "${value}": is not a file (a directory?); give the file's path`);
  }
}

/** An existing file that parses as JSON (a policy config); says where it does not. */
export function jsonFile(value: string, arg: string): void {
  existingFile(value, arg);
  try {
    JSON.parse(fs.readFileSync(value, "utf8"));
  } catch (err) {
    throw new ArgumentError(`${arg} "${value}": not JSON (${err instanceof Error ? err.message : String(err)}); give a policy config like infra/policy/config/prod.json`);
  }
}

/** A file the command will write later: its directory must exist or be creatable, and be writable. */
export function writablePath(value: string, arg: string): void {
  const file = path.resolve(value);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new ArgumentError(`${arg} "${value}": is a directory, not a file`);
  }
  let parent = path.dirname(file);
  while (!fs.existsSync(parent) && path.dirname(parent) !== parent) {
    parent = path.dirname(parent);
  }
  if (!fs.statSync(parent).isDirectory()) {
    throw new ArgumentError(`${arg} "${value}": cannot be written (${parent} is a file, not a directory)`);
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Opened for appending, not just access(2)-checked: root passes every W_OK check, yet a
    // directory such as /proc refuses new files. A file that did not exist is removed again.
    const existed = fs.existsSync(file);
    fs.closeSync(fs.openSync(file, "a"));
    if (!existed) {
      fs.unlinkSync(file);
    }
  } catch (err) {
    const code = err instanceof Error && "code" in err ? String(err.code) : "error";
    throw new ArgumentError(`${arg} "${value}": cannot be written (${code})`);
  }
}
