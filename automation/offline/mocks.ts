/**
 * The one mock table for the Pulumi SDK: resource outputs keyed by type token, invoke results
 * keyed by invoke token. Unknown invokes throw, so a new data source cannot slip in untested.
 *
 * Resource mocks echo the inputs and add what the provider would compute (id, arn, endpoints);
 * ids and ARNs are derived from the logical name so golden summaries are stable.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT_ID = "123456789012";
export const REGION = "ap-northeast-2";

export type State = Record<string, unknown>;

/** One resource as the program declared it. */
export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: State;
  /** Provider reference (`urn::id`), when one was passed or inherited. */
  readonly provider?: string;
  readonly custom: boolean;
  /** Type of the parent resource (from the URN the mock monitor minted), e.g. `platform:data:Database`. */
  readonly parentType?: string;
}

export interface MockContext {
  readonly availabilityZones: readonly string[];
}

type ResourceMock = (name: string, inputs: State, ctx: MockContext) => State;
type InvokeMock = (inputs: State, ctx: MockContext) => State;

const arn = (service: string, resource: string): string => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;

function asStringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function subnetSpecCount(inputs: State, type: string): boolean {
  const specs = Array.isArray(inputs["subnetSpecs"]) ? (inputs["subnetSpecs"] as State[]) : [];
  return specs.some((s) => s["type"] === type);
}

/** Outputs of resources whose providers compute more than an id and an ARN. */
export const resourceMocks: Record<string, ResourceMock> = {
  // awsx v3 and eks v4 are multi-language components: under mocks they are single resources, so
  // the mock returns the outputs the real component would, derived from the declared inputs.
  "awsx:ec2:Vpc": (name, inputs, ctx) => {
    const azs = asStringArray(inputs["availabilityZoneNames"]).length > 0 ? asStringArray(inputs["availabilityZoneNames"]) : [...ctx.availabilityZones];
    const ids = (kind: string): string[] => azs.map((az) => `${name}-${kind}-${az}`);
    return {
      vpcId: `${name}-vpc-id`,
      publicSubnetIds: subnetSpecCount(inputs, "Public") ? ids("public") : [],
      privateSubnetIds: subnetSpecCount(inputs, "Private") ? ids("private") : [],
      isolatedSubnetIds: [],
    };
  },
  "eks:index:Cluster": (name) => ({
    clusterSecurityGroupId: `${name}-cluster-sg`,
    nodeSecurityGroupId: `${name}-node-sg`,
    oidcProviderArn: arn("iam", `oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/${name.toUpperCase()}`).replace(`:${REGION}:`, "::"),
    oidcProviderUrl: `oidc.eks.${REGION}.amazonaws.com/id/${name.toUpperCase()}`,
    oidcIssuer: `https://oidc.eks.${REGION}.amazonaws.com/id/${name.toUpperCase()}`,
    kubeconfigJson: JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name, cluster: { server: `https://${name}.eks.amazonaws.com` } }] }),
    eksCluster: undefined,
  }),
  "aws:eks/cluster:Cluster": (name) => ({ name, endpoint: `https://${name}.eks.amazonaws.com` }),
  "aws:rds/instance:Instance": (name, inputs) => ({
    // The DbiResourceId RDS assigns (`db-` and 26 upper-case characters in reality).
    resourceId: `db-${String(inputs["identifier"] ?? name).toUpperCase().replace(/[^A-Z0-9]/g, "")}`,
    address: `${name}.cluster.${REGION}.rds.amazonaws.com`,
    endpoint: `${name}.cluster.${REGION}.rds.amazonaws.com:3306`,
    port: 3306,
    masterUserSecrets: inputs["manageMasterUserPassword"] === true ? [{ secretArn: arn("secretsmanager", `secret:rds!db-${name}`), secretStatus: "active" }] : [],
  }),
  "aws:lb/loadBalancer:LoadBalancer": (name) => ({
    dnsName: `${name}-123456.${REGION}.elb.amazonaws.com`,
    zoneId: "ZWKZPGTI48KDX",
    arnSuffix: `app/${name}/0123456789abcdef`,
  }),
  "aws:lb/targetGroup:TargetGroup": (name) => ({ arnSuffix: `targetgroup/${name}/0123456789abcdef` }),
  "aws:acm/certificate:Certificate": (name, inputs) => {
    const domains = [String(inputs["domainName"]), ...asStringArray(inputs["subjectAlternativeNames"])];
    return {
      domainValidationOptions: domains.map((d) => ({
        domainName: d,
        resourceRecordName: `_${name}.${d}.`,
        resourceRecordType: "CNAME",
        resourceRecordValue: `_${name}.acm-validations.aws.`,
      })),
    };
  },
  "aws:route53/record:Record": (_name, inputs) => ({ fqdn: String(inputs["name"]).replace(/\.$/, "") }),
  "aws:ecr/repository:Repository": (name, inputs) => ({
    repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${String(inputs["name"] ?? name)}`,
  }),
  "aws:s3/bucket:Bucket": (name, inputs) => ({
    bucket: String(inputs["bucket"] ?? `${name}-bucket`),
    bucketRegionalDomainName: `${String(inputs["bucket"] ?? name)}.s3.${REGION}.amazonaws.com`,
  }),
  "aws:s3/bucketV2:BucketV2": (name, inputs) => ({ bucket: String(inputs["bucket"] ?? `${name}-bucket`) }),
  "aws:apigatewayv2/api:Api": (name) => ({
    apiEndpoint: `https://${name}.execute-api.${REGION}.amazonaws.com`,
    executionArn: arn("execute-api", name),
  }),
  "aws:apigatewayv2/stage:Stage": (name) => ({ invokeUrl: `https://${name}.execute-api.${REGION}.amazonaws.com/` }),
  "aws:lambda/function:Function": (name) => ({ invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/functions/${arn("lambda", `function:${name}`)}/invocations` }),
  "aws:autoscaling/group:Group": (name, inputs) => ({ name: String(inputs["name"] ?? `${name}-asg`) }),
  "aws:kms/key:Key": (name) => ({ keyId: `${name}-key-id` }),
  // A role given a physical name has it in its ARN (the runners' roles); others keep the logical name.
  "aws:iam/role:Role": (name, inputs) => ({ name: String(inputs["name"] ?? name), arn: `arn:aws:iam::${ACCOUNT_ID}:role/${String(inputs["name"] ?? name)}` }),
  "aws:iam/instanceProfile:InstanceProfile": (name) => ({ arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${name}` }),
  "aws:cloudwatch/logGroup:LogGroup": (name, inputs) => ({ name: String(inputs["name"] ?? name) }),
  // RDS groups are auto-named by the provider; the instance refers to them by that name.
  "aws:rds/subnetGroup:SubnetGroup": (name, inputs) => ({ name: String(inputs["name"] ?? name) }),
  "aws:rds/parameterGroup:ParameterGroup": (name, inputs) => ({ name: String(inputs["name"] ?? name) }),
  "aws:rds/optionGroup:OptionGroup": (name, inputs) => ({ name: String(inputs["name"] ?? name) }),
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
  // Managed node groups: EKS names them from the prefix and creates one Auto Scaling group each.
  "aws:eks/nodeGroup:NodeGroup": (name, inputs) => ({
    nodeGroupName: String(inputs["nodeGroupName"] ?? `${String(inputs["nodeGroupNamePrefix"] ?? `${name}-`)}20250101000000000000000001`),
    resources: [{ autoscalingGroups: [{ name: `eks-${name}-asg` }], remoteAccessSecurityGroupId: "" }],
    status: "ACTIVE",
  }),
  // A recognisable generated secret, so tests can scan every declared input for a leak of it.
  "random:index/randomPassword:RandomPassword": (name) => ({
    result: `mock-password-${name}-Zq7`,
    bcryptHash: `$2a$10$mockbcrypt${name.replace(/[^A-Za-z0-9]/g, "")}`,
  }),
  "aws:opensearch/domain:Domain": (name, inputs) => {
    const domainName = String(inputs["domainName"] ?? name);
    return {
      domainName,
      arn: `arn:aws:es:${REGION}:${ACCOUNT_ID}:domain/${domainName}`,
      endpoint: `vpc-${domainName}-mockid.${REGION}.es.amazonaws.com`,
      dashboardEndpoint: `vpc-${domainName}-mockid.${REGION}.es.amazonaws.com/_dashboards`,
    };
  },
  "aws:backup/vault:Vault": (name, inputs) => ({ name: String(inputs["name"] ?? name) }),
};

