// The stack as `cdk synth` builds it, with real esbuild bundling (once, in beforeAll): functions, the state
// machine and its substitutions, the registry, cluster access, renewal rules, the HTTP API, alerting, outputs (its
// IAM: stack-iam.test.ts); then cfn-lint and cdk-nag on the same synthesis, and a load test of every bundle.
import { Validations } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type EventPattern,
  acmExpiringPattern,
  failedExecutionPattern,
  s3CertificateObjectPatterns,
} from "../../functions/lib/event-patterns";
import { alertInputTransformer } from "../../functions/lib/alert-message";
import { DEFAULT_WATCH_SECONDS } from "../../functions/lib/polling";
import { REGISTRY_TABLE } from "../../functions/lib/registry";
import { ESM_REQUIRE_BANNER } from "../../infra/bundling";
import { parseConfig } from "../../infra/config";
import { API_STAGE } from "../../infra/constructs/http-api";
import { STEP_NAMES as STEPS, stepNamed } from "../../statemachine/steps";
import { ASL_PATH } from "../../infra/paths";
import { type CfnTemplate, cfnLint, identityStatements, logicalIdOf, policyOfRole, render } from "./synth";
import { CONTEXT, STATE_MACHINE_NAME, synthesizedStack } from "./stack-fixture";

const fx = synthesizedStack({ bundle: true });
const { fnId, apiFnId, stateMachineId, tableId, envOf, roleId } = fx;


describe("Lambda functions", () => {
  it("are one function per workflow step plus the API's, on nodejs22.x / arm64 with the Powertools environment", () => {
    const fns = fx.s().template.findResources("AWS::Lambda::Function");
    expect(STEPS).toHaveLength(13);
    expect(Object.keys(fns).sort()).toEqual([...STEPS.map(fnId), apiFnId()].sort());
    for (const [step, id] of [...STEPS.map((step) => [step, fnId(step)]), ["api", apiFnId()]]) {
      const props = fns[id as string]?.Properties;
      expect(props.Runtime, step).toBe("nodejs22.x");
      expect(props.Architectures, step).toEqual(["arm64"]);
      expect(props.Handler, step).toBe("index.handler");
      expect(props.Environment.Variables, step).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "milvus-l7",
        POWERTOOLS_LOG_LEVEL: "INFO",
      });
      // --enable-source-maps made every cold start 20-40 % slower (see infra/constructs/lambda.ts).
      expect(props.Environment.Variables.NODE_OPTIONS, step).toBeUndefined();
      expect(props.VpcConfig, step).toBeUndefined();
    }
  });

  it("log to their own log group with a retention", () => {
    const groups = fx.s().template.findResources("AWS::Logs::LogGroup");
    const used = new Set<string>();
    for (const id of [...STEPS.map(fnId), apiFnId()]) {
      const props = fx.s().template.findResources("AWS::Lambda::Function")[id]?.Properties;
      const group = render(props.LoggingConfig.LogGroup).replace(/[{}]/g, "").replace(/\.Arn$/, "");
      expect(groups[group]?.Properties.RetentionInDays, id).toBe(30);
      used.add(group);
    }
    expect(used.size).toBe(STEPS.length + 1);
  });

  it("get the environment their handlers read", () => {
    const table = { Ref: tableId() };
    expect(envOf(fnId("record-deployment")).REGISTRY_TABLE_NAME).toEqual(table);
    expect(envOf(fnId("target-lease")).REGISTRY_TABLE_NAME).toEqual(table);
    const resolve = envOf(fnId("resolve-request"));
    expect(resolve.REGISTRY_TABLE_NAME).toEqual(table);
    // What functions/resolve-request/triggers.ts certificatePrefixesFrom parses: the configured locations.
    expect(JSON.parse(resolve.CERTIFICATE_BUCKETS)).toEqual(parseConfig((k) => (CONTEXT as Record<string, unknown>)[k]).certificateBuckets);
    expect(JSON.parse(resolve.CERTIFICATE_BUCKETS)).toEqual([
      { bucket: "milvus-certs", prefix: "letsencrypt/live" },
      { bucket: "milvus-certs", prefix: "cert-manager" },
      { bucket: "other-certs", prefix: "" },
    ]);
    // The renewals' expiry threshold (functions/resolve-request/handler.ts): the default, as the context sets none.
    expect(resolve.EXPIRY_WARNING_DAYS).toBe("14");
    expect(envOf(apiFnId())).toMatchObject({ STATE_MACHINE_ARN: { Ref: stateMachineId() }, REGISTRY_TABLE_NAME: table });
    for (const step of ["import-certificate", "apply-ingress", "verify-connection", "patch-service", "remove-ingress", "upsert-dns"] as const) {
      expect(envOf(fnId(step)).REGISTRY_TABLE_NAME, step).toBeUndefined();
    }
  });

  it("give the address watch its seconds and get-ingress-status a timeout well above them", () => {
    const fns = fx.s().template.findResources("AWS::Lambda::Function");
    for (const step of ["get-ingress-status", "resolve-request"] as const) {
      expect(fns[fnId(step)]?.Properties.Environment.Variables.ADDRESS_WATCH_SECONDS).toBe(String(DEFAULT_WATCH_SECONDS));
    }
    expect(fns[fnId("get-ingress-status")]?.Properties.Timeout).toBeGreaterThanOrEqual(DEFAULT_WATCH_SECONDS + 20);
  });

  it("time out before the ASL Task that calls them does", () => {
    const asl = JSON.parse(readFileSync(ASL_PATH, "utf8"));
    const taskTimeouts = new Map<string, number[]>();
    const walk = (states: Record<string, Record<string, unknown>>) => {
      for (const state of Object.values(states)) {
        if (state.Type === "Task") {
          const key = String(state.Resource).replace(/^\$\{|\}$/g, "");
          taskTimeouts.set(key, [...(taskTimeouts.get(key) ?? []), Number(state.TimeoutSeconds)]);
        }
        for (const nested of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])]) {
          if (nested) walk((nested as { States: Record<string, Record<string, unknown>> }).States);
        }
      }
    };
    walk(asl.States);
    const fns = fx.s().template.findResources("AWS::Lambda::Function");
    expect([...taskTimeouts.keys()].sort()).toEqual(STEPS.map((step) => stepNamed(step).resource).sort());
    for (const step of STEPS) {
      const timeouts = taskTimeouts.get(stepNamed(step).resource);
      expect(timeouts, `an ASL Task for ${step}`).toBeDefined();
      for (const t of timeouts ?? []) expect(fns[fnId(step)]?.Properties.Timeout, step).toBeLessThan(t);
    }
  });
});

