/** What the automation driver keeps in the stack file: the promotion record and its health gate. */
import { z } from "zod";
import { Ctx, fail } from "./common";

/**
 * The promotion record: which image digest of each service has passed its health gates in this
 * stack. Written by the automation driver (file backends have no stack tags), mirrored to the
 * `releases` stack output, and read by the next stage's promotion to refuse unverified digests.
 */
export const releaseSchema = z.strictObject({
  image: z.string().regex(/@sha256:[a-f0-9]{64}$/, "must be pinned by digest (<repo>@sha256:<64 hex>)"),
  verifiedAt: z.iso.datetime(),
  source: z.string().min(1),
  runUrl: z.url().optional(),
});
export type ReleaseRecord = z.infer<typeof releaseSchema>;

/**
 * The driver's HTTP health gate (automation/gates/health.ts): N consecutive successes, each within a
 * latency bound, before a deadline. Declared here so the stack file is validated in one place.
 */
export const healthGateSchema = z.strictObject({
  successes: z.number().int().min(1).max(100).optional(),
  latencyMs: z.number().int().min(10).max(60_000).optional(),
  timeoutSeconds: z.number().int().min(1).max(3_600).optional(),
  intervalMs: z.number().int().min(0).max(60_000).optional(),
});

/** Every release record names a configured service. */
export function checkReleases(cfg: { readonly releases: Readonly<Record<string, ReleaseRecord>>; readonly services: ReadonlyArray<{ readonly name: string }> }, ctx: Ctx): void {
  const serviceNames = new Set(cfg.services.map((s) => s.name));
  for (const name of Object.keys(cfg.releases)) {
    if (!serviceNames.has(name)) {
      fail(ctx, ["releases", name], `records a release of "${name}", which is not in services`, "remove the record or add the service");
    }
  }
}
