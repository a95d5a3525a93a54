/**
 * Random mutations of a stack file's `config:` map for the property-based config test
 * (test/configFuzz.test.ts): wrong types, removed keys, out-of-range and nearby numbers, quoted
 * numbers, random strings, duplicated entries, whole sections replaced, unknown keys. Each
 * mutation edits the config in place and returns what it did, so a failing case can be read.
 */
import { settleProgram } from "../../automation/offline/evaluate";
import type { Json, StackConfig } from "../../automation/offline/evaluate";
import { NOT_OBJECTS, validateObject } from "../../automation/offline/k8sSchema";
import { policyInput } from "../../automation/offline/policyInput";
import type { ConfigValue } from "../../infra/config/defaults";
import { ConfigError, parseConfigValue, parsePlatformConfig, SECRET_KEYS } from "../../infra/config/load";
import { environmentOfStack } from "../../infra/policy/engine";
import { evaluatePolicies } from "../../infra/policy/offline";
import { Prng } from "./prng";

type Path = Array<string | number>;

/** Every path below the `platform:*` keys (and the keys themselves), leaves and containers alike. */
function paths(config: StackConfig): Path[] {
  const out: Path[] = [];
  const walk = (value: Json, at: Path): void => {
    out.push(at);
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...at, i]));
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        walk(v, [...at, k]);
      }
    }
  };
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      walk(v, [k]);
    }
  }
  return out;
}

function get(config: StackConfig, path: Path): Json | undefined {
  let cur: Json | undefined = config as unknown as Json;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") {
      return undefined;
    }
    cur = Array.isArray(cur) ? cur[Number(seg)] : cur[String(seg)];
  }
  return cur;
}

function parentOf(config: StackConfig, path: Path): { container: Json[] | { [k: string]: Json }; key: string | number } | undefined {
  const parent = path.length === 1 ? (config as unknown as Json) : get(config, path.slice(0, -1));
  if (parent === null || parent === undefined || typeof parent !== "object") {
    return undefined;
  }
  return { container: parent, key: path[path.length - 1] as string | number };
}

function set(config: StackConfig, path: Path, value: Json): void {
  const p = parentOf(config, path);
  if (p === undefined) {
    return;
  }
  if (Array.isArray(p.container)) {
    p.container[Number(p.key)] = value;
  } else {
    p.container[String(p.key)] = value;
  }
}

function remove(config: StackConfig, path: Path): void {
  const p = parentOf(config, path);
  if (p === undefined) {
    return;
  }
  if (Array.isArray(p.container)) {
    p.container.splice(Number(p.key), 1);
  } else {
    delete p.container[String(p.key)];
  }
}

const STRINGS = [
  "",
  " ",
  "x",
  "a".repeat(300),
  "ü-ñ-漢字",
  "../../etc/passwd",
  "${jndi:ldap://x}",
  "0.0.0.0/0",
  "0.0.0.0/00",
  "10.0.0.1/8",
  "::/0",
  "/",
  "/*",
  "/a b",
  "*",
  "null",
  "true",
  "123",
  "-1",
  "1e309",
  "line\nbreak",
  "UPPER_case-Mixed",
  "https://discord.com/api/webhooks/1/secret-token",
  "ap-northeast-2z",
  "t3.large",
  "db.m6g.large",
  "1.35",
  "blue",
  "green",
  "prod",
  "staging",
];

function randomString(rng: Prng): string {
  if (rng.next() < 0.7) {
    return rng.pick(STRINGS);
  }
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_./:*? ABC";
  return Array.from({ length: 1 + rng.int(20) }, () => alphabet[rng.int(alphabet.length)]).join("");
}

function otherType(value: Json | undefined, rng: Prng): Json {
  const choices: Json[] = [randomString(rng), rng.int(100_000) - 10, rng.next() < 0.5, [], {}, null, [randomString(rng)], { unknown: 1 }];
  const differs = choices.filter((c) => typeof c !== typeof value || Array.isArray(c) !== Array.isArray(value) || (c === null) !== (value === null));
  return rng.pick(differs.length > 0 ? differs : choices);
}

function numberMutation(n: number, rng: Prng): number {
  return rng.pick([
    -1,
    0,
    1,
    -n,
    n + 1,
    n - 1,
    n * 2,
    n * 100,
    Math.floor(n / 2),
    n + 0.5,
    1e12,
    Number.MAX_SAFE_INTEGER,
    65536,
    2 ** 31,
  ]);
}

