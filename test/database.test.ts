import { strict as assert } from "assert";
import type { DeclaredResource, State } from "../automation/offline/mocks";
import { Bastion } from "../infra/compute/bastion";
import { Database } from "../infra/data/database";
import { checkDbIdentifier, mariadbMajorVersion, mariadbParameterGroupFamily, supportsPerformanceInsights } from "../infra/lib/mariadb";
import { declare, Evaluation, evaluateStack, named, ofType, optionsOf } from "./stack";

const RDS = "aws:rds/instance:Instance";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return "(no error)";
}

/** Every object key anywhere in a value, with its path. */
function keysDeep(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => keysDeep(v, `${path}[${i}]`));
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value as State).flatMap(([k, v]) => [`${path}.${k}`, ...keysDeep(v, `${path}.${k}`)]);
  }
  return [];
}

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

const PROD_PRIVATE_SUBNETS = ["prod-vpc-private-ap-northeast-2a", "prod-vpc-private-ap-northeast-2c"];
const TEST_PUBLIC_SUBNETS = ["test-vpc-public-ap-northeast-2a", "test-vpc-public-ap-northeast-2c"];
/** The prod stack's tags (its file's platform:tags and the ones the provider always sets). */
const PROD_TAGS = { Project: "platform", Environment: "prod", Stack: "prod", ManagedBy: "pulumi", CostCenter: "platform-prod", Owner: "platform-team" };
const PROD_KMS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/prod-db-kms";

/** The `database` output group of a stack. */
function databaseOutputs(ev: Evaluation): Record<string, unknown> {
  return ev.outputs["database"] as Record<string, unknown>;
}

/** Minutes since Monday 00:00 UTC of `ddd:HH:MM`. */
function minuteOfWeek(text: string): number {
  const [day, hh, mm] = text.split(":");
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  return days.indexOf(day) * 1440 + Number(hh) * 60 + Number(mm);
}

