/**
 * Reads the stack's `platform:*` config, merges the environment defaults under it and
 * validates the result. Any problem stops the program before a resource is declared, with
 * one line per problem naming the key, the value and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { editDistance, suggest } from "../lib/text";
import { environmentOfStack } from "../policy/engine";
import { ConfigValue, deepMerge, defaultsFor } from "./defaults";
import { PolicyView, policyView } from "./policy";
import { looksSecret, mayBeSecret, printableValue, REDACTED, scrubText } from "./redact";
import { checkPlatform, ENVIRONMENTS, IssueParams, PlatformConfig, platformSchema, toPlatformConfig } from "./schema";

export const CONFIG_NAMESPACE = "platform";

export interface ConfigProblem {
  /** Full config key, e.g. `platform:cluster.nodeGroups[0].minSize`. */
  readonly key: string;
  readonly value: ConfigValue | undefined;
  readonly problem: string;
  readonly fix: string;
}

/** Raised for invalid stack config; `problems` carries the structured form for tooling. */
export class ConfigError extends pulumi.RunError {
  constructor(
    readonly stack: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(stack, problems));
    this.name = "ConfigError";
  }
}

/** Control characters (a newline in a value, say) written as JSON escapes: every problem stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export function formatProblems(stack: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => {
    const value = p.value === undefined ? "unset" : JSON.stringify(p.value);
    return `  - ${oneLine(scrubText(p.key))}: ${oneLine(scrubText(p.problem))} (value: ${oneLine(scrubText(value))}). Fix: ${oneLine(scrubText(p.fix))}`;
  });
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return `Invalid config for stack "${stack}" (${count}):\n${lines.join("\n")}`;
}

type Path = ReadonlyArray<PropertyKey>;

export function formatKey(path: Path): string {
  let out = `${CONFIG_NAMESPACE}:`;
  path.forEach((seg, i) => {
    if (typeof seg === "number") {
      out += `[${seg}]`;
    } else {
      out += i === 0 ? String(seg) : `.${String(seg)}`;
    }
  });
  return out;
}

function valueAt(root: ConfigValue | undefined, path: Path): ConfigValue | undefined {
  let cur: ConfigValue | undefined = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") {
      return undefined;
    }
    cur = Array.isArray(cur) ? cur[Number(seg)] : cur[String(seg)];
  }
  return cur;
}

/** The sub-schema at `path`, to suggest the right key for a typo. */
function schemaAt(path: Path): z.ZodType | undefined {
  let cur: z.ZodType | undefined = platformSchema;
  for (const seg of path) {
    while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) {
      cur = cur.unwrap() as z.ZodType;
    }
    if (cur instanceof z.ZodUnion) {
      // A discriminated union (e.g. services[].rollout): the option that has the key.
      cur = (cur.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && String(seg) in o.shape);
    }
    if (cur instanceof z.ZodObject) {
      cur = (cur.shape as Record<string, z.ZodType>)[String(seg)];
    } else if (cur instanceof z.ZodArray) {
      cur = cur.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}

function keysAt(path: Path): string[] {
  const s = schemaAt(path);
  if (s instanceof z.ZodUnion) {
    return [...new Set((s.options as z.ZodType[]).flatMap((o) => (o instanceof z.ZodObject ? Object.keys(o.shape) : [])))];
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** A number written in quotes (`"2000"`): YAML reads it as text. */
function quotedNumber(issue: z.core.$ZodIssue, value: ConfigValue | undefined): value is string {
  return issue.code === "invalid_type" && issue.expected === "number" && typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value));
}

function fixFor(issue: z.core.$ZodIssue, value: ConfigValue | undefined): string {
  const params = (issue as { params?: Partial<IssueParams> }).params;
  if (params?.fix !== undefined) {
    return params.fix;
  }
  if (quotedNumber(issue, value)) {
    return `write ${value.trim()} without quotes (YAML reads a quoted number as text)`;
  }
  switch (issue.code) {
    case "invalid_type":
      return value === undefined
        ? `set it: pulumi config set --path '${formatKey(issue.path)}' <${issue.expected}>`
        : `use a ${issue.expected}${issue.expected === "object" ? " (a map of keys, as the config reference shows)" : ""}`;
    case "invalid_key":
      return "rename the key to that form";
    case "invalid_value":
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `use a value of at least ${String(issue.minimum)}${issue.origin === "array" ? " entries" : ""}`;
    case "too_big":
      return `use a value of at most ${String(issue.maximum)}${issue.origin === "array" ? " entries" : ""}`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue
        ? issue.message.includes("(pattern ")
          ? "use a value of that form"
          : `use a value matching ${String(issue.pattern)}`
        : `use a valid ${issue.format}`;
    case "invalid_union":
      return "use one of the allowed values";
    default:
      return "see the config reference in README.md";
  }
}

/** The problem text of an issue: zod's message, said for this config where zod's is generic. */
function problemFor(issue: z.core.$ZodIssue, value: ConfigValue | undefined, printed: ConfigValue | undefined): string {
  if (quotedNumber(issue, value)) {
    return `is the text ${JSON.stringify(printed)}, not a number`;
  }
  if (issue.code === "invalid_key") {
    const key = issue.path[issue.path.length - 1];
    const why = issue.issues.map((i) => i.message).join("; ");
    return `the key ${JSON.stringify(String(key))} is not valid: it ${why}`;
  }
  if (issue.code === "invalid_type" && value === undefined) {
    return `is required (${issue.expected})`;
  }
  if (issue.code === "invalid_type") {
    const got = value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a map" : `a ${typeof value}`;
    return `must be ${issue.expected === "object" ? "a map" : issue.expected === "array" ? "a list" : `a ${issue.expected}`}, not ${got}`;
  }
  return issue.message;
}

function problemsFrom(error: z.ZodError, input: ConfigValue, secretKeys: ReadonlySet<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      // The secret keys are read apart from the schema, but a misspelt one is still suggested.
      const valid = issue.path.length === 0 ? [...keysAt(issue.path), ...SECRET_KEYS] : keysAt(issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const guess = suggest(key, valid);
        const secret = mayBeSecret(key) || (guess !== undefined && looksSecret(guess)) || (issue.path.length === 0 && secretKeys.has(key));
        out.push({
          key: formatKey(path),
          value: secret ? REDACTED : printableValue(path, valueAt(input, path), secretKeys),
          problem: "unknown config key",
          fix:
            guess !== undefined
              ? `did you mean "${formatKey([...issue.path, guess])}"?${secret ? ` (store it with \`pulumi config set --secret\`)` : ""}`
              : `valid keys here are ${valid.join(", ")}`,
        });
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    const printed = printableValue(issue.path, value, secretKeys);
    out.push({
      key: formatKey(issue.path),
      value: printed,
      // Checks quote the value they refuse: what the printed value hides is hidden there too.
      problem: scrubText(problemFor(issue, value, printed), value, printed),
      fix: scrubText(fixFor(issue, value), value, printed),
    });
  }
  return out;
}

/**
 * Validates `raw` (the stack's `platform:*` keys without the namespace, values already JSON-parsed).
 * Throws `ConfigError` listing every problem.
 */
export interface ParseOptions {
  /** The stack's policy config (default: infra/policy/config/<environment>.json). */
  readonly policy?: PolicyView;
  /** Top-level keys (without `platform:`) the runtime marks secret: their values are never printed. */
  readonly secretKeys?: readonly string[];
}

export function parsePlatformConfig(stack: string, raw: Record<string, ConfigValue>, region: string | undefined, options: ParseOptions = {}): PlatformConfig {
  const secretKeys = new Set(options.secretKeys ?? []);
  if (region === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new ConfigError(stack, [
      {
        key: "aws:region",
        value: region,
        problem: region === undefined ? "is not set" : "is not an AWS region name",
        fix: "set it to the region of the environment: pulumi config set aws:region ap-northeast-2",
      },
    ]);
  }
  // The stack's name decides the environment, as it does for the policy pack (which sees only the
  // stack in each URN): `platform:environment` may state it, never contradict it.
  const derived = environmentOfStack(stack);
  const stated = raw["environment"];
  if (stated !== undefined && stated !== derived) {
    const known = typeof stated === "string" && (ENVIRONMENTS as readonly string[]).includes(stated);
    throw new ConfigError(stack, [
      {
        key: formatKey(["environment"]),
        value: printableValue(["environment"], stated, secretKeys),
        problem: known
          ? `says ${JSON.stringify(stated)}, but the stack "${stack}" is ${derived}: the stack name decides the environment, and the policy pack checks this stack as ${derived} whatever the file says`
          : `unknown environment ${JSON.stringify(printableValue(["environment"], stated, secretKeys))} (the stack "${stack}" is ${derived})`,
        fix: `remove platform:environment (it follows the stack name) or set it to ${derived}; to deploy a ${known ? String(stated) : "different"} environment, use its own stack (Pulumi.<environment>.yaml)`,
      },
    ]);
  }
  const environment = derived;
  const merged = deepMerge(defaultsFor(environment), { ...raw, environment }) ?? {};
  const view = options.policy ?? policyView(environment);
  const result = platformSchema.superRefine((cfg, ctx) => checkPlatform(cfg, ctx, { region, policy: view })).safeParse(merged);
  if (!result.success) {
    throw new ConfigError(stack, problemsFrom(result.error, merged, secretKeys));
  }
  return toPlatformConfig(result.data, region);
}

/** Parses a Pulumi config value: structured values arrive as JSON text, plain ones as strings. */
export function parseConfigValue(text: string): ConfigValue {
  try {
    return JSON.parse(text) as ConfigValue;
  } catch {
    return text;
  }
}

/**
 * Keys that hold credentials. They never enter the schema's plain-value path (whose error
 * messages print values); they are read with `getSecret`, so they stay secret in state and
 * outputs, and must be stored encrypted in the stack file.
 */
export const SECRET_KEYS = ["discordWebhookUrl"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export interface PlatformSecrets {
  /** Discord webhook Alertmanager posts alerts to (CI's deploy notifications use their own env var). */
  readonly discordWebhookUrl?: pulumi.Output<string>;
}

/** SDK helper that exists at runtime but is not part of the typed surface. */
function isSecretKey(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(key) ?? false;
}

/** Checks the secret keys of the running stack; values are never printed. */
export function checkSecrets(stack: string, present: ReadonlyArray<{ key: SecretKey; secret: boolean; value: string }>): void {
  const problems: ConfigProblem[] = [];
  for (const p of present) {
    const fullKey = `${CONFIG_NAMESPACE}:${p.key}`;
    if (!p.secret) {
      problems.push({
        key: fullKey,
        value: "[redacted]",
        problem: "is stored in plain text in the stack file",
        fix: `store it encrypted: pulumi config rm ${fullKey} && pulumi config set --secret ${fullKey} <url>`,
      });
    } else if (!/^https:\/\/(discord\.com|discordapp\.com)\/api\/webhooks\/\d+\/[\w-]+$/.test(p.value)) {
      problems.push({
        key: fullKey,
        value: "[redacted]",
        problem: "is not a Discord webhook URL",
        fix: "copy the URL from Server Settings > Integrations > Webhooks (https://discord.com/api/webhooks/<id>/<token>)",
      });
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(stack, problems);
  }
}

/** The validated config of the running stack. */
export function loadConfig(): PlatformConfig {
  const raw: Record<string, ConfigValue> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  const secrets: Array<{ key: SecretKey; secret: boolean; value: string }> = [];
  const secretKeys: string[] = [];
  const misspelt: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    const namespace = key.split(":")[0] ?? "";
    if (namespace !== CONFIG_NAMESPACE && editDistance(namespace, CONFIG_NAMESPACE) <= 2) {
      // The program reads platform:* only; a misspelt namespace would be ignored without a word.
      const rest = key.slice(namespace.length + 1);
      misspelt.push({
        key,
        value: isSecretKey(key) || looksSecret(rest) ? REDACTED : printableValue([rest], parseConfigValue(value), new Set()),
        problem: `is in namespace "${namespace}", which nothing reads`,
        fix: `did you mean "${prefix}${rest}"?`,
      });
      continue;
    }
    if (!key.startsWith(prefix)) {
      continue;
    }
    const short = key.slice(prefix.length);
    const secretKey = SECRET_KEYS.find((k) => k === short);
    if (secretKey !== undefined) {
      secrets.push({ key: secretKey, secret: isSecretKey(key), value });
    } else {
      raw[short] = parseConfigValue(value);
      if (isSecretKey(key)) {
        secretKeys.push(short);
      }
    }
  }
  if (misspelt.length > 0) {
    throw new ConfigError(pulumi.getStack(), misspelt);
  }
  const cfg = parsePlatformConfig(pulumi.getStack(), raw, new pulumi.Config("aws").get("region"), { secretKeys });
  checkSecrets(pulumi.getStack(), secrets);
  return cfg;
}

/** The stack's secret settings, as secret Outputs (never plain strings). */
export function loadSecrets(): PlatformSecrets {
  return { discordWebhookUrl: new pulumi.Config(CONFIG_NAMESPACE).getSecret("discordWebhookUrl") };
}
