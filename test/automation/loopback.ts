/**
 * Real HTTP servers on 127.0.0.1 (random port) for the health gates, the webhook and the
 * registry: the code under test makes real requests, only the far end is local.
 */
import * as http from "http";
import { DEFAULT_IDENTITY_HEADERS } from "../../infra/lib/identityHeaders";
import { Clock } from "../../automation/ports";
import { listenOnLoopback } from "../support/loopbackServer";
import { FakeLoadBalancer } from "./fakeRouting";
import { MemoryStack } from "./memoryStack";

export interface Reply {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Delay before answering (to exceed a latency bound). */
  readonly delayMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Loopback {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startServer(handle: (req: RecordedRequest) => Reply): Promise<Loopback> {
  const requests: RecordedRequest[] = [];
  const server = await listenOnLoopback((req, res, answer) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(recorded);
      const reply = handle(recorded);
      answer(reply.delayMs, () => {
        if (!res.destroyed) {
          res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
          res.end(reply.body ?? "");
        }
      });
    });
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, close: server.close };
}

/**
 * The services' health endpoints: `/<stack>/<live|preview>/<service>/<healthPath>` answers
 * for the image the memory stack has deployed behind that host (live = the color the load
 * balancer's live rule forwards to, which lags the Ingress; preview = the idle color), naming
 * the color and image in the identity headers as the services do. Images in `unhealthy` answer
 * 503, in `slow` answer late; services in `anonymous` send no identity headers.
 */
export class HealthWorld {
  readonly stacks = new Map<string, MemoryStack>();
  readonly unhealthy = new Set<string>();
  readonly slow = new Set<string>();
  /** Images that pass through the preview host but fail through the live one (e.g. a live-only dependency). */
  readonly unhealthyLive = new Set<string>();
  /** Everything behind the live host fails (e.g. the ALB listener is broken). */
  liveDown = false;
  /** Services (by name) that send no identity headers. */
  readonly anonymous = new Set<string>();
  /** The load balancer whose live rules decide which color the live host reaches. */
  routing?: FakeLoadBalancer;
  /** Over TEST_GATE.latencyMs, so every probe of a slow image fails on latency. */
  slowMs = 1_500;
  private server?: Loopback;

  get url(): string {
    if (this.server === undefined) {
      throw new Error("HealthWorld not started");
    }
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server?.requests ?? [];
  }

  async start(): Promise<void> {
    this.server = await startServer((req) => this.answer(req.path));
  }

  add(stack: MemoryStack): MemoryStack {
    this.stacks.set(stack.name, stack);
    return stack;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  /** The image that answers on `host` for `service` of `stack` right now (undefined when parked: no pods). */
  imageBehind(stack: string, host: string, service: string): string | undefined {
    const behind = this.colorBehind(stack, host, service);
    return behind === undefined || behind.parked ? undefined : behind.image;
  }

  private colorBehind(stack: string, host: string, service: string): { readonly color: "blue" | "green"; readonly image: string | undefined; readonly parked: boolean } | undefined {
    const s = this.stacks.get(stack);
    const svc = s?.deployed().find((x) => x.name === service);
    if (s === undefined || svc === undefined) {
      return undefined;
    }
    // The preview host's rule points at a color's Service directly; the live rule is the ALB's weighted forward.
    const live = (s.blueGreen ? this.routing?.routedColor(stack, service) : undefined) ?? svc.active;
    const color = !s.blueGreen ? svc.active : host === "live" ? live : svc.active === "blue" ? "green" : "blue";
    return { color, image: svc[color], parked: svc.parked.includes(color) };
  }

  private answer(path: string): Reply {
    const [, stack = "", host = "", service = ""] = path.split("/");
    const behind = this.colorBehind(stack, host, service);
    if (behind?.parked === true) {
      // What an ALB answers for a target group with no registered targets.
      return { status: 503, body: "503 Service Temporarily Unavailable" };
    }
    const image = this.imageBehind(stack, host, service);
    if (image === undefined) {
      return { status: 404, body: '{"status":"NOT_FOUND"}' };
    }
    if (this.unhealthy.has(image) || (host === "live" && (this.liveDown || this.unhealthyLive.has(image)))) {
      return { status: 503, body: '{"status":"DOWN"}' };
    }
    const headers: Record<string, string> = this.anonymous.has(service) || behind === undefined ? {} : { [DEFAULT_IDENTITY_HEADERS.color]: behind.color, [DEFAULT_IDENTITY_HEADERS.image]: image };
    return { status: 200, body: '{"status":"UP"}', headers, delayMs: this.slow.has(image) ? this.slowMs : undefined };
  }
}

/**
 * Virtual time: sleeps return at once (recorded), `now` advances by them. With `frozenAt`, time
 * moves only by sleeps, so a test can assert the exact time a command recorded.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private offset = 0;

  constructor(private readonly frozenAt?: number) {}

  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) {
      return Promise.reject(signal.reason);
    }
    this.sleeps.push(ms);
    this.offset += ms;
    return Promise.resolve();
  }
}

/** Deterministic 64-hex digests for test images. */
export function digest(seed: string): string {
  let hex = "";
  for (let i = 0; hex.length < 64; i++) {
    hex += ((seed.charCodeAt(i % seed.length) * 31 + i * 7) % 256).toString(16).padStart(2, "0");
  }
  return `sha256:${hex.slice(0, 64)}`;
}

// A realistic account id: the documentation example (123456789012) is a placeholder the CLI refuses.
export const REGISTRY = "381492115072.dkr.ecr.ap-northeast-2.amazonaws.com";

export function image(service: string, version: string): string {
  return `${REGISTRY}/${service}@${digest(`${service}:${version}`)}`;
}
