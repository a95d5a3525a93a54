/**
 * Deployment notifications to a Discord webhook: one embed per promotion, release, flip or
 * rollback, whatever the outcome, with secrets scrubbed from every text that leaves the machine.
 */
import { formatDuration } from "../format";
import { shortImage } from "../images";
import { Clock, DeploymentReport, DeploymentResult, Notifier, NotifyOutcome } from "../ports";
import { httpRequest } from "./http";

export const nullNotifier: Notifier = {
  notify: () => Promise.resolve({ delivered: false, detail: "no webhook configured (DISCORD_WEBHOOK_URL unset); skipped" }),
};

const WEBHOOK_URL = /https?:\/\/(?:[a-z0-9-]+\.)?discord(?:app)?\.com\/api\/webhooks\/\S+/gi;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;

/**
 * Removes secrets from text bound for a chat channel: the given values (webhook URL,
 * passphrase, tokens from the environment), any Discord webhook URL, and credentials in URLs.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) {
      out = out.split(s).join("***");
    }
  }
  return out.replace(WEBHOOK_URL, "***").replace(URL_CREDENTIALS, "$1***@");
}

/** Environment variables whose values must never leave the machine. */
export const SECRET_ENV_VARS = [
  "DISCORD_WEBHOOK_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_ACCESS_TOKEN",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "GITHUB_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return SECRET_ENV_VARS.map((k) => env[k]).filter((v): v is string => v !== undefined && v !== "");
}

const COLORS: Record<DeploymentResult, number> = {
  succeeded: 0x2ecc71,
  "no-op": 0x95a5a6,
  "rolled back": 0xe67e22,
  refused: 0xf1c40f,
  "policy violation": 0xf1c40f,
  failed: 0xe74c3c,
  "manual intervention": 0xe74c3c,
  locked: 0xf1c40f,
  interrupted: 0x95a5a6,
};

const ICONS: Record<DeploymentResult, string> = {
  succeeded: "✅",
  "no-op": "➖",
  "rolled back": "↩️",
  refused: "⛔",
  "policy violation": "⛔",
  failed: "❌",
  "manual intervention": "🚨",
  locked: "🔒",
  interrupted: "⏹️",
};

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface DiscordEmbed {
  readonly title: string;
  readonly description?: string;
  readonly url?: string;
  readonly color: number;
  readonly timestamp: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string; readonly inline?: boolean }>;
}

/** The embed for one report, within Discord's limits (title 256, description 4096, 25 fields of 1024). */
export function discordEmbed(r: DeploymentReport, secrets: readonly string[]): DiscordEmbed {
  const what = r.kind === "promote" && r.source !== undefined ? `promote ${r.source} → ${r.stack}` : `${r.kind} ${r.stack}`;
  const fields: Array<{ name: string; value: string; inline?: boolean }> = [
    { name: "Stack", value: r.stack, inline: true },
    { name: "Result", value: `${r.result} (exit ${r.exitCode})`, inline: true },
    { name: "Duration", value: formatDuration(r.durationMs), inline: true },
  ];
  for (const s of r.services.slice(0, 18)) {
    const colors = s.fromColor !== undefined && s.toColor !== undefined && s.fromColor !== s.toColor ? `${s.fromColor} → ${s.toColor}\n` : "";
    const images = s.oldImage !== undefined || s.newImage !== undefined ? `\`${shortImage(s.oldImage)}\` → \`${shortImage(s.newImage)}\`` : "";
    fields.push({ name: clip(s.service, 256), value: clip(redact(`${colors}${images}` || "—", secrets), 1024) });
  }
  if (r.phases.length > 0) {
    const phases = r.phases.map((p) => `${p.ok ? "✔" : "✘"} ${p.name} ${formatDuration(p.durationMs)}`).join("\n");
    fields.push({ name: "Phases", value: clip(phases, 1024) });
  }
  if (r.actor !== undefined) {
    fields.push({ name: "By", value: clip(redact(r.actor, secrets), 256), inline: true });
  }
  return {
    title: clip(`${ICONS[r.result]} ${what}: ${r.result}`, 256),
    description: r.error === undefined ? undefined : clip(redact(r.error, secrets), 2000),
    url: r.runUrl,
    color: COLORS[r.result],
    timestamp: new Date(r.startedAt + r.durationMs).toISOString(),
    fields,
  };
}

export class DiscordNotifier implements Notifier {
  constructor(
    private readonly webhookUrl: string,
    private readonly clock: Clock,
    /** Values to scrub from every message (see `secretValues`). */
    private readonly secrets: readonly string[] = [],
    private readonly timeoutMs = 10_000,
  ) {}

  async notify(report: DeploymentReport): Promise<NotifyOutcome> {
    const body = JSON.stringify({
      username: "platform",
      // Error text can contain "@everyone"; never let a deployment message ping anyone.
      allowed_mentions: { parse: [] },
      embeds: [discordEmbed(report, [...this.secrets, this.webhookUrl])],
    });
    let last = "not sent";
    // One retry: Discord rate-limits with 429 + retry_after, and 5xx is usually transient.
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const res = await httpRequest({
          url: this.webhookUrl,
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          timeoutMs: this.timeoutMs,
        });
        if (res.status >= 200 && res.status < 300) {
          return { delivered: true, detail: `delivered (HTTP ${res.status})` };
        }
        last = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) {
          break;
        }
        await this.clock.sleep(Math.min(5_000, retryAfterMs(res.headers["retry-after"], res.body)));
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
    }
    return { delivered: false, detail: `notification failed: ${redact(last, [...this.secrets, this.webhookUrl])}` };
  }
}

function retryAfterMs(header: string | string[] | undefined, body: string): number {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === "object" && "retry_after" in parsed && typeof parsed.retry_after === "number") {
      return Math.ceil(parsed.retry_after * 1000);
    }
  } catch {
    // not JSON: fall back to the header
  }
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1_000;
}