describe("database (RDS MariaDB) and bastion", () => {
  describe("pure helpers", () => {
    const families: Array<[string, string]> = [
      ["11.4", "mariadb11.4"],
      ["11.4.5", "mariadb11.4"],
      ["10.11", "mariadb10.11"],
      ["10.6.14", "mariadb10.6"],
      ["11.8", "mariadb11.8"],
    ];
    for (const [version, family] of families) {
      it(`parameter group family of ${version} is ${family}`, () => {
        assert.equal(mariadbParameterGroupFamily(version), family);
      });
    }
    for (const bad of ["11", "v11.4", "", "11.x", "11.4.5.1"]) {
      it(`rejects engine version "${bad}" with the value in the message`, () => {
        assert.throws(() => mariadbParameterGroupFamily(bad), (e: Error) => e.message.includes(`"${bad}"`) && /major\.minor/.test(e.message));
      });
    }
    it("major version drops the patch level", () => {
      assert.equal(mariadbMajorVersion("11.4.7"), "11.4");
    });

    const piSupport: Array<[string, boolean]> = [
      ["db.t4g.micro", false],
      ["db.t4g.small", false],
      ["db.t3.micro", false],
      ["db.t3.small", false],
      ["db.t2.micro", false],
      ["db.t4g.medium", true],
      ["db.t3.large", true],
      ["db.m6g.large", true],
      ["db.r6g.xlarge", true],
    ];
    for (const [cls, supported] of piSupport) {
      it(`Performance Insights on ${cls}: ${supported}`, () => {
        assert.equal(supportsPerformanceInsights(cls), supported);
      });
    }

    const identifiers: Array<[string, boolean]> = [
      ["platform-prod-db", true],
      ["a", true],
      ["Platform-prod", false],
      ["platform--prod", false],
      ["platform-", false],
      ["1platform", false],
      ["a".repeat(63), true],
      ["a".repeat(64), false],
    ];
    for (const [id, valid] of identifiers) {
      it(`identifier "${id.length > 20 ? `${id.slice(0, 8)}...(${id.length})` : id}" is ${valid ? "accepted" : "rejected"}`, () => {
        if (valid) {
          assert.equal(checkDbIdentifier(id), id);
        } else {
          assert.throws(() => checkDbIdentifier(id), /RDS identifier .* is invalid/);
        }
      });
    }
  });

  describe("prod database", () => {
    let run: { ev: Evaluation };
    let db: DeclaredResource;
    before(async () => {
      run = { ev: await evaluateStack("prod") };
      db = named(run.ev, RDS, "prod-db-instance");
    });

    it("is MariaDB 11.4 with an explicit identifier derived from project and component name", () => {
      assert.equal(db.inputs["engine"], "mariadb");
      assert.equal(db.inputs["engineVersion"], "11.4");
      assert.equal(db.inputs["identifier"], "platform-prod-db");
      assert.equal(db.inputs["instanceClass"], "db.m6g.large");
      assert.equal(db.inputs["autoMinorVersionUpgrade"], true);
      assert.equal(db.inputs["allowMajorVersionUpgrade"], false);
    });

    it("lets RDS manage the master password in Secrets Manager and never declares or outputs one", () => {
      assert.equal(db.inputs["manageMasterUserPassword"], true);
      assert.equal(db.inputs["username"], "platform_admin");
      const passwordKeys = run.ev.resources.filter((r) => r.name.startsWith("prod-db")).flatMap((r) =>
        keysDeep(r.inputs).filter((k) => /password(wo)?$/i.test(k) && !/manageMasterUserPassword$/.test(k)).map((k) => `${r.type} ${r.name}${k}`),
      );
      assert.deepEqual(passwordKeys, []);
      assert.deepEqual(Object.keys(databaseOutputs(run.ev)).filter((k) => /password/i.test(k)), []);
      assert.equal(databaseOutputs(run.ev)["masterSecretArn"], "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-prod-db-instance");
      assert.equal(db.inputs["masterUserSecretKmsKeyId"], PROD_KMS_KEY);
      assert.equal(db.inputs["iamDatabaseAuthenticationEnabled"], true);
    });

    it("encrypts gp3 storage with its own rotating KMS key", () => {
      const key = named(run.ev, "aws:kms/key:Key", "prod-db-kms");
      assert.equal(key.inputs["enableKeyRotation"], true);
      assert.equal(db.inputs["storageEncrypted"], true);
      assert.equal(db.inputs["storageType"], "gp3");
      assert.equal(db.inputs["kmsKeyId"], PROD_KMS_KEY);
      assert.equal(db.inputs["allocatedStorage"], 100);
      assert.equal(db.inputs["maxAllocatedStorage"], 500);
    });

    it("is private, multi-AZ, TLS-pinned to the RSA2048 G1 CA, in the given subnets", () => {
      assert.equal(db.inputs["publiclyAccessible"], false);
      assert.equal(db.inputs["multiAz"], true);
      assert.equal(db.inputs["caCertIdentifier"], "rds-ca-rsa2048-g1");
      const subnets = named(run.ev, "aws:rds/subnetGroup:SubnetGroup", "prod-db-subnets");
      assert.deepEqual(subnets.inputs["subnetIds"], PROD_PRIVATE_SUBNETS);
      assert.equal(db.inputs["dbSubnetGroupName"], "prod-db-subnets");
      assert.deepEqual(db.inputs["vpcSecurityGroupIds"], ["prod-db-sg-id"]);
    });

    it("keeps backups, deletion protection and a final snapshot, and defers changes to the window", () => {
      assert.ok(Number(db.inputs["backupRetentionPeriod"]) >= 7);
      assert.equal(db.inputs["deletionProtection"], true);
      assert.equal(db.inputs["skipFinalSnapshot"], false);
      assert.equal(db.inputs["finalSnapshotIdentifier"], "platform-prod-db-final");
      assert.equal(db.inputs["deleteAutomatedBackups"], false);
      assert.equal(db.inputs["copyTagsToSnapshot"], true);
      assert.equal(db.inputs["applyImmediately"], false);
    });

    it("has the protect resource option on the instance, and the KMS key is protected and retained", () => {
      assert.equal(optionsOf(run.ev, RDS, "prod-db-instance").protect, true);
      const key = optionsOf(run.ev, "aws:kms/key:Key", "prod-db-kms");
      assert.equal(key.protect, true);
      assert.equal(key.retainOnDelete, true);
    });

    it("has backup and maintenance windows that do not overlap and fall in the Korean night", () => {
      const [bStart, bEnd] = String(db.inputs["backupWindow"]).split("-");
      const [mStart, mEnd] = String(db.inputs["maintenanceWindow"]).split("-").map(minuteOfWeek);
      const toMin = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
      for (let day = 0; day < 7; day++) {
        const s = day * 1440 + toMin(bStart);
        const e = day * 1440 + toMin(bEnd);
        assert.ok(e <= mStart || s >= mEnd, `backup window ${bStart}-${bEnd} overlaps maintenance on day ${day}`);
      }
      const kstHour = (utcMinuteOfDay: number): number => Math.floor(((utcMinuteOfDay + 9 * 60) % 1440) / 60);
      for (const m of [toMin(bStart), toMin(bEnd) - 1, mStart % 1440, (mEnd - 1) % 1440]) {
        const h = kstHour(m);
        assert.ok(h >= 1 && h < 6, `window edge at ${h}:xx KST is not at night`);
      }
    });

    it("enables Performance Insights (supported on db.m6g) with the instance's key, and Enhanced Monitoring with its role", () => {
      assert.equal(db.inputs["performanceInsightsEnabled"], true);
      assert.equal(db.inputs["performanceInsightsKmsKeyId"], PROD_KMS_KEY);
      assert.equal(db.inputs["monitoringInterval"], 60);
      const role = named(run.ev, "aws:iam/role:Role", "prod-db-monitoring");
      assert.equal(db.inputs["monitoringRoleArn"], "arn:aws:iam::123456789012:role/prod-db-monitoring");
      assert.match(String(role.inputs["assumeRolePolicy"]), /monitoring\.rds\.amazonaws\.com/);
      const attachment = named(run.ev, ATTACHMENT, "prod-db-monitoring");
      assert.equal(attachment.inputs["policyArn"], "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole");
    });

    it("uses a parameter group of the engine's family with utf8mb4 and TLS required", () => {
      const pg = named(run.ev, "aws:rds/parameterGroup:ParameterGroup", "prod-db-params");
      assert.equal(pg.inputs["family"], "mariadb11.4");
      assert.equal(db.inputs["parameterGroupName"], "prod-db-params");
      const params = new Map(list<State>(pg.inputs["parameters"]).map((p) => [String(p["name"]), p]));
      const value = (n: string): unknown => params.get(n)?.["value"];
      assert.equal(value("character_set_server"), "utf8mb4");
      assert.equal(value("collation_server"), "utf8mb4_unicode_ci");
      assert.equal(value("character_set_client"), "utf8mb4");
      assert.equal(value("character_set_connection"), "utf8mb4");
      assert.equal(value("character_set_results"), "utf8mb4");
      assert.equal(value("require_secure_transport"), "1");
      assert.equal(value("log_output"), "FILE", "only FILE logs reach CloudWatch");
      assert.equal(value("slow_query_log"), "1");
      for (const [name, p] of params) {
        assert.ok(["immediate", "pending-reboot"].includes(String(p["applyMethod"])), `${name} has no explicit apply method`);
      }
    });

    it("installs the audit plugin for connections, DDL and DCL and keeps the option group on delete", () => {
      const og = named(run.ev, "aws:rds/optionGroup:OptionGroup", "prod-db-options");
      assert.equal(og.inputs["engineName"], "mariadb");
      assert.equal(og.inputs["majorEngineVersion"], "11.4");
      const [option] = list<State>(og.inputs["options"]);
      assert.equal(option["optionName"], "MARIADB_AUDIT_PLUGIN");
      const settings = new Map(list<State>(option["optionSettings"]).map((s) => [String(s["name"]), String(s["value"])]));
      assert.deepEqual(settings.get("SERVER_AUDIT_EVENTS")?.split(",").sort(), ["CONNECT", "QUERY_DCL", "QUERY_DDL"]);
      assert.equal(db.inputs["optionGroupName"], "prod-db-options");
      assert.equal(optionsOf(run.ev, "aws:rds/optionGroup:OptionGroup", "prod-db-options").retainOnDelete, true);
    });

    it("pre-creates the exported log groups under the instance's name with the stack's retention", () => {
      assert.deepEqual(db.inputs["enabledCloudwatchLogsExports"], ["audit", "error", "slowquery"]);
      const groups = ofType(run.ev, "aws:cloudwatch/logGroup:LogGroup").filter((g) => g.name.startsWith("prod-db-log-"));
      assert.deepEqual(
        groups.map((g) => g.inputs["name"]).sort(),
        ["audit", "error", "slowquery"].map((t) => `/aws/rds/instance/platform-prod-db/${t}`),
      );
      for (const g of groups) {
        assert.equal(g.inputs["retentionInDays"], 90);
      }
    });

    it("has a security group without inline rules; allowFrom adds one 3306 rule per client security group", () => {
      const sg = named(run.ev, SG, "prod-db-sg");
      assert.equal(sg.inputs["vpcId"], "prod-vpc-vpc-id");
      assert.deepEqual(list(sg.inputs["ingress"]), []);
      assert.deepEqual(list(sg.inputs["egress"]), []);
      const rules = ofType(run.ev, INGRESS).filter((r) => r.inputs["securityGroupId"] === "prod-db-sg-id");
      assert.deepEqual(
        rules.map((r) => [r.name, r.inputs["referencedSecurityGroupId"], r.inputs["description"]]).sort(),
        [
          ["prod-db-from-bastion", "prod-bastion-sg-id", "MariaDB from bastion"],
          ["prod-db-from-eks-nodes", "prod-eks-cluster-sg", "MariaDB from eks-nodes"],
        ],
      );
      for (const r of rules) {
        assert.equal(r.inputs["ipProtocol"], "tcp");
        assert.equal(r.inputs["fromPort"], 3306);
        assert.equal(r.inputs["toPort"], 3306);
        assert.equal(r.inputs["cidrIpv4"], undefined);
      }
    });

    it("outputs the endpoint, the database name and the master secret's ARN", () => {
      const o = databaseOutputs(run.ev);
      assert.equal(o["endpoint"], "prod-db-instance.cluster.ap-northeast-2.rds.amazonaws.com:3306");
      assert.equal(o["name"], "sugang");
      assert.match(String(o["masterSecretArn"]), /^arn:aws:secretsmanager:.*:secret:rds!db-prod-db-instance$/);
    });
  });

  describe("prod bastion", () => {
    let run: { ev: Evaluation };
    before(async () => {
      run = { ev: await evaluateStack("prod") };
    });

    it("launches AL2023 from the SSM public parameter with IMDSv2 required, hop limit 1, encrypted gp3 root, no public IP, no key pair", () => {
      const lt = named(run.ev, "aws:ec2/launchTemplate:LaunchTemplate", "prod-bastion-lt");
      const amiLookup = run.ev.invokes.find((i) => i.token === "aws:ssm/getParameter:getParameter");
      assert.equal(amiLookup?.inputs["name"], "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
      assert.equal(lt.inputs["imageId"], "ami-0123456789abcdef0");
      assert.equal(lt.inputs["instanceType"], "t3.micro");
      const md = lt.inputs["metadataOptions"] as State;
      assert.equal(md["httpTokens"], "required");
      assert.equal(md["httpPutResponseHopLimit"], 1);
      assert.equal(md["httpEndpoint"], "enabled");
      const disks = list<State>(lt.inputs["blockDeviceMappings"]);
      assert.equal(disks.length, 1);
      for (const d of disks) {
        const ebs = d["ebs"] as State;
        assert.equal(ebs["encrypted"], "true");
        assert.equal(ebs["volumeType"], "gp3");
      }
      const nics = list<State>(lt.inputs["networkInterfaces"]);
      assert.equal(nics.length, 1);
      assert.equal(nics[0]["associatePublicIpAddress"], "false");
      assert.deepEqual(nics[0]["securityGroups"], ["prod-bastion-sg-id"]);
      assert.equal(lt.inputs["keyName"], undefined);
      assert.equal(lt.inputs["vpcSecurityGroupIds"], undefined, "security groups belong on the interface when one is declared");
      assert.deepEqual(lt.inputs["iamInstanceProfile"], { arn: "arn:aws:iam::123456789012:instance-profile/prod-bastion-profile" });
    });

    it("tags instances, volumes and interfaces at launch, since default tags do not reach ASG instances", () => {
      const lt = named(run.ev, "aws:ec2/launchTemplate:LaunchTemplate", "prod-bastion-lt");
      const specs = list<State>(lt.inputs["tagSpecifications"]);
      assert.deepEqual(specs.map((s) => s["resourceType"]).sort(), ["instance", "network-interface", "volume"]);
      for (const s of specs) {
        assert.deepEqual(s["tags"], { ...PROD_TAGS, Name: "prod-bastion" });
      }
    });

    it("has a security group with no ingress at all and egress only 443 anywhere and 3306 to the VPC", () => {
      const sg = named(run.ev, SG, "prod-bastion-sg");
      assert.deepEqual(list(sg.inputs["ingress"]), []);
      assert.deepEqual(list(sg.inputs["egress"]), []);
      assert.deepEqual(ofType(run.ev, INGRESS).filter((r) => r.inputs["securityGroupId"] === "prod-bastion-sg-id"), []);
      const egress = ofType(run.ev, EGRESS).filter((r) => r.inputs["securityGroupId"] === "prod-bastion-sg-id");
      assert.deepEqual(
        egress.map((r) => [r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]]).sort(),
        [
          ["tcp", 3306, 3306, "10.30.0.0/16"],
          ["tcp", 443, 443, "0.0.0.0/0"],
        ],
      );
      for (const r of egress) {
        assert.ok(String(r.inputs["description"] ?? "").length > 0, `${r.name} has no description`);
      }
    });

    it("grants the instance role only AmazonSSMManagedInstanceCore", () => {
      const role = named(run.ev, "aws:iam/role:Role", "prod-bastion-role");
      assert.match(String(role.inputs["assumeRolePolicy"]), /ec2\.amazonaws\.com/);
      const attached = ofType(run.ev, ATTACHMENT).filter((a) => a.inputs["role"] === "prod-bastion-role");
      assert.deepEqual(attached.map((a) => a.inputs["policyArn"]), ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
      assert.deepEqual(ofType(run.ev, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs["role"] === "prod-bastion-role"), []);
      assert.equal(named(run.ev, "aws:iam/instanceProfile:InstanceProfile", "prod-bastion-profile").inputs["role"], "prod-bastion-role");
    });

    it("runs an ASG of min 1 / max 2 across both private subnets that refreshes on template changes", () => {
      const asg = named(run.ev, "aws:autoscaling/group:Group", "prod-bastion-asg");
      assert.equal(asg.inputs["minSize"], 1);
      assert.equal(asg.inputs["maxSize"], 2);
      assert.equal(asg.inputs["desiredCapacity"], 1);
      assert.deepEqual(asg.inputs["vpcZoneIdentifiers"], PROD_PRIVATE_SUBNETS);
      assert.deepEqual(asg.inputs["launchTemplate"], { id: "prod-bastion-lt-id", version: "1" });
      const refresh = asg.inputs["instanceRefresh"] as State;
      assert.equal(refresh["strategy"], "Rolling");
      assert.equal((refresh["preferences"] as State)["minHealthyPercentage"], 100);
      const tags = list<State>(asg.inputs["tags"]);
      assert.deepEqual(Object.fromEntries(tags.map((t) => [t["key"], t["value"]])), { ...PROD_TAGS, Name: "prod-bastion" });
      // The provider names the group; the mock computes `<logical name>-asg`.
      assert.equal(databaseOutputs(run.ev)["bastionAsgName"], "prod-bastion-asg-asg");
    });

    it("exports the SSM port-forwarding command to the database", () => {
      const cmd = String(databaseOutputs(run.ev)["tunnelCommand"]);
      assert.match(cmd, /^aws ssm start-session --region ap-northeast-2 /);
      assert.match(cmd, /--document-name AWS-StartPortForwardingSessionToRemoteHost/);
      assert.ok(cmd.includes(`--auto-scaling-group-names ${String(databaseOutputs(run.ev)["bastionAsgName"])} `), cmd);
      assert.ok(cmd.includes(`"host":["prod-db-instance.cluster.ap-northeast-2.rds.amazonaws.com"]`), cmd);
      assert.ok(cmd.includes(`"portNumber":["3306"],"localPortNumber":["13306"]`), cmd);
    });

    it("rejects sizes that cannot hold (min above max)", async () => {
      await assert.rejects(
        declare(() => {
          new Bastion("bad", { vpcId: "v", subnetIds: [], vpcCidr: "10.0.0.0/16", instanceType: "t3.micro", minSize: 3, maxSize: 2 });
          return {};
        }),
        /0 <= minSize <= desiredCapacity <= maxSize; got min 3, desired 3, max 2/,
      );
    });
  });

  describe("test database", () => {
    let run: { ev: Evaluation };
    let db: DeclaredResource;
    before(async () => {
      run = { ev: await evaluateStack("test") };
      db = named(run.ev, RDS, "test-db-instance");
    });

    it("is single-AZ, unprotected, skips the final snapshot and applies changes at once", () => {
      assert.equal(db.inputs["multiAz"], false);
      assert.equal(db.inputs["backupRetentionPeriod"], 1);
      assert.equal(db.inputs["deletionProtection"], false);
      assert.equal(db.inputs["skipFinalSnapshot"], true);
      assert.equal(db.inputs["finalSnapshotIdentifier"], undefined);
      assert.equal(db.inputs["deleteAutomatedBackups"], true);
      assert.equal(db.inputs["applyImmediately"], true);
      assert.equal(optionsOf(run.ev, RDS, "test-db-instance").protect, false);
      assert.equal(optionsOf(run.ev, "aws:kms/key:Key", "test-db-kms").retainOnDelete, false);
    });

    it("stays not publicly accessible and encrypted although its subnets are public", () => {
      assert.deepEqual(named(run.ev, "aws:rds/subnetGroup:SubnetGroup", "test-db-subnets").inputs["subnetIds"], TEST_PUBLIC_SUBNETS);
      assert.equal(db.inputs["publiclyAccessible"], false);
      assert.equal(db.inputs["storageEncrypted"], true);
      assert.equal(db.inputs["kmsKeyId"], "arn:aws:kms:ap-northeast-2:123456789012:key/test-db-kms");
      assert.equal(db.inputs["manageMasterUserPassword"], true);
      assert.equal(db.inputs["password"], undefined);
    });

    it("turns Performance Insights off on db.t4g.micro, which does not support it", () => {
      assert.equal(db.inputs["performanceInsightsEnabled"], false);
      assert.equal(db.inputs["performanceInsightsKmsKeyId"], undefined);
    });

    it("admits exactly the test host on 3306 and nothing from the internet", () => {
      const rules = ofType(run.ev, INGRESS).filter((r) => r.inputs["securityGroupId"] === "test-db-sg-id");
      assert.equal(rules.length, 1);
      assert.equal(rules[0].name, "test-db-from-test-host");
      assert.equal(rules[0].inputs["referencedSecurityGroupId"], "test-host-instance-id", "the test host instance's security group");
      assert.equal(rules[0].inputs["fromPort"], 3306);
      assert.equal(rules[0].inputs["toPort"], 3306);
      assert.equal(rules[0].inputs["description"], "MariaDB from test-host");
      assert.equal(rules[0].inputs["cidrIpv4"], undefined);
      assert.deepEqual(list(named(run.ev, SG, "test-db-sg").inputs["ingress"]), []);
    });

    it("refuses a second rule for the same client role and a role that is not a slug", async () => {
      const ev = await declare(() => {
        const db = new Database("test-db", {
          vpcId: "vpc-test",
          subnetIds: TEST_PUBLIC_SUBNETS,
          engineVersion: "11.4",
          instanceClass: "db.t4g.micro",
          allocatedStorageGb: 20,
          maxAllocatedStorageGb: 100,
          multiAz: false,
          backupRetentionDays: 1,
          deletionProtection: false,
          databaseName: "app",
          masterUsername: "platform_admin",
          logRetentionDays: 30,
          protect: false,
          finalSnapshot: false,
        });
        db.allowFrom("test-host", "sg-test-host");
        return {
          duplicateRole: errorOf(() => db.allowFrom("test-host", "sg-other")),
          badRole: errorOf(() => db.allowFrom("Test Host", "sg-other")),
        };
      }, "test");
      assert.match(String(ev.outputs["duplicateRole"]), /"test-host" is already allowed/);
      assert.match(String(ev.outputs["badRole"]), /"Test Host" must be a lower-case slug/);
    });
  });
});
