/**
 * A tiny Kubernetes API client for the load-balancer double: a kubeconfig's server, CA and
 * client credentials (certificate/key or bearer token), JSON GET/PATCH, and list+watch
 * informers that behave like client-go's reflector where it matters to the double:
 *
 * - list, then watch from the list's `resourceVersion` (`?watch=1&allowWatchBookmarks=true`),
 *   the stream being newline-delimited `{"type","object"}` WatchEvents;
 * - a watch that ends (the API server closes every watch after `timeoutSeconds`) is resumed
 *   from the last resourceVersion seen, without a relist;
 * - `410 Gone` (as an HTTP status, or as an ERROR event carrying a Status with code 410, which is
 *   how the API server reports a compacted resourceVersion on an open stream) relists, and the
 *   relist is turned into the ADDED/MODIFIED/DELETED events the cache missed;
 * - BOOKMARK events only move the resourceVersion.
 *
 * No dependency beyond Node and `yaml` (already a dependency).
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import * as YAML from "yaml";

export interface KubeConnection {
  /** `https://127.0.0.1:6443` (or `http://` for an insecure port). */
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly insecureSkipTlsVerify?: boolean;
}

interface KubeconfigFile {
  readonly clusters?: ReadonlyArray<{ name: string; cluster: Record<string, unknown> }>;
  readonly users?: ReadonlyArray<{ name: string; user: Record<string, unknown> }>;
  readonly contexts?: ReadonlyArray<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  readonly "current-context"?: string;
}

/** Reads a kubeconfig (inline `*-data` or file paths, relative to the kubeconfig's directory). */
export function connectionFromKubeconfig(file: string, contextName?: string): KubeConnection {
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as KubeconfigFile | null;
  const name = contextName ?? doc?.["current-context"];
  const context = doc?.contexts?.find((c) => c.name === name)?.context;
  if (context === undefined) {
    throw new Error(`kubeconfig ${file}: context "${name ?? ""}" not found (contexts: ${(doc?.contexts ?? []).map((c) => c.name).join(", ") || "none"})`);
  }
  const cluster = doc?.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (cluster === undefined || typeof cluster["server"] !== "string") {
    throw new Error(`kubeconfig ${file}: cluster "${context.cluster}" not found or has no server`);
  }
  const user = doc?.users?.find((u) => u.name === context.user)?.user ?? {};
  const dir = path.dirname(file);
  const material = (entry: Record<string, unknown>, dataKey: string, fileKey: string): Buffer | undefined => {
    const data = entry[dataKey];
    if (typeof data === "string") {
      return Buffer.from(data, "base64");
    }
    const f = entry[fileKey];
    return typeof f === "string" ? fs.readFileSync(path.resolve(dir, f)) : undefined;
  };
  const tokenFile = user["tokenFile"];
  return {
    server: cluster["server"],
    ca: material(cluster, "certificate-authority-data", "certificate-authority"),
    cert: material(user, "client-certificate-data", "client-certificate"),
    key: material(user, "client-key-data", "client-key"),
    token: typeof user["token"] === "string" ? user["token"] : typeof tokenFile === "string" ? fs.readFileSync(path.resolve(dir, tokenFile), "utf8").trim() : undefined,
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
  };
}

