import * as pulumi from "@pulumi/pulumi";
import { RunnerProject } from "../ci/runnerProject";
import type { Cluster } from "../cluster/cluster";
import { deployServices, RUNNER_WORKFLOWS, RunnerKind, runnerProjectName, runnerRoleName, runnerRolePrefix } from "../lib/runners";
import type { Network } from "../network/network";
import type { Wiring } from "./context";

export type Runners = Readonly<Record<RunnerKind, RunnerProject>>;

/**
 * The stack's CI runners (deploy and preview) in its private subnets, each with its own role and
 * access entry on the cluster. Config guarantees a cluster, private subnets behind a NAT, the
 * repository, the connection and the state bucket whenever they are enabled.
 */
export function wireCi({ cfg, opts }: Wiring, network: Network, cluster: Cluster | undefined): Runners | undefined {
  const r = cfg.ci.runners;
  if (!r.enabled || cluster === undefined || r.repository === undefined || r.connectionArn === undefined || r.stateBucket === undefined) {
    return undefined;
  }
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const services = deployServices(cfg);
  const runner = (kind: RunnerKind): RunnerProject =>
    new RunnerProject(
      `${cfg.environment}-ci-${kind}`,
      {
        kind,
        projectName: runnerProjectName(project, stack, kind),
        roleName: runnerRoleName(project, stack, kind),
        rolePrefix: runnerRolePrefix(project, stack),
        repository: r.repository ?? "",
        connectionArn: r.connectionArn ?? "",
        stateBucket: r.stateBucket ?? "",
        workflow: RUNNER_WORKFLOWS[kind],
        actorIds: r.actorIds,
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        cluster: { name: cluster.name, securityGroupId: cluster.clusterSecurityGroupId },
        services,
        stackTag: stack,
        computeType: r.computeType,
        image: r.image,
        logRetentionDays: cfg.logRetentionDays,
      },
      opts,
    );
  return { deploy: runner("deploy"), preview: runner("preview") };
}
