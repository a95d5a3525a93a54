import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DOCKER_HUB_CACHE_PREFIX, DOCKER_HUB_UPSTREAM } from "../lib/images";

export interface DockerHubCacheArgs {
  /**
   * Secrets Manager secret named `ecr-pullthroughcache/<name>` holding `username` and
   * `accessToken` of a Docker Hub account (ECR only accepts secrets with that prefix).
   */
  readonly credentialArn: pulumi.Input<string>;
}

/**
 * The account's ECR pull-through cache rule for Docker Hub in this region: images are pulled as
 * `<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/<namespace>/<repo>:<tag>` (`viaDockerHubCache`),
 * fetched from Docker Hub with the account's credential on first pull and served from ECR (and so
 * through the S3 gateway endpoint) afterwards. One rule per prefix and region: exactly one stack of
 * the account declares it (`registry.dockerHubCache.createRule`).
 */
export class DockerHubCache extends pulumi.ComponentResource {
  readonly repositoryPrefix: string;

  constructor(name: string, args: DockerHubCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:registry:DockerHubCache", name, {}, opts);
    new aws.ecr.PullThroughCacheRule(
      name,
      { ecrRepositoryPrefix: DOCKER_HUB_CACHE_PREFIX, upstreamRegistryUrl: DOCKER_HUB_UPSTREAM, credentialArn: args.credentialArn },
      { parent: this },
    );
    this.repositoryPrefix = DOCKER_HUB_CACHE_PREFIX;
    this.registerOutputs({ repositoryPrefix: this.repositoryPrefix });
  }
}