describe("bundles (real esbuild output, infra/bundle.ts options)", () => {
  const bundled = () => [...STEPS.map((step) => [step, fnId(step)] as const), ["api", apiFnId()] as const];
  const assetDirOf = (name: string, logicalId: string): string => {
    const key = render(fx.s().template.findResources("AWS::Lambda::Function")[logicalId]?.Properties.Code.S3Key);
    const manifest = JSON.parse(readFileSync(join(fx.s().outdir, `${fx.s().stack.artifactId}.assets.json`), "utf8"));
    const asset = manifest.files[key.replace(/\.zip$/, "")];
    expect(asset?.source.packaging, name).toBe("zip");
    return join(fx.s().outdir, asset.source.path);
  };
  const modulesOf = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".mjs"));
  /** Every source bundled into the asset, from the source maps of the entry and its chunks. */
  const sourcesOf = (dir: string): string[] =>
    modulesOf(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, `${f}.map`), "utf8")).sources as string[]);

  it("are ESM modules (the entry index.mjs and its chunks) with the require banner and source maps without sources content", () => {
    for (const [name, id] of bundled()) {
      const dir = assetDirOf(name, id);
      expect(modulesOf(dir), name).toContain("index.mjs");
      // Code splitting moves what index.mjs only import()s (the AWS SDK's credential providers) into chunks.
      expect(modulesOf(dir).length, `${name}: code splitting puts what index.mjs only import()s into chunks`).toBeGreaterThan(1);
      if (name === "verify-connection") {
        // Its only AWS call, reading a Milvus credentials secret, import()s the SDK: a cold start loads none of it.
        const entrySources = JSON.parse(readFileSync(join(dir, "index.mjs.map"), "utf8")).sources as string[];
        expect(entrySources.filter((src) => src.includes("/@aws-sdk/") || src.includes("/@smithy/")), name).toEqual([]);
        expect(sourcesOf(dir).some((src) => src.includes("/@aws-sdk/client-secrets-manager/")), name).toBe(true);
      }
      for (const f of modulesOf(dir)) {
        const code = readFileSync(join(dir, f), "utf8");
        expect(code.startsWith(ESM_REQUIRE_BANNER), `${name}/${f}`).toBe(true);
        expect(code.trimEnd().endsWith(`//# sourceMappingURL=${f}.map`), `${name}/${f}`).toBe(true);
        const map = JSON.parse(readFileSync(join(dir, `${f}.map`), "utf8"));
        expect(map.sourcesContent ?? [], `${name}/${f}`).toEqual([]);
        // AWS SDK v3 is bundled, not left to the runtime's copy.
        expect(code.includes('from"@aws-sdk/') || code.includes('from "@aws-sdk/'), `${name}/${f}`).toBe(false);
      }
    }
  });

  it("hold each its own handler (one asset per function) and at most the issue's 1.2 MB of JavaScript", () => {
    for (const [name, id] of bundled()) {
      const dir = assetDirOf(name, id);
      expect(sourcesOf(dir).some((src) => src.endsWith(`functions/${name}/handler.ts`)), name).toBe(true);
      const bytes = modulesOf(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
      expect(bytes, name).toBeLessThanOrEqual(1.2e6);
    }
  });

  it("load in Node and export handler, and every chunk loads too (no ESM/CJS interop crash, nothing missing)", async () => {
    const dirs = bundled().map(([name, id]) => assetDirOf(name, id));
    const files = dirs.map((dir) => join(dir, "index.mjs"));
    // The chunks a handler only import()s when it needs them (credential providers, a lazily loaded client).
    const chunks = dirs.flatMap((dir) => modulesOf(dir).filter((f) => f !== "index.mjs").map((f) => join(dir, f)));
    const script = [
      `for (const f of ${JSON.stringify(files)}) { const m = await import(f); console.log(typeof m.handler); }`,
      `for (const f of ${JSON.stringify(chunks)}) await import(f);`,
    ].join("\n");
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-2",
        AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "example",
        AWS_EC2_METADATA_DISABLED: "true",
        POWERTOOLS_SERVICE_NAME: "milvus-l7",
        CERTIFICATE_BUCKETS: JSON.stringify([{ bucket: "milvus-certs", prefix: "live" }]),
      },
    });
    expect(stdout.trim().split("\n")).toEqual(files.map(() => "function"));
  }, 180_000);
});

