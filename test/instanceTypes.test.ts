import { strict as assert } from "assert";
import { amiParameterFor, AmiType, amiTypeFor } from "../infra/lib/instanceTypes";

describe("node group AMI type by instance type", () => {
  const cases: ReadonlyArray<readonly [string, AmiType]> = [
    ["t3.large", "AL2023_x86_64_STANDARD"],
    ["m7i.xlarge", "AL2023_x86_64_STANDARD"],
    ["m6a.large", "AL2023_x86_64_STANDARD"],
    ["t4g.medium", "AL2023_ARM_64_STANDARD"],
    ["m6g.large", "AL2023_ARM_64_STANDARD"],
    ["m6gd.large", "AL2023_ARM_64_STANDARD"],
    ["c7gn.2xlarge", "AL2023_ARM_64_STANDARD"],
    ["im4gn.large", "AL2023_ARM_64_STANDARD"],
    ["r8g.large", "AL2023_ARM_64_STANDARD"],
    ["g5.xlarge", "AL2023_x86_64_NVIDIA"],
    ["g6e.xlarge", "AL2023_x86_64_NVIDIA"],
    ["p4d.24xlarge", "AL2023_x86_64_NVIDIA"],
    ["g5g.xlarge", "AL2023_ARM_64_NVIDIA"],
    ["inf2.xlarge", "AL2023_x86_64_NEURON"],
    ["trn1.2xlarge", "AL2023_x86_64_NEURON"],
  ];
  for (const [type, ami] of cases) {
    it(`${type} -> ${ami}`, () => assert.equal(amiTypeFor(type), ami));
  }
});

describe("test host AMI by instance type", () => {
  it("picks the AMI architecture from the instance type", () => {
    const table: Array<[string, string]> = [
      ["t3.medium", "x86_64"],
      ["t3a.small", "x86_64"],
      ["m7i-flex.large", "x86_64"],
      ["g5.xlarge", "x86_64"],
      ["t4g.small", "arm64"],
      ["m7gd.large", "arm64"],
      ["c6gn.medium", "arm64"],
    ];
    for (const [type, arch] of table) {
      assert.equal(amiParameterFor(type), `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`, type);
    }
    assert.throws(() => amiParameterFor("medium"), /not an EC2 instance type/);
  });
});
