/**
 * Keeping secrets out of config errors. A ConfigError is printed by `pulumi up`, the driver's
 * `plan` and its JSON, CI logs and the Discord notification of a failed deployment, so a value is
 * never echoed when its key looks like a credential (a webhook, password, token, key or secret),
 * when it is a `secure:` value, or when the runtime marks its key secret; nested values are
 * scrubbed the same way, and strings shaped like a webhook URL or a URL with credentials too.
 */
import type { ConfigValue } from "./defaults";
import { editDistance } from "../lib/text";

/** Shown instead of a secret value. */
export const REDACTED = "[secret]";

/** Words that make a key look like it holds a credential. */
const SECRET_WORDS = new Set(["password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens", "webhook", "webhooks", "credential", "credentials", "apikey", "privatekey"]);

/** `discordWebhookURL` -> discord, webhook, url; `api_key` -> api, key. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_.\-:/[\]]+/)
    .map((w) => w.toLowerCase())
    .filter((w) => w !== "");
}

/**
 * Whether a key name looks like it holds a secret: a secret word anywhere (webhook, password,
 * token, secret, credential), or `key` at the end of a longer name (apiKey, access_key, privateKey).
 * A bare `key` (a node taint's) is a name, not a secret.
 */
export function looksSecret(key: string): boolean {
  const w = words(key);
  return w.some((x) => SECRET_WORDS.has(x)) || (w.length > 1 && w[w.length - 1] === "key");
}

/**
 * A key no schema knows may be a misspelt secret one (`masterPasword`, `discordWebhok`): it counts
 * as secret when it looks secret, or when one of its words is a typo (edit distance 2 or less) of
 * a secret word of five letters or more. Only unknown keys are judged this loosely: hiding a
 * harmless value costs nothing, echoing a secret cannot be undone.
 */
export function mayBeSecret(key: string): boolean {
  return looksSecret(key) || words(key).some((w) => w.length >= 4 && [...SECRET_WORDS].some((s) => s.length >= 5 && editDistance(w, s) <= 2));
}

const SECRET_STRINGS = [/https?:\/\/(?:[a-z0-9-]+\.)?discord(?:app)?\.com\/api\/webhooks\//i, /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, /^v1:[A-Za-z0-9+/=]{16,}:/];

/** A copy of `value` with every secret-looking part replaced by REDACTED. */
export function redactValue(value: ConfigValue | undefined): ConfigValue | undefined {
  if (value === undefined || value === null || typeof value === "number" || typeof value === "boolean") {
    return value;
  }
  if (typeof value === "string") {
    return SECRET_STRINGS.some((re) => re.test(value)) ? REDACTED : value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => redactValue(v) ?? null);
  }
  if ("secure" in value) {
    return REDACTED;
  }
  const out: { [key: string]: ConfigValue } = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = looksSecret(k) ? REDACTED : (redactValue(v) ?? null);
  }
  return out;
}

/** The value to print for the config key at `path`: redacted when any segment looks secret or is marked secret. */
export function printableValue(path: ReadonlyArray<PropertyKey>, value: ConfigValue | undefined, secretKeys: ReadonlySet<string>): ConfigValue | undefined {
  const top = path[0];
  if (typeof top === "string" && secretKeys.has(top)) {
    return value === undefined ? undefined : REDACTED;
  }
  if (path.some((seg) => typeof seg === "string" && looksSecret(seg))) {
    return value === undefined ? undefined : REDACTED;
  }
  return redactValue(value);
}

/** The strings of `raw` that printing would hide (compared with their printed form), longest first. */
function hiddenStrings(raw: ConfigValue | undefined, printed: ConfigValue | undefined): string[] {
  const out: string[] = [];
  const walk = (r: ConfigValue | undefined, p: ConfigValue | undefined): void => {
    if (typeof r === "string") {
      if (p === REDACTED && r.length >= 4) {
        out.push(r);
      }
    } else if (Array.isArray(r)) {
      r.forEach((x, i) => walk(x, Array.isArray(p) ? p[i] : p));
    } else if (r !== null && typeof r === "object") {
      for (const [k, v] of Object.entries(r)) {
        walk(v, p !== null && typeof p === "object" && !Array.isArray(p) ? p[k] : p);
      }
    }
  };
  walk(raw, printed);
  return out.sort((a, b) => b.length - a.length);
}

/**
 * A message about `raw` with whatever printing hid from it hidden here too (checks quote the value
 * they refuse), and webhook URLs and URL credentials scrubbed wherever they come from.
 */
export function scrubText(text: string, raw?: ConfigValue, printed?: ConfigValue): string {
  let out = text;
  for (const s of hiddenStrings(raw, printed)) {
    out = out.split(s).join(REDACTED);
  }
  for (const re of SECRET_STRINGS.slice(0, 2)) {
    out = out.replace(new RegExp(`${re.source}\\S*`, "gi"), REDACTED);
  }
  return out;
}
