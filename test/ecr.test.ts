import { strict as assert } from "assert";
import { ecrRepositoryArnsForImages, parseEcrImage } from "../infra/lib/ecr";

describe("ECR image references (pure)", () => {
  it("parses ECR images into repository ARNs and ignores other registries", () => {
    const table: Array<[string, string | undefined]> = [
      ["123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0", "arn:aws:ecr:ap-northeast-2:123456789012:repository/student"],
      ["123456789012.dkr.ecr.us-east-1.amazonaws.com/team/chat@sha256:" + "a".repeat(64), "arn:aws:ecr:us-east-1:123456789012:repository/team/chat"],
      ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app"],
      ["docker.io/library/nginx:1.27", undefined],
      ["nginx:1.27", undefined],
    ];
    for (const [image, arn] of table) {
      assert.deepEqual(ecrRepositoryArnsForImages([image]), arn === undefined ? [] : [arn], image);
    }
    assert.equal(parseEcrImage("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0")?.registry, "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com");
    assert.deepEqual(
      ecrRepositoryArnsForImages(["123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/a:1", "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/a:2"]),
      ["arn:aws:ecr:ap-northeast-2:123456789012:repository/a"],
    );
  });
});
