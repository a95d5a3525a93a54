/**
 * A tiny loopback stand-in for the Kubernetes API server's list/watch/status surface, for the
 * unit tier (the integration tier runs the real kube-apiserver). It speaks what the real one
 * does on the paths the load-balancer double uses:
 *
 * - HTTPS that requires a client certificate signed by the cluster CA (certificates generated
 *   with `openssl` into a temp dir), and a kubeconfig carrying them;
 * - `GET` of collections (all namespaces or one) returning `{kind: <Kind>List, metadata:
 *   {resourceVersion}, items}`, and of single objects (404 with a `Status` otherwise);
 * - `?watch=1&resourceVersion=N`: a chunked stream of `{"type","object"}` lines for every change
 *   after N; a resourceVersion older than the compaction point answers 200 and one ERROR event
 *   carrying a `Status` with code 410 ("too old resource version"), as the API server does;
 * - `PATCH .../ingresses/<name>/status` with `application/merge-patch+json` (RFC 7386), which
 *   changes only `status` and bumps the resourceVersion.
 *
 * Tests drive it: `put`/`remove` objects, `compact()` history, `dropWatches()` (the server
 * closing watches, as it does after `timeoutSeconds`), `holdWatches()` to make a watcher miss
 * changes, and read `requests`.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import * as http from "http";

type Obj = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; generation?: number; [k: string]: unknown }; [k: string]: unknown };

interface ResourceType {
  readonly prefix: string;
  readonly resource: string;
  readonly kind: string;
  readonly apiVersion: string;
}

const TYPES: readonly ResourceType[] = [
  { prefix: "/apis/networking.k8s.io/v1", resource: "ingresses", kind: "Ingress", apiVersion: "networking.k8s.io/v1" },
  { prefix: "/api/v1", resource: "services", kind: "Service", apiVersion: "v1" },
  { prefix: "/api/v1", resource: "pods", kind: "Pod", apiVersion: "v1" },
];

export type Resource = "ingresses" | "services" | "pods";

interface Change {
  readonly rv: number;
  readonly resource: string;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: Obj;
}

interface Watcher {
  readonly resource: string;
  readonly namespace?: string;
  readonly res: http.ServerResponse;
}

export interface RecordedKubeRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body: string;
  /** The client certificate's subject CN, as the API server's authenticator would read it. */
  readonly user?: string;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    return patch;
  }
  const out: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) {
      delete out[k];
    } else {
      out[k] = mergePatch(out[k], v);
    }
  }
  return out;
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

/** CA, server and client certificates (EC P-256, one day) made with the openssl CLI. */
export function makeCertificates(dir: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const run = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=fake-kube-ca");
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  run("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext");
  fs.writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  run("req", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/O=system:masters/CN=lb-double");
  run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "1", "-extfile", "client.ext");
  const read = (f: string): string => fs.readFileSync(path.join(dir, f), "utf8");
  return { ca: read("ca.crt"), serverCert: read("server.crt"), serverKey: read("server.key"), clientCert: read("client.crt"), clientKey: read("client.key") };
}

