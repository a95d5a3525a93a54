import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface RegistryArgs {
  /** Service names; each gets the ECR repository of the same name (image refs are `<registry>/<service>:<tag>`). */
  readonly repositories: readonly string[];
  /**
   * Whether this stack creates the repositories. Exactly one stack (test, as shipped: the first
   * of the deploy order) owns them; the others look them up by name, so an image promoted between
   * stacks is the same digest in the same repository. Default: false.
   */
  readonly owner?: boolean;
  /** Tagged images kept per repository; older ones are expired. Only used by the owner. Default: 50. */
  readonly keepImages?: number;
}

/** The subset of the ECR lifecycle policy grammar this component writes. */
interface LifecycleRule {
  readonly rulePriority: number;
  readonly description: string;
  readonly selection:
    | { readonly tagStatus: "untagged"; readonly countType: "sinceImagePushed"; readonly countUnit: "days"; readonly countNumber: number }
    | { readonly tagStatus: "tagged"; readonly tagPatternList: readonly string[]; readonly countType: "imageCountMoreThan"; readonly countNumber: number };
  readonly action: { readonly type: "expire" };
}

export interface LifecyclePolicy {
  readonly rules: readonly LifecycleRule[];
}

/** The lifecycle policy of every owned repository; exported so tests and reviewers read the same object. */
export function lifecyclePolicy(keepImages: number): LifecyclePolicy {
  return {
    rules: [
      {
        rulePriority: 1,
        // Untagged images are the leftovers of re-pushed multi-arch indexes and failed builds; nothing
        // deploys by a digest that no tag ever pointed at, so a day is enough.
        description: "Expire untagged images one day after push",
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        // Counted per repository across every environment's releases: keepImages must exceed the
        // number of builds pushed between two prod deployments, or the image prod runs (and would
        // roll back to) is expired under it. The default of 50 leaves a wide margin.
        description: `Keep the ${keepImages} most recent tagged images`,
        selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepImages },
        action: { type: "expire" },
      },
    ],
  };
}

/**
 * The container registry: one ECR repository per service, shared by every environment.
 *
 * Repositories are created by the owner stack only; every other stack resolves them with
 * `aws.ecr.getRepository`, which also makes a missing repository (owner stack not yet deployed)
 * fail the preview with a clear error instead of a pod stuck in ImagePullBackOff.
 *
 * No repository policy: the clusters, the test host and CI all live in this account, where the
 * principals' identity policies (scoped to `repositoryArns`) are sufficient. A repository policy
 * is only needed to grant another account or a service principal.
 */
export class Registry extends pulumi.ComponentResource {
  /** Repository URL by service name, e.g. `{ student: "1234.dkr.ecr.<region>.amazonaws.com/student" }`. */
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** ARNs of every repository, for least-privilege pull/push policies elsewhere. */
  readonly repositoryArns: pulumi.Output<string[]>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:registry:Registry", name, args, opts);

    const owner = args.owner ?? false;
    const keepImages = args.keepImages ?? 50;
    if (!Number.isInteger(keepImages) || keepImages < 1) {
      throw new pulumi.ResourceError(`Registry "${name}": keepImages must be a positive integer, got ${keepImages}`, this);
    }
    const duplicates = args.repositories.filter((r, i) => args.repositories.indexOf(r) !== i);
    if (duplicates.length > 0) {
      throw new pulumi.ResourceError(`Registry "${name}": repository "${duplicates[0]}" is listed twice`, this);
    }

    const repos: Array<{ service: string; url: pulumi.Output<string>; arn: pulumi.Output<string> }> = [];
    for (const service of args.repositories) {
      if (owner) {
        const repo = new aws.ecr.Repository(
          `${name}-${service}`,
          {
            // Explicit name: image references in every stack file are `<registry>/<service>:<tag>`.
            name: service,
            // Promotion copies a verified tag from one stack to the next and trusts that it still
            // names the same digest; a mutable tag could be re-pushed between verify and deploy.
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            // AES256 (S3-managed keys) rather than a customer-managed KMS key: images are build
            // artifacts without customer data (secrets never go into images), the encryption type
            // cannot be changed after creation, and a stack-owned KMS key would be scheduled for
            // deletion when the owner stack is destroyed, making the retained repositories below
            // unreadable for every environment.
            encryptionConfigurations: [{ encryptionType: "AES256" }],
            // Never delete a repository that still holds images; empty it deliberately first.
            forceDelete: false,
          },
          {
            parent: this,
            // The owner stack is only the repositories' creator; staging and prod run images from
            // them. Destroying test (e.g. to rebuild it) must not delete every environment's images
            // and with them prod's ability to reschedule pods or roll back. After a destroy the
            // repositories are adopted again with `pulumi import`.
            retainOnDelete: true,
          },
        );
        new aws.ecr.LifecyclePolicy(
          `${name}-${service}`,
          { repository: repo.name, policy: JSON.stringify(lifecyclePolicy(keepImages)) },
          { parent: this },
        );
        repos.push({ service, url: repo.repositoryUrl, arn: repo.arn });
      } else {
        const found = aws.ecr.getRepositoryOutput({ name: service }, { parent: this });
        repos.push({ service, url: found.repositoryUrl, arn: found.arn });
      }
    }

    this.repositoryUrls = pulumi
      .all(repos.map((r) => r.url))
      .apply((urls) => Object.fromEntries(repos.map((r, i) => [r.service, urls[i]])));
    this.repositoryArns = pulumi.all(repos.map((r) => r.arn));

    this.registerOutputs({ repositoryUrls: this.repositoryUrls, repositoryArns: this.repositoryArns });
  }
}