function policyDocument(inputs: State): State {
  const statements = Array.isArray(inputs["statements"]) ? (inputs["statements"] as State[]) : [];
  const Statement = statements.map((s) => {
    const out: State = { Effect: s["effect"] ?? "Allow" };
    if (s["sid"] !== undefined) out["Sid"] = s["sid"];
    if (s["actions"] !== undefined) out["Action"] = s["actions"];
    if (s["resources"] !== undefined) out["Resource"] = s["resources"];
    if (Array.isArray(s["principals"])) {
      const p: Record<string, unknown> = {};
      for (const pr of s["principals"] as State[]) p[String(pr["type"])] = pr["identifiers"];
      out["Principal"] = p;
    }
    if (Array.isArray(s["conditions"])) {
      const c: Record<string, Record<string, unknown>> = {};
      for (const cond of s["conditions"] as State[]) {
        const test = String(cond["test"]);
        c[test] = { ...(c[test] ?? {}), [String(cond["variable"])]: cond["values"] };
      }
      out["Condition"] = c;
    }
    return out;
  });
  return { json: JSON.stringify({ Version: "2012-10-17", Statement }) };
}

/** Data sources the program may call. Anything else throws. */
export const invokeMocks: Record<string, InvokeMock> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`, userId: "AIDA" }),
  "aws:index/getRegion:getRegion": () => ({ name: REGION, region: REGION, id: REGION }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:iam/getPolicyDocument:getPolicyDocument": (inputs) => policyDocument(inputs),
  "aws:eks/getAddonVersion:getAddonVersion": (inputs) => ({
    id: String(inputs["addonName"]),
    addonName: inputs["addonName"],
    kubernetesVersion: inputs["kubernetesVersion"],
    version: `v1.0.0-eksbuild.${String(inputs["kubernetesVersion"]).replace(".", "")}`,
  }),
  "aws:route53/getZone:getZone": (inputs) => ({ zoneId: `Z${String(inputs["name"]).replace(/[^a-z0-9]/gi, "").toUpperCase()}`, name: inputs["name"] }),
  "aws:ssm/getParameter:getParameter": (inputs) => ({ name: inputs["name"], value: "ami-0123456789abcdef0", type: "String" }),
  "aws:ecr/getRepository:getRepository": (inputs) => ({
    name: inputs["name"],
    arn: arn("ecr", `repository/${String(inputs["name"])}`),
    repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${String(inputs["name"])}`,
  }),
  // Route tables explicitly associated with the filtered subnets: awsx gives each subnet its own.
  "aws:ec2/getRouteTables:getRouteTables": (inputs) => {
    const filters = Array.isArray(inputs["filters"]) ? (inputs["filters"] as State[]) : [];
    const subnets = filters.filter((f) => f["name"] === "association.subnet-id").flatMap((f) => asStringArray(f["values"]));
    return { id: String(inputs["vpcId"]), ids: subnets.map((s) => `rtb-${s}`), vpcId: inputs["vpcId"] };
  },
  "aws:elb/getServiceAccount:getServiceAccount": () => ({ arn: "arn:aws:iam::600734575887:root", id: "600734575887" }),
  // The ALB the load balancer controller creates for an IngressGroup, looked up by its tags.
  "aws:lb/getLoadBalancer:getLoadBalancer": (inputs) => {
    const tags = (inputs["tags"] ?? {}) as Record<string, string>;
    const lbName = `k8s-${tags["ingress.k8s.aws/stack"] ?? "group"}-0123456789`;
    return {
      arn: arn("elasticloadbalancing", `loadbalancer/app/${lbName}/0123456789abcdef`),
      arnSuffix: `app/${lbName}/0123456789abcdef`,
      dnsName: `${lbName}-123456.${REGION}.elb.amazonaws.com`,
      // The canonical hosted zone of ALBs in ap-northeast-2.
      zoneId: "ZWKZPGTI48KDX",
      name: lbName,
      tags,
    };
  },
};

