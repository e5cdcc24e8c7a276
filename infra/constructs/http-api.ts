// The HTTP API for portals: an API Gateway REST API in front of functions/api (Lambda proxy
// integration), every method AWS_IAM-authorised (callers sign with SigV4 and need execute-api:Invoke):
//   POST /deployments        start a deployment (idempotent on the Idempotency-Key header or the request hash)
//   GET  /deployments        the deployments registry
//   GET  /deployments/{id}   one deployment's status, current step, summary or failure cause
// REGIONAL by default; PRIVATE when execute-api VPC endpoints are configured, with a resource policy that lets
// this account's principals invoke it through those endpoints only. The stage keeps JSON access logs, ERROR
// execution logs (never request or response data), X-Ray traces and a throttle.
//
// The function's role: states:StartExecution on the state machine, states:DescribeExecution and
// states:GetExecutionHistory on its executions, dynamodb:Scan on the registry — nothing else.
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { ApiConfig } from "../config";
import { iam5ResourceFinding } from "../nag";
import { milvusFunction } from "./lambda";
import type { Registry } from "./registry";

/** The API function's memory (also what the benchmark prices it with). */
export const API_FUNCTION_MEMORY_MB = 256;

export const API_STAGE = "v1";

export interface HttpApiProps {
  config: ApiConfig;
  stateMachine: sfn.IStateMachine;
  /** Every execution of the state machine (Workflow.executionsArn). */
  executionsArn: string;
  registry: Registry;
  logRetention: logs.RetentionDays;
}

export class HttpApi extends Construct {
  readonly role: iam.Role;
  readonly function: lambda.Function;
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.LogGroup;
  /** The role set as the region's API Gateway CloudWatch Logs role, when the stack was asked to set it. */
  readonly accountLogsRole?: iam.Role;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const isPrivate = props.config.vpcEndpointIds.length > 0;

