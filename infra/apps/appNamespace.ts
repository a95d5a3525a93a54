import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ALB_READINESS_GATE_LABEL, PodSecurityLevel, podSecurityLabels } from "../lib/podSecurity";

export { APPS_NAMESPACE } from "../lib/bluegreen";

export type { PodSecurityLevel };

export interface AppNamespaceArgs {
  /** Kubernetes name of the namespace. */
  readonly name: string;
  /** Pod Security Standard enforced (and warned/audited) in the namespace. Default: restricted. */
  readonly podSecurity?: PodSecurityLevel;
  /**
   * Whether the AWS Load Balancer Controller injects its readiness gate into new pods. Default:
   * true. Without it a rolling update can finish before the new pods are healthy in the target
   * group, and the ALB is left with no healthy target.
   */
  readonly albReadinessGate?: boolean;
}

/** A namespace with its Pod Security admission level and the ALB readiness-gate label. */
export class AppNamespace extends pulumi.ComponentResource {
  /** The namespace's name as an Output: use it in objects so they wait for the namespace. */
  readonly name: pulumi.Output<string>;
  /** The same name as a plain string, for values needed at plan time (IRSA trust subjects). */
  readonly plainName: string;

  constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:apps:AppNamespace", name, {}, opts);
    const level = args.podSecurity ?? "restricted";
    const labels = { ...podSecurityLabels(level), ...(args.albReadinessGate ?? true ? ALB_READINESS_GATE_LABEL : {}) };
    const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.name, labels } }, { parent: this });
    this.name = ns.metadata.name;
    this.plainName = args.name;
    this.registerOutputs({ name: this.name });
  }
}
