// Shared by the infra tests: synthesize the stack from a context (as `cdk synth -c …` would), render
// CloudFormation intrinsics to readable strings, collect IAM statements, and run cfn-lint on a template.
import { App, type Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseConfig, parseEnv } from "../../infra/config";
import { MilvusL7Stack } from "../../infra/milvus-l7-stack";

export interface Synthesized {
  app: App;
  stack: MilvusL7Stack;
  template: Template;
  json: CfnTemplate;
  templatePath: string;
  outdir: string;
  /** Removes the temporary cloud assembly (bundles included). */
  cleanup: () => void;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/**
 * Synthesizes the stack into a fresh temporary cloud assembly. With `bundle: false` the Lambda code is NOT
 * bundled (CDK's own `aws:cdk:bundling-stacks` context, what `cdk synth --exclusively` uses); the template is
 * otherwise identical. Only configuration variants use that: stack.test.ts synthesizes with real bundling.
 */
export function synthesize(context: Record<string, unknown>, opts: { bundle: boolean }): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "milvus-l7-cdk-"));
  const fullContext = opts.bundle ? context : { ...context, "aws:cdk:bundling-stacks": [] };
  // CDK's built-in template validation (what `cdk synth` also runs) only warns and costs ~10 s per synth
  // here; the tests run cfn-lint on the template instead.
  const app = new App({ outdir, context: fullContext, builtinCloudFormationValidation: false });
  const read = (key: string) => context[key];
  const stack = new MilvusL7Stack(app, "MilvusL7Test", { config: parseConfig(read), env: parseEnv(read) });
  const assembly = app.synth();
  const templatePath = assembly.getStackArtifact(stack.artifactId).templateFullPath;
  const json = JSON.parse(readFileSync(templatePath, "utf8")) as CfnTemplate;
  const cleanup = () => rmSync(outdir, { recursive: true, force: true });
  return { app, stack, template: Template.fromJSON(json as unknown as Record<string, unknown>), json, templatePath, outdir, cleanup };
}

/** A CloudFormation value as a string: `{Ref}`/`{X.Arn}` placeholders for tokens, Fn::Join concatenated. */
export function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if ("Ref" in v) return `{${String(v.Ref)}}`;
    if ("Fn::GetAtt" in v) return `{${(v["Fn::GetAtt"] as string[]).join(".")}}`;
    if ("Fn::Join" in v) {
      const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if ("Fn::Sub" in v) return String(v["Fn::Sub"]);
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

export interface Statement {
  /** Logical id of the policy (or role) holding it. */
  policy: string;
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Record<string, Record<string, unknown>>;
  Sid?: string;
}

const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Every identity-policy statement in the template: AWS::IAM::Policy, ManagedPolicy, and roles' inline policies. */
export function identityStatements(json: CfnTemplate): Statement[] {
  const out: Statement[] = [];
  const add = (policy: string, doc: unknown) => {
    for (const s of asList((doc as { Statement?: Record<string, unknown>[] }).Statement)) {
      out.push({
        policy,
        Effect: s.Effect as string,
        Action: asList(s.Action as string | string[]),
        Resource: asList(s.Resource),
        Condition: s.Condition as Statement["Condition"],
        Sid: s.Sid as string | undefined,
      });
    }
  };
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy") add(id, r.Properties?.PolicyDocument);
    if (r.Type === "AWS::IAM::Role") {
      for (const p of asList(r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined)) add(id, p.PolicyDocument);
    }
  }
  return out;
}

/** The policy attached to a role (by the role's logical id). */
export function policyOfRole(json: CfnTemplate, roleLogicalId: string): string {
  const found = Object.entries(json.Resources).filter(
    ([, r]) =>
      r.Type === "AWS::IAM::Policy" && asList(r.Properties?.Roles as unknown[]).some((role) => render(role) === `{${roleLogicalId}}`),
  );
  if (found.length !== 1) throw new Error(`expected one policy for ${roleLogicalId}, found ${found.length}`);
  return (found[0] as [string, CfnResource])[0];
}

export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as Parameters<Stack["getLogicalId"]>[0]);
}

export interface CfnLintFinding {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path: unknown[] };
}

/** cfn-lint's findings for a template (it exits non-zero whenever it finds anything, so the exit code is ignored). */
export async function cfnLint(templatePath: string): Promise<CfnLintFinding[]> {
  const run = promisify(execFile);
  let stdout: string;
  try {
    ({ stdout } = await run("cfn-lint", ["--format", "json", templatePath], { maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string };
    if (err.code === "ENOENT") throw new Error("cfn-lint is not installed (pip install cfn-lint): the infra tests need it");
    if (typeof err.stdout !== "string" || err.stdout.trim() === "") throw e;
    stdout = err.stdout;
  }
  return JSON.parse(stdout) as CfnLintFinding[];
}