describe("state machine", () => {
  const stateMachine = () => {
    const found = Object.values(fx.s().template.findResources("AWS::StepFunctions::StateMachine"));
    expect(found).toHaveLength(1);
    return found[0]?.Properties;
  };

  it("is STANDARD, named after the stack, traced, and logs ALL events without execution data", () => {
    const props = stateMachine();
    expect(props.StateMachineType).toBe("STANDARD");
    // The fixed name is what makes the executions' ARN known to target-lease without a dependency cycle.
    expect(props.StateMachineName).toBe(STATE_MACHINE_NAME);
    expect(render(fx.s().json.Outputs?.StateMachineName?.Value)).toBe(STATE_MACHINE_NAME);
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(["ALL", "ERROR"]).toContain(props.LoggingConfiguration.Level);
    expect(props.LoggingConfiguration.IncludeExecutionData).toBe(false);
  });

  it("inlines the ASL file and substitutes every $-placeholder (all 13) with one of its functions", () => {
    const props = stateMachine();
    const definition = render(props.DefinitionString);
    const aslText = readFileSync(ASL_PATH, "utf8");
    expect(definition).toBe(aslText);

    const used = new Set([...definition.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] as string));
    expect(used).toEqual(new Set(STEPS.map((step) => stepNamed(step).resource)));
    expect(used.size).toBe(13);
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
    expect(new Set(Object.keys(substitutions))).toEqual(used);
    for (const step of STEPS) {
      expect(substitutions[stepNamed(step).resource], step).toEqual({ "Fn::GetAtt": [fnId(step), "Arn"] });
    }

    // What CloudFormation deploys: substitute, then nothing of the form ${…} is left and it is still JSON.
    const resolved = definition.replace(/\$\{([^}]*)\}/g, (_, key: string) => `arn:aws:lambda:us-east-2:123456789012:function:${render(substitutions[key])}`);
    expect(resolved).not.toContain("${");
    const parsed = JSON.parse(resolved);
    expect(parsed.StartAt).toBe("ResolveRequest");
  });

  it("may invoke exactly the workflow's functions", () => {
    const roleArn = render(stateMachine().RoleArn);
    const roleLogicalId = roleArn.replace(/^\{|\.Arn\}$/g, "");
    const policy = policyOfRole(fx.s().json, roleLogicalId);
    const statements = identityStatements(fx.s().json).filter((st) => st.policy === policy);
    const lambdaStatements = statements.filter((st) => st.Action.some((a) => a.startsWith("lambda:")));
    expect(lambdaStatements).toHaveLength(1);
    expect(lambdaStatements[0]?.Action).toEqual(["lambda:InvokeFunction"]);
    expect(new Set(lambdaStatements[0]?.Resource.map(render))).toEqual(new Set(STEPS.map((step) => `{${fnId(step)}.Arn}`)));
    // No resource policy on any workflow function: only the API function may be invoked by a service (API Gateway).
    const permissions = Object.values(fx.s().template.findResources("AWS::Lambda::Permission")).map((p) => p.Properties);
    for (const p of permissions) expect(p.FunctionName).toEqual({ "Fn::GetAtt": [apiFnId(), "Arn"] });
  });
});