/** Pulumi's wire sentinel marking a serialized secret value (`{ [SECRET_SIG]: SECRET_VALUE, value }`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretValue(v: unknown): v is { value: unknown } {
  return v !== null && typeof v === "object" && SECRET_SIG in v;
}

/** Replaces serialized secrets by their plain values (for schema validation, never for display). */
export function unwrapSecrets(v: unknown): unknown {
  if (isSecretValue(v)) {
    return unwrapSecrets(v.value);
  }
  if (Array.isArray(v)) {
    return v.map(unwrapSecrets);
  }
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** The awaitable form of `pulumi.runtime.waitForRPCs`, which the SDK exports but does not type. */
export async function waitForRegistrations(): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (runtime.waitForRPCs !== undefined) {
    await runtime.waitForRPCs();
  }
}

/** The mock context of the shipped stacks (both use these two AZs). */
export const DEFAULT_MOCK_CONTEXT: MockContext = { availabilityZones: ["ap-northeast-2a", "ap-northeast-2c"] };

/**
 * The state RecordingMocks returns for a resource: an ARN and id derived from the logical name,
 * the inputs echoed, and what `resourceMocks` computes. The offline policy run and the plan's
 * diagram use it to follow references between resources exactly as the mocked program saw them.
 */
export function mockedOutputs(r: { readonly type: string; readonly name: string; readonly inputs: State }, ctx: MockContext = DEFAULT_MOCK_CONTEXT): State {
  const extra = resourceMocks[r.type]?.(r.name, r.inputs, ctx) ?? {};
  const service = r.type.split(":")[1]?.split("/")[0] ?? "svc";
  return { arn: arn(service, `${r.type.split(":").pop()?.toLowerCase() ?? "r"}/${r.name}`), id: mockedId(r.type, r.name), ...r.inputs, ...extra };
}

/** The id RecordingMocks gives a resource. */
export function mockedId(type: string, name: string): string {
  return type.startsWith("pulumi:providers:") ? `${name}-provider-id` : `${name}-id`;
}

/** A fresh recording mock set for one evaluation of the program. */
export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: DeclaredResource[] = [];
  readonly invokes: Array<{ token: string; inputs: State }> = [];

  constructor(private readonly ctx: MockContext) {}

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as State;
    this.resources.push({ type: args.type, name: args.name, inputs, provider: args.provider, custom: args.custom !== false });
    return { id: mockedId(args.type, args.name), state: mockedOutputs({ type: args.type, name: args.name, inputs }, this.ctx) };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const mock = invokeMocks[args.token];
    if (mock === undefined) {
      throw new Error(`unmocked invoke ${args.token}: add it to automation/offline/mocks.ts invokeMocks`);
    }
    const inputs = (args.inputs ?? {}) as State;
    this.invokes.push({ token: args.token, inputs });
    return mock(inputs, this.ctx);
  }
}
