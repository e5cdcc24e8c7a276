// The stack's IAM, synthesized without bundling (the function code does not change a policy): no wildcard
// actions, Resource "*" only where AWS allows nothing else, and each role holding exactly its own grants.
import { Validations } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { ACM_CERTIFICATES, CERT_OBJECTS, CLUSTER_ARN, DNS_CHANGES, EXECUTIONS, HOSTED_ZONE, KMS_KEY_ARN, MILVUS_SECRET_ARN, SCOPED_WILDCARD_RESOURCES, SECRET_ARN, WILDCARD_RESOURCE_ACTIONS, synthesizedStack } from "./stack-fixture";
import { identityStatements, logicalIdOf, render, type Statement } from "./synth";
import { REGISTRY_TABLE } from "../../functions/lib/registry";
import { KUBERNETES_STEPS } from "../../infra/constructs/workflow-functions";
import { STEP_NAMES as STEPS } from "../../statemachine/steps";

const fx = synthesizedStack({ bundle: false });
const { fnId, apiFnId, stateMachineId, tableId, roleId, statementsOf, nonLogStatements, grants, statementsOfRoleId } = fx;

describe("IAM", () => {
  it("no statement has a wildcard action; Resource * only for actions that allow nothing else; other wildcards scoped", () => {
    const statements = identityStatements(fx.s().json);
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      const where = `${st.policy} ${st.Sid ?? ""} ${st.Action.join(",")}`;
      expect(st.Effect, where).toBe("Allow");
      for (const action of st.Action) expect(action, where).not.toMatch(/[*?]/);
      for (const resource of st.Resource.map(render)) {
        if (resource === "*") {
          for (const action of st.Action) expect(WILDCARD_RESOURCE_ACTIONS.has(action), `${action} on Resource "*" (${where})`).toBe(true);
        } else if (/[*?]/.test(resource)) {
          expect(SCOPED_WILDCARD_RESOURCES.has(resource), `${resource} (${where})`).toBe(true);
        } else if (resource.startsWith("{")) {
          // A resource of this stack (Ref / GetAtt).
          expect(Object.keys(fx.s().json.Resources), where).toContain(resource.replace(/^\{|\}$/g, "").split(".")[0]);
        }
      }
    }
  });

  it("roles carry no AWS managed policies", () => {
    for (const [id, role] of Object.entries(fx.s().template.findResources("AWS::IAM::Role"))) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it("resolve-request may only read the registry for renewals: Query on the certificate index, Scan on the table", () => {
    expect(grants("resolveRequest")).toEqual([
      [["dynamodb:Query"], [`{${tableId()}.Arn}/index/${REGISTRY_TABLE.certificateIndex.name}`], undefined],
      [["dynamodb:Scan"], [`{${tableId()}.Arn}`], undefined],
    ]);
    const logs = statementsOf("resolveRequest").filter((st) => st.Action.every((a) => a === "logs:CreateLogStream" || a === "logs:PutLogEvents"));
    expect(logs.map((st) => st.Resource.map(render))).toEqual([[`{${logicalIdOf(fx.s().stack, fx.s().stack.functions["resolve-request"].logGroup)}.Arn}`]]);
  });

  it("import-certificate: ACM on certificates, the configured secrets, prefixes and keys only", () => {
    const byAction = new Map<string, Statement>();
    for (const st of nonLogStatements("importCertificate")) for (const a of st.Action) byAction.set(a, st);
    expect([...byAction.keys()].sort()).toEqual(
      [
        "acm:AddTagsToCertificate",
        "acm:DescribeCertificate",
        "acm:GetCertificate",
        "acm:ImportCertificate",
        "acm:ListCertificates",
        "acm:ListTagsForCertificate",
        "eks:DescribeCluster",
        "kms:Decrypt",
        "s3:GetObject",
        "secretsmanager:GetSecretValue",
      ].sort(),
    );
    for (const a of ["acm:ImportCertificate", "acm:AddTagsToCertificate", "acm:DescribeCertificate", "acm:GetCertificate", "acm:ListTagsForCertificate"]) {
      expect(byAction.get(a)?.Resource.map(render), a).toEqual([ACM_CERTIFICATES]);
    }
    // A kubernetesSecret source is read in the one configured cluster.
    expect(byAction.get("eks:DescribeCluster")?.Resource.map(render)).toEqual([CLUSTER_ARN]);
    // The one Resource "*": ListCertificates, alone in its statement.
    expect(byAction.get("acm:ListCertificates")?.Action).toEqual(["acm:ListCertificates"]);
    expect(byAction.get("acm:ListCertificates")?.Resource).toEqual(["*"]);
    expect(byAction.get("secretsmanager:GetSecretValue")?.Resource).toEqual([SECRET_ARN]);
    expect(byAction.get("s3:GetObject")?.Resource.map(render)).toEqual(CERT_OBJECTS);
    const kms = byAction.get("kms:Decrypt");
    expect(kms?.Resource).toEqual([KMS_KEY_ARN]);
    expect(Object.keys(kms?.Condition ?? {})).toEqual(["StringEquals"]);
    expect(((kms?.Condition?.StringEquals?.["kms:ViaService"] ?? []) as unknown[]).map(render).sort()).toEqual([
      "s3.{AWS::Region}.amazonaws.com",
      "secretsmanager.{AWS::Region}.amazonaws.com",
    ]);
  });

  it("verify-connection: only the configured Milvus credentials secrets, decrypted through Secrets Manager only (no ACM: the trust anchors come with the certificate)", () => {
    const [read, decrypt, ...rest] = nonLogStatements("verifyConnection");
    expect(rest).toEqual([]);
    expect([read?.Action, read?.Resource, read?.Condition]).toEqual([["secretsmanager:GetSecretValue"], [MILVUS_SECRET_ARN], undefined]);
    expect([decrypt?.Action, decrypt?.Resource]).toEqual([["kms:Decrypt"], [KMS_KEY_ARN]]);
    expect(Object.keys(decrypt?.Condition ?? {})).toEqual(["StringEquals"]);
    expect(((decrypt?.Condition?.StringEquals?.["kms:ViaService"] ?? []) as unknown[]).map(render)).toEqual(["secretsmanager.{AWS::Region}.amazonaws.com"]);
  });

  it("record-deployment: PutItem on the table, DeleteItem of lease items only (its TransactWriteItems)", () => {
    expect(grants("recordDeployment")).toEqual([
      [["dynamodb:PutItem"], [`{${tableId()}.Arn}`], undefined],
      [["dynamodb:DeleteItem"], [`{${tableId()}.Arn}`], { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["lease#*"] } }],
    ]);
  });

  it("record-check: UpdateItem on the table, DeleteItem of lease items only (its TransactWriteItems)", () => {
    expect(grants("recordCheck")).toEqual([
      [["dynamodb:UpdateItem"], [`{${tableId()}.Arn}`], undefined],
      [["dynamodb:DeleteItem"], [`{${tableId()}.Arn}`], { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["lease#*"] } }],
    ]);
  });

  it("target-lease: Put/Get/Delete of lease items on the table, DescribeExecution on this state machine's executions", () => {
    expect(grants("targetLease")).toEqual([
      [
        ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
        [`{${tableId()}.Arn}`],
        { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["lease#*"] } },
      ],
      [["states:DescribeExecution"], [EXECUTIONS], undefined],
    ]);
  });

  it("upsert-dns: UPSERT of A/AAAA alias records in the configured zones, GetChange", () => {
    expect(grants("upsertDns")).toEqual([
      [
        ["route53:ChangeResourceRecordSets"],
        [`arn:{AWS::Partition}:route53:::hostedzone/${HOSTED_ZONE}`],
        {
          "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
            "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA"],
          },
        },
      ],
      [["route53:GetChange"], [DNS_CHANGES], undefined],
    ]);
  });

  it("the API function: exactly StartExecution on the state machine, Describe/GetExecutionHistory on its executions, Scan on the table", () => {
    const statements = statementsOfRoleId(logicalIdOf(fx.s().stack, fx.s().stack.api.role)).filter(
      (st) => !st.Action.every((a) => a === "logs:CreateLogStream" || a === "logs:PutLogEvents"),
    );
    expect(statements.map((st) => [st.Action, st.Resource.map(render), st.Condition])).toEqual([
      [["states:StartExecution"], [`{${stateMachineId()}}`], undefined],
      [["states:DescribeExecution", "states:GetExecutionHistory"], [EXECUTIONS], undefined],
      [["dynamodb:Scan"], [`{${tableId()}.Arn}`], undefined],
    ]);
    expect(fx.s().template.findResources("AWS::Lambda::Function")[apiFnId()]?.Properties.Role).toEqual({
      "Fn::GetAtt": [logicalIdOf(fx.s().stack, fx.s().stack.api.role), "Arn"],
    });
  });

  it("the renewal rules' role may only start this state machine", () => {
    const roleLogicalId = logicalIdOf(fx.s().stack, fx.s().stack.renewals.role);
    const role = fx.s().template.findResources("AWS::IAM::Role")[roleLogicalId]?.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "events.amazonaws.com" } },
    ]);
    expect(statementsOfRoleId(roleLogicalId).map((st) => [st.Action, st.Resource.map(render)])).toEqual([
      [["states:StartExecution"], [`{${stateMachineId()}}`]],
    ]);
  });

  it("the Kubernetes-facing role may only describe the one cluster, read target health (and write its six log groups)", () => {
    const statements = nonLogStatements("kubernetes");
    expect(statements.map((st) => [st.Sid, st.Action, st.Resource.map(render)])).toEqual([
      // diagnose-targets: ELB's Describe actions support no resource-level permissions.
      [
        "ReadTargetHealth",
        ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
        ["*"],
      ],
      ["DescribeMilvusCluster", ["eks:DescribeCluster"], [CLUSTER_ARN]],
    ]);
    expect(statementsOf("kubernetes").length - statements.length).toBe(6);
    // The wildcard is acknowledged in cdk-nag with its reason, on the role that holds it.
    const acknowledgements = fx
      .s()
      .stack.roles.kubernetes.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .map((m) => JSON.stringify(m.data));
    expect(acknowledgements.join(" ")).toMatch(/AwsSolutions-IAM5\[Resource::\*\].*DescribeTargetHealth .*support no resource-level permissions/);
    expect([...KUBERNETES_STEPS].sort()).toEqual(["apply-ingress", "check-target", "diagnose-targets", "get-ingress-status", "patch-service", "remove-ingress"]);
    for (const step of KUBERNETES_STEPS) {
      expect(fx.s().template.findResources("AWS::Lambda::Function")[fnId(step)]?.Properties.Role).toEqual({ "Fn::GetAtt": [roleId("kubernetes"), "Arn"] });
    }
  });

  it("each role serves only its own functions", () => {
    const roleOf = (id: string) => render(fx.s().template.findResources("AWS::Lambda::Function")[id]?.Properties.Role);
    const byRole = new Map<string, string[]>();
    for (const [name, id] of [...STEPS.map((step) => [step, fnId(step)]), ["api", apiFnId()]] as [string, string][]) {
      byRole.set(roleOf(id), [...(byRole.get(roleOf(id)) ?? []), name]);
    }
    expect([...byRole.values()].map((names) => names.sort().join(",")).sort()).toEqual(
      [
        "api",
        "apply-ingress,check-target,diagnose-targets,get-ingress-status,patch-service,remove-ingress",
        "import-certificate",
        "record-check",
        "record-deployment",
        "resolve-request",
        "target-lease",
        "upsert-dns",
        "verify-connection",
      ].sort(),
    );
  });
});

