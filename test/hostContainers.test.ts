import { strict as assert } from "assert";
import { assignHostPorts, checkServiceNamesAndEnv, endpointHost, renderUserData, shellQuote, UserDataParams } from "../infra/lib/hostContainers";

describe("test host containers (pure)", () => {
  it("assigns host ports in service order from the base", () => {
    const table: Array<[string[], number | undefined, Record<string, number>]> = [
      [["student", "subject"], undefined, { student: 8001, subject: 8002 }],
      [["web"], 9000, { web: 9000 }],
      [[], undefined, {}],
    ];
    for (const [names, base, expected] of table) {
      assert.deepEqual(assignHostPorts(names, base), expected);
    }
    assert.throws(() => assignHostPorts(["a", "a"]), /"a" is listed twice/);
    assert.throws(() => assignHostPorts(["a", "b"], 65535), /outside 1024-65535/);
    assert.throws(() => assignHostPorts(["a"], 80), /outside 1024-65535/);
  });

  it("takes the host of an RDS endpoint and quotes shell words", () => {
    assert.equal(endpointHost("db.example.rds.amazonaws.com:3306"), "db.example.rds.amazonaws.com");
    assert.equal(endpointHost("db.example.rds.amazonaws.com"), "db.example.rds.amazonaws.com");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote("$(rm -rf /)"), `'$(rm -rf /)'`);
  });

  it("rejects env that clashes with host variables or is not a variable name", () => {
    assert.throws(() => checkServiceNamesAndEnv([{ name: "a", env: { AWS_REGION: "x" } }]), /sets AWS_REGION/);
    assert.throws(() => checkServiceNamesAndEnv([{ name: "a", env: { "BAD-NAME": "x" } }]), /invalid environment variable name/);
    assert.throws(() => checkServiceNamesAndEnv([{ name: "A_b", env: {} }]), /must be a DNS label/);
  });

  it("renders user data: quoted env, optional flags, one login per ECR registry", () => {
    const params: UserDataParams = {
      region: "ap-northeast-2",
      logGroupName: "/platform/x/containers",
      services: [
        { name: "web", port: 80, hostPort: 8001, image: "docker.io/library/nginx:1.27", env: { GREETING: "it's $HOME" }, readOnlyRootFilesystem: false },
        { name: "api", port: 8080, hostPort: 8002, image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/api:1", env: {}, readOnlyRootFilesystem: true },
        { name: "worker", port: 8080, hostPort: 8003, image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/worker:1", env: {}, readOnlyRootFilesystem: true },
      ],
    };
    const ud = renderUserData(params);
    assert.ok(ud.startsWith("#!/bin/bash\n"));
    assert.ok(ud.includes(`-e 'GREETING=it'\\''s $HOME'`));
    assert.equal((ud.match(/retry ecr_login /g) ?? []).length, 1);
    assert.equal((ud.match(/docker logout /g) ?? []).length, 1);
    assert.equal((ud.match(/--read-only/g) ?? []).length, 2);
    assert.doesNotMatch(ud, /DB_|db-env|platform-db-refresh/);
    // Heredocs are quoted: nothing inside is expanded when cloud-init writes the files.
    assert.equal((ud.match(/<<'PLATFORM_EOF'/g) ?? []).length, 6);
    assert.equal((ud.match(/^PLATFORM_EOF$/gm) ?? []).length, 6);
  });
});
