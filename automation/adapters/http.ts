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
  /** Where to connect instead of the URL's own origin (see `ConnectTo`). Default: the URL's origin. */
  readonly connectTo?: ConnectTo;
}

/**
 * Connect elsewhere than the URL says, keeping the URL's host in the Host header: like curl's
 * `--connect-to`, plus the scheme, because a stand-in load balancer on loopback answers plain
 * HTTP where the real one terminates TLS. Keyed by the URL's origin (`https://live.example.com`),
 * valued by the origin to connect to (`http://127.0.0.1:8080`). Used by the integration tier;
 * production passes none.
 */
export type ConnectTo = ReadonlyMap<string, string>;

/** The URL to open and the Host header to send for `url` under `connectTo`. Pure. */
export function resolveConnectTo(url: URL, connectTo: ConnectTo | undefined): { readonly target: URL; readonly host?: string } {
  const to = connectTo?.get(url.origin);
  if (to === undefined) {
    return { target: url };
  }
  const origin = new URL(to);
  if (origin.pathname !== "/" || origin.search !== "" || (origin.protocol !== "http:" && origin.protocol !== "https:")) {
    throw new Error(`connect-to for ${url.origin} must be a bare http(s) origin, got ${to}`);
  }
  return { target: new URL(`${url.pathname}${url.search}`, origin), host: url.host };
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
  let url: URL;
  let hostHeader: string | undefined;
  try {
    ({ target: url, host: hostHeader } = resolveConnectTo(new URL(req.url), req.connectTo));
  } catch (err) {
    return Promise.reject(err);
  }
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
    const headers: Record<string, string> = { "user-agent": "platform-automation", ...req.headers, ...(hostHeader !== undefined ? { host: hostHeader } : {}) };
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
