/**
 * Progress output. In a terminal: one live line (resources done/total, what is in flight)
 * redrawn in place. In CI or when piped: plain timestamped lines, because a log viewer shows
 * carriage-return redraws as thousands of lines.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { plainText, urnName } from "../changes";
import { Clock, Logger } from "../ports";

export interface ProgressOptions {
  readonly write: (text: string) => void;
  /** Live line only in an interactive terminal outside CI. */
  readonly live: boolean;
  readonly clock: Clock;
  /** Columns of the terminal, to keep the live line on one row. */
  readonly columns?: number;
}

export function isLiveTerminal(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env["CI"] === undefined && env["TERM"] !== "dumb";
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function createLogger(opts: ProgressOptions): Logger {
  const screen = new Screen(opts);
  return {
    info: (message) => screen.line(message),
    warn: (message) => screen.line(`warning: ${message}`),
    operation: (label, expectedSteps) => operationProgress(screen, opts, label, expectedSteps),
  };
}

/** Plain lines, plus (in a terminal) the one live line kept below them. */
class Screen {
  private liveLine = "";

  constructor(private readonly opts: ProgressOptions) {}

  line(text: string): void {
    this.clearLive();
    this.opts.write(this.opts.live ? `${text}\n` : `${this.stamp()} ${text}\n`);
    this.redraw();
  }

  setLive(text: string): void {
    this.liveLine = text.slice(0, Math.max(20, (this.opts.columns ?? 120) - 1));
    this.redraw();
  }

  endLive(): void {
    this.clearLive();
    this.liveLine = "";
  }

  private stamp(): string {
    return new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  private clearLive(): void {
    if (this.opts.live && this.liveLine !== "") {
      this.opts.write("\r\x1b[K");
    }
  }

  private redraw(): void {
    if (this.opts.live && this.liveLine !== "") {
      this.opts.write(`\r\x1b[K${this.liveLine}`);
    }
  }
}

function operationProgress(screen: Screen, opts: ProgressOptions, label: string, expectedSteps: number | undefined): ReturnType<Logger["operation"]> {
  const inFlight = new Map<string, string>();
  let done = 0;
  let failed = 0;
  let frame = 0;
  const total = (): string => (expectedSteps !== undefined && expectedSteps >= done ? `${done}/${expectedSteps}` : `${done}`);
  const update = (): void => {
    if (!opts.live) {
      return;
    }
    const current = [...inFlight.values()].slice(0, 3).join(", ");
    const more = inFlight.size > 3 ? ` +${inFlight.size - 3}` : "";
    screen.setLive(`${SPINNER[frame++ % SPINNER.length] ?? "*"} ${label}: ${total()} done${failed > 0 ? `, ${failed} failed` : ""}${current !== "" ? ` · ${current}${more}` : ""}`);
  };
  screen.line(`${label}: started`);
  return {
    onEvent(e: EngineEvent): void {
      const pre = e.resourcePreEvent;
      if (pre !== undefined && pre.metadata.op !== "same") {
        const what = `${pre.metadata.op} ${urnName(pre.metadata.urn)}`;
        inFlight.set(pre.metadata.urn, what);
        if (!opts.live) {
          screen.line(`${label}: ${what} (${pre.metadata.type})`);
        }
      }
      const out = e.resOutputsEvent;
      if (out !== undefined && out.metadata.op !== "same") {
        inFlight.delete(out.metadata.urn);
        done++;
        if (!opts.live) {
          screen.line(`${label}: ${out.metadata.op} ${urnName(out.metadata.urn)} done (${total()})`);
        }
      }
      const fail = e.resOpFailedEvent;
      if (fail !== undefined) {
        inFlight.delete(fail.metadata.urn);
        failed++;
        screen.line(`${label}: ${fail.metadata.op} ${urnName(fail.metadata.urn)} FAILED`);
      }
      const diag = e.diagnosticEvent;
      if (diag !== undefined && (diag.severity === "error" || diag.severity === "warning") && diag.ephemeral !== true) {
        screen.line(`${label}: ${diag.severity}: ${plainText(diag.message)}`);
      }
      const policy = e.policyEvent;
      if (policy !== undefined) {
        screen.line(`${label}: policy ${policy.enforcementLevel === "mandatory" ? "VIOLATION" : "advisory"} ${policy.policyPackName}/${policy.policyName}: ${plainText(policy.message)}`);
      }
      update();
    },
    end(): void {
      screen.endLive();
      screen.line(`${label}: finished (${done} change(s)${failed > 0 ? `, ${failed} failed` : ""})`);
    },
  };
}
