/**
 * The double's targets: one small HTTP server on 127.0.0.1 per ready pod behind a target group,
 * standing in for the container (kwok pods run nothing). Each answers every path, its health
 * path included, with the pod's identity - color and image in the response headers the driver's
 * color-aware live gate reads, and in a JSON body - and behaves as the test asks: healthy, an
 * error status, slow, or a reset connection.
 */
import type { IdentityHeaders } from "../../../infra/lib/identityHeaders";
import { listenOnLoopback } from "../../support/loopbackServer";

export interface TargetIdentity {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  /** The Service this target answers for (`<svc>-<color>`). */
  readonly service: string;
  /** The pod's color label, when it has one. */
  readonly color: string | undefined;
  /** The image of the pod's serving container. */
  readonly image: string;
}

/** How a target answers. Default: 200 at once. */
export interface Behaviour {
  /** Status of every answer (e.g. 503 for a broken color). Default 200. */
  readonly status?: number;
  /** Delay before answering (a slow or warming color). Default 0. */
  readonly delayMs?: number;
  /** Destroy the connection instead of answering (the ALB then answers 502). */
  readonly reset?: boolean;
}

export interface Backend {
  readonly identity: TargetIdentity;
  readonly port: number;
  /** Requests this target received. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startBackend(identity: TargetIdentity, headers: IdentityHeaders, behaviour: (id: TargetIdentity) => Behaviour): Promise<Backend> {
  let requests = 0;
  const server = await listenOnLoopback((req, res, answer) => {
    req.resume();
    requests++;
    const b = behaviour(identity);
    if (b.reset === true) {
      req.socket.destroy();
      return;
    }
    const status = b.status ?? 200;
    answer(b.delayMs, () => {
      if (res.destroyed) {
        return;
      }
      res.writeHead(status, {
        "content-type": "application/json",
        [headers.color]: identity.color ?? "",
        [headers.image]: identity.image,
      });
      res.end(
        JSON.stringify({
          status: status >= 200 && status < 400 ? "UP" : "DOWN",
          service: identity.service,
          namespace: identity.namespace,
          pod: identity.pod,
          color: identity.color ?? null,
          image: identity.image,
          path: req.url ?? "/",
        }),
      );
    });
  });
  return {
    identity,
    port: server.port,
    get requests() {
      return requests;
    },
    close: server.close,
  };
}

/**
 * ELBv2 health-check matchers: comma-separated codes and ranges (`200`, `200,302`, `200-399`).
 * Health checks here are probed when asked (DescribeTargetHealth), not on the ALB's interval.
 */
export function matcherAccepts(matcher: string, status: number): boolean {
  return matcher.split(",").some((part) => {
    const [lo, hi] = part.trim().split("-").map(Number);
    return hi === undefined ? status === lo : status >= lo && status <= hi;
  });
}
