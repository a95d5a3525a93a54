/**
 * Tag -> digest. The driver pins every image it writes by digest; a stack file may still name
 * a tag (hand-edited), and `release` may be given one. Resolution uses the registry's own
 * HTTP API (OCI distribution spec: HEAD /v2/<name>/manifests/<tag> -> Docker-Content-Digest)
 * with the credentials `docker login` / `aws-actions/amazon-ecr-login` stored, so it needs no
 * extra SDK: ECR accepts the same Basic credentials the Docker CLI uses.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../errors";
import { isDigest, parseImageRef, pinned } from "../images";
import { ImageResolver } from "../ports";
import { ConnectTo, httpRequest } from "./http";

/** Splits `[registry/]name` the way the Docker CLI does (a first component with '.' or ':' or `localhost` is a registry). */
export function splitRepository(repository: string): { readonly registry: string; readonly name: string } {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    return { registry: first, name: repository.slice(slash + 1) };
  }
  return { registry: "registry-1.docker.io", name: slash < 0 ? `library/${repository}` : repository };
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface DockerConfig {
  readonly auths?: Record<string, { readonly auth?: string }>;
}

export interface RegistryResolverOptions {
  /** Defaults to $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  readonly dockerConfigPath?: string;
  readonly timeoutMs?: number;
  /**
   * Reach a registry through another address, keeping its name in the Host header and in the
   * credentials lookup (keyed by `https://<registry>`). The integration tier's registry double
   * stands in for ECR this way; production passes none.
   */
  readonly connectTo?: ConnectTo;
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

export class RegistryImageResolver implements ImageResolver {
  private readonly configPath: string;
  private readonly timeoutMs: number;
  private readonly connectTo: ConnectTo | undefined;

  constructor(opts: RegistryResolverOptions = {}) {
    this.connectTo = opts.connectTo;
    this.configPath = opts.dockerConfigPath ?? path.join(process.env["DOCKER_CONFIG"] ?? path.join(os.homedir(), ".docker"), "config.json");
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  async resolve(ref: string, signal: AbortSignal): Promise<string> {
    const parsed = parseImageRef(ref);
    if (parsed === undefined) {
      throw new UsageError(`"${ref}" is not an image reference (<registry>/<repo>:<tag> or <registry>/<repo>@sha256:<hex>)`);
    }
    if (parsed.digest !== undefined) {
      return ref;
    }
    const { registry, name } = splitRepository(parsed.repository);
    // Like the Docker daemon, talk plain HTTP only to a registry on this machine.
    const scheme = isLoopback(registry) ? "http" : "https";
    const url = `${scheme}://${registry}/v2/${name}/manifests/${parsed.tag ?? "latest"}`;
    const headers: Record<string, string> = { accept: MANIFEST_TYPES };
    const auth = this.credentials(registry);
    if (auth !== undefined) {
      headers["authorization"] = `Basic ${auth}`;
    }
    const res = await httpRequest({ url, method: "HEAD", headers, timeoutMs: this.timeoutMs, signal, connectTo: this.connectTo });
    const digest = res.headers["docker-content-digest"];
    if (res.status === 401 || res.status === 403) {
      throw new UsageError(`registry ${registry} refused to resolve ${ref} (HTTP ${res.status})`, [
        "log in first (CI: aws-actions/amazon-ecr-login; locally: `aws ecr get-login-password | docker login ...`), or pass the image by digest",
      ]);
    }
    if (res.status !== 200 || typeof digest !== "string" || !isDigest(digest)) {
      throw new UsageError(`could not resolve ${ref} to a digest (HTTP ${res.status} from ${registry})`, [
        "check the tag exists, or pass the image by digest (repo@sha256:...)",
      ]);
    }
    return pinned(parsed.repository, digest);
  }

  /** base64 `user:password` stored by `docker login`, if any. Never logged. */
  private credentials(registry: string): string | undefined {
    let config: DockerConfig;
    try {
      config = JSON.parse(fs.readFileSync(this.configPath, "utf8")) as DockerConfig;
    } catch {
      return undefined;
    }
    const auths = config.auths ?? {};
    const entry = auths[registry] ?? auths[`https://${registry}`];
    return entry?.auth;
  }
}
