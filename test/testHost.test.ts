import { strict as assert } from "assert";
import type { DeclaredResource, State } from "../automation/offline/mocks";
import { Certificate } from "../infra/edge/certificate";
import { declare, Evaluation, evaluateStack, Json, list, named, obj, ofType, settleStack, StackConfig } from "./stack";

const T = {
  cert: "aws:acm/certificate:Certificate",
  certValidation: "aws:acm/certificateValidation:CertificateValidation",
  record: "aws:route53/record:Record",
  instance: "aws:ec2/instance:Instance",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  tg: "aws:lb/targetGroup:TargetGroup",
  tga: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  listener: "aws:lb/listener:Listener",
  rule: "aws:lb/listenerRule:ListenerRule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  waf: "aws:wafv2/webAclAssociation:WebAclAssociation",
} as const;

// What the mocks compute for the test stack's database and images bucket.
const SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-test-db-instance";
const BUCKET_ARN = "arn:aws:s3:ap-northeast-2:123456789012:bucket/test-images";
const DB_KEY_ARN = "arn:aws:kms:ap-northeast-2:123456789012:key/test-db-kms";
const BUCKET_KEY_ARN = "arn:aws:kms:ap-northeast-2:123456789012:key/test-images";
const PUBLIC_SUBNETS = ["test-vpc-public-ap-northeast-2a", "test-vpc-public-ap-northeast-2c"];

function policyStatements(r: DeclaredResource): State[] {
  return list(obj(JSON.parse(String(r.inputs["policy"])))["Statement"]).map(obj);
}

/** An edit of one `platform:<key>` object of the test stack file. */
function setting(key: string, values: Record<string, Json>): (c: StackConfig) => void {
  return (c) => {
    c[`platform:${key}`] = { ...((c[`platform:${key}`] ?? {}) as Record<string, Json>), ...values };
  };
}

