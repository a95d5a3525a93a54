/**
 * No silent backend: the environments' stacks need an explicit PULUMI_BACKEND_URL, and the
 * backups written before a change go beside the state (file:// directory, s3:// bucket through
 * the AWS SDK against a loopback endpoint here), verbatim as `pulumi stack export` printed them.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileBackupStore, parseS3Backend, S3BackupStore } from "../../automation/adapters/backup";
import { requireBackend, resolveWorkspaceSettings } from "../../automation/adapters/workspace";
import { UsageError } from "../../automation/errors";
import { startServer } from "./loopback";

// Deliberately not JSON.stringify's layout: the backup must keep the CLI's bytes.
const EXPORT = '{\n    "version": 3,\n    "deployment": {"manifest": {"time": "2026-03-04T05:06:07Z"}, "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}}, "resources": []}\n}\n';
const STATE = { version: 3, deployment: { resources: [] }, raw: EXPORT };
const AT = Date.UTC(2026, 2, 4, 5, 6, 7, 89);

describe("automation: the state backend", () => {
  describe("requires an explicit backend for the environments", () => {
    const cases: ReadonlyArray<[Record<string, string>, string, boolean]> = [
      [{}, "staging", false],
      [{ PULUMI_BACKEND_URL: "" }, "prod", false],
      [{ PULUMI_BACKEND_URL: "   " }, "test", false],
      [{ PULUMI_BACKEND_URL: "s3://state-bucket?region=ap-northeast-2" }, "prod", true],
      [{}, "alice-scratch", true],
      [{ CI: "true" }, "alice-scratch", false],
      [{ CI: "true", PULUMI_BACKEND_URL: "file:///var/state" }, "staging", true],
    ];
    for (const [env, stack, ok] of cases) {
      it(`${JSON.stringify(env)} ${stack}: ${ok ? "allowed" : "refused"}`, () => {
        const settings = resolveWorkspaceSettings(env, "/repo");
        if (ok) {
          requireBackend(settings, stack);
        } else {
          assert.throws(() => requireBackend(settings, stack), (e: unknown) => e instanceof UsageError && /PULUMI_BACKEND_URL must name the shared state backend/.test(e.message));
        }
      });
    }
    it("an empty variable is never passed on to the CLI (it would fall back to another backend)", () => {
      assert.match(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "" }, "/repo").env["PULUMI_BACKEND_URL"] ?? "", /^file:\/\/\/repo\/\.pulumi-state$/);
    });
  });

  describe("backups beside the state", () => {
    it("file://: <state>/.platform-backups/<stack>/<time>-<operation>.json, the export byte for byte, owner-only", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "state-"));
      try {
        const settings = resolveWorkspaceSettings({ PULUMI_BACKEND_URL: `file://${dir}` }, "/repo");
        assert.equal(settings.backups.kind, "file");
        const store = new FileBackupStore(settings.backups.kind === "file" ? settings.backups.dir : "");
        const file = await store.save("staging", "promote", STATE, AT);
        assert.equal(file, path.join(dir, ".platform-backups", "staging", "2026-03-04T05-06-07-089Z-promote.json"));
        assert.equal(fs.readFileSync(file, "utf8"), EXPORT);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        const second = await store.save("staging", "promote", STATE, AT);
        assert.notEqual(second, file, "never overwritten");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("s3://: an object under the backend's prefix, never overwriting one", async () => {
      const server = await startServer(() => ({ status: 200, headers: { etag: '"x"' } }));
      try {
        const location = parseS3Backend("s3://state-bucket/platform?region=ap-northeast-2");
        assert.deepEqual(location, { bucket: "state-bucket", prefix: "platform", region: "ap-northeast-2" });
        const store = new S3BackupStore(location ?? assert.fail(), { endpoint: server.url, forcePathStyle: true, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
        const where = await store.save("prod", "flip", STATE, AT);
        assert.equal(where, "s3://state-bucket/platform/.platform-backups/prod/2026-03-04T05-06-07-089Z-flip.json");
        const put = server.requests.find((r) => r.method === "PUT");
        assert.ok(put !== undefined);
        assert.equal(put.path.split("?")[0], "/state-bucket/platform/.platform-backups/prod/2026-03-04T05-06-07-089Z-flip.json");
        assert.equal(put.body, EXPORT);
        assert.equal(put.headers["if-none-match"], "*");
      } finally {
        await server.close();
      }
    });
  });
});
