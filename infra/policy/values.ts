/**
 * Readers for resource properties as the policy engine and the offline runner hand them over.
 *
 * The same input can arrive in two shapes: the real pack sees the engine's resolved inputs
 * (nested objects as objects), while the program's mocks record some inputs JSON-encoded
 * (IAM documents always; provider inputs such as `defaultTags`). LaunchTemplate booleans are
 * strings ("true") in the AWS schema. Every reader here accepts both shapes, so rules never
 * branch on where they run.
 */

export type Props = Readonly<Record<string, unknown>>;

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) {
    return undefined;
  }
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/** An object value (JSON-encoded objects are parsed); `{}` for anything else. */
export function obj(value: unknown): Props {
  const v = typeof value === "string" ? parseJson(value) : value;
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : {};
}

/** Whether `value` is present as an object (or JSON-encoded object). */
export function isObj(value: unknown): boolean {
  const v = typeof value === "string" ? parseJson(value) : value;
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** An array value (JSON-encoded arrays are parsed); a single non-array value becomes `[value]`. */
export function arr(value: unknown): readonly unknown[] {
  if (value === undefined || value === null) {
    return [];
  }
  const v = typeof value === "string" ? (parseJson(value) ?? value) : value;
  return Array.isArray(v) ? v : [v];
}

/** Objects of an array value. */
export function objs(value: unknown): Props[] {
  return arr(value).filter((v) => v !== null && typeof v === "object" && !Array.isArray(v)) as Props[];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** Strings of an array (or single string) value. */
export function strs(value: unknown): string[] {
  return arr(value)
    .map(str)
    .filter((s): s is string => s !== undefined);
}

/** A boolean; the AWS schema's string booleans ("true"/"false") are accepted. */
export function bool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") {
    return value;
  }
  if (value === "true") {
    return true;
  }
  if (value === "false") {
    return false;
  }
  return undefined;
}

/** A number; numeric strings are accepted (Kubernetes annotations, LaunchTemplate fields). */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** A property path (`a.b.c`) through nested objects; undefined when any step is missing. */
export function at(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split(".")) {
    const o = obj(cur);
    if (!(key in o)) {
      return undefined;
    }
    cur = o[key];
  }
  return cur;
}

/** A string-keyed map of strings (tags, labels, annotations); JSON-encoded maps are parsed. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value))) {
    const s = str(v);
    if (s !== undefined) {
      out[k] = s;
    }
  }
  return out;
}

/** `*` globs (anything, including `/` and `:`), matched against the whole text. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(text);
}

/** Human list: `a, b and c`. */
export function list(items: readonly string[]): string {
  if (items.length <= 1) {
    return items.join("");
  }
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
