import * as pulumi from "@pulumi/pulumi";

/**
 * Runs a pure computation or check for a component and reports its failure as that component's
 * `ResourceError`: the pure modules in ./lib throw plain Errors (they know nothing of Pulumi),
 * and a component's problems are reported against the component, with no stack trace.
 */
export function checkedFor<T>(component: pulumi.Resource, compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    if (err instanceof pulumi.ResourceError) {
      throw err;
    }
    throw new pulumi.ResourceError(err instanceof Error ? err.message : String(err), component);
  }
}