describe("deployments registry", () => {
  it("is an on-demand table with point-in-time recovery, keyed as functions/lib/registry says", () => {
    fx.s().template.resourceCountIs("AWS::DynamoDB::GlobalTable", 1);
    fx.s().template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: REGISTRY_TABLE.partitionKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: REGISTRY_TABLE.certificateIndex.name,
          KeySchema: [{ AttributeName: REGISTRY_TABLE.certificateIndex.partitionKey, KeyType: "HASH" }],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
    const table = Object.values(fx.s().template.findResources("AWS::DynamoDB::GlobalTable"))[0];
    expect(table?.DeletionPolicy).toBe("Retain");
  });

  it("expires lease items with DynamoDB TTL on their expiresAt attribute", () => {
    expect(REGISTRY_TABLE.ttlAttribute).toBe("expiresAt");
    fx.s().template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TimeToLiveSpecification: { AttributeName: REGISTRY_TABLE.ttlAttribute, Enabled: true },
    });
  });
});

describe("renewal triggers", () => {
  const rules = () =>
    Object.entries(fx.s().template.findResources("AWS::Events::Rule")).filter(
      ([, r]) =>
        r.Properties.EventPattern !== undefined &&
        (r.Properties.Targets as { Arn: unknown }[]).some((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: stateMachineId() })),
    );

  it("one rule per shared pattern: ACM Approaching Expiration, and S3 Object Created per configured bucket", () => {
    const buckets = parseConfig((k) => (CONTEXT as Record<string, unknown>)[k]).certificateBuckets;
    const expected: EventPattern[] = [acmExpiringPattern(), ...s3CertificateObjectPatterns(buckets)];
    expect(expected).toHaveLength(3);
    const patterns = rules().map(([, r]) => r.Properties.EventPattern);
    expect(patterns).toHaveLength(expected.length);
    expect(new Set(patterns.map((p) => JSON.stringify(p)))).toEqual(new Set(expected.map((p) => JSON.stringify(p))));
    // Spelled out once, so a change to the shared patterns is visible here too.
    expect(patterns).toContainEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: ["milvus-certs"] }, object: { key: [{ prefix: "cert-manager/" }, { prefix: "letsencrypt/live/" }] } },
    });
    expect(patterns).toContainEqual({ source: ["aws.s3"], "detail-type": ["Object Created"], detail: { bucket: { name: ["other-certs"] } } });
  });

  it("start the state machine with the event itself as input, through the StartExecution-only role", () => {
    const roleLogicalId = logicalIdOf(fx.s().stack, fx.s().stack.renewals.role);
    for (const [id, rule] of rules()) {
      expect(rule.Properties.State, id).toBe("ENABLED");
      expect(rule.Properties.EventBusName, id).toBeUndefined(); // the default bus, where AWS services send
      expect(rule.Properties.Targets, id).toEqual([
        { Arn: { Ref: stateMachineId() }, Id: "Target0", RoleArn: { "Fn::GetAtt": [roleLogicalId, "Arn"] } },
      ]);
    }
  });
});

