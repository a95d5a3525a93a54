/**
 * Container images from Docker Hub and the ECR pull-through cache in front of it. No Pulumi
 * imports; tested table-driven (test/dockerHub.test.ts).
 *
 * Docker Hub serves anonymous clients 10 pulls per hour per IPv4 address (docker/docs
 * content/manuals/docker-hub/usage/_index.md), and all nodes of a stack share its NAT address(es).
 * An ECR pull-through cache rule for `registry-1.docker.io` pulls with an account's credential and
 * keeps the images in ECR: `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<namespace>/<repo>:<tag>`,
 * with `library/` for official images (ECR user guide, "Sync an upstream registry with an Amazon
 * ECR private registry"; @pulumi/aws 7.48.0 ecr.PullThroughCacheRule).
 */

/** The cache rule's repository prefix. */
export const DOCKER_HUB_CACHE_PREFIX = "docker-hub";
export const DOCKER_HUB_UPSTREAM = "registry-1.docker.io";

/** Hosts that name Docker Hub explicitly. */
const DOCKER_HUB_HOSTS = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** The registry host of a reference: its first path segment when that looks like a host. */
function registryHost(image: string): string | undefined {
  const slash = image.indexOf("/");
  if (slash < 0) {
    return undefined;
  }
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
}

/** Whether `image` is pulled from Docker Hub (no registry host, or a Docker Hub host). */
export function isDockerHubImage(image: string): boolean {
  const host = registryHost(image);
  return host === undefined || DOCKER_HUB_HOSTS.includes(host);
}

/**
 * `image` as pulled through the cache at `cacheRegistry` (`<account>.dkr.ecr.<region>.amazonaws.com`);
 * images of other registries are returned unchanged.
 */
export function viaDockerHubCache(image: string, cacheRegistry: string): string {
  if (!isDockerHubImage(image)) {
    return image;
  }
  const host = registryHost(image);
  const path = host === undefined ? image : image.slice(host.length + 1);
  const repository = path.includes("/") ? path : `library/${path}`;
  return `${cacheRegistry}/${DOCKER_HUB_CACHE_PREFIX}/${repository}`;
}

/** ARN of the Secrets Manager secret a Docker Hub cache rule authenticates with; ECR requires the name prefix. */
export const CACHE_CREDENTIAL_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):secret:ecr-pullthroughcache\/[\w/+=.@-]+$/;

/** The private registry host the cache lives in: the credential's account and region. */
export function cacheRegistryOf(credentialArn: string): string | undefined {
  const m = CACHE_CREDENTIAL_ARN.exec(credentialArn);
  return m === null ? undefined : `${m[3]}.dkr.ecr.${m[2]}.amazonaws.com${m[1] === "aws-cn" ? ".cn" : ""}`;
}

/** Region of a cache credential ARN. */
export function cacheRegionOf(credentialArn: string): string | undefined {
  return CACHE_CREDENTIAL_ARN.exec(credentialArn)?.[2];
}
