/**
 * One HTTP(S) request with node's own client. No keep-alive (`agent: false`): a health probe
 * should open a fresh connection like a new user would, and a pooled socket must not keep
 * the CLI (or mocha) alive after the last probe.
 */
import * as http from "http";
import * as https from "https";

export interface HttpRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Whole-request deadline (connect + response + body). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Bodies beyond this are truncated; health endpoints and webhooks answer small. */
  readonly maxBodyBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly elapsedMs: number;
}

export class HttpTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = "HttpTimeoutError";
  }
}

export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const started = performance.now();
  const url = new URL(req.url);
  const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (client === undefined) {
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol} in ${url.origin}`));
  }
  const limit = req.maxBodyBytes ?? 64 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener("abort", onAbort);
        fn();
      }
    };
    const headers: Record<string, string> = { "user-agent": "platform-automation", ...req.headers };
    if (req.body !== undefined) {
      headers["content-length"] = String(Buffer.byteLength(req.body));
    }
    const request = client.request(url, { method: req.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < limit) {
          chunks.push(chunk);
        }
        size += chunk.length;
      });
      res.on("end", () =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).subarray(0, limit).toString("utf8"),
            elapsedMs: performance.now() - started,
          }),
        ),
      );
      res.on("error", (err) => finish(() => reject(err)));
    });
    const timer = setTimeout(() => {
      finish(() => reject(new HttpTimeoutError(req.timeoutMs)));
      request.destroy();
    }, req.timeoutMs);
    const onAbort = (): void => {
      finish(() => reject(req.signal?.reason));
      request.destroy();
    };
    if (req.signal?.aborted === true) {
      onAbort();
      return;
    }
    req.signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", (err) => finish(() => reject(err)));
    request.end(req.body);
  });
}
