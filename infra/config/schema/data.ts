/** `platform:database`: the RDS MariaDB instance. */
import { z } from "zod";
import { Ctx, fail } from "./common";

export const databaseSchema = z.strictObject({
  enabled: z.boolean(),
  engineVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/),
  instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/),
  allocatedStorageGb: z.number().int().min(20).max(65536),
  maxAllocatedStorageGb: z.number().int().min(20).max(65536),
  multiAz: z.boolean(),
  backupRetentionDays: z.number().int().min(0).max(35),
  deletionProtection: z.boolean(),
  publiclyAccessible: z.boolean(),
  databaseName: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/),
  masterUsername: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,15}$/),
});
export type DatabaseConfig = z.infer<typeof databaseSchema>;

/** Never publicly accessible; the autoscaling ceiling is not below the initial size. */
export function checkDatabase(cfg: { readonly database: DatabaseConfig; readonly environment: string }, ctx: Ctx): void {
  const db = cfg.database;
  if (db.publiclyAccessible) {
    fail(
      ctx,
      ["database", "publiclyAccessible"],
      `is true in the ${cfg.environment} stack; the database must only be reachable from the workloads and the bastion`,
      "set database.publiclyAccessible to false and reach the database through the bastion (SSM port forwarding)",
    );
  }
  if (db.maxAllocatedStorageGb < db.allocatedStorageGb) {
    fail(
      ctx,
      ["database", "maxAllocatedStorageGb"],
      `${db.maxAllocatedStorageGb} is below allocatedStorageGb ${db.allocatedStorageGb}`,
      "set maxAllocatedStorageGb >= allocatedStorageGb (storage autoscaling ceiling)",
    );
  }
}