describe("TestHost and Certificate (test stack)", () => {
  let ev: Evaluation;
  before(async () => {
    ev = await evaluateStack("test");
  });

  const instance = (): DeclaredResource => named(ev, T.instance, "test-host-instance");
  const albSg = (): DeclaredResource => named(ev, T.sg, "test-host-alb");
  const instanceSg = (): DeclaredResource => named(ev, T.sg, "test-host-instance");
  const sgId = (r: DeclaredResource): string => `${r.name}-id`;

  describe("instance", () => {
    it("requires IMDSv2, hop limit 2 only because containers get the bucket grant", () => {
      const md = obj(instance().inputs["metadataOptions"]);
      assert.equal(md["httpTokens"], "required");
      assert.equal(md["httpEndpoint"], "enabled");
      assert.equal(md["httpPutResponseHopLimit"], 2);
    });

    it("has an encrypted gp3 root volume of the configured size", () => {
      const root = obj(instance().inputs["rootBlockDevice"]);
      assert.equal(root["encrypted"], true);
      assert.equal(root["volumeType"], "gp3");
      assert.equal(root["volumeSize"], 30);
    });

    it("runs AL2023 from the public SSM parameter, in the first public subnet, replaced on user data change", () => {
      const i = instance().inputs;
      assert.equal(i["ami"], "ami-0123456789abcdef0");
      const ssm = ev.invokes.filter((x) => x.token === "aws:ssm/getParameter:getParameter");
      assert.deepEqual(
        ssm.map((x) => x.inputs["name"]),
        ["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"],
      );
      assert.equal(i["subnetId"], PUBLIC_SUBNETS[0]);
      assert.equal(i["instanceType"], "t3.medium");
      assert.equal(i["associatePublicIpAddress"], true);
      assert.equal(i["monitoring"], true);
      assert.equal(i["userDataReplaceOnChange"], true);
      assert.deepEqual(i["vpcSecurityGroupIds"], [sgId(instanceSg())]);
      const profile = named(ev, "aws:iam/instanceProfile:InstanceProfile", "test-host-instance");
      assert.equal(profile.inputs["role"], "test-host-instance");
    });

    it("user data runs each service's active image on its own host port and never carries a password", () => {
      const userData = String(instance().inputs["userData"]);
      assert.match(userData, /-p 8001:8080 [\s\S]*'123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\/student:1\.5\.0'/);
      assert.match(userData, /-p 8002:8080 [\s\S]*'123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\/subject:2\.1\.0'/);
      assert.match(userData, /retry docker pull '123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\/student:1\.5\.0'/);
      assert.match(userData, /systemctl enable platform-svc-student\.service platform-svc-subject\.service\nsystemctl start --no-block platform-svc-student\.service platform-svc-subject\.service/);
      assert.match(userData, /--log-driver=awslogs/);
      assert.match(userData, /--log-opt awslogs-group='\/platform\/test-host\/containers'/);
      assert.match(userData, /--security-opt no-new-privileges/);
      assert.match(userData, /--read-only/);
      // The secret is fetched at runtime by ARN; the only "password" text is the jq template.
      assert.ok(userData.includes(`--secret-id '${SECRET_ARN}'`));
      assert.doesNotMatch(userData, /mock-secret-value/);
      const passwordAssignments = userData.match(/\w*PASSWORD=\S*/gi) ?? [];
      assert.deepEqual(passwordAssignments, ["DB_PASSWORD=\\(.password)\"'"]);
      assert.match(userData, /-e DB_HOST='test-db-instance\.cluster\.ap-northeast-2\.rds\.amazonaws\.com'/);
      assert.match(userData, /-e DB_NAME='sugang'/);
      // Only the student service asked for the bucket.
      assert.equal((userData.match(/-e IMAGE_BUCKET='test-images-bucket'/g) ?? []).length, 1);
    });

    it("registers the instance in every target group on the service's host port", () => {
      const attachments = ofType(ev, T.tga).map((a) => [a.name, a.inputs["targetId"], a.inputs["port"]]);
      assert.deepEqual(attachments, [
        ["test-host-student", "test-host-instance-id", 8001],
        ["test-host-subject", "test-host-instance-id", 8002],
      ]);
    });
  });

  describe("IAM", () => {
    it("uses SSM Session Manager through the AWS managed policy", () => {
      const a = named(ev, T.attachment, "test-host-ssm");
      assert.equal(a.inputs["policyArn"], "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    });

    it("grants pulls from the services' repositories only, the DB secret and the log group", () => {
      const statements = policyStatements(named(ev, T.rolePolicy, "test-host-instance"));
      const bySid = new Map(statements.map((s) => [String(s["Sid"]), s]));
      assert.deepEqual(bySid.get("EcrLogin")?.["Resource"], ["*"]);
      assert.deepEqual(bySid.get("EcrLogin")?.["Action"], ["ecr:GetAuthorizationToken"]);
      assert.deepEqual(bySid.get("EcrPull")?.["Resource"], [
        "arn:aws:ecr:ap-northeast-2:123456789012:repository/student",
        "arn:aws:ecr:ap-northeast-2:123456789012:repository/subject",
      ]);
      assert.deepEqual(bySid.get("DatabaseSecret")?.["Resource"], [SECRET_ARN]);
      assert.deepEqual(bySid.get("ImagesObjects")?.["Resource"], [`${BUCKET_ARN}/*`]);
      assert.deepEqual(bySid.get("ImagesList")?.["Resource"], [BUCKET_ARN]);
      // Both keys only through the service that needs them.
      assert.deepEqual(bySid.get("DatabaseSecretKey")?.["Resource"], [DB_KEY_ARN]);
      assert.deepEqual(bySid.get("DatabaseSecretKey")?.["Action"], ["kms:Decrypt"]);
      assert.deepEqual(bySid.get("DatabaseSecretKey")?.["Condition"], { StringEquals: { "kms:ViaService": ["secretsmanager.ap-northeast-2.amazonaws.com"] } });
      assert.deepEqual(bySid.get("ImagesKey")?.["Resource"], [BUCKET_KEY_ARN]);
      assert.deepEqual(bySid.get("ImagesKey")?.["Condition"], { StringEquals: { "kms:ViaService": ["s3.ap-northeast-2.amazonaws.com"] } });
      assert.deepEqual(list(bySid.get("ContainerLogs")?.["Resource"]).length, 1);
      assert.match(String(list(bySid.get("ContainerLogs")?.["Resource"])[0]), /test-host-containers:\*$/);
      for (const s of statements) {
        const actions = list(s["Action"]).map(String);
        const resources = list(s["Resource"]).map(String);
        assert.ok(!(actions.some((a) => a.endsWith("*")) && resources.includes("*")), `wildcard action on * in ${JSON.stringify(s)}`);
        if (resources.includes("*")) {
          assert.deepEqual(actions, ["ecr:GetAuthorizationToken"], "only GetAuthorizationToken may use Resource *");
        }
      }
    });

    it("keeps container logs for the configured retention", () => {
      const lg = named(ev, T.logGroup, "test-host-containers");
      assert.equal(lg.inputs["retentionInDays"], 30);
      assert.equal(lg.inputs["name"], "/platform/test-host/containers");
    });
  });

  describe("security groups", () => {
    it("no rule anywhere opens port 22", () => {
      const rules = [...ofType(ev, T.ingress), ...ofType(ev, T.egress)];
      assert.ok(rules.length > 0);
      for (const r of rules) {
        const from = Number(r.inputs["fromPort"]);
        const to = Number(r.inputs["toPort"]);
        assert.ok(!(from <= 22 && 22 <= to), `${r.name} covers port 22`);
        assert.notEqual(r.inputs["ipProtocol"], "-1", `${r.name} allows all protocols`);
      }
    });

    it("every rule and group is described", () => {
      for (const r of [...ofType(ev, T.ingress), ...ofType(ev, T.egress), ...ofType(ev, T.sg)]) {
        assert.ok(String(r.inputs["description"] ?? "").length > 10, `${r.type} ${r.name} has no description`);
      }
    });

    it("the instance admits only the ALB security group, on each service's host port", () => {
      const ingress = ofType(ev, T.ingress).filter((r) => r.inputs["securityGroupId"] === sgId(instanceSg()));
      assert.deepEqual(
        ingress.map((r) => [r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"], r.inputs["cidrIpv6"]]),
        [
          [sgId(albSg()), 8001, 8001, undefined, undefined],
          [sgId(albSg()), 8002, 8002, undefined, undefined],
        ],
      );
    });

    it("the instance egresses HTTPS and MariaDB inside the VPC only", () => {
      const egress = ofType(ev, T.egress).filter((r) => r.inputs["securityGroupId"] === sgId(instanceSg()));
      assert.deepEqual(
        egress.map((r) => [r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]]),
        [
          [443, 443, "0.0.0.0/0"],
          [3306, 3306, "10.10.0.0/16"],
        ],
      );
    });

    it("the ALB admits 80/443 from anywhere and egresses only to the instance's service ports", () => {
      const ingress = ofType(ev, T.ingress).filter((r) => r.inputs["securityGroupId"] === sgId(albSg()));
      assert.deepEqual(
        ingress.map((r) => [r.inputs["fromPort"], r.inputs["cidrIpv4"] ?? r.inputs["cidrIpv6"]]).sort(),
        [
          [443, "0.0.0.0/0"],
          [443, "::/0"],
          [80, "0.0.0.0/0"],
          [80, "::/0"],
        ],
      );
      const egress = ofType(ev, T.egress).filter((r) => r.inputs["securityGroupId"] === sgId(albSg()));
      assert.deepEqual(
        egress.map((r) => [r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]]),
        [
          [sgId(instanceSg()), 8001],
          [sgId(instanceSg()), 8002],
        ],
      );
      for (const r of ofType(ev, T.ingress)) {
        if (r.inputs["cidrIpv4"] === "0.0.0.0/0" || r.inputs["cidrIpv6"] === "::/0") {
          assert.equal(r.inputs["securityGroupId"], sgId(albSg()), `${r.name} opens a non-ALB group to the internet`);
          assert.ok([80, 443].includes(Number(r.inputs["fromPort"])), `${r.name} opens port ${String(r.inputs["fromPort"])} to the internet`);
        }
      }
    });
  });

  describe("ALB", () => {
    it("is internet-facing, in every public subnet, drops invalid headers", () => {
      const lb = named(ev, T.lb, "test-host-alb");
      assert.equal(lb.inputs["internal"], false);
      assert.equal(lb.inputs["loadBalancerType"], "application");
      assert.deepEqual(lb.inputs["subnets"], PUBLIC_SUBNETS);
      assert.deepEqual(lb.inputs["securityGroups"], [sgId(albSg())]);
      assert.equal(lb.inputs["dropInvalidHeaderFields"], true);
      assert.equal(lb.inputs["enableDeletionProtection"], false);
    });

    it("redirects HTTP to HTTPS with a 301", () => {
      const http = named(ev, T.listener, "test-host-http");
      assert.equal(http.inputs["port"], 80);
      assert.deepEqual(http.inputs["defaultActions"], [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
    });

    it("terminates TLS 1.2+ with the validated certificate and answers 404 by default", () => {
      const https = named(ev, T.listener, "test-host-https");
      assert.equal(https.inputs["port"], 443);
      assert.equal(https.inputs["protocol"], "HTTPS");
      assert.equal(https.inputs["sslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
      // The validation's ARN (not the bare certificate's): the listener waits for issuance.
      const validation = named(ev, T.certValidation, "test-edge-validation");
      assert.equal(https.inputs["certificateArn"], validation.inputs["certificateArn"]);
      assert.equal(https.inputs["certificateArn"], "arn:aws:acm:ap-northeast-2:123456789012:certificate/test-edge-certificate");
      const [action] = list(https.inputs["defaultActions"]).map(obj);
      assert.equal(action["type"], "fixed-response");
      assert.equal(obj(action["fixedResponse"])["statusCode"], "404");
    });

    it("has one target group per service, health-checked on its health path", () => {
      const tgs = ofType(ev, T.tg);
      assert.deepEqual(
        tgs.map((t) => [t.name, t.inputs["port"], t.inputs["targetType"], obj(t.inputs["healthCheck"])["path"], obj(t.inputs["healthCheck"])["matcher"]]),
        [
          ["test-host-student", 8001, "instance", "/actuator/health", "200-399"],
          ["test-host-subject", 8002, "instance", "/sugang/actuator/health", "200-399"],
        ],
      );
      assert.ok(tgs.every((t) => t.inputs["deregistrationDelay"] === 30));
    });

    it("routes longest prefix first with the catch-all last, one rule per path", () => {
      const rules = ofType(ev, T.rule)
        .map((r) => ({
          name: r.name,
          priority: Number(r.inputs["priority"]),
          values: obj(obj(list(r.inputs["conditions"])[0])["pathPattern"])["values"],
          target: String(obj(list(r.inputs["actions"])[0])["targetGroupArn"]),
          listener: r.inputs["listenerArn"],
        }))
        .sort((a, b) => a.priority - b.priority);
      assert.deepEqual(
        rules.map((r) => [r.name, r.values, r.target.split("/").pop()]),
        [
          ["test-host-route-student", ["/student", "/student/*"], "test-host-student"],
          ["test-host-route-sugang", ["/sugang", "/sugang/*"], "test-host-subject"],
          ["test-host-route-admin", ["/admin", "/admin/*"], "test-host-student"],
          ["test-host-route-root", ["/*"], "test-host-student"],
        ],
      );
      assert.ok(rules.every((r) => String(r.listener).endsWith("/test-host-https")), "every rule is on the HTTPS listener");
      assert.equal(new Set(rules.map((r) => r.priority)).size, rules.length);
    });

    it("points the hostname at the ALB with an IPv4 alias record", () => {
      const alias = named(ev, T.record, "test-host-alias");
      assert.equal(alias.inputs["name"], "test.karina-univ.com");
      assert.equal(alias.inputs["type"], "A");
      assert.equal(alias.inputs["zoneId"], "ZKARINAUNIVCOM");
      assert.deepEqual(alias.inputs["aliases"], [{ name: "test-host-alb-123456.ap-northeast-2.elb.amazonaws.com", zoneId: "ZWKZPGTI48KDX", evaluateTargetHealth: true }]);
      assert.equal(ev.outputs["url"], "https://test.karina-univ.com");
    });

    it("associates no WAF unless given", () => {
      assert.equal(ofType(ev, T.waf).length, 0);
    });
  });

  describe("certificate", () => {
    it("covers the host and validates by DNS in the public zone", () => {
      const cert = named(ev, T.cert, "test-edge-certificate");
      assert.equal(cert.inputs["domainName"], "test.karina-univ.com");
      assert.deepEqual(cert.inputs["subjectAlternativeNames"] ?? [], []);
      assert.equal(cert.inputs["validationMethod"], "DNS");
      const zoneLookups = ev.invokes.filter((x) => x.token === "aws:route53/getZone:getZone").map((x) => x.inputs);
      assert.deepEqual(zoneLookups, [{ name: "karina-univ.com", privateZone: false }]);
    });

    it("creates the validation record and waits on it", () => {
      const rec = named(ev, T.record, "test-edge-validation-test.karina-univ.com");
      assert.equal(rec.inputs["type"], "CNAME");
      assert.equal(rec.inputs["name"], "_test-edge-certificate.test.karina-univ.com.");
      assert.deepEqual(rec.inputs["records"], ["_test-edge-certificate.acm-validations.aws."]);
      assert.equal(rec.inputs["allowOverwrite"], true);
      assert.equal(rec.inputs["zoneId"], "ZKARINAUNIVCOM");
      const validation = named(ev, T.certValidation, "test-edge-validation");
      assert.deepEqual(validation.inputs["validationRecordFqdns"], ["_test-edge-certificate.test.karina-univ.com"]);
    });

    it("puts SANs on the certificate and one record per distinct validation name (wildcard shares its apex)", async () => {
      const hosts = ["test.karina-univ.com", "*.test.karina-univ.com", "api.test.karina-univ.com"];
      // The component with explicit hosts: the stack's wiring gives it only the live host.
      const wild = await declare(() => {
        new Certificate("test-edge", { domain: "karina-univ.com", hosts });
        return {};
      }, "test");
      const cert = named(wild, T.cert, "test-edge-certificate");
      assert.equal(cert.inputs["domainName"], "test.karina-univ.com");
      assert.deepEqual(cert.inputs["subjectAlternativeNames"], ["*.test.karina-univ.com", "api.test.karina-univ.com"]);
      const records = ofType(wild, T.record).filter((r) => r.name.startsWith("test-edge-validation-"));
      assert.deepEqual(
        records.map((r) => [r.name, r.inputs["name"]]),
        [
          ["test-edge-validation-test.karina-univ.com", "_test-edge-certificate.test.karina-univ.com."],
          ["test-edge-validation-api.test.karina-univ.com", "_test-edge-certificate.api.test.karina-univ.com."],
        ],
      );
      assert.equal(list(named(wild, T.certValidation, "test-edge-validation").inputs["validationRecordFqdns"]).length, 2);
    });
  });

  it("every AWS resource uses the stack's provider", () => {
    for (const r of ev.resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
      assert.match(String(r.provider), /platform-aws/, `${r.type} ${r.name} does not inherit the stack provider`);
    }
  });

  describe("without database and bucket, with a WAF", () => {
    let bare: Evaluation;
    before(async () => {
      bare = await evaluateStack("test", (c) => {
        setting("database", { enabled: false })(c);
        setting("imagesBucket", { enabled: false })(c);
        setting("waf", { enabled: true })(c);
        for (const s of list(c["platform:services"]).map(obj)) {
          delete s["imageBucketAccess"];
        }
      });
    });

    it("keeps the IMDS hop limit at 1: no container needs the instance role", () => {
      assert.equal(obj(named(bare, T.instance, "test-host-instance").inputs["metadataOptions"])["httpPutResponseHopLimit"], 1);
    });

    it("has no database egress, no secret access and no DB variables", () => {
      assert.deepEqual(
        ofType(bare, T.egress).filter((r) => r.inputs["securityGroupId"] === "test-host-instance-id").map((r) => r.inputs["fromPort"]),
        [443],
      );
      const sids = policyStatements(named(bare, T.rolePolicy, "test-host-instance")).map((s) => s["Sid"]);
      assert.deepEqual(sids, ["EcrLogin", "ContainerLogs", "EcrPull"]);
      const userData = String(named(bare, T.instance, "test-host-instance").inputs["userData"]);
      assert.doesNotMatch(userData, /DB_|secretsmanager|IMAGE_BUCKET/);
    });

    it("associates the web ACL with the ALB", () => {
      const waf = named(bare, T.waf, "test-host-waf");
      assert.match(String(waf.inputs["resourceArn"]), /test-host-alb$/);
      assert.match(String(waf.inputs["webAclArn"]), /webacl\/test/);
    });
  });

  it("rejects a service env that redefines a host variable, in config before anything is declared (the component refuses it too)", async () => {
    const settled = await settleStack("test", (c) => {
      const services = list(c["platform:services"]).map(obj);
      services[1]["env"] = { DB_PASSWORD: "hunter2" };
    });
    assert.match(String(settled.error), /platform:services\[1\]\.env\.DB_PASSWORD: is set by the platform in every container of service "subject" \(value: "\[secret\]"\)/);
    assert.equal(settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0);
  });
});

describe("TestHost argument checks", () => {
  it("rejects imageBucketAccess without an images bucket, in config before anything is declared", async () => {
    const settled = await settleStack("test", setting("imagesBucket", { enabled: false }));
    assert.match(String(settled.error), /platform:services\[0\]\.imageBucketAccess: is true for service "student" but imagesBucket\.enabled is false/);
    assert.equal(settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0);
  });
});
