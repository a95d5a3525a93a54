/**
 * The stack catalog from the repository's stack files: which stacks exist (Pulumi.<stack>.yaml),
 * their environment and their services. Read from disk only, so the CLI can refuse an unknown
 * stack or service before the passphrase check, the Pulumi CLI lookup or any network call.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { StackCatalog, StackDescription } from "../ports";

export class FileStackCatalog implements StackCatalog {
  constructor(private readonly repoRoot: string) {}

  names(): string[] {
    return fs
      .readdirSync(this.repoRoot)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .sort();
  }

  describe(stack: string): StackDescription | undefined {
    const file = [".yaml", ".yml"].map((ext) => path.join(this.repoRoot, `Pulumi.${stack}${ext}`)).find((f) => fs.existsSync(f));
    if (file === undefined) {
      return undefined;
    }
    let doc: unknown;
    try {
      doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // The stack exists; what is wrong with its file is the command's to report (plan names the line).
      doc = null;
    }
    const config = doc !== null && typeof doc === "object" && "config" in doc && doc.config !== null && typeof doc.config === "object" ? (doc.config as Record<string, unknown>) : {};
    const env = config["platform:environment"];
    const services = config["platform:services"];
    return {
      name: stack,
      environment: typeof env === "string" ? env : undefined,
      services: Array.isArray(services)
        ? services.map((s: unknown) => (s !== null && typeof s === "object" && "name" in s && typeof s.name === "string" ? s.name : "")).filter((n) => n !== "")
        : [],
      config,
    };
  }
}
