import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type ApiAuthorization = "NONE" | "AWS_IAM";

export interface FunctionApiArgs {
  /** Lambda memory in MB (CPU scales with it). Default: 256. */
  readonly memoryMb?: number;
  /** Lambda timeout in seconds; API Gateway gives up after 30 s, so keep it below. Default: 10. */
  readonly timeoutSeconds?: number;
  /** Steady-state requests per second of the stage's default route settings. Default: 50. */
  readonly throttleRateLimit?: number;
  /** Burst bucket of the stage's default route settings. Default: 100. */
  readonly throttleBurstLimit?: number;
  /** Retention of the function's and the access logs' log groups, in days. Default: 30. */
  readonly logRetentionDays?: number;
  /**
   * Concurrency reserved for (and capping) the function. Default: unset (shares the account's
   * unreserved pool). AWS refuses a reservation that would leave under 100 unreserved, which
   * rules it out on new accounts whose concurrency quota is still 10.
   */
  readonly reservedConcurrentExecutions?: number;
  /** Active X-Ray tracing of the function. Default: true. */
  readonly tracing?: boolean;
  /**
   * Authorization of the routes. Default: "NONE": a draw is a pure function of the caller's own
   * input (no stored data, no secrets, no side effects), so an anonymous caller gains nothing
   * and can only spend invocations, which the stage throttle bounds. Use "AWS_IAM" once the
   * caller signs its requests (SigV4 with its IRSA role and `execute-api:Invoke` on `executionArn`).
   */
  readonly authorization?: ApiAuthorization;
  /**
   * The Lambda function's name; the log group `/aws/lambda/<name>` is derived from it.
   * Default: `${name}-lottery` (the component name carries the environment).
   */
  readonly functionName?: string;
}

/** Where the function's code lives; zipped as-is (CommonJS, no dependencies). */
export const LOTTERY_CODE_DIR = path.join(__dirname, "functions", "lottery");

/** The routes the function serves; every one is proxied to the function. */
export const ROUTE_KEYS = ["POST /draw", "GET /health"] as const;

/** The access-log line: one JSON object per request, fields as CloudWatch Logs Insights will query them. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  routeKey: "$context.routeKey",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
  errorMessage: "$context.error.message",
});

/**
 * The daycare-admission lottery: a Lambda function behind an HTTP API that the
 * Spring backend calls. See functions/lottery/index.js for the draw itself.
 */
export class FunctionApi extends pulumi.ComponentResource {
  /** The `$default` stage's invoke URL, e.g. `https://<id>.execute-api.<region>.amazonaws.com/`. */
  readonly url: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The API's execution ARN, for `execute-api:Invoke` grants when `authorization` is AWS_IAM. */
  readonly executionArn: pulumi.Output<string>;

