import { FunctionApi } from "../api/functionApi";
import type { Wiring } from "./context";

/** API Gateway + the lottery Lambda, where the stack enables it. */
export function wireApi({ cfg, env, opts }: Wiring): FunctionApi | undefined {
  return cfg.api.enabled
    ? new FunctionApi(
        env,
        {
          memoryMb: cfg.api.memoryMb,
          timeoutSeconds: cfg.api.timeoutSeconds,
          throttleRateLimit: cfg.api.throttleRateLimit,
          throttleBurstLimit: cfg.api.throttleBurstLimit,
          logRetentionDays: cfg.logRetentionDays,
        },
        opts,
      )
    : undefined;
}
