/**
 * State backups: before the first change of every mutating command the stack is exported, and
 * the export is stored verbatim (byte for byte what `pulumi stack export` printed, secrets still
 * ciphertext), so a bad update can be undone with `pulumi stack import` even when the engine's own
 * checkpoint is the thing that broke. They go next to the state, where they outlive the CI job
 * that wrote them: `<backend>/.platform-backups/<stack>/<UTC timestamp>-<operation>.json` for
 * file:// and s3:// backends. Files are owner-only: even with secrets encrypted a state file maps
 * the whole environment.
 */
import * as fs from "fs";
import * as path from "path";
import { PutObjectCommand, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { BackupStore, StackState } from "../ports";

/** The directory (or key prefix) under the backend's root where backups go. */
export const BACKUP_PREFIX = ".platform-backups";

/** `<stack>/<UTC timestamp>-<operation>.json`; the timestamp sorts lexically. */
export function backupName(stack: string, operation: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  return `${stack}/${stamp}-${operation.replace(/[^a-z0-9-]+/gi, "-")}.json`;
}

export function backupPath(dir: string, stack: string, operation: string, now: number): string {
  return path.join(dir, ...backupName(stack, operation, now).split("/"));
}

/** The export as the CLI printed it when the adapter kept it, else re-serialized. */
export function backupText(state: StackState): string {
  return state.raw ?? `${JSON.stringify({ version: state.version, deployment: state.deployment }, null, 2)}\n`;
}

export function writeBackup(dir: string, stack: string, operation: string, state: StackState, now: number): string {
  let file = backupPath(dir, stack, operation, now);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Two operations in the same millisecond (tests, quick retries) must not overwrite each other.
  for (let n = 1; fs.existsSync(file); n++) {
    file = file.replace(/(-\d+)?\.json$/, `-${n}.json`);
  }
  fs.writeFileSync(file, backupText(state), { mode: 0o600, flag: "wx" });
  return file;
}

/** Backups in a directory: `<stateDir>/.platform-backups` for a file:// backend. */
export class FileBackupStore implements BackupStore {
  constructor(private readonly dir: string) {}

  save(stack: string, operation: string, state: StackState, at: number): Promise<string> {
    return Promise.resolve(writeBackup(this.dir, stack, operation, state, at));
  }
}

/** Where an s3:// backend keeps its state: `s3://<bucket>[/<prefix>][?region=...&...]`, as the Pulumi CLI reads it. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
  readonly region?: string;
}

export function parseS3Backend(url: string): S3Location | undefined {
  if (!url.startsWith("s3://")) {
    return undefined;
  }
  const u = new URL(url);
  const region = u.searchParams.get("region") ?? undefined;
  return { bucket: u.hostname, prefix: u.pathname.replace(/^\/+|\/+$/g, ""), region };
}

/** Backups as objects beside an s3:// backend's state (credentials from the default chain: the CI's OIDC role). */
export class S3BackupStore implements BackupStore {
  private readonly client: S3Client;

  constructor(
    private readonly location: S3Location,
    config: S3ClientConfig = {},
  ) {
    this.client = new S3Client({ ...config, ...(location.region !== undefined ? { region: location.region } : {}) });
  }

  async save(stack: string, operation: string, state: StackState, at: number): Promise<string> {
    const key = [this.location.prefix, BACKUP_PREFIX, backupName(stack, operation, at)].filter((p) => p !== "").join("/");
    // IfNoneMatch: never overwrite an earlier backup with the same name.
    await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: key, Body: backupText(state), ContentType: "application/json", IfNoneMatch: "*" }));
    return `s3://${this.location.bucket}/${key}`;
  }
}