/** Applies one random mutation; returns its description (path and new value). */
export function mutateOnce(config: StackConfig, rng: Prng): string {
  const all = paths(config);
  const path = rng.pick(all);
  const where = path.map(String).join(".");
  const value = get(config, path);
  const kind = rng.weighted<string>([
    [3, "wrong-type"],
    [3, "remove"],
    [4, "number"],
    [1, "quoted-number"],
    [3, "string"],
    [2, "duplicate"],
    [1, "unknown-key"],
    [3, "boolean-flip"],
    [1, "section"],
  ]);
  switch (kind) {
    case "remove":
      remove(config, path);
      return `remove ${where}`;
    case "number":
      if (typeof value === "number") {
        const n = numberMutation(value, rng);
        set(config, path, n);
        return `${where} = ${n}`;
      }
      break;
    case "quoted-number":
      if (typeof value === "number") {
        set(config, path, String(value));
        return `${where} = "${value}" (quoted)`;
      }
      break;
    case "string":
      if (typeof value === "string") {
        const s = randomString(rng);
        set(config, path, s);
        return `${where} = ${JSON.stringify(s)}`;
      }
      break;
    case "duplicate":
      if (Array.isArray(value) && value.length > 0) {
        const i = rng.int(value.length);
        value.splice(i, 0, structuredClone(value[i]) as Json);
        return `duplicate ${where}[${i}]`;
      }
      break;
    case "unknown-key":
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const key = rng.pick(["enabeld", "extra", "password", "apiToken", "discordWebhookURL", "replica", "Version"]);
        value[key] = randomString(rng);
        return `${where}.${key} = (unknown key)`;
      }
      break;
    case "boolean-flip":
      if (typeof value === "boolean") {
        set(config, path, !value);
        return `${where} = ${String(!value)}`;
      }
      break;
    case "section": {
      const top = path[0] as string;
      const replacement = otherType(config[top], rng);
      config[top] = replacement;
      return `${top} = ${JSON.stringify(replacement)}`;
    }
    default:
      break;
  }
  const replacement = otherType(value, rng);
  set(config, path, replacement);
  return `${where} = ${JSON.stringify(replacement)} (was ${JSON.stringify(value)?.slice(0, 40)})`;
}

/* ----------------------------------------------------------------------------------------
 * The property: every config ends in a clean ConfigError with nothing declared, or evaluates to a
 * plan whose Kubernetes objects are schema-valid and whose policy run completes.
 * -------------------------------------------------------------------------------------- */

export interface Verdict {
  readonly outcome: "refused" | "accepted";
  /** Set when the property does not hold. */
  readonly failure?: string;
}

/**
 * What the program sees: `platform:*` without the namespace, as the runtime hands it over (every
 * top-level value is text, so a quoted "90" and a plain 90 are the same 90).
 */
function platformRaw(config: StackConfig): Record<string, ConfigValue> {
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:") && !(SECRET_KEYS as readonly string[]).includes(k.slice("platform:".length))) {
      raw[k.slice("platform:".length)] = typeof v === "string" ? parseConfigValue(v) : v;
    }
  }
  return raw;
}

/** One problem line of a ConfigError: `  - <key>: <problem> (value: <json or unset>). Fix: <fix>`. */
const PROBLEM_LINE = /^ {2}- (aws:|platform:|Pulumi\.|config\b).*?: .+ \(value: .*\)\. Fix: .+$/;

function judgeError(error: unknown, declared: number): string | undefined {
  if (!(error instanceof Error) || error.name !== "ConfigError") {
    return `the program failed with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} instead of a ConfigError`;
  }
  if (declared > 0) {
    return `a ConfigError after ${declared} resources were declared: ${error.message}`;
  }
  const [head, ...lines] = error.message.split("\n");
  if (!/^Invalid config for stack "[^"]+" \(\d+ problems?\):$/.test(head ?? "") || lines.length === 0) {
    return `not a ConfigError's message: ${error.message}`;
  }
  const bad = lines.filter((l) => !PROBLEM_LINE.test(l));
  if (bad.length > 0) {
    return `problem lines without key, value and fix:\n${bad.join("\n")}`;
  }
  if (/\n\s+at /.test(error.message)) {
    return `a stack trace in the message: ${error.message}`;
  }
  return undefined;
}

/**
 * Evaluates `config` for `stack` and judges it. Accepted configs are evaluated once per distinct
 * validated config (`seen`): the program is a function of it, so the same validated config
 * declares the same stack.
 */
export async function judge(stack: string, config: StackConfig, seen: Set<string>): Promise<Verdict> {
  let validated: string | undefined;
  try {
    const region = config["aws:region"];
    validated = JSON.stringify(parsePlatformConfig(stack, platformRaw(config), typeof region === "string" ? region : undefined));
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      return { outcome: "refused", failure: `validation threw ${err instanceof Error ? `${err.name}: ${err.stack ?? err.message}` : String(err)}` };
    }
  }
  const key = validated === undefined ? undefined : `${stack}\u0000${validated}`;
  if (key !== undefined && seen.has(key)) {
    return { outcome: "accepted" };
  }
  const settled = await settleProgram(stack, config);
  const declared = settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
  if (settled.error !== undefined) {
    return { outcome: "refused", failure: judgeError(settled.error, declared) };
  }
  if (key === undefined) {
    return { outcome: "accepted", failure: "the program ran a config that validation refused" };
  }
  seen.add(key);
  const invalid: string[] = [];
  for (const r of settled.evaluation.resources.filter((x) => x.type.startsWith("kubernetes:") && !NOT_OBJECTS.has(x.type))) {
    try {
      validateObject(r.type, r.name, r.inputs);
    } catch (err) {
      invalid.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (invalid.length > 0) {
    return { outcome: "accepted", failure: `schema-invalid Kubernetes objects: ${invalid.join("; ")}` };
  }
  try {
    evaluatePolicies(policyInput(settled.evaluation), environmentOfStack(stack));
  } catch (err) {
    return { outcome: "accepted", failure: `the policy run failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { outcome: "accepted" };
}
