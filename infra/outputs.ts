/**
 * The stack-output contract: what the program exports for the automation driver, and the one
 * parser the driver reads it with. The program's `services` output is typed by `ServiceOutput`,
 * the in-memory stack used by the driver's tests emits exactly this shape, and
 * `test/outputs.test.ts` parses every shipped stack's evaluated outputs with `parseStackOutputs`.
 * There are no alternative field names: a field the program does not produce is not read.
 */
import { z } from "zod";
import { COLORS, ENVIRONMENTS } from "./domain";
import type { Environment } from "./domain";

const colorOutput = z.object({
  /**
   * The image the color's Deployment runs, read from the Deployment itself (EKS) or the image the
   * test host runs; for a parked color (no Deployment) the image its unpark will run. Absent when
   * the color has none yet.
   */
  image: z.string().min(1).optional(),
  /** Present (true) only when the color is deployed with no pods. */
  parked: z.literal(true).optional(),
  /** Kubernetes name of the color's own Service (its ALB target group's backend); EKS stacks only. */
  serviceName: z.string().min(1).optional(),
});
export type ColorOutput = z.infer<typeof colorOutput>;

const serviceOutput = z.object({
  name: z.string().min(1),
  /** The color the in-cluster Service selects (EKS: read from that Service), i.e. the live color. */
  active: z.enum(COLORS),
  blue: colorOutput,
  green: colorOutput,
  /** The path the service answers health checks on, as configured. */
  healthPath: z.string().startsWith("/"),
  /** The path prefixes the ALB routes to the service (its live rules; the listener-rule reader matches them). */
  paths: z.array(z.string().startsWith("/")).min(1),
  /** The URL the live gate probes: the service's health endpoint through the live host and the ALB's routing. */
  liveHealthUrl: z.string().url(),
  /** The same through the preview host (the idle color); EKS stacks only. */
  previewHealthUrl: z.string().url().optional(),
  /** Namespace of the service's Kubernetes objects; EKS stacks only. */
  namespace: z.string().min(1).optional(),
  /** Mid canary rollout only: the percentage of live traffic the update sent to the idle color. */
  canaryWeight: z.number().int().min(1).max(99).optional(),
});
export type ServiceOutput = z.infer<typeof serviceOutput>;

const clusterOutput = z.object({ name: z.string().min(1).optional() }).loose();

/** The part of a stack's outputs the driver relies on; other groups (network, edge, ...) are informational. */
const driverOutputs = z
  .object({
    environment: z.enum(ENVIRONMENTS),
    services: z.array(serviceOutput),
    cluster: clusterOutput.optional(),
  })
  .loose();

/** The stack outputs as the driver reads them. */
export interface StackOutputs {
  readonly environment: Environment;
  readonly services: ReadonlyMap<string, ServiceOutput>;
  /** The EKS cluster's name; absent in a stack without a cluster. */
  readonly clusterName?: string;
}

/** The outputs do not follow the contract (a program from another version, or a hand-edited state). */
export class OutputContractError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`stack outputs do not follow the output contract: ${problems.join("; ")}`);
    this.name = "OutputContractError";
  }
}

/** Parses a stack's plain (secret-unwrapped) outputs; throws `OutputContractError` naming every bad field. */
export function parseStackOutputs(outputs: Record<string, unknown>): StackOutputs {
  const parsed = driverOutputs.safeParse(outputs);
  if (!parsed.success) {
    throw new OutputContractError(parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`));
  }
  const services = new Map<string, ServiceOutput>();
  for (const s of parsed.data.services) {
    if (services.has(s.name)) {
      throw new OutputContractError([`services: "${s.name}" appears twice`]);
    }
    services.set(s.name, s);
  }
  return { environment: parsed.data.environment, services, clusterName: parsed.data.cluster?.name };
}
