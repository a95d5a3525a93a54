/**
 * The platform's vocabulary, defined once: the environments (one Pulumi stack each), the two
 * blue/green colors, and the JSON values stack config holds. Config, pure logic, the program and
 * the driver import these from here; other modules may re-export them but never redefine them.
 * (The policy pack in infra/policy is published on its own and keeps its own copy.)
 */

/** The shipped environments, in promotion order. */
export const ENVIRONMENTS = ["test", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === "string" && (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The two colors of a blue/green service. */
export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

export function isColor(value: unknown): value is Color {
  return typeof value === "string" && (COLORS as readonly string[]).includes(value);
}

/** A JSON value as Pulumi stack config holds it (structured values arrive as JSON text). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
