import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { State } from "../automation/offline/mocks";
import { ACCOUNT_ID, mockedOutputs, REGION } from "../automation/offline/mocks";
import * as k8s from "@pulumi/kubernetes";
import { Edge } from "../infra/edge/edge";
import { stackHosts } from "../infra/lib/hosts";
import { declare, Evaluation, evaluateStack, Json, list, named, obj, ofType, readStackConfig, REPO_ROOT, StackConfig } from "./stack";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import type { ConfigValue } from "../infra/config/defaults";
import type { PlatformConfig } from "../infra/config/schema";
import { albGroupAnnotations, loadBalancerAttributes, TLS_POLICY } from "../infra/lib/edge";

const T = {
  cert: "aws:acm/certificate:Certificate",
  record: "aws:route53/record:Record",
  bucket: "aws:s3/bucket:Bucket",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  release: "kubernetes:helm.sh/v3:Release",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;
const ALB = "alb.ingress.kubernetes.io";
const GET_LB = "aws:lb/getLoadBalancer:getLoadBalancer";


describe("ALB group annotations (pure)", () => {
  const attributeCases: Array<{ name: string; deletionProtection: boolean; idle: number; expected: string }> = [
    {
      name: "prod (deletion protection on)",
      deletionProtection: true,
      idle: 60,
      expected:
        "access_logs.s3.bucket=logs-bucket,access_logs.s3.enabled=true,access_logs.s3.prefix=prod,deletion_protection.enabled=true," +
        "idle_timeout.timeout_seconds=60,routing.http.drop_invalid_header_fields.enabled=true",
    },
    {
      name: "staging (deletion protection off, long idle timeout)",
      deletionProtection: false,
      idle: 300,
      expected:
        "access_logs.s3.bucket=logs-bucket,access_logs.s3.enabled=true,access_logs.s3.prefix=prod,deletion_protection.enabled=false," +
        "idle_timeout.timeout_seconds=300,routing.http.drop_invalid_header_fields.enabled=true",
    },
  ];
  for (const c of attributeCases) {
    it(`load-balancer-attributes for ${c.name}: access logs, drop invalid headers, sorted keys`, () => {
      assert.equal(
        loadBalancerAttributes({ accessLogBucket: "logs-bucket", accessLogPrefix: "prod", deletionProtection: c.deletionProtection, idleTimeoutSeconds: c.idle }),
        c.expected,
      );
    });
  }

  const badAttributes: Array<[string, { prefix: string; idle: number }, RegExp]> = [
    ["an idle timeout of 0", { prefix: "prod", idle: 0 }, /outside the ALB's 1-4000 seconds/],
    ["an idle timeout above 4000", { prefix: "prod", idle: 4001 }, /outside the ALB's 1-4000 seconds/],
    ["a prefix with a leading slash", { prefix: "/prod", idle: 60 }, /must not start or end with/],
    ["a prefix containing AWSLogs", { prefix: "x/AWSLogs", idle: 60 }, /contain "AWSLogs"/],
  ];
  for (const [why, s, message] of badAttributes) {
    it(`rejects ${why}`, () => {
      assert.throws(
        () => loadBalancerAttributes({ accessLogBucket: "b", accessLogPrefix: s.prefix, deletionProtection: false, idleTimeoutSeconds: s.idle }),
        message,
      );
    });
  }

  const annotationCases: Array<{ name: string; webAclArn?: string; waf: string }> = [
    { name: "with WAF", webAclArn: "arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/prod/1", waf: "arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/prod/1" },
    { name: "without WAF (explicitly detached)", webAclArn: undefined, waf: "none" },
  ];
  for (const c of annotationCases) {
    it(`group annotations ${c.name}: internet-facing, pod IPs, HTTPS with redirect, TLS 1.2+, certificate, attributes`, () => {
      const a = albGroupAnnotations<string>({ certificateArn: "arn:cert", attributes: "k=v", webAclArn: c.webAclArn });
      assert.deepEqual(a, {
        [`${ALB}/scheme`]: "internet-facing",
        [`${ALB}/target-type`]: "ip",
        [`${ALB}/ip-address-type`]: "ipv4",
        [`${ALB}/listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]',
        [`${ALB}/ssl-redirect`]: "443",
        [`${ALB}/certificate-arn`]: "arn:cert",
        [`${ALB}/ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        [`${ALB}/load-balancer-attributes`]: "k=v",
        [`${ALB}/wafv2-acl-arn`]: c.waf,
      });
      assert.deepEqual(JSON.parse(String(a[`${ALB}/listen-ports`])), [{ HTTP: 80 }, { HTTPS: 443 }]);
    });
  }

  it("uses the TLS 1.3/1.2 policy the test host's listener uses", () => {
    assert.equal(TLS_POLICY, "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert.match(fs.readFileSync(path.join(REPO_ROOT, "infra", "compute", "testHost.ts"), "utf8"), new RegExp(`sslPolicy: "${TLS_POLICY}"`));
  });
});

/** ArgoCD switched on and served through the stack's ALB, so the edge carries an extra host. */
function exposeArgoCd(c: StackConfig): void {
  c["platform:argocd"] = { ...((c["platform:argocd"] ?? {}) as Record<string, Json>), enabled: true, exposed: true, allowedCidrs: ["203.0.113.0/24"] };
}

/** The prod stack through the program, with ArgoCD (which prod runs) exposed. */
function exposedProd(): Promise<Evaluation> {
  return evaluateStack("prod", exposeArgoCd);
}

/** The group-wide annotations as an Ingress of the group carries them (the student service's). */
function groupAnnotations(ev: Evaluation): Record<string, string> {
  return obj(obj(named(ev, "kubernetes:networking.k8s.io/v1:Ingress", "student-ingress").inputs["metadata"])["annotations"]) as Record<string, string>;
}

/** The `edge` output group. */
function edgeOutputs(ev: Evaluation): Record<string, unknown> {
  return obj(ev.outputs["edge"]);
}

describe("Edge (EKS stacks)", () => {
  let prod: Evaluation;
  let staging: Evaluation;
  before(async () => {
    prod = await exposedProd();
    staging = await evaluateStack("staging");
  });

  describe("hosts, certificate and DNS", () => {
    const expected: Record<"prod" | "staging", string[]> = {
      prod: ["karina-univ.com", "preview.karina-univ.com", "log.karina-univ.com", "monitoring.karina-univ.com", "argocd.karina-univ.com"],
      staging: ["staging.karina-univ.com", "preview.staging.karina-univ.com", "log.staging.karina-univ.com", "monitoring.staging.karina-univ.com"],
    };
    for (const stack of ["prod", "staging"] as const) {
      it(`${stack}: one DNS-validated certificate covers the live (apex in prod), preview, log, monitoring and extra (exposed ArgoCD) hosts`, () => {
        const ev = stack === "prod" ? prod : staging;
        const certs = ofType(ev, T.cert);
        assert.equal(certs.length, 1);
        const c = certs[0].inputs;
        assert.equal(c["validationMethod"], "DNS");
        assert.deepEqual([c["domainName"], ...list(c["subjectAlternativeNames"])], expected[stack]);
      });

      it(`${stack}: every host has an A alias to the controller's ALB, evaluating target health`, () => {
        const ev = stack === "prod" ? prod : staging;
        const aliases = ofType(ev, T.record).filter((r) => r.name.startsWith(`${stack}-alias-`));
        assert.deepEqual(
          aliases.map((r) => r.inputs["name"]),
          expected[stack],
        );
        assert.deepEqual(
          aliases.map((r) => r.name),
          [`${stack}-alias-live`, `${stack}-alias-preview`, `${stack}-alias-logs`, `${stack}-alias-monitoring`, ...(stack === "prod" ? ["prod-alias-argocd.karina-univ.com"] : [])],
        );
        for (const r of aliases) {
          assert.equal(r.inputs["type"], "A");
          assert.equal(r.inputs["zoneId"], "ZKARINAUNIVCOM");
          assert.deepEqual(r.inputs["aliases"], [
            { name: `k8s-${stack}-0123456789-123456.${REGION}.elb.amazonaws.com`, zoneId: "ZWKZPGTI48KDX", evaluateTargetHealth: true },
          ]);
        }
      });

      it(`${stack}: looks the ALB up by the controller's cluster and IngressGroup tags`, () => {
        const ev = stack === "prod" ? prod : staging;
        const lookups = ev.invokes.filter((i) => i.token === GET_LB);
        assert.equal(lookups.length, 1);
        assert.deepEqual(lookups[0].inputs["tags"], { "elbv2.k8s.aws/cluster": `platform-${stack}`, "ingress.k8s.aws/stack": stack });
      });
    }

    it("refuses a second publish (all Ingresses go in one call)", async () => {
      const ev = await declare(() => {
        const edge = new Edge("prod", { domain: "karina-univ.com", hosts: stackHosts("prod", "karina-univ.com"), clusterName: "platform-prod", groupName: "prod" });
        const ingress = new k8s.networking.v1.Ingress("probe", { metadata: { name: "probe", namespace: "apps", annotations: edge.ingressGroupAnnotations } });
        edge.publish([ingress]);
        try {
          edge.publish([ingress]);
          return { second: "no error" };
        } catch (err) {
          return { second: String(err) };
        }
      });
      assert.match(String(ev.outputs["second"]), /already called/);
    });

    it("health-checks the live host over HTTPS on the first service's health path, with a us-east-1 alarm", () => {
      const check = named(prod, T.healthCheck, "prod-health").inputs;
      assert.equal(check["type"], "HTTPS");
      assert.equal(check["fqdn"], "karina-univ.com");
      assert.equal(check["port"], 443);
      assert.equal(check["resourcePath"], "/actuator/health");
      assert.equal(check["failureThreshold"], 3);
      assert.equal(check["requestInterval"], 30);
      assert.equal(check["enableSni"], true);
      const alarm = named(prod, T.alarm, "prod-health").inputs;
      assert.equal(alarm["region"], "us-east-1");
      assert.equal(alarm["namespace"], "AWS/Route53");
      assert.equal(alarm["metricName"], "HealthCheckStatus");
      assert.deepEqual(alarm["dimensions"], { HealthCheckId: "prod-health-id" });
      assert.equal(alarm["comparisonOperator"], "LessThanThreshold");
      assert.equal(alarm["threshold"], 1);
    });

    it("declares no health check when edge.healthCheck is off", async () => {
      const ev = await evaluateStack("staging", (c) => {
        c["platform:edge"] = { healthCheck: false };
      });
      assert.equal(ofType(ev, T.healthCheck).length, 0);
      assert.equal(ofType(ev, T.alarm).length, 0);
    });
  });

  describe("ingress group annotations", () => {
    const annotations = groupAnnotations;

    it("terminate TLS with the validated certificate, redirect HTTP to HTTPS, TLS 1.2+ only", () => {
      const a = annotations(prod);
      assert.equal(a[`${ALB}/certificate-arn`], edgeOutputs(prod)["certificateArn"]);
      assert.equal(a[`${ALB}/ssl-redirect`], "443");
      assert.deepEqual(JSON.parse(a[`${ALB}/listen-ports`]), [{ HTTP: 80 }, { HTTPS: 443 }]);
      assert.equal(a[`${ALB}/ssl-policy`], "ELBSecurityPolicy-TLS13-1-2-2021-06");
      assert.equal(a[`${ALB}/scheme`], "internet-facing");
      assert.equal(a[`${ALB}/target-type`], "ip");
    });

    it("send access logs to the stack's log bucket, drop invalid headers, and protect prod's ALB from deletion", () => {
      const attrs = (ev: Evaluation): Record<string, string> =>
        Object.fromEntries(annotations(ev)[`${ALB}/load-balancer-attributes`].split(",").map((kv) => kv.split("=") as [string, string]));
      const p = attrs(prod);
      assert.equal(p["access_logs.s3.enabled"], "true");
      assert.equal(p["access_logs.s3.bucket"], edgeOutputs(prod)["accessLogBucket"]);
      assert.equal(p["access_logs.s3.prefix"], "prod");
      assert.equal(p["routing.http.drop_invalid_header_fields.enabled"], "true");
      assert.equal(p["deletion_protection.enabled"], "true");
      assert.equal(p["idle_timeout.timeout_seconds"], "60");
      assert.equal(attrs(staging)["deletion_protection.enabled"], "false");
    });

    it("attach the WAF web ACL in prod and explicitly detach it in staging (WAF off)", () => {
      assert.equal(annotations(prod)[`${ALB}/wafv2-acl-arn`], "arn:aws:wafv2:ap-northeast-2:123456789012:webacl/prod-waf-acl");
      assert.equal(annotations(staging)[`${ALB}/wafv2-acl-arn`], "none");
    });
  });

  describe("access log bucket", () => {
    it("is encrypted with SSE-S3 (ALB log delivery does not support SSE-KMS)", () => {
      const sse = named(prod, T.sse, "prod-alb-logs").inputs;
      assert.deepEqual(sse["rules"], [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    });

    it("blocks public access and disables ACLs", () => {
      const pab = named(prod, T.pab, "prod-alb-logs").inputs;
      for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
        assert.equal(pab[k], true, k);
      }
      assert.deepEqual(named(prod, T.ownership, "prod-alb-logs").inputs["rule"], { objectOwnership: "BucketOwnerEnforced" });
    });

    it("expires logs after edge.accessLogExpirationDays (365 in prod, 90 in staging)", () => {
      const expiry = (ev: Evaluation, stack: string): unknown =>
        list(named(ev, T.lifecycle, `${stack}-alb-logs`).inputs["rules"])
          .map(obj)
          .find((r) => r["id"] === "expire-access-logs")?.["expiration"];
      assert.deepEqual(expiry(prod, "prod"), { days: 365 });
      assert.deepEqual(expiry(staging, "staging"), { days: 90 });
    });

    it("lets only the regional ELB account write this account's logs under the group's prefix, over TLS", () => {
      const doc = obj(JSON.parse(String(named(prod, T.bucketPolicy, "prod-alb-logs").inputs["policy"])));
      const statements = list(doc["Statement"]).map(obj);
      const allow = statements.find((s) => s["Sid"] === "AllowElbAccessLogDelivery");
      assert.ok(allow !== undefined);
      assert.deepEqual(allow["Principal"], { AWS: ["arn:aws:iam::600734575887:root"] });
      assert.deepEqual(allow["Action"], ["s3:PutObject"]);
      assert.deepEqual(allow["Resource"], [`arn:aws:s3:${REGION}:${ACCOUNT_ID}:bucket/prod-alb-logs/prod/AWSLogs/${ACCOUNT_ID}/*`]);
      const deny = statements.find((s) => s["Sid"] === "DenyInsecureTransport");
      assert.equal(deny?.["Effect"], "Deny");
      assert.deepEqual(obj(deny?.["Condition"])["Bool"], { "aws:SecureTransport": ["false"] });
    });
  });
});

describe("AWS Load Balancer Controller", () => {
  let ev: Evaluation;
  before(async () => {
    ev = await exposedProd();
  });
  const release = (): State => named(ev, T.release, "prod-aws-load-balancer-controller-release").inputs;
  const values = (): State => obj(release()["values"]);

  it("installs the pinned official chart into kube-system through the cluster's k8s provider", () => {
    const r = named(ev, T.release, "prod-aws-load-balancer-controller-release");
    assert.equal(r.inputs["chart"], "aws-load-balancer-controller");
    assert.equal(r.inputs["version"], "1.12.0");
    assert.deepEqual(r.inputs["repositoryOpts"], { repo: "https://aws.github.io/eks-charts" });
    assert.equal(r.inputs["namespace"], "kube-system");
    assert.equal(r.inputs["name"], "aws-load-balancer-controller");
    assert.match(String(r.provider), /::prod-k8s::/);
  });

  it("pins the IRSA role's trust to kube-system/aws-load-balancer-controller and the STS audience", () => {
    const doc = obj(JSON.parse(String(named(ev, T.role, "prod-aws-load-balancer-controller-irsa-role").inputs["assumeRolePolicy"])));
    const [s] = list(doc["Statement"]).map(obj);
    assert.deepEqual(s["Action"], ["sts:AssumeRoleWithWebIdentity"]);
    const eks = mockedOutputs(named(ev, "eks:index:Cluster", "prod-eks"));
    assert.deepEqual(s["Principal"], { Federated: [eks["oidcProviderArn"]] });
    const issuer = String(eks["oidcProviderUrl"]);
    assert.deepEqual(obj(s["Condition"])["StringEquals"], {
      [`${issuer}:sub`]: ["system:serviceaccount:kube-system:aws-load-balancer-controller"],
      [`${issuer}:aud`]: ["sts.amazonaws.com"],
    });
  });

  it("grants exactly the vendored upstream policy of the pinned controller version", () => {
    const policy = named(ev, T.rolePolicy, "prod-aws-load-balancer-controller-irsa-controller").inputs;
    assert.equal(policy["role"], "prod-aws-load-balancer-controller-irsa-role");
    const vendored = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "infra", "addons", "policies", "aws-load-balancer-controller-v2.12.0.iam_policy.json"), "utf8"),
    ) as Json;
    assert.deepEqual(JSON.parse(String(policy["policy"])), vendored);
    const readme = fs.readFileSync(path.join(REPO_ROOT, "infra", "addons", "policies", "README.md"), "utf8");
    assert.match(readme, /kubernetes-sigs\/aws-load-balancer-controller\/v2\.12\.0\/docs\/install\/iam_policy\.json/);
    for (const s of list(obj(vendored)["Statement"]).map(obj)) {
      assert.notDeepEqual(s["Action"], "*", "no wildcard action");
      for (const a of [s["Action"]].flat() as string[]) {
        assert.doesNotMatch(a, /:\*$|^\*$/, `wildcard action ${a}`);
      }
    }
  });

  it("tells the controller its cluster, region and VPC (IMDS is out of reach with hop limit 1)", () => {
    const v = values();
    assert.equal(v["clusterName"], "platform-prod");
    assert.equal(v["region"], REGION);
    assert.equal(v["vpcId"], "prod-vpc-vpc-id");
  });

  it("annotates the chart's service account with the IRSA role", () => {
    assert.deepEqual(values()["serviceAccount"], {
      create: true,
      name: "aws-load-balancer-controller",
      annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::${ACCOUNT_ID}:role/prod-aws-load-balancer-controller-irsa-role` },
    });
  });

  it("runs 2 replicas with a PDB, zone spread, resources and a restricted security context", () => {
    const v = values();
    assert.equal(v["replicaCount"], 2);
    assert.deepEqual(v["podDisruptionBudget"], { maxUnavailable: 1 });
    assert.equal(obj(list(v["topologySpreadConstraints"])[0])["topologyKey"], "topology.kubernetes.io/zone");
    const resources = obj(v["resources"]);
    assert.ok(obj(resources["requests"])["cpu"] && obj(resources["limits"])["memory"]);
    const sc = obj(v["securityContext"]);
    assert.equal(sc["allowPrivilegeEscalation"], false);
    assert.equal(sc["readOnlyRootFilesystem"], true);
    assert.deepEqual(sc["capabilities"], { drop: ["ALL"] });
    assert.deepEqual(sc["seccompProfile"], { type: "RuntimeDefault" });
  });

  it("does not take over Services of type LoadBalancer (service mutator webhook off) and creates the alb IngressClass", () => {
    const v = values();
    assert.equal(v["enableServiceMutatorWebhook"], false);
    assert.equal(v["ingressClass"], "alb");
    assert.equal(v["createIngressClassResource"], true);
    // The stack's tags on what the controller creates, marked as the controller's.
    assert.deepEqual(v["defaultTags"], {
      CostCenter: "platform-prod",
      Owner: "platform-team",
      Project: "platform",
      Environment: "prod",
      Stack: "prod",
      ManagedBy: "aws-load-balancer-controller",
    });
  });
});

/** The stack file's `platform:*` keys as the program sees them (namespace stripped). */
function parse(stack: string, mutate?: (c: StackConfig) => void): PlatformConfig {
  const config = readStackConfig(stack);
  mutate?.(config);
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      raw[k.slice("platform:".length)] = v as ConfigValue;
    }
  }
  return parsePlatformConfig(stack, raw, config["aws:region"] as string | undefined);
}

describe("edge, waf and argocd config", () => {
  it("ships prod with WAF, ALB deletion protection, a year of access logs and HA ArgoCD; staging without WAF", () => {
    const prodCfg = parse("prod");
    assert.deepEqual(prodCfg.waf, { enabled: true, rateLimitPer5Min: 2000 });
    assert.equal(prodCfg.edge.deletionProtection, true);
    assert.equal(prodCfg.edge.accessLogExpirationDays, 365);
    assert.equal(prodCfg.argocd.enabled, true);
    assert.equal(prodCfg.argocd.highAvailability, true);
    assert.equal(prodCfg.argocd.exposed, false);
    const stagingCfg = parse("staging");
    assert.equal(stagingCfg.waf.enabled, false);
    assert.equal(stagingCfg.edge.deletionProtection, false);
    assert.equal(stagingCfg.argocd.enabled, false);
  });

  interface Case {
    readonly name: string;
    readonly mutate: (c: StackConfig) => void;
    readonly key: string;
    readonly expect: readonly string[];
  }
  const cases: Case[] = [
    {
      name: "a WAF rate limit below WAF's minimum of 10",
      mutate: (c) => (c["platform:waf"] = { rateLimitPer5Min: 5 }),
      key: "platform:waf.rateLimitPer5Min",
      expect: ["(value: 5)", "at least 10"],
    },
    {
      name: "a fractional WAF rate limit",
      mutate: (c) => (c["platform:waf"] = { rateLimitPer5Min: 100.5 }),
      key: "platform:waf.rateLimitPer5Min",
      expect: ["(value: 100.5)"],
    },
    {
      name: "an unknown waf key (typo)",
      mutate: (c) => (c["platform:waf"] = { enable: true }),
      key: "platform:waf.enable",
      expect: ["unknown config key", 'did you mean "platform:waf.enabled"?'],
    },
    {
      name: "an ALB idle timeout of 0",
      mutate: (c) => (c["platform:edge"] = { idleTimeoutSeconds: 0 }),
      key: "platform:edge.idleTimeoutSeconds",
      expect: ["(value: 0)", "at least 1"],
    },
    {
      name: "an ALB idle timeout above 4000",
      mutate: (c) => (c["platform:edge"] = { idleTimeoutSeconds: 5000 }),
      key: "platform:edge.idleTimeoutSeconds",
      expect: ["(value: 5000)", "at most 4000"],
    },
    {
      name: "an ArgoCD allowed CIDR with host bits set",
      mutate: (c) => (c["platform:argocd"] = { allowedCidrs: ["203.0.113.7/24"] }),
      key: "platform:argocd.allowedCidrs[0]",
      expect: ["203.0.113.7/24", "CIDR notation"],
    },
    {
      name: "an ArgoCD application from an ftp:// URL",
      mutate: (c) =>
        (c["platform:argocd"] = { applications: [{ name: "college", repoURL: "ftp://example.com/charts", path: "chart", targetRevision: "main", namespace: "college" }] }),
      key: "platform:argocd.applications[0].repoURL",
      expect: ["https://, ssh:// or git@"],
    },
    {
      name: "an ArgoCD application with an upper-case namespace",
      mutate: (c) =>
        (c["platform:argocd"] = {
          applications: [{ name: "college", repoURL: "https://github.com/mwsun0303/College_Student_Chart", path: ".", targetRevision: "main", namespace: "College" }],
        }),
      key: "platform:argocd.applications[0].namespace",
      expect: ['(value: "College")'],
    },
    {
      name: "an ArgoCD application without targetRevision",
      mutate: (c) =>
        (c["platform:argocd"] = { applications: [{ name: "college", repoURL: "https://github.com/mwsun0303/College_Student_Chart", path: ".", namespace: "college" }] }),
      key: "platform:argocd.applications[0].targetRevision",
      expect: ["unset"],
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      let error: ConfigError | undefined;
      try {
        parse("prod", c.mutate);
      } catch (err) {
        if (!(err instanceof ConfigError)) {
          throw err;
        }
        error = err;
      }
      assert.ok(error !== undefined, "expected a ConfigError");
      const line = error.message.split("\n").find((l) => l.startsWith(`  - ${c.key}:`));
      assert.ok(line !== undefined, `no problem reported for ${c.key} in:\n${error.message}`);
      for (const fragment of c.expect) {
        assert.ok(line.includes(fragment), `"${line}" should contain ${fragment}`);
      }
    });
  }
});