    this.role = new iam.Role(this, "FunctionRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "milvus-l7 api: start and read executions of the workflow, list the deployments registry",
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "StartDeployments", actions: ["states:StartExecution"], resources: [props.stateMachine.stateMachineArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReadDeploymentExecutions",
        actions: ["states:DescribeExecution", "states:GetExecutionHistory"],
        resources: [props.executionsArn],
      }),
    );
    props.registry.grantList(this.role);
    Validations.of(this.role).acknowledge({
      id: iam5ResourceFinding(this, props.executionsArn),
      reason:
        "The executions of this one state machine (execution:<name>:*): a deployment id names an execution only at run time; the API reads its status and history, nothing else.",
    });

    this.function = milvusFunction(this, "api", {
      name: "api",
      description: "milvus-l7: HTTP API for portals (start a deployment, its status, the registry)",
      // API Gateway gives up on an integration after 29 s; the function answers (or times out) before.
      timeout: Duration.seconds(25),
      memorySize: API_FUNCTION_MEMORY_MB,
      role: this.role,
      logRetention: props.logRetention,
      environment: {
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        REGISTRY_TABLE_NAME: props.registry.table.tableName,
      },
    });

    this.accessLogs = new logs.LogGroup(this, "AccessLogs", { retention: props.logRetention });

    let policy: iam.PolicyDocument | undefined;
    if (isPrivate) {
      // Only through the configured endpoints, and only for this account's principals — whose own IAM policies
      // must still allow execute-api:Invoke (naming the account delegates to them). The Deny stops every other
      // path even for a principal whose policy would allow it.
      policy = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: "InvokeThroughVpcEndpoints",
            effect: iam.Effect.ALLOW,
            principals: [new iam.AccountRootPrincipal()],
            actions: ["execute-api:Invoke"],
            resources: ["execute-api:/*"],
            conditions: { StringEquals: { "aws:SourceVpce": props.config.vpcEndpointIds } },
          }),
          new iam.PolicyStatement({
            sid: "DenyOutsideVpcEndpoints",
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ["execute-api:Invoke"],
            resources: ["execute-api:/*"],
            conditions: { StringNotEquals: { "aws:SourceVpce": props.config.vpcEndpointIds } },
          }),
        ],
      });
    }

    this.api = new apigw.RestApi(this, "Api", {
      restApiName: `${stack.stackName}-api`,
      description: "milvus-l7: start deployments and read their status (AWS_IAM: sign requests with SigV4)",
      endpointConfiguration: isPrivate
        ? {
            types: [apigw.EndpointType.PRIVATE],
            // Associating the endpoints also enables the https://<api-id>-<vpce-id>.execute-api… host names,
            // which work without private DNS on the endpoint.
            vpcEndpoints: props.config.vpcEndpointIds.map((vpceId, i) =>
              ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, `ApiVpcEndpoint${i}`, { vpcEndpointId: vpceId, port: 443 }),
            ),
          }
        : { types: [apigw.EndpointType.REGIONAL] },
      policy,
      // The account-level CloudWatch Logs role is set below only when asked (setApiGatewayLogsRole).
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      failOnWarnings: true,
      deployOptions: {
        stageName: API_STAGE,
        description: "milvus-l7 HTTP API",
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Execution logs of errors only, and never the request or response bodies (they hold the request).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.config.rateLimit,
        throttlingBurstLimit: props.config.burstLimit,
      },
    });
    // RestApi always adds an "Endpoint" output with a generated name; the stack outputs ApiUrl instead.
    this.api.node.tryRemoveChild("Endpoint");

    // One permission per method (scoped to its method and path), none for the console's test invocations.
    const integration = new apigw.LambdaIntegration(this.function, { proxy: true, allowTestInvoke: false });
    const deployments = this.api.root.addResource("deployments");
    deployments.addMethod("POST", integration);
    deployments.addMethod("GET", integration);
    deployments.addResource("{id}").addMethod("GET", integration);

    if (props.config.setAccountLogsRole) {
      const logGroups = stack.formatArn({ service: "logs", resource: "log-group", resourceName: "*", arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      // What the AWS managed AmazonAPIGatewayPushToCloudWatchLogs allows, inline and without its read actions,
      // on this account's and region's log groups. Retained on stack deletion: the account setting outlives the
      // stack, and every API in the region would lose its logs with the role.
      this.accountLogsRole = new iam.Role(this, "AccountLogsRole", {
        assumedBy: new iam.ServicePrincipal("apigateway.amazonaws.com"),
        description: "API Gateway account setting (this region): write REST API execution and access logs to CloudWatch Logs",
      });
      this.accountLogsRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "WriteApiGatewayLogs",
          actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
          resources: [logGroups],
        }),
      );
      this.accountLogsRole.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const account = new apigw.CfnAccount(this, "AccountSettings", { cloudWatchRoleArn: this.accountLogsRole.roleArn });
      account.applyRemovalPolicy(RemovalPolicy.RETAIN);
      // The stage may only enable logging once the account has its role.
      this.api.deploymentStage.node.addDependency(account);
      Validations.of(this.accountLogsRole).acknowledge({
        id: iam5ResourceFinding(this, logGroups),
        reason:
          "The API Gateway account logs role serves every REST API of the region: API Gateway creates and writes API-Gateway-Execution-Logs_<api-id>/<stage> groups named at run time, and the access log groups APIs name.",
      });
    }

    Validations.of(this.api).acknowledge(
      {
        id: "AwsSolutions-APIG2",
        reason:
          "The API function validates every body with the one request schema (functions/lib/request.ts) and answers 400 naming each field; an API Gateway model would duplicate that schema in JSON Schema draft 4, drift from it, and replace the field errors with a bare 'Invalid request body'.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "Every method requires SigV4 (AWS_IAM) and the stage is throttled; unsigned traffic never reaches the integration. A WAF web ACL is an account-level choice the platform team can associate with the stage without changing this stack.",
      },
      {
        id: "AwsSolutions-COG4",
        reason:
          "AWS_IAM authorisation is deliberate: the callers are internal portals and operators with AWS credentials, authorised by IAM policy on execute-api:Invoke; a Cognito user pool would add a second identity system.",
      },
    );

    new CfnOutput(stack, "ApiUrl", {
      description: isPrivate
        ? "HTTP API base URL (PRIVATE: resolvable inside the VPC when the execute-api endpoint has private DNS; otherwise use https://<api-id>-<vpce-id>.execute-api.<region>.amazonaws.com/v1/)"
        : "HTTP API base URL (REGIONAL, AWS_IAM: sign requests with SigV4 for execute-api)",
      value: this.api.url,
    });
    new CfnOutput(stack, "ApiFunctionName", { description: "Lambda function behind the HTTP API", value: this.function.functionName });
    new CfnOutput(stack, "ApiId", { description: "REST API id (for execute-api:Invoke policies)", value: this.api.restApiId });
  }
}
