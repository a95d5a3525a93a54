import { strict as assert } from "assert";
import {
  availabilityZoneProblem,
  CATALOG_REVIEWED,
  ec2InstanceTypeProblem,
  mariadbVersionProblem,
  opensearchInstanceTypeProblem,
  opensearchVersionProblem,
  rdsInstanceClassProblem,
} from "../infra/lib/awsCatalog";
import { cpuCores, maxServiceNameLength, memoryBytes, routePathProblem } from "../infra/config/schema/deployable";
import { readStackConfig, STACKS } from "./stack";

describe("AWS catalog (maintained lists, pure)", () => {
  const cases: Array<[string, (v: string) => string | undefined, string, RegExp | undefined]> = [
    ["zone", (v) => availabilityZoneProblem(v, "ap-northeast-2"), "ap-northeast-2a", undefined],
    ["zone", (v) => availabilityZoneProblem(v, "ap-northeast-2"), "ap-northeast-2d", undefined],
    ["zone", (v) => availabilityZoneProblem(v, "ap-northeast-2"), "ap-northeast-2e", /ap-northeast-2e does not exist: ap-northeast-2 has zones ap-northeast-2a, ap-northeast-2b, ap-northeast-2c, ap-northeast-2d/],
    ["zone", (v) => availabilityZoneProblem(v, "ap-northeast-2"), "ap-northeast-1a", /is not a zone of ap-northeast-2/],
    ["zone", (v) => availabilityZoneProblem(v, "ap-northeast-2"), "ap-northeast-2aa", /is not a zone of ap-northeast-2/],
    ["zone", (v) => availabilityZoneProblem(v, "xx-moon-1"), "xx-moon-1a", /region xx-moon-1 is not in the maintained zone list/],
    ["EC2", ec2InstanceTypeProblem, "t3.large", undefined],
    ["EC2", ec2InstanceTypeProblem, "m7g.medium", undefined],
    ["EC2", ec2InstanceTypeProblem, "t2.micro", undefined],
    ["EC2", ec2InstanceTypeProblem, "t3.4xlarge", /t3 has no size "4xlarge"/],
    ["EC2", ec2InstanceTypeProblem, "m4.large", /not an EC2 instance type of a current family/],
    ["EC2", ec2InstanceTypeProblem, "t3.large.search", /not an EC2 instance type/],
    ["RDS", rdsInstanceClassProblem, "db.t4g.micro", undefined],
    ["RDS", rdsInstanceClassProblem, "db.m6g.large", undefined],
    ["RDS", rdsInstanceClassProblem, "db.t2.micro", /not an RDS instance class offered for MariaDB/],
    ["RDS", rdsInstanceClassProblem, "db.m6g.micro", /db.m6g has no size "micro"/],
    ["MariaDB", mariadbVersionProblem, "11.4", undefined],
    ["MariaDB", mariadbVersionProblem, "10.11.9", undefined],
    ["MariaDB", mariadbVersionProblem, "10.6", /MariaDB 10.6 is not a major version RDS supports/],
    ["MariaDB", mariadbVersionProblem, "11", /not a MariaDB version/],
    ["OpenSearch", opensearchVersionProblem, "OpenSearch_2.19", undefined],
    ["OpenSearch", opensearchVersionProblem, "Elasticsearch_7.10", /not an OpenSearch Service version of the list/],
    ["OpenSearch type", opensearchInstanceTypeProblem, "m6g.large.search", undefined],
    ["OpenSearch type", opensearchInstanceTypeProblem, "t3.large.search", /t3 has no size "large"/],
    ["OpenSearch type", opensearchInstanceTypeProblem, "m6g.large", /not an OpenSearch Service instance type/],
  ];
  for (const [what, check, value, expected] of cases) {
    it(`${what}: ${expected === undefined ? "accepts" : "refuses"} ${value}`, () => {
      const problem = check(value);
      if (expected === undefined) {
        assert.equal(problem, undefined);
      } else {
        assert.match(problem ?? "(accepted)", expected);
      }
    });
  }

  it("is dated, and every value the shipped stacks use is on it", () => {
    assert.match(CATALOG_REVIEWED, /^\d{4}-\d{2}-\d{2}$/);
    for (const stack of STACKS) {
      const c = readStackConfig(stack);
      for (const az of c["platform:availabilityZones"] as string[]) {
        assert.equal(availabilityZoneProblem(az, String(c["aws:region"])), undefined, `${stack}: ${az}`);
      }
    }
  });
});

describe("deployable shapes (pure)", () => {
  const paths: Array<[string, RegExp | undefined]> = [
    ["/", undefined],
    ["/student", undefined],
    ["/student/*", undefined],
    ["/api/v1.2/items~x", undefined],
    ["/stu*dent", /contains a wildcard/],
    ["/api/*/v1", /contains a wildcard/],
    ["/a?b", /contains a wildcard/],
    ["/a b", /contains whitespace/],
    ["/a\tb", /contains whitespace/],
    ["/a#b", /contains "#"/],
    ["/a%2Fb", /contains "%", which an ALB path condition does not accept/],
    ["/a//b", /contains \/\//],
    ["/a/..", /trailing \/\. or \/\.\./],
    [`/${"a".repeat(126)}`, /would exceed 128/],
  ];
  for (const [p, expected] of paths) {
    it(`path ${JSON.stringify(p.length > 20 ? `${p.slice(0, 20)}...` : p)}: ${expected === undefined ? "accepted" : "refused"}`, () => {
      const problem = routePathProblem(p);
      if (expected === undefined) {
        assert.equal(problem, undefined);
      } else {
        assert.match(problem ?? "(accepted)", expected);
      }
    });
  }

  it("service names: IAM's 64 on EKS, ELBv2's 32 on the test host", () => {
    assert.equal(maxServiceNameLength("prod", true), 46);
    assert.equal(maxServiceNameLength("test", false), 14);
    assert.equal(`${"s".repeat(46)}-irsa-role-1234567`.length, 64);
    assert.equal(`test-host-${"s".repeat(14)}-1234567`.length, 32);
  });

  it("quantities", () => {
    assert.equal(cpuCores("250m"), 0.25);
    assert.equal(cpuCores("1.5"), 1.5);
    assert.equal(memoryBytes("512Mi"), 512 * 1024 * 1024);
    assert.equal(memoryBytes("1Gi"), memoryBytes("1024Mi"));
  });
});