describe("drift check schedule", () => {
  const scheduled = () =>
    Object.entries(fx.s().template.findResources("AWS::Events::Rule")).filter(([, r]) => r.Properties.ScheduleExpression !== undefined);

  it("one rule on rate(1 day) starts the state machine with {\"check\": {}} through a role that may only start it", () => {
    const rules = scheduled();
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] as [string, { Properties: Record<string, unknown> }];
    expect(rule.Properties.ScheduleExpression).toBe("rate(1 day)");
    expect(rule.Properties.State).toBe("ENABLED");
    const schedule = fx.s().stack.checkSchedule;
    expect(schedule).toBeDefined();
    const roleLogicalId = logicalIdOf(fx.s().stack, schedule?.role as never);
    expect(rule.Properties.Targets).toEqual([
      { Arn: { Ref: stateMachineId() }, Id: "Target0", Input: JSON.stringify({ check: {} }), RoleArn: { "Fn::GetAtt": [roleLogicalId, "Arn"] } },
    ]);
    const json = fx.s().template.toJSON() as CfnTemplate;
    const policy = policyOfRole(json, roleLogicalId);
    const statements = identityStatements(json).filter((st) => st.policy === policy);
    expect(statements.map((st) => [st.Effect, st.Action, st.Resource.map(render)])).toEqual([["Allow", ["states:StartExecution"], [render({ Ref: stateMachineId() })]]]);
  });
});

describe("HTTP API", () => {
  const methods = () => Object.values(fx.s().template.findResources("AWS::ApiGateway::Method")).map((m) => m.Properties);
  const pathOf = (resourceId: unknown): string => {
    const resources = fx.s().template.findResources("AWS::ApiGateway::Resource");
    const id = render(resourceId).replace(/^\{|\}$/g, "");
    const r = resources[id]?.Properties;
    if (!r) return "";
    return `${pathOf(r.ParentId)}/${r.PathPart}`;
  };

  it("is a REGIONAL REST API without a resource policy when no VPC endpoint is configured", () => {
    fx.s().template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
    const api = Object.values(fx.s().template.findResources("AWS::ApiGateway::RestApi"))[0]?.Properties;
    expect(api.EndpointConfiguration).toEqual({ Types: ["REGIONAL"] });
    expect(api.Policy).toBeUndefined();
    // The stack never touches the account-wide API Gateway logging role unless asked to.
    fx.s().template.resourceCountIs("AWS::ApiGateway::Account", 0);
  });

  it("has exactly POST /deployments, GET /deployments and GET /deployments/{id}, each AWS_IAM-authorised, proxied to the API function", () => {
    const found = methods().map((m) => `${m.HttpMethod} ${pathOf(m.ResourceId)}`);
    expect(found.sort()).toEqual(["GET /deployments", "GET /deployments/{id}", "POST /deployments"]);
    for (const m of methods()) {
      expect(m.AuthorizationType, `${m.HttpMethod} ${pathOf(m.ResourceId)}`).toBe("AWS_IAM");
      expect(m.Integration.Type).toBe("AWS_PROXY");
      expect(m.Integration.IntegrationHttpMethod).toBe("POST");
      expect(JSON.stringify(m.Integration.Uri)).toContain(apiFnId());
    }
    // One invoke permission per method, scoped to that method and path of this API (no console test invokes).
    const permissions = Object.values(fx.s().template.findResources("AWS::Lambda::Permission")).map((p) => p.Properties);
    expect(permissions).toHaveLength(3);
    const api = `arn:{AWS::Partition}:execute-api:{AWS::Region}:{AWS::AccountId}:{${logicalIdOf(fx.s().stack, fx.s().stack.api.api)}}`;
    const stage = `{${logicalIdOf(fx.s().stack, fx.s().stack.api.api.deploymentStage)}}`;
    expect(permissions.map((p) => render(p.SourceArn)).sort()).toEqual(
      [`${api}/${stage}/GET/deployments`, `${api}/${stage}/GET/deployments/*`, `${api}/${stage}/POST/deployments`].sort(),
    );
    for (const p of permissions) expect(p.Principal).toBe("apigateway.amazonaws.com");
  });

  it("stage: JSON access logs with retention, ERROR execution logs without data, tracing, throttling", () => {
    const stage = Object.values(fx.s().template.findResources("AWS::ApiGateway::Stage"))[0]?.Properties;
    expect(stage.StageName).toBe(API_STAGE);
    const logGroup = render(stage.AccessLogSetting.DestinationArn).replace(/^\{|\.Arn\}$/g, "");
    expect(fx.s().template.findResources("AWS::Logs::LogGroup")[logGroup]?.Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(stage.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: "$context.requestId", caller: "$context.identity.caller", status: "$context.status" });
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual([
      {
        HttpMethod: "*",
        ResourcePath: "/*",
        LoggingLevel: "ERROR",
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: 10,
        ThrottlingBurstLimit: 20,
      },
    ]);
  });

  it("outputs its URL", () => {
    const url = render(fx.s().json.Outputs?.ApiUrl?.Value);
    expect(url).toBe(`https://{${logicalIdOf(fx.s().stack, fx.s().stack.api.api)}}.execute-api.{AWS::Region}.{AWS::URLSuffix}/{${logicalIdOf(fx.s().stack, fx.s().stack.api.api.deploymentStage)}}/`);
  });
});