export class FakeKubeApi {
  readonly requests: RecordedKubeRequest[] = [];
  readonly dir: string;
  url = "";
  /** Answer a too-old watch with HTTP 410 instead of a 200 stream with an ERROR event. */
  goneAsHttpStatus = false;
  private readonly objects = new Map<string, Obj>();
  private readonly log: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly held: Array<() => void> = [];
  private holding = false;
  private rv = 100;
  private compacted = 0;
  private server?: https.Server;
  private certs?: ReturnType<typeof makeCertificates>;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kube-"));
  }

  async start(): Promise<this> {
    this.certs = makeCertificates(this.dir);
    this.server = https.createServer({ key: this.certs.serverKey, cert: this.certs.serverCert, ca: this.certs.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A kubeconfig for the client certificate: inline data, or files next to it (relative paths). */
  kubeconfig(style: "data" | "files" = "data"): string {
    const c = this.certs;
    if (c === undefined) {
      throw new Error("FakeKubeApi not started");
    }
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    const cluster = style === "data" ? { server: this.url, "certificate-authority-data": b64(c.ca) } : { server: this.url, "certificate-authority": "ca.crt" };
    const user = style === "data" ? { "client-certificate-data": b64(c.clientCert), "client-key-data": b64(c.clientKey) } : { "client-certificate": "client.crt", "client-key": "client.key" };
    const file = path.join(this.dir, `kubeconfig-${style}.yaml`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster }],
        users: [{ name: "lb-double", user }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "lb-double" } }],
        "current-context": "fake",
      }),
    );
    return file;
  }

  get caPem(): string {
    return this.certs?.ca ?? "";
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  private typeOf(resource: string): ResourceType {
    const t = TYPES.find((x) => x.resource === resource);
    if (t === undefined) {
      throw new Error(`unknown resource ${resource}`);
    }
    return t;
  }

  private static key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ""}/${name}`;
  }

  private emit(resource: string, type: Change["type"], object: Obj): void {
    const change: Change = { rv: this.rv, resource, type, object };
    this.log.push(change);
    for (const w of this.watchers) {
      if (w.resource === resource && (w.namespace === undefined || w.namespace === object.metadata.namespace)) {
        w.res.write(`${JSON.stringify({ type, object })}\n`);
      }
    }
  }

  /** Creates or replaces an object (metadata.uid, resourceVersion, generation maintained like the API server). */
  put<T extends { metadata: { name: string; namespace?: string } }>(resource: Resource, object: T): Obj {
    const t = this.typeOf(resource);
    const k = FakeKubeApi.key(resource, object.metadata.namespace, object.metadata.name);
    const previous = this.objects.get(k);
    this.rv++;
    const specChanged = previous === undefined || JSON.stringify((previous as Record<string, unknown>)["spec"]) !== JSON.stringify((object as Record<string, unknown>)["spec"]);
    const stored: Obj = {
      ...(object as Obj),
      apiVersion: t.apiVersion,
      kind: t.kind,
      metadata: {
        ...object.metadata,
        uid: previous?.metadata.uid ?? `uid-${resource}-${object.metadata.namespace ?? ""}-${object.metadata.name}`,
        resourceVersion: String(this.rv),
        generation: (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
        creationTimestamp: "2026-01-01T00:00:00Z",
      },
      ...(resource === "ingresses" ? { status: (previous as Record<string, unknown> | undefined)?.["status"] ?? { loadBalancer: {} } } : {}),
    };
    this.objects.set(k, stored);
    this.emit(resource, previous === undefined ? "ADDED" : "MODIFIED", stored);
    return stored;
  }

  remove(resource: Resource, namespace: string | undefined, name: string): void {
    const k = FakeKubeApi.key(resource, namespace, name);
    const previous = this.objects.get(k);
    if (previous === undefined) {
      return;
    }
    this.objects.delete(k);
    this.rv++;
    this.emit(resource, "DELETED", { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.rv) } });
  }

  get(resource: Resource, namespace: string | undefined, name: string): Obj | undefined {
    return this.objects.get(FakeKubeApi.key(resource, namespace, name));
  }

  /** Forgets history: watches from a resourceVersion before now answer 410. */
  compact(): void {
    this.compacted = this.rv;
    this.log.length = 0;
  }

  /** Ends every open watch stream, as the API server does when `timeoutSeconds` passes. */
  dropWatches(): void {
    for (const w of this.watchers) {
      w.res.end();
    }
    this.watchers.clear();
  }

  /** New watch requests wait until `releaseWatches` (so the informer misses changes made meanwhile). */
  holdWatches(): void {
    this.holding = true;
  }

  releaseWatches(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) {
      go();
    }
  }

  async close(): Promise<void> {
    this.holding = false;
    this.held.length = 0;
    this.dropWatches();
    await new Promise<void>((resolve) => {
      if (this.server === undefined) {
        resolve();
        return;
      }
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const socket = req.socket as import("tls").TLSSocket;
      const cn = socket.getPeerCertificate?.()?.subject?.CN;
      this.requests.push({ method: req.method ?? "GET", path: req.url ?? "/", contentType: req.headers["content-type"], body, user: Array.isArray(cn) ? cn[0] : cn });
      this.route(req.method ?? "GET", new URL(req.url ?? "/", "https://fake"), body, req.headers["content-type"], res);
    });
  }

  private route(method: string, url: URL, body: string, contentType: string | undefined, res: http.ServerResponse): void {
    const reply = (code: number, payload: string): void => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(payload);
    };
    for (const t of TYPES) {
      if (!url.pathname.startsWith(`${t.prefix}/`)) {
        continue;
      }
      const rest = url.pathname.slice(t.prefix.length + 1).split("/");
      let namespace: string | undefined;
      let parts = rest;
      if (rest[0] === "namespaces" && rest.length >= 3) {
        namespace = decodeURIComponent(rest[1]);
        parts = rest.slice(2);
      }
      if (parts[0] !== t.resource) {
        continue;
      }
      const name = parts[1] !== undefined ? decodeURIComponent(parts[1]) : undefined;
      const sub = parts[2];
      if (method === "GET" && name === undefined) {
        if (url.searchParams.get("watch") === "1" || url.searchParams.get("watch") === "true") {
          const start = (): void => this.watch(t.resource, namespace, Number(url.searchParams.get("resourceVersion") ?? "0"), res);
          if (this.holding) {
            this.held.push(start);
          } else {
            start();
          }
          return;
        }
        const items = [...this.objects.entries()]
          .filter(([k, o]) => k.startsWith(`${t.resource}/`) && (namespace === undefined || o.metadata.namespace === namespace))
          .map(([, o]) => {
            // List items carry no kind/apiVersion, like the API server's.
            const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
            return rest;
          });
        reply(200, JSON.stringify({ kind: `${t.kind}List`, apiVersion: t.apiVersion, metadata: { resourceVersion: String(this.rv) }, items }));
        return;
      }
      if (name !== undefined) {
        const k = FakeKubeApi.key(t.resource, namespace, name);
        const current = this.objects.get(k);
        if (current === undefined) {
          reply(404, status(404, "NotFound", `${t.resource}.${t.apiVersion.split("/")[0]} "${name}" not found`));
          return;
        }
        if (method === "GET" && sub === undefined) {
          reply(200, JSON.stringify(current));
          return;
        }
        if (method === "PATCH" && sub === "status" && t.resource === "ingresses") {
          if (contentType !== "application/merge-patch+json") {
            reply(415, status(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
            return;
          }
          const patch = JSON.parse(body) as Record<string, unknown>;
          this.rv++;
          const updated: Obj = {
            ...current,
            status: mergePatch(current["status"], patch["status"] ?? {}),
            metadata: { ...current.metadata, resourceVersion: String(this.rv) },
          };
          this.objects.set(k, updated);
          this.emit(t.resource, "MODIFIED", updated);
          reply(200, JSON.stringify(updated));
          return;
        }
      }
      reply(405, status(405, "MethodNotAllowed", `${method} ${url.pathname} is not supported by the fake`));
      return;
    }
    reply(404, status(404, "NotFound", "the server could not find the requested resource"));
  }

  private watch(resource: string, namespace: string | undefined, from: number, res: http.ServerResponse): void {
    if (from < this.compacted) {
      if (this.goneAsHttpStatus) {
        res.writeHead(410, { "content-type": "application/json" });
        res.end(status(410, "Expired", `too old resource version: ${from} (${this.compacted})`));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.write(`${JSON.stringify({ type: "ERROR", object: JSON.parse(status(410, "Expired", `too old resource version: ${from} (${this.compacted})`)) })}\n`);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    for (const c of this.log) {
      if (c.rv > from && c.resource === resource && (namespace === undefined || c.object.metadata.namespace === namespace)) {
        res.write(`${JSON.stringify({ type: c.type, object: c.object })}\n`);
      }
    }
    const w: Watcher = { resource, namespace, res };
    this.watchers.add(w);
    res.on("close", () => this.watchers.delete(w));
  }
}
