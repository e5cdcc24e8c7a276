// cdk-nag finding ids for acknowledgements. An IAM5 finding names the wildcard resource as cdk-nag flattens its
// CloudFormation form: `Ref` → `<Name>`, `Fn::GetAtt` → `<Id.Attr>`, `Fn::Join` concatenated (cdk-nag
// utils/flatten-cfn-reference, not exported). Computing the id from the very value granted keeps the
// acknowledgement matching whether the stack is environment-agnostic (`<AWS::Region>`) or pinned to an account
// and region (literals).
import { Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

function flatten(node: unknown): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
  if (node && typeof node === "object") {
    const v = node as Record<string, unknown>;
    if ("Fn::Join" in v) {
      const [delimiter, items] = v["Fn::Join"] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ("Fn::Sub" in v) return flatten(v["Fn::Sub"]);
    if ("Fn::GetAtt" in v) {
      const [resource, attribute] = v["Fn::GetAtt"] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ("Fn::ImportValue" in v) return flatten(v["Fn::ImportValue"]);
    if ("Ref" in v) return `<${flatten(v.Ref)}>`;
  }
  return JSON.stringify(node);
}

/** `AwsSolutions-IAM5[Resource::<flattened resource>]` for a resource ARN (string or token) granted in `scope`'s stack. */
export function iam5ResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
}