describe("cluster access", () => {
  const entryOf = (role: "kubernetes" | "importCertificate") =>
    Object.values(fx.s().template.findResources("AWS::EKS::AccessEntry")).find((e) => JSON.stringify(e.Properties.PrincipalArn).includes(roleId(role)))?.Properties;

  it("an access entry gives the Kubernetes-facing role AmazonEKSEditPolicy in the Milvus namespaces only", () => {
    fx.s().template.resourceCountIs("AWS::EKS::AccessEntry", 2);
    const entry = entryOf("kubernetes");
    expect(entry.ClusterName).toBe("milvus-prod");
    expect(entry.Type).toBe("STANDARD");
    expect(entry.PrincipalArn).toEqual({ "Fn::GetAtt": [roleId("kubernetes"), "Arn"] });
    expect(entry.KubernetesGroups).toBeUndefined();
    expect(entry.AccessPolicies).toHaveLength(1);
    expect(render(entry.AccessPolicies[0].PolicyArn)).toBe("arn:{AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy");
    expect(entry.AccessPolicies[0].AccessScope).toEqual({ Type: "namespace", Namespaces: ["milvus", "milvus-staging"] });
  });

  it("import-certificate's own entry has only the certificate readers' group: it reads no Secret until one is bound", () => {
    const entry = entryOf("importCertificate");
    expect(entry.KubernetesGroups).toEqual(["milvus-l7-certificates"]);
    expect(entry.AccessPolicies).toBeUndefined();
  });

  it("outputs the role and the aws-auth command for ConfigMap clusters", () => {
    const outputs = fx.s().json.Outputs ?? {};
    expect(outputs.KubernetesRoleArn?.Value).toEqual({ "Fn::GetAtt": [roleId("kubernetes"), "Arn"] });
    expect(render(outputs.AwsAuthCommand?.Value)).toBe(
      `eksctl create iamidentitymapping --cluster milvus-prod --region {AWS::Region} --arn {${roleId("kubernetes")}.Arn} --username milvus-l7` +
        " && kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=milvus-l7 --namespace=milvus" +
        " && kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=milvus-l7 --namespace=milvus-staging" +
        ` && eksctl create iamidentitymapping --cluster milvus-prod --region {AWS::Region} --arn {${roleId("importCertificate")}.Arn}` +
        " --username milvus-l7-certificates --group milvus-l7-certificates",
    );
  });
});

