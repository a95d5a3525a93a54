/**
 * A loopback OCI registry double: the part of the distribution API that
 * automation/adapters/registry.ts RegistryImageResolver uses (HEAD of a manifest by tag, answered
 * with `Docker-Content-Digest`), plus GET of the same manifest and the `/v2/` version check, so a
 * test can also read what it "pushed". Tests push `repo:tag` entries; each push stores a real OCI
 * image manifest whose digest is the sha256 of its bytes, as a registry computes it.
 *
 * Behaviour, from the OCI Distribution Specification v1.1 ("Pulling manifests", "Error codes",
 * "Checking if content exists in the registry") and the Docker Registry HTTP API v2's auth:
 * - `HEAD|GET /v2/<name>/manifests/<tag|digest>`: 200 with `Docker-Content-Digest`,
 *   `Content-Type` (the manifest's media type) and `Content-Length`; a HEAD has no body.
 * - unknown repository: 404 `NAME_UNKNOWN`; unknown tag or digest: 404 `MANIFEST_UNKNOWN`; a name
 *   not matching the spec's `<name>` grammar: 400 `NAME_INVALID`. Error bodies are
 *   `{"errors":[{code,message,detail}]}` (absent on HEAD).
 * - with `auth` set, a request without the matching `Authorization: Basic` gets 401 with
 *   `WWW-Authenticate: Basic realm="..."` (the resolver sends Basic credentials read from the
 *   Docker config; it does not do the bearer-token dance, so the double offers Basic only).
 * - any other path or method: 404 / 405 with `UNSUPPORTED`.
 * It listens on 127.0.0.1 only; `requests` records what was asked, for assertions.
 */
import { createHash } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

/** OCI Distribution Spec v1.1 "Pulling manifests": `<name>` must match this. */
const NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface RegistryRequest {
  readonly method: string;
  readonly path: string;
  readonly accept?: string;
  /** The Host header: the registry name the client meant. */
  readonly host?: string;
  readonly authorized: boolean;
  readonly status: number;
}

interface Manifest {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
}

export interface RegistryDoubleOptions {
  /** Require `Authorization: Basic base64(username:password)`. */
  readonly auth?: { readonly username: string; readonly password: string };
}

const sha256 = (data: Buffer | string): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export class RegistryDouble {
  private readonly repos = new Map<string, { readonly tags: Map<string, string>; readonly manifests: Map<string, Manifest> }>();
  private server?: http.Server;
  /** `127.0.0.1:<port>`: the registry part of an image reference. */
  host = "";
  readonly requests: RegistryRequest[] = [];

  private constructor(private readonly options: RegistryDoubleOptions) {}

  static async start(options: RegistryDoubleOptions = {}): Promise<RegistryDouble> {
    const r = new RegistryDouble(options);
    const server = http.createServer((req, res) => r.answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    r.server = server;
    r.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return r;
  }

  /**
   * Stores an image manifest for `repo:tag` (moving the tag if it exists) and returns its digest.
   * `content` distinguishes builds: the same content gives the same digest, as in a registry.
   */
  push(repo: string, tag: string, content = `${repo}:${tag}`): string {
    if (!NAME.test(repo) || !TAG.test(tag)) {
      throw new Error(`registry double: cannot push ${repo}:${tag} (invalid name or tag)`);
    }
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { build: content } }, rootfs: { type: "layers", diff_ids: [] } }));
    const bytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length }, layers: [] }),
    );
    const manifest: Manifest = { bytes, digest: sha256(bytes), mediaType: OCI_MANIFEST };
    const entry = this.repos.get(repo) ?? { tags: new Map<string, string>(), manifests: new Map<string, Manifest>() };
    entry.manifests.set(manifest.digest, manifest);
    entry.tags.set(tag, manifest.digest);
    this.repos.set(repo, entry);
    return manifest.digest;
  }

  /** `<host>/<repo>:<tag>`: how a stack file names a pushed image. */
  ref(repo: string, tag: string): string {
    return `${this.host}/${repo}:${tag}`;
  }

  private authorized(req: http.IncomingMessage): boolean {
    const auth = this.options.auth;
    if (auth === undefined) {
      return true;
    }
    const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    return req.headers["authorization"] === expected;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const authorized = this.authorized(req);
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer): void => {
      this.requests.push({ method, path, accept: req.headers["accept"], host: req.headers["host"], authorized, status });
      res.writeHead(status, { "docker-distribution-api-version": "registry/2.0", ...headers });
      res.end(method === "HEAD" ? undefined : body);
    };
    const error = (status: number, code: string, message: string, extra: Record<string, string> = {}): void => {
      const body = Buffer.from(JSON.stringify({ errors: [{ code, message, detail: { path } }] }));
      send(status, { "content-type": "application/json", "content-length": body.length, ...extra }, body);
    };
    if (!authorized) {
      error(401, "UNAUTHORIZED", "authentication required", { "www-authenticate": `Basic realm="registry-double"` });
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      error(405, "UNSUPPORTED", `${method} is not supported by the registry double`);
      return;
    }
    if (path === "/v2/" || path === "/v2") {
      send(200, { "content-type": "application/json", "content-length": 2 }, Buffer.from("{}"));
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m === null) {
      error(404, "UNSUPPORTED", "the registry double serves manifests only");
      return;
    }
    const [, name, reference] = m as unknown as [string, string, string];
    if (!NAME.test(name)) {
      error(400, "NAME_INVALID", `invalid repository name ${name}`);
      return;
    }
    const repo = this.repos.get(name);
    if (repo === undefined) {
      error(404, "NAME_UNKNOWN", `repository name not known to registry: ${name}`);
      return;
    }
    const digest = DIGEST.test(reference) ? reference : repo.tags.get(reference);
    const manifest = digest === undefined ? undefined : repo.manifests.get(digest);
    if (manifest === undefined) {
      error(404, "MANIFEST_UNKNOWN", `manifest unknown: ${name}:${reference}`);
      return;
    }
    send(200, { "content-type": manifest.mediaType, "content-length": manifest.bytes.length, "docker-content-digest": manifest.digest }, manifest.bytes);
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s === undefined) {
      return;
    }
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