/** A `Status` the API server answered with (or a transport failure, status 0). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

export interface KubeMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface KubeObject {
  readonly metadata: KubeMeta;
}

export interface WatchEvent<T> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: T;
}

interface StatusObject {
  readonly kind?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

function statusError(status: number, body: string, what: string): KubeApiError {
  let parsed: StatusObject = {};
  try {
    parsed = JSON.parse(body) as StatusObject;
  } catch {
    // not a Status (e.g. a proxy's text); the raw body goes into the message
  }
  return new KubeApiError(status, parsed.reason ?? "", `${what}: HTTP ${status}${parsed.message !== undefined ? `: ${parsed.message}` : body !== "" ? `: ${body.slice(0, 300)}` : ""}`);
}

export class KubeClient {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(readonly connection: KubeConnection) {
    this.url = new URL(connection.server);
    this.agent =
      this.url.protocol === "https:"
        ? new https.Agent({
            ca: connection.ca,
            cert: connection.cert,
            key: connection.key,
            rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
            keepAlive: true,
          })
        : new http.Agent({ keepAlive: true });
  }

  static fromKubeconfig(file: string, contextName?: string): KubeClient {
    return new KubeClient(connectionFromKubeconfig(file, contextName));
  }

  /** Closes idle keep-alive sockets; open watches are closed by their informers. */
  close(): void {
    this.agent.destroy();
  }

  private open(method: string, apiPath: string, headers: Record<string, string>, signal?: AbortSignal): http.ClientRequest {
    const options: https.RequestOptions = {
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port,
      path: `${this.url.pathname.replace(/\/$/, "")}${apiPath}`,
      method,
      agent: this.agent,
      headers: {
        accept: "application/json",
        ...(this.connection.token !== undefined ? { authorization: `Bearer ${this.connection.token}` } : {}),
        ...headers,
      },
      signal,
    };
    return this.url.protocol === "https:" ? https.request(options) : http.request(options);
  }

  /** One request, the whole body read. Rejects only on transport errors. */
  request(method: string, apiPath: string, options: { body?: string; contentType?: string; signal?: AbortSignal } = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = options.body !== undefined ? { "content-type": options.contentType ?? "application/json" } : {};
      const req = this.open(method, apiPath, headers, options.signal);
      req.on("error", (err) => reject(new KubeApiError(0, "", `${method} ${apiPath}: ${err.message}`)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => reject(new KubeApiError(0, "", `${method} ${apiPath}: ${err.message}`)));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      });
      req.end(options.body);
    });
  }

  async getJson<T>(apiPath: string, signal?: AbortSignal): Promise<T> {
    const res = await this.request("GET", apiPath, { signal });
    if (res.status !== 200) {
      throw statusError(res.status, res.body, `GET ${apiPath}`);
    }
    return JSON.parse(res.body) as T;
  }

  async list<T>(apiPath: string, signal?: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const res = await this.getJson<{ metadata?: { resourceVersion?: string }; items?: T[] }>(apiPath, signal);
    return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? "" };
  }

  /** JSON merge patch (RFC 7386), e.g. of a `/status` subresource. */
  async mergePatch<T>(apiPath: string, patch: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.request("PATCH", apiPath, { body: JSON.stringify(patch), contentType: "application/merge-patch+json", signal });
    if (res.status !== 200) {
      throw statusError(res.status, res.body, `PATCH ${apiPath}`);
    }
    return JSON.parse(res.body) as T;
  }

  /**
   * One watch stream from `resourceVersion`. Resolves "closed" when the server ends it and
   * "gone" on 410; rejects on other errors. `onEvent` sees every event, BOOKMARKs included.
   */
  watch<T>(apiPath: string, resourceVersion: string, timeoutSeconds: number, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<"closed" | "gone"> {
    const sep = apiPath.includes("?") ? "&" : "?";
    const url = `${apiPath}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (!settled) {
          settled = true;
          fn();
        }
      };
      const req = this.open("GET", url, {}, signal);
      req.on("error", (err) => finish(() => reject(signal.aborted ? signal.reason : new KubeApiError(0, "", `watch ${apiPath}: ${err.message}`))));
      req.on("response", (res) => {
        if (res.statusCode === 410) {
          res.resume();
          finish(() => resolve("gone"));
          return;
        }
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => finish(() => reject(statusError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), `watch ${apiPath}`))));
          return;
        }
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          let nl = buffered.indexOf("\n");
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            nl = buffered.indexOf("\n");
            if (line === "" || settled) {
              continue;
            }
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch {
              req.destroy();
              finish(() => reject(new KubeApiError(0, "", `watch ${apiPath}: unparseable event ${line.slice(0, 200)}`)));
              return;
            }
            if (event.type === "ERROR") {
              const status = event.object as unknown as StatusObject;
              req.destroy();
              if (status.code === 410) {
                finish(() => resolve("gone"));
              } else {
                finish(() => reject(new KubeApiError(status.code ?? 0, status.reason ?? "", `watch ${apiPath}: ${status.message ?? "ERROR event"}`)));
              }
              return;
            }
            onEvent(event);
          }
        });
        res.on("end", () => finish(() => resolve("closed")));
        res.on("error", (err) => finish(() => reject(signal.aborted ? signal.reason : new KubeApiError(0, "", `watch ${apiPath}: ${err.message}`))));
        res.on("close", () => finish(() => (signal.aborted ? reject(signal.reason) : resolve("closed"))));
      });
      req.end();
    });
  }
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface InformerOptions<T> {
  /** Called for every change to the cache, after the cache reflects it. */
  readonly onChange: (type: ChangeType, object: T, previous: T | undefined) => void;
  /** Called when a list or watch fails (the informer retries). Default: ignore. */
  readonly onError?: (err: Error) => void;
  /** Server-side watch timeout; client-go picks 5-10 minutes. Default 300. */
  readonly watchTimeoutSeconds?: number;
  /** Pause before retrying after an error. Default 200 ms. */
  readonly retryMs?: number;
}

export function objectKey(meta: KubeMeta): string {
  return meta.namespace !== undefined && meta.namespace !== "" ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** A list+watch cache of one collection (e.g. `/apis/networking.k8s.io/v1/ingresses`). */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly abort = new AbortController();
  private resourceVersion = "";
  private running?: Promise<void>;
  /** How many times the collection was listed (1 + one per 410 or failed watch that needed it). */
  lists = 0;
  /** How many watch streams were opened. */
  watches = 0;
  lastError?: Error;

  constructor(
    private readonly client: KubeClient,
    readonly collectionPath: string,
    private readonly options: InformerOptions<T>,
  ) {}

  /** Lists (rejecting if that first list fails), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.relist();
    this.running = this.loop();
  }

  items(): T[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(objectKey({ namespace, name }));
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error("informer stopped"));
    await this.running;
  }

  private async relist(): Promise<void> {
    this.lists++;
    const { items, resourceVersion } = await this.client.list<T>(this.collectionPath, this.abort.signal);
    const seen = new Set<string>();
    for (const item of items) {
      const k = objectKey(item.metadata);
      seen.add(k);
      const previous = this.cache.get(k);
      this.cache.set(k, item);
      if (previous === undefined) {
        this.options.onChange("ADDED", item, undefined);
      } else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.options.onChange("MODIFIED", item, previous);
      }
    }
    for (const [k, previous] of [...this.cache.entries()]) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.options.onChange("DELETED", previous, previous);
      }
    }
    this.resourceVersion = resourceVersion;
  }

  private apply(event: WatchEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (rv !== undefined) {
      this.resourceVersion = rv;
    }
    if (event.type === "BOOKMARK") {
      return;
    }
    const k = objectKey(event.object.metadata);
    const previous = this.cache.get(k);
    if (event.type === "DELETED") {
      this.cache.delete(k);
      this.options.onChange("DELETED", event.object, previous);
    } else {
      this.cache.set(k, event.object);
      this.options.onChange(previous === undefined ? "ADDED" : "MODIFIED", event.object, previous);
    }
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    let needList = false;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        this.watches++;
        const outcome = await this.client.watch<T>(this.collectionPath, this.resourceVersion, this.options.watchTimeoutSeconds ?? 300, (e) => this.apply(e), signal);
        needList = outcome === "gone";
      } catch (err) {
        if (signal.aborted) {
          return;
        }
        this.lastError = err instanceof Error ? err : new Error(String(err));
        this.options.onError?.(this.lastError);
        // A failed list must be retried as a list; a failed watch resumes from the last version
        // (a version too old by then answers 410 and relists).
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.options.retryMs ?? 200);
          signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  }
}
