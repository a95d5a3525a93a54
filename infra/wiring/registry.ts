import { DockerHubCache } from "../registry/dockerHubCache";
import { Registry } from "../registry/registry";
import { ImageBucket } from "../storage/imageBucket";
import type { Wiring } from "./context";

export interface Images {
  readonly registry: Registry;
  /** The user-images bucket, where the stack enables it. */
  readonly bucket?: ImageBucket;
}

/**
 * The services' ECR repositories (created by the owner stack, looked up elsewhere), the account's
 * Docker Hub pull-through cache rule where this stack declares it, and the images bucket.
 */
export function wireImages({ cfg, env, opts }: Wiring): Images {
  // Named "registry" in every stack, so the repositories' logical names do not depend on which
  // stack owns them (moving ownership is then an import, not a rename).
  const registry = new Registry(
    "registry",
    { repositories: cfg.services.map((s) => s.name), owner: cfg.registry.owner, keepImages: cfg.registry.keepImages },
    opts,
  );
  // The account's Docker Hub pull-through cache rule, declared by exactly one stack.
  if (cfg.registry.dockerHubCache?.createRule === true) {
    new DockerHubCache(`${env}-docker-hub-cache`, { credentialArn: cfg.registry.dockerHubCache.credentialArn }, opts);
  }
  const bucket = cfg.imagesBucket.enabled
    ? new ImageBucket(env, { versioning: cfg.imagesBucket.versioning, forceDestroy: cfg.imagesBucket.forceDestroy }, opts)
    : undefined;
  return { registry, bucket };
}
