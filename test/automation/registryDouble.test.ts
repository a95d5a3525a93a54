// The integration tier's registry double (test/integration/registryDouble.ts) against the driver's
// real resolver: one contract tested from both sides. No Go, no cluster: it belongs to `npm test`.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { httpRequest } from "../../automation/adapters/http";
import { RegistryImageResolver } from "../../automation/adapters/registry";
import { UsageError } from "../../automation/errors";
import { OCI_MANIFEST, RegistryDouble } from "../integration/registryDouble";

const signal = new AbortController().signal;

describe("registry double and RegistryImageResolver", () => {
  let dir: string;
  let open: RegistryDouble | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-double-"));
  });
  afterEach(async () => {
    await open?.close();
    open = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (auth?: { username: string; password: string }): Promise<RegistryDouble> => (open = await RegistryDouble.start({ auth }));
  const dockerConfig = (host: string, user: string, password: string): string => {
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }));
    return file;
  };
  const noLogin = (): RegistryImageResolver => new RegistryImageResolver({ dockerConfigPath: path.join(dir, "none.json") });

  it("resolves a pushed tag to the sha256 of the manifest bytes it serves", async () => {
    const reg = await start();
    const pushed = reg.push("team/student", "1.5.0");
    const resolved = await noLogin().resolve(reg.ref("team/student", "1.5.0"), signal);
    assert.equal(resolved, `${reg.host}/team/student@${pushed}`);
    const got = await httpRequest({ url: `http://${reg.host}/v2/team/student/manifests/${pushed}`, timeoutMs: 5000 });
    assert.equal(got.status, 200);
    assert.equal(got.headers["content-type"], OCI_MANIFEST);
    assert.equal(`sha256:${createHash("sha256").update(got.body).digest("hex")}`, pushed);
    const head = reg.requests.find((r) => r.method === "HEAD");
    assert.ok(head?.accept?.includes(OCI_MANIFEST), `the resolver must accept the manifest's media type: ${head?.accept ?? "(none)"}`);
  });

  it("answers HEAD without a body, and a moved tag with the new digest", async () => {
    const reg = await start();
    const first = reg.push("team/student", "stable", "build-1");
    const second = reg.push("team/student", "stable", "build-2");
    assert.notEqual(first, second);
    const head = await httpRequest({ url: `http://${reg.host}/v2/team/student/manifests/stable`, method: "HEAD", timeoutMs: 5000 });
    assert.equal(head.body, "");
    assert.equal(head.headers["docker-content-digest"], second);
    assert.equal(await noLogin().resolve(reg.ref("team/student", "stable"), signal), `${reg.host}/team/student@${second}`);
  });

  it("refuses an unknown tag and an unknown repository with the spec's error codes, and the resolver says so", async () => {
    const reg = await start();
    reg.push("team/student", "1.5.0");
    const tag = await httpRequest({ url: `http://${reg.host}/v2/team/student/manifests/0.0.1`, timeoutMs: 5000 });
    assert.equal(tag.status, 404);
    assert.equal((JSON.parse(tag.body) as { errors: Array<{ code: string }> }).errors[0]?.code, "MANIFEST_UNKNOWN");
    const repo = await httpRequest({ url: `http://${reg.host}/v2/team/nobody/manifests/1.5.0`, timeoutMs: 5000 });
    assert.equal((JSON.parse(repo.body) as { errors: Array<{ code: string }> }).errors[0]?.code, "NAME_UNKNOWN");
    await assert.rejects(noLogin().resolve(reg.ref("team/student", "0.0.1"), signal), (e: unknown) => e instanceof UsageError && /could not resolve .*HTTP 404/.test(e.message));
  });

  it("connectTo: an ECR-named image resolves through the double; Host and the credentials stay the ECR registry's", async () => {
    const reg = await start({ username: "AWS", password: "ecr-token" });
    const ecr = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com";
    const pushed = reg.push("web", "2.0.0");
    const resolver = new RegistryImageResolver({ dockerConfigPath: dockerConfig(ecr, "AWS", "ecr-token"), connectTo: new Map([[`https://${ecr}`, `http://${reg.host}`]]) });
    assert.equal(await resolver.resolve(`${ecr}/web:2.0.0`, signal), `${ecr}/web@${pushed}`);
    assert.deepEqual(
      reg.requests.map((r) => [r.method, r.path, r.authorized, r.host]),
      [["HEAD", "/v2/web/manifests/2.0.0", true, ecr]],
    );
  });

  it("with auth: 401 and a Basic challenge without the docker login, the digest with it", async () => {
    const reg = await start({ username: "AWS", password: "token-1" });
    const pushed = reg.push("team/student", "1.5.0");
    const bare = await httpRequest({ url: `http://${reg.host}/v2/`, timeoutMs: 5000 });
    assert.equal(bare.status, 401);
    assert.match(String(bare.headers["www-authenticate"]), /^Basic realm=/);
    await assert.rejects(noLogin().resolve(reg.ref("team/student", "1.5.0"), signal), (e: unknown) => e instanceof UsageError && /refused .*HTTP 401/.test(e.message));
    const wrong = new RegistryImageResolver({ dockerConfigPath: dockerConfig(reg.host, "AWS", "expired") });
    await assert.rejects(wrong.resolve(reg.ref("team/student", "1.5.0"), signal), /HTTP 401/);
    const right = new RegistryImageResolver({ dockerConfigPath: dockerConfig(reg.host, "AWS", "token-1") });
    assert.equal(await right.resolve(reg.ref("team/student", "1.5.0"), signal), `${reg.host}/team/student@${pushed}`);
    assert.ok(reg.requests.some((r) => r.authorized && r.status === 200));
  });
});
