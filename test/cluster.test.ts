import { strict as assert } from "assert";
import { mockedOutputs, REGION } from "../automation/offline/mocks";
import { IrsaRole } from "../infra/iam/irsaRole";
import { declare, Evaluation, evaluateStack, Json, named, ofType, optionsOf, settleProgram, StackConfig } from "./stack";

const EKS = "eks:index:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const CLUSTER_NAME = "platform-prod";
const PRIVATE_SUBNETS = ["prod-vpc-private-ap-northeast-2a", "prod-vpc-private-ap-northeast-2c"];
const PUBLIC_SUBNETS = ["prod-vpc-public-ap-northeast-2a", "prod-vpc-public-ap-northeast-2c"];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface PolicyDocument {
  Statement: Statement[];
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** An edit of the prod stack file's `platform:cluster`. */
function prodCluster(edit: (cluster: { [key: string]: Json }) => void): (config: StackConfig) => void {
  return (config) => edit(config["platform:cluster"] as { [key: string]: Json });
}

describe("Cluster (prod stack)", () => {
  let ev: Evaluation;
  /** What the mocked eks.Cluster computes (OIDC provider, security groups), as the program sees it. */
  let eks: Record<string, unknown>;
  before(async () => {
    ev = await evaluateStack("prod");
    eks = mockedOutputs(named(ev, EKS, "prod-eks"));
  });

  describe("control plane", () => {
    it("declares one eks.Cluster with access entries, no default node group and the configured version", () => {
      const eks = ofType(ev, EKS);
      assert.equal(eks.length, 1);
      const c = eks[0].inputs;
      assert.equal(c["name"], CLUSTER_NAME);
      assert.equal(c["version"], "1.35");
      assert.equal(c["skipDefaultNodeGroup"], true);
      assert.equal(c["skipDefaultSecurityGroups"], true);
      assert.equal(c["authenticationMode"], "API");
      assert.equal(c["createOidcProvider"], true);
      assert.equal(c["nodeAssociatePublicIpAddress"], false);
      assert.deepEqual(c["privateSubnetIds"], PRIVATE_SUBNETS);
      assert.deepEqual(c["publicSubnetIds"], PUBLIC_SUBNETS);
    });

    it("opts out of extended support explicitly: upgradePolicy STANDARD (eks v4 defaults to EXTENDED)", () => {
      assert.deepEqual(named(ev, EKS, "prod-eks").inputs["upgradePolicy"], { supportType: "STANDARD" });
    });

    it("ships all five control plane log types to a log group it owns, created first", () => {
      const c = named(ev, EKS, "prod-eks").inputs;
      assert.deepEqual([...(c["enabledClusterLogTypes"] as string[])].sort(), ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
      const logs = named(ev, "aws:cloudwatch/logGroup:LogGroup", "prod-control-plane").inputs;
      assert.equal(logs["name"], `/aws/eks/${CLUSTER_NAME}/cluster`);
      assert.equal(logs["retentionInDays"], 90);
      const dependsOn = optionsOf(ev, EKS, "prod-eks").dependsOn;
      assert.ok(
        dependsOn.includes("aws:cloudwatch/logGroup:LogGroup::prod-control-plane"),
        `eks.Cluster must depend on the log group, or EKS creates it with infinite retention (depends on ${dependsOn.join(", ")})`,
      );
    });

    it("encrypts secrets with a rotating KMS key of its own", () => {
      const keys = ofType(ev, "aws:kms/key:Key").filter((k) => k.parentType === "platform:cluster:Cluster");
      assert.equal(keys.length, 1);
      assert.equal(keys[0].inputs["enableKeyRotation"], true);
      assert.match(String(keys[0].inputs["description"]), /secrets/i);
      const keyArn = String(named(ev, EKS, "prod-eks").inputs["encryptionConfigKeyArn"]);
      assert.match(keyArn, /^arn:aws:kms:/);
      assert.ok(keyArn.endsWith(`/${keys[0].name}`), `${keyArn} is not the key ${keys[0].name}`);
    });

    it("keeps the endpoint private (CI runs in the VPC) and passes no CIDR list", () => {
      const c = named(ev, EKS, "prod-eks").inputs;
      assert.equal(c["endpointPrivateAccess"], true);
      assert.equal(c["endpointPublicAccess"], false);
      assert.equal(c["publicAccessCidrs"], undefined);
    });

    it("opens the public endpoint to the bootstrap address alone while cluster.bootstrapAccessCidr is set", async () => {
      const boot = await evaluateStack("prod", prodCluster((c) => void (c["bootstrapAccessCidr"] = "198.51.100.7/32")));
      const c = named(boot, EKS, "prod-eks").inputs;
      assert.equal(c["endpointPrivateAccess"], true);
      assert.equal(c["endpointPublicAccess"], true);
      assert.deepEqual(c["publicAccessCidrs"], ["198.51.100.7/32"]);
    });

    it("grants each admin role AmazonEKSClusterAdminPolicy cluster-wide through an access entry", () => {
      const entries = named(ev, EKS, "prod-eks").inputs["accessEntries"] as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(entries), ["admin-platform-admin"]);
      const entry = entries["admin-platform-admin"];
      assert.equal(entry["principalArn"], "arn:aws:iam::123456789012:role/platform-admin");
      assert.equal(entry["type"], "STANDARD");
      assert.deepEqual(entry["accessPolicies"], {
        admin: { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } },
      });
    });

    it("exports its name and a secret kubeconfig, admits its nodes to the database, and has a k8s provider", () => {
      const cluster = ev.outputs["cluster"] as Record<string, unknown>;
      assert.equal(cluster["name"], CLUSTER_NAME);
      assert.ok(ev.secretOutputs.includes("cluster.kubeconfig"), `secret outputs: ${ev.secretOutputs.join(", ")}`);
      const fromNodes = named(ev, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prod-db-from-eks-nodes").inputs;
      assert.equal(fromNodes["referencedSecurityGroupId"], eks["clusterSecurityGroupId"]);
      assert.match(String(eks["oidcProviderArn"]), /^arn:aws:iam::\d{12}:oidc-provider\//);
      assert.doesNotMatch(String(eks["oidcProviderUrl"]), /^https:/);
      assert.equal(ofType(ev, "pulumi:providers:kubernetes").filter((p) => p.name === "prod-k8s").length, 1);
    });

    it("adopts CoreDNS as a managed add-on at the cluster's default version", () => {
      const coredns = named(ev, "aws:eks/addon:Addon", "prod-coredns").inputs;
      assert.equal(coredns["clusterName"], CLUSTER_NAME);
      assert.equal(coredns["resolveConflictsOnCreate"], "OVERWRITE");
      const lookup = ev.invokes.find((i) => i.token === "aws:eks/getAddonVersion:getAddonVersion");
      assert.deepEqual(lookup?.inputs, { addonName: "coredns", kubernetesVersion: "1.35", mostRecent: false });
    });
  });

  describe("node groups", () => {
    it("declares one managed node group per configured group, in the private subnets", () => {
      const groups = ofType(ev, NODE_GROUP);
      assert.deepEqual(groups.map((g) => g.name), ["prod-general"]);
      const g = groups[0].inputs;
      assert.equal(g["clusterName"], CLUSTER_NAME);
      assert.deepEqual(g["subnetIds"], PRIVATE_SUBNETS);
      assert.deepEqual(g["scalingConfig"], { minSize: 2, maxSize: 4, desiredSize: 2 });
      assert.deepEqual(g["instanceTypes"], ["t3.large"]);
      assert.equal(g["capacityType"], "ON_DEMAND");
      assert.equal(g["amiType"], "AL2023_x86_64_STANDARD", "set explicitly, not left to EKS's default");
      assert.deepEqual(g["labels"], { workload: "app", "platform.io/node-group": "general" });
      assert.equal(g["diskSize"], undefined, "diskSize conflicts with a launch template");
      assert.deepEqual(g["launchTemplate"], { id: "prod-general-id", version: "1" });
      assert.deepEqual((ev.outputs["cluster"] as Record<string, unknown>)["nodeGroupNames"], ["general-20250101000000000000000001"]);
    });

    it("leaves desired size to the cluster autoscaler", () => {
      assert.deepEqual(optionsOf(ev, NODE_GROUP, "prod-general").ignoreChanges, ["scalingConfig.desiredSize"]);
    });

    it("tags node groups for autoscaler discovery and copies node templates to the Auto Scaling group", () => {
      const tags = named(ev, NODE_GROUP, "prod-general").inputs["tags"] as Record<string, string>;
      assert.equal(tags["k8s.io/cluster-autoscaler/enabled"], "true");
      assert.equal(tags[`k8s.io/cluster-autoscaler/${CLUSTER_NAME}`], "owned");
      assert.equal(tags["k8s.io/cluster-autoscaler/node-template/label/platform.io/node-group"], "general");
      assert.equal(tags["k8s.io/cluster-autoscaler/node-template/label/workload"], "app");
      const asgTags = ofType(ev, "aws:autoscaling/tag:Tag").map((t) => t.inputs);
      assert.deepEqual(
        asgTags.map((t) => (t["tag"] as Record<string, unknown>)["key"]).sort(),
        ["k8s.io/cluster-autoscaler/node-template/label/platform.io/node-group", "k8s.io/cluster-autoscaler/node-template/label/workload"],
      );
      for (const t of asgTags) {
        assert.equal(t["autoscalingGroupName"], "eks-prod-general-asg");
      }
    });

    it("launches nodes with IMDSv2 only, hop limit 1 and an encrypted gp3 root volume of the configured size", () => {
      const lt = named(ev, LAUNCH_TEMPLATE, "prod-general").inputs;
      const md = lt["metadataOptions"] as Record<string, unknown>;
      assert.equal(md["httpTokens"], "required");
      assert.equal(md["httpPutResponseHopLimit"], 1);
      const [root] = lt["blockDeviceMappings"] as Array<Record<string, Record<string, unknown>>>;
      assert.equal(root["ebs"]["encrypted"], "true");
      assert.equal(root["ebs"]["volumeType"], "gp3");
      assert.equal(root["ebs"]["volumeSize"], 50);
      assert.equal(lt["vpcSecurityGroupIds"], undefined, "nodes must keep the EKS cluster security group");
      const specs = lt["tagSpecifications"] as Array<{ resourceType: string; tags: Record<string, string> }>;
      assert.deepEqual(specs.map((s) => s.resourceType).sort(), ["instance", "network-interface", "volume"]);
      for (const s of specs) {
        assert.equal(s.tags["Environment"], "prod");
      }
    });

    it("gives every node group the one node role with the worker, CNI, ECR pull-only and SSM policies", () => {
      const roleName = "prod-node";
      const attached = ofType(ev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((a) => a.inputs["role"] === roleName)
        .map((a) => String(a.inputs["policyArn"]).split("/").pop());
      assert.deepEqual(attached.sort(), [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
      ]);
      const trust = JSON.parse(String(named(ev, ROLE, roleName).inputs["assumeRolePolicy"])) as PolicyDocument;
      assert.deepEqual(list(trust.Statement[0].Principal?.["Service"]), ["ec2.amazonaws.com"]);
      for (const g of ofType(ev, NODE_GROUP)) {
        assert.equal(g.inputs["nodeRoleArn"], `arn:aws:iam::123456789012:role/${roleName}`);
      }
    });
  });

  describe("variants", () => {
    let variant: Evaluation;
    before(async () => {
      variant = await evaluateStack("prod", (config) => {
        // CI outside the VPC, from a fixed egress range: the public endpoint opens to it alone.
        config["platform:ci"] = { runners: { enabled: false } };
        prodCluster((cluster) => {
        cluster["publicAccessCidrs"] = ["198.51.100.0/24"];
        const groups = cluster["nodeGroups"] as Json[];
        groups.push({
          name: "batch",
          instanceTypes: ["m6i.large", "m5.large"],
          capacityType: "SPOT",
          minSize: 0,
          maxSize: 3,
          desiredSize: 0,
          diskSizeGb: 80,
          labels: { workload: "batch" },
          taints: [
            { key: "workload", value: "batch", effect: "NO_SCHEDULE" },
            { key: "spot", effect: "PREFER_NO_SCHEDULE" },
          ],
        });
        })(config);
      });
    });

    it("without CI runners, opens the public endpoint to exactly the configured CIDRs and declares no runner", () => {
      const c = named(variant, EKS, "prod-eks").inputs;
      assert.equal(c["endpointPublicAccess"], true);
      assert.equal(c["endpointPrivateAccess"], true);
      assert.deepEqual(c["publicAccessCidrs"], ["198.51.100.0/24"]);
      assert.deepEqual(ofType(variant, "aws:codebuild/project:Project"), []);
    });

    it("declares a node group and launch template per configured group and maps taints", () => {
      assert.deepEqual(ofType(variant, NODE_GROUP).map((g) => g.name).sort(), ["prod-batch", "prod-general"]);
      assert.equal(ofType(variant, LAUNCH_TEMPLATE).filter((t) => t.parentType === "platform:cluster:Cluster").length, 2);
      const batch = named(variant, NODE_GROUP, "prod-batch").inputs;
      assert.equal(batch["capacityType"], "SPOT");
      assert.deepEqual(batch["instanceTypes"], ["m6i.large", "m5.large"]);
      assert.deepEqual(batch["scalingConfig"], { minSize: 0, maxSize: 3, desiredSize: 0 });
      assert.deepEqual(batch["labels"], { workload: "batch", "platform.io/node-group": "batch" });
      assert.deepEqual(batch["taints"], [
        { key: "workload", value: "batch", effect: "NO_SCHEDULE" },
        { key: "spot", effect: "PREFER_NO_SCHEDULE" },
      ]);
      const tags = batch["tags"] as Record<string, string>;
      assert.equal(tags["k8s.io/cluster-autoscaler/node-template/taint/workload"], "batch:NoSchedule");
      assert.equal(tags["k8s.io/cluster-autoscaler/node-template/taint/spot"], ":PreferNoSchedule");
      const lt = named(variant, LAUNCH_TEMPLATE, "prod-batch").inputs;
      const [root] = lt["blockDeviceMappings"] as Array<Record<string, Record<string, unknown>>>;
      assert.equal(root["ebs"]["volumeSize"], 80);
    });

    it("refuses an autoscaler chart whose minor does not match the cluster's Kubernetes minor", async () => {
      await assert.rejects(
        evaluateStack(
          "prod",
          prodCluster((cluster) => {
            cluster["version"] = "1.34";
          }),
        ), /chart 9\.59\.0 runs autoscaler 1\.35\.x but the cluster runs Kubernetes 1\.34/);
    });
  });

  describe("IRSA", () => {
    it("pins the autoscaler role's trust policy to exactly its one service account and the STS audience", () => {
      const role = named(ev, ROLE, "prod-cluster-autoscaler-irsa-role").inputs;
      const doc = JSON.parse(String(role["assumeRolePolicy"])) as PolicyDocument;
      assert.equal(doc.Statement.length, 1);
      const [s] = doc.Statement;
      assert.equal(s.Effect, "Allow");
      assert.deepEqual(list(s.Action), ["sts:AssumeRoleWithWebIdentity"]);
      assert.deepEqual(list(s.Principal?.["Federated"]), [eks["oidcProviderArn"]]);
      const issuer = String(eks["oidcProviderUrl"]);
      assert.deepEqual(Object.keys(s.Condition ?? {}), ["StringEquals"]);
      const eq = s.Condition?.["StringEquals"] ?? {};
      assert.deepEqual(Object.keys(eq).sort(), [`${issuer}:aud`, `${issuer}:sub`]);
      assert.deepEqual(list(eq[`${issuer}:sub`]), ["system:serviceaccount:kube-system:cluster-autoscaler"]);
      assert.deepEqual(list(eq[`${issuer}:aud`]), ["sts.amazonaws.com"]);
    });

    it("strips the scheme from an issuer given as a URL", async () => {
      const result = await declare(() => {
        new IrsaRole("app", {
          oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/ABC",
          oidcProviderUrl: "https://oidc.eks.ap-northeast-2.amazonaws.com/id/ABC",
          namespace: "apps",
          serviceAccount: "student",
          managedPolicyArns: { s3: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" },
        });
        return {};
      });
      const doc = JSON.parse(String(named(result, ROLE, "app-role").inputs["assumeRolePolicy"])) as PolicyDocument;
      assert.deepEqual(Object.keys(doc.Statement[0].Condition?.["StringEquals"] ?? {}).sort(), [
        "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC:aud",
        "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC:sub",
      ]);
      assert.equal(named(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "app-s3").inputs["role"], "app-role");
    });

    it("trusts an exact list of service accounts, and refuses a pattern", async () => {
      const trusting = (serviceAccount: string | readonly string[]) => (): Record<string, unknown> => {
        new IrsaRole("driver", {
          oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/ABC",
          oidcProviderUrl: "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC",
          namespace: "kube-system",
          serviceAccount,
        });
        return {};
      };
      const result = await declare(trusting(["efs-csi-controller-sa", "efs-csi-node-sa"]));
      const doc = JSON.parse(String(named(result, ROLE, "driver-role").inputs["assumeRolePolicy"])) as PolicyDocument;
      assert.deepEqual(list(doc.Statement[0].Condition?.["StringEquals"]?.["oidc.eks.ap-northeast-2.amazonaws.com/id/ABC:sub"]), [
        "system:serviceaccount:kube-system:efs-csi-controller-sa",
        "system:serviceaccount:kube-system:efs-csi-node-sa",
      ]);
      for (const bad of ["efs-csi-*", []] as const) {
        const { error } = await settleProgram("prod", {}, trusting(bad));
        assert.match(String(error), /serviceAccount must name one or more service accounts exactly \(no patterns\)/, JSON.stringify(bad));
      }
    });
  });

  describe("cluster autoscaler", () => {
    it("installs the pinned official chart through the cluster's k8s provider", () => {
      const r = named(ev, RELEASE, "prod-cluster-autoscaler-release");
      assert.equal(r.inputs["chart"], "cluster-autoscaler");
      assert.equal(r.inputs["version"], "9.59.0");
      assert.deepEqual(r.inputs["repositoryOpts"], { repo: "https://kubernetes.github.io/autoscaler" });
      assert.equal(r.inputs["namespace"], "kube-system");
      assert.equal(r.inputs["name"], "cluster-autoscaler");
      assert.match(String(r.provider), /::prod-k8s::/);
    });

    it("wires cluster name, region and the IRSA role into the chart values", () => {
      const values = named(ev, RELEASE, "prod-cluster-autoscaler-release").inputs["values"] as Record<string, Record<string, unknown>>;
      assert.deepEqual(values["autoDiscovery"], { clusterName: CLUSTER_NAME });
      assert.equal(values["awsRegion"], REGION);
      const sa = (values["rbac"] as Record<string, Record<string, unknown>>)["serviceAccount"];
      assert.equal(sa["create"], true);
      assert.equal(sa["name"], "cluster-autoscaler");
      assert.deepEqual(sa["annotations"], { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/prod-cluster-autoscaler-irsa-role" });
      assert.ok(ofType(ev, ROLE).some((r) => r.name === "prod-cluster-autoscaler-irsa-role"), "the annotated role is the autoscaler's IRSA role");
      assert.deepEqual(values["extraArgs"], {
        "balance-similar-node-groups": true,
        "skip-nodes-with-system-pods": false,
        expander: "least-waste",
      });
    });

    it("runs with requests, limits and a restricted security context", () => {
      const values = named(ev, RELEASE, "prod-cluster-autoscaler-release").inputs["values"] as Record<string, Record<string, unknown>>;
      const resources = values["resources"] as Record<string, Record<string, string>>;
      assert.ok(resources["requests"]["cpu"] && resources["requests"]["memory"]);
      assert.ok(resources["limits"]["cpu"] && resources["limits"]["memory"]);
      assert.equal(values["securityContext"]["runAsNonRoot"], true);
      assert.deepEqual(values["securityContext"]["seccompProfile"], { type: "RuntimeDefault" });
      assert.equal(values["containerSecurityContext"]["allowPrivilegeEscalation"], false);
      assert.deepEqual(values["containerSecurityContext"]["capabilities"], { drop: ["ALL"] });
    });

    it("allows no write action without the cluster's owned-tag condition and no wildcard action", () => {
      const policy = named(ev, ROLE_POLICY, "prod-cluster-autoscaler-irsa-scaling").inputs;
      assert.equal(policy["role"], "prod-cluster-autoscaler-irsa-role");
      const doc = JSON.parse(String(policy["policy"])) as PolicyDocument;
      const writes: string[] = [];
      for (const s of doc.Statement) {
        assert.equal(s.Effect, "Allow");
        const actions = list(s.Action);
        for (const a of actions) {
          assert.doesNotMatch(a, /\*/, `wildcard action ${a}`);
        }
        const write = actions.filter((a) => !/^[a-z0-9-]+:(Describe|Get|List)/.test(a));
        if (write.length === 0) {
          continue;
        }
        writes.push(...write);
        const owned = s.Condition?.["StringEquals"]?.[`aws:ResourceTag/k8s.io/cluster-autoscaler/${CLUSTER_NAME}`];
        assert.deepEqual(list(owned), ["owned"], `${write.join(", ")} must be conditioned on the owned tag`);
      }
      assert.deepEqual(writes.sort(), ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]);
      const nodegroups = doc.Statement.find((s) => list(s.Action).includes("eks:DescribeNodegroup"));
      assert.deepEqual(list(nodegroups?.Resource), [`arn:aws:eks:${REGION}:123456789012:nodegroup/${CLUSTER_NAME}/*`]);
    });
  });

  describe("metrics server", () => {
    it("installs the pinned official chart with resources and a restricted security context", () => {
      const r = named(ev, RELEASE, "prod-metrics-server-release");
      assert.equal(r.inputs["chart"], "metrics-server");
      assert.equal(r.inputs["version"], "3.13.0");
      assert.deepEqual(r.inputs["repositoryOpts"], { repo: "https://kubernetes-sigs.github.io/metrics-server/" });
      assert.equal(r.inputs["namespace"], "kube-system");
      assert.match(String(r.provider), /::prod-k8s::/);
      const values = r.inputs["values"] as Record<string, Record<string, unknown>>;
      assert.equal(values["replicas"], 2);
      assert.ok((values["resources"] as Record<string, unknown>)["limits"]);
      assert.equal(values["securityContext"]["readOnlyRootFilesystem"], true);
      assert.equal(values["podSecurityContext"]["runAsNonRoot"], true);
    });
  });
});