describe("alerting", () => {
  const topicId = () => Object.keys(fx.s().template.findResources("AWS::SNS::Topic"))[0] as string;

  it("an encrypted topic (customer key with rotation, TLS only) with the e-mail subscription", () => {
    fx.s().template.resourceCountIs("AWS::SNS::Topic", 1);
    const topic = fx.s().template.findResources("AWS::SNS::Topic")[topicId()]?.Properties;
    const keyId = topic.KmsMasterKeyId["Fn::GetAtt"][0];
    expect(fx.s().template.findResources("AWS::KMS::Key")[keyId]?.Properties.EnableKeyRotation).toBe(true);
    fx.s().template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "platform@example.com", TopicArn: { Ref: topicId() } });
    fx.s().template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
    // The alarm may publish despite the topic policy replacing SNS's default one.
    const alarmId = Object.keys(fx.s().template.findResources("AWS::CloudWatch::Alarm"))[0];
    for (const publisher of [
      { Principal: { Service: "cloudwatch.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [alarmId, "Arn"] } } } },
      { Principal: { Service: "events.amazonaws.com" } },
    ]) {
      fx.s().template.hasResourceProperties("AWS::SNS::TopicPolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: "Allow", Action: "sns:Publish", Resource: { Ref: topicId() }, ...publisher })]),
        },
      });
    }
    // The key lets the two publishers use it.
    const keyPolicy = fx.s().template.findResources("AWS::KMS::Key")[keyId]?.Properties.KeyPolicy.Statement as { Principal?: { Service?: string } }[];
    const services = keyPolicy.map((st) => st.Principal?.Service).filter(Boolean);
    expect(services).toEqual(expect.arrayContaining(["events.amazonaws.com", "cloudwatch.amazonaws.com"]));
  });

  it("an EventBridge rule sends this state machine's FAILED / TIMED_OUT / ABORTED executions to the topic", () => {
    const smId = Object.keys(fx.s().template.findResources("AWS::StepFunctions::StateMachine"))[0];
    // The shared pattern, with the state machine's ARN as the template renders it.
    const marker = "STATE-MACHINE-ARN";
    const shared = JSON.parse(JSON.stringify(failedExecutionPattern(marker)).replace(`"${marker}"`, JSON.stringify({ Ref: smId })));
    const alertRules = Object.values(fx.s().template.findResources("AWS::Events::Rule")).filter((r) =>
      (r.Properties.Targets as { Arn: unknown }[]).some((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: topicId() })),
    );
    expect(alertRules.map((r) => r.Properties.EventPattern)).toEqual([shared]);
    fx.s().template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { status: ["FAILED", "TIMED_OUT", "ABORTED"], stateMachineArn: [{ Ref: smId }] },
      },
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { Ref: topicId() } })],
    });
  });

  it("a CloudWatch alarm on ExecutionsFailed notifies the topic", () => {
    const smId = Object.keys(fx.s().template.findResources("AWS::StepFunctions::StateMachine"))[0];
    fx.s().template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/States",
      MetricName: "ExecutionsFailed",
      Dimensions: [{ Name: "StateMachineArn", Value: { Ref: smId } }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId() }],
    });
  });
});

describe("dashboard and alarms", () => {
  const topicId = () => Object.keys(fx.s().template.findResources("AWS::SNS::Topic"))[0] as string;

  it("the failure alert's message is functions/lib/alert-message.ts's InputTransformer, with the console of the stack's region", () => {
    const target = Object.values(fx.s().template.findResources("AWS::Events::Rule"))
      .flatMap((r) => r.Properties.Targets as { Arn: unknown; InputTransformer?: { InputPathsMap: unknown; InputTemplate: unknown } }[])
      .find((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: topicId() }));
    const origin = render(target?.InputTransformer?.InputTemplate).match(/(https:\/\/[^/]+)\/states\//)?.[1] ?? "";
    const expected = alertInputTransformer(origin);
    expect(target?.InputTransformer?.InputPathsMap).toEqual(expected.inputPathsMap);
    expect(render(target?.InputTransformer?.InputTemplate)).toBe(expected.inputTemplate);
    expect(expected.inputTemplate).toContain("<cause>");
  });

  it("an alarm on the lowest days to expiry over all targets, below the renewals' threshold, to the topic", () => {
    fx.s().template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "milvus-l7",
      MetricName: "DaysToExpiry",
      Dimensions: [{ Name: "service", Value: "milvus-l7" }],
      Statistic: "Minimum",
      Period: 86400,
      Threshold: 14,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId() }],
    });
  });

  it("an alarm on drift found, to the topic", () => {
    fx.s().template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "milvus-l7",
      MetricName: "DriftFound",
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId() }],
    });
  });

  it("a dashboard of runs by outcome, verification latency, days to expiry and drift, linked from the outputs", () => {
    const dashboards = fx.s().template.findResources("AWS::CloudWatch::Dashboard");
    const [id, dashboard] = Object.entries(dashboards)[0] ?? [];
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = render(dashboard?.Properties.DashboardBody);
    for (const text of ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "VerificationLatency", "p90", "DaysToExpiry", "DriftFound"]) {
      expect(body, text).toContain(text);
    }
    const url = render(fx.s().json.Outputs?.DashboardUrl?.Value);
    expect(url).toMatch(/^https:\/\/.*console\.aws\.amazon\.com\/cloudwatch\/home\?region=.*#dashboards:name=/);
    expect(url).toContain(`{${id}}`);
  });
});