  constructor(name: string, args: FunctionApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:api:FunctionApi", name, args, opts);

    const functionName = args.functionName ?? `${name}-lottery`;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionName)) {
      throw new pulumi.ResourceError(`FunctionApi "${name}": function name "${functionName}" must be 1-64 letters, digits, '-' or '_'`, this);
    }
    const timeoutSeconds = args.timeoutSeconds ?? 10;
    if (timeoutSeconds < 1 || timeoutSeconds > 29) {
      throw new pulumi.ResourceError(`FunctionApi "${name}": timeoutSeconds ${timeoutSeconds} must be 1-29 (API Gateway's integration limit is 30 s)`, this);
    }
    const logRetentionDays = args.logRetentionDays ?? 30;
    const tracing = args.tracing ?? true;
    const authorization = args.authorization ?? "NONE";

    // Created before the function, with retention: otherwise Lambda creates `/aws/lambda/<name>`
    // itself on the first invocation with logs kept forever, outside the stack, and the role
    // would need logs:CreateLogGroup. That is why the function's name is fixed rather than
    // autonamed: the log group's name must be known before the function exists.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-lottery`,
      { name: `/aws/lambda/${functionName}`, retentionInDays: logRetentionDays },
      { parent: this },
    );

    const { role, rolePolicy } = this.executionRole(name, functionName, logGroup, tracing);

    // Not in the VPC on purpose: the function reaches no private resource, and VPC attachment
    // would add ENIs, NAT egress and cold-start cost for nothing.
    const fn = new aws.lambda.Function(
      `${name}-lottery`,
      {
        name: functionName,
        // Part of the deployed function: changing it is an update of the function's configuration.
        description: "Daycare-admission lottery draw, called through the HTTP API",
        runtime: aws.lambda.Runtime.NodeJS22dX,
        // Graviton: cheaper per GB-second; the code is plain JavaScript with no native modules.
        architectures: ["arm64"],
        handler: "index.handler",
        code: new pulumi.asset.FileArchive(LOTTERY_CODE_DIR),
        role: role.arn,
        memorySize: args.memoryMb ?? 256,
        timeout: timeoutSeconds,
        reservedConcurrentExecutions: args.reservedConcurrentExecutions,
        tracingConfig: { mode: tracing ? "Active" : "PassThrough" },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      },
      // The policy must be in place before the first invocation, or its logs are lost.
      { parent: this, dependsOn: [rolePolicy] },
    );

    const { api, stage } = this.httpApi(name, functionName, fn, { args, logRetentionDays, authorization });

    // Scoped to this API (CKV_AWS_364): without sourceArn any API Gateway in any account could
    // invoke the function.
    new aws.lambda.Permission(
      `${name}-lottery`,
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
      },
      { parent: this },
    );

    this.url = stage.invokeUrl;
    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.executionArn = api.executionArn;

    this.registerOutputs({
      url: this.url,
      functionName: this.functionName,
      functionArn: this.functionArn,
      executionArn: this.executionArn,
    });
  }

  /** The function's role: its own log group's streams, and X-Ray traces when tracing is on. */
  private executionRole(
    name: string,
    functionName: string,
    logGroup: aws.cloudwatch.LogGroup,
    tracing: boolean,
  ): { role: aws.iam.Role; rolePolicy: aws.iam.RolePolicy } {
    const role = new aws.iam.Role(
      `${name}-lottery`,
      {
        description: `Execution role of the ${functionName} Lambda function`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );

    // Written here instead of attaching AWSLambdaBasicExecutionRole, whose statements allow
    // logs:CreateLogGroup and logs:PutLogEvents on every log group of the account: this function
    // may only write streams of its own, pre-created log group.
    const statements: aws.types.input.iam.GetPolicyDocumentStatementArgs[] = [
      {
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [pulumi.interpolate`${logGroup.arn}:*`],
      },
    ];
    if (tracing) {
      statements.push({
        // X-Ray has no resource-level permissions for these two actions; `*` is the only valid resource.
        sid: "WriteTraces",
        actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        resources: ["*"],
      });
    }
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-lottery`,
      { role: role.id, policy: aws.iam.getPolicyDocumentOutput({ statements }, { parent: this }).json },
      { parent: this },
    );
    return { role, rolePolicy };
  }

  /** The HTTP API: one Lambda proxy integration, its routes, and the auto-deployed, throttled, access-logged stage. */
  private httpApi(
    name: string,
    functionName: string,
    fn: aws.lambda.Function,
    o: { readonly args: FunctionApiArgs; readonly logRetentionDays: number; readonly authorization: string },
  ): { api: aws.apigatewayv2.Api; stage: aws.apigatewayv2.Stage } {
    const { args, logRetentionDays, authorization } = o;
    const api = new aws.apigatewayv2.Api(
      `${name}-lottery`,
      {
        name: `${functionName}-api`,
        description: "Daycare-admission lottery: POST /draw, GET /health",
        protocolType: "HTTP",
      },
      { parent: this },
    );

    const integration = new aws.apigatewayv2.Integration(
      `${name}-lottery`,
      {
        apiId: api.id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: fn.invokeArn,
        payloadFormatVersion: "2.0",
      },
      { parent: this },
    );

    for (const routeKey of ROUTE_KEYS) {
      const slug = routeKey.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      new aws.apigatewayv2.Route(
        `${name}-${slug}`,
        {
          apiId: api.id,
          routeKey,
          target: pulumi.interpolate`integrations/${integration.id}`,
          authorizationType: authorization,
        },
        { parent: this },
      );
    }

    const accessLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-lottery-access`,
      { name: `/aws/apigateway/${functionName}-api/access`, retentionInDays: logRetentionDays },
      { parent: this },
    );

    const stage = new aws.apigatewayv2.Stage(
      `${name}-lottery`,
      {
        apiId: api.id,
        name: "$default",
        autoDeploy: true,
        // Caps what the API can draw from the account's Lambda concurrency, which every other
        // function in the account shares, and bounds what an anonymous caller can spend.
        defaultRouteSettings: {
          throttlingRateLimit: args.throttleRateLimit ?? 50,
          throttlingBurstLimit: args.throttleBurstLimit ?? 100,
        },
        accessLogSettings: { destinationArn: accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
      },
      { parent: this },
    );
    return { api, stage };
  }
}
