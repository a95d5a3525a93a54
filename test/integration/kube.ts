// A minimal client for the local API server: JSON over HTTPS with the admin client certificate.
// Tests assert against what the API server holds, not what Pulumi believes it created.

import * as fs from "fs";
import * as https from "https";

export interface KubeCredentials {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

/** A Kubernetes object as JSON; tests read the fields they assert on. */
export type KubeObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; uid?: string; resourceVersion?: string };
};

export interface KubeList<T = KubeObject> {
  readonly items: T[];
}

export class Kube {
  private readonly agent: https.Agent;

  constructor(private readonly creds: KubeCredentials) {
    this.agent = new https.Agent({
      ca: fs.readFileSync(creds.caFile),
      cert: fs.readFileSync(creds.certFile),
      key: fs.readFileSync(creds.keyFile),
      keepAlive: false,
    });
  }

  /** Raw request; resolves with status and body for any HTTP status. */
  request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.creds.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            Accept: "application/json",
            ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (data += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.href}: timed out`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, method, path, res.body);
    return JSON.parse(res.body) as T;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }

  /** The object, or undefined when the API server answers 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    const res = await this.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, "GET", path, res.body);
    return JSON.parse(res.body) as T;
  }

  list<T = KubeObject>(path: string): Promise<KubeList<T>> {
    return this.json<KubeList<T>>("GET", path);
  }

  create<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.json<T>("POST", path, body);
  }

  /** JSON merge patch (RFC 7386). */
  mergePatch<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.json<T>("PATCH", path, body, "application/merge-patch+json");
  }

  /**
   * Server-side apply as `fieldManager` (JSON is YAML, so the apply body is the object as JSON).
   * `force` takes over fields other managers own, as controllers do.
   */
  apply<T = KubeObject>(path: string, body: unknown, fieldManager: string, force = false): Promise<T> {
    const query = `fieldManager=${encodeURIComponent(fieldManager)}${force ? "&force=true" : ""}`;
    return this.json<T>("PATCH", `${path}${path.includes("?") ? "&" : "?"}${query}`, body, "application/apply-patch+yaml");
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` with
 * the last reason the probe gave (a string it returned through `why`, or the last error).
 */
export async function waitFor<T>(
  what: string,
  probe: (why: (reason: string) => void) => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let reason = "no answer yet";
  for (;;) {
    try {
      const v = await probe((r) => (reason = r));
      if (v !== undefined) return v;
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}: ${reason}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