describe("outputs", () => {
  it("state machine, every function name, the registry, the API and cluster access", () => {
    const outputs = fx.s().json.Outputs ?? {};
    expect(outputs.StateMachineArn?.Value).toEqual({ Ref: stateMachineId() });
    const names = Object.values(outputs)
      .map((o) => render(o.Value))
      .filter((v) => [...STEPS.map(fnId), apiFnId()].some((id) => v === `{${id}}`));
    expect(names).toHaveLength(STEPS.length + 1);
    expect(outputs.RegistryTableName?.Value).toEqual({ Ref: tableId() });
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "AlertTopicArn",
        "DashboardUrl",
        "ApiFunctionName",
        "ApiId",
        "ApiUrl",
        "AwsAuthCommand",
        "KubernetesRoleArn",
        "RegistryTableName",
        "StateMachineArn",
        "StateMachineName",
        "ApplyIngressFunctionName",
        "CheckTargetFunctionName",
        "RecordCheckFunctionName",
        "DiagnoseTargetsFunctionName",
        "GetIngressStatusFunctionName",
        "ImportCertificateFunctionName",
        "PatchServiceFunctionName",
        "RecordDeploymentFunctionName",
        "RemoveIngressFunctionName",
        "ResolveRequestFunctionName",
        "TargetLeaseFunctionName",
        "UpsertDnsFunctionName",
        "VerifyConnectionFunctionName",
      ].sort(),
    );
    for (const [key, output] of Object.entries(outputs)) expect(output.Description, key).toBeTruthy();
  });
});

describe("checks on the synthesized template", () => {
  it("cfn-lint reports no errors", async () => {
    const findings = await cfnLint(fx.s().templatePath);
    const errors = findings.filter((f) => f.Level === "Error");
    expect(errors.map((f) => `${f.Rule.Id} ${f.Message} at ${f.Location.Path.join("/")}`)).toEqual([]);
  }, 180_000);

  it("cdk-nag AwsSolutions: no unacknowledged findings; each acknowledgement gives its reason", () => {
    const report = new AwsSolutionsChecks(fx.s().app).validateScope(fx.s().app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);

    const acknowledged = new Map<string, string>();
    for (const construct of fx.s().app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          const text = typeof reason === "string" ? reason : JSON.stringify(reason);
          expect(text.length, `reason for ${id}`).toBeGreaterThan(40);
          acknowledged.set(id.replace(/^annotation::/i, ""), text);
        }
      }
    }
    // Every acknowledgement is listed here on purpose: a new one is a review point.
    expect([...acknowledged.keys()].sort()).toEqual(
      [
        "AwsSolutions-APIG2",
        "AwsSolutions-APIG3",
        "AwsSolutions-COG4",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:acm:<AWS::Region>:<AWS::AccountId>:certificate/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::milvus-certs/letsencrypt/live/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::milvus-certs/cert-manager/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::other-certs/*]",
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${STATE_MACHINE_NAME}:*]`,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]",
        "AwsSolutions-L1",
      ].sort(),
    );
  });
});
