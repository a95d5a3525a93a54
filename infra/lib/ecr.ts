/**
 * ECR image references: which registry, account, region and repository an image comes from, so
 * a host's role can be granted pulls from exactly the repositories it runs. No Pulumi imports.
 */

export interface EcrImage {
  readonly registry: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly repository: string;
}

/** Splits an ECR image reference; `undefined` for other registries (pulled without a login). */
export function parseEcrImage(image: string): EcrImage | undefined {
  const slash = image.indexOf("/");
  if (slash < 0) {
    return undefined;
  }
  const registry = image.slice(0, slash);
  const m = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(registry);
  if (m === null) {
    return undefined;
  }
  const repository = image.slice(slash + 1).replace(/@sha256:[a-f0-9]{64}$/, "").replace(/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "");
  return { registry, accountId: m[1], region: m[2], partition: m[3] === undefined ? "aws" : "aws-cn", repository };
}

/** The repository ARNs the images come from: exactly what the host role needs to pull. */
export function ecrRepositoryArnsForImages(images: readonly string[]): string[] {
  const arns = images
    .map(parseEcrImage)
    .filter((e): e is EcrImage => e !== undefined)
    .map((e) => `arn:${e.partition}:ecr:${e.region}:${e.accountId}:repository/${e.repository}`);
  return [...new Set(arns)];
}
