// The deployments registry: one item per target, keyed as functions/lib/registry.ts says so
// the stack, the Lambdas and the sandbox cannot drift. On-demand, point-in-time recovery, retained on delete,
// and DynamoDB TTL on the lease items' `expiresAt` (a lease whose execution died goes away by itself).
//
// Grants are per operation and on the table (or the one index) ARN only — `table.grant*` would add
// "<table>/index/*" and more actions than a step calls. Lease items (`lease#<targetId>`) are told apart from
// deployment records by their partition key, which IAM sees as `dynamodb:LeadingKeys`: the lease step may touch
// only lease items, and record-deployment may delete only lease items.
import { CfnOutput, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { REGISTRY_TABLE } from "../../functions/lib/registry";

/** The partition keys of lease items (functions/lib/registry.ts `leaseKey`). */
export const LEASE_KEY_PATTERN = `${REGISTRY_TABLE.leaseKeyPrefix}*`;

/** Only items whose partition key is a lease key (LeadingKeys is multi-valued: ForAllValues is required). */
const ONLY_LEASE_ITEMS = { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [LEASE_KEY_PATTERN] } };

export class Registry extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, "Table", {
      partitionKey: { name: REGISTRY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only lease items carry the attribute; deployment records never expire.
      timeToLiveAttribute: REGISTRY_TABLE.ttlAttribute,
      globalSecondaryIndexes: [
        {
          indexName: REGISTRY_TABLE.certificateIndex.name,
          partitionKey: { name: REGISTRY_TABLE.certificateIndex.partitionKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        },
      ],
    });
    new CfnOutput(Stack.of(this), "RegistryTableName", { description: "DynamoDB table of deployed targets", value: this.table.tableName });
  }

  get certificateIndexArn(): string {
    return `${this.table.tableArn}/index/${REGISTRY_TABLE.certificateIndex.name}`;
  }

  /**
   * record-deployment: one TransactWriteItems of a PutItem (the record) and a conditional DeleteItem (its own
   * lease). IAM authorises each part as its own action; there is no dynamodb:TransactWriteItems action.
   */
  grantRecord(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "RecordDeployments", actions: ["dynamodb:PutItem"], resources: [this.table.tableArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReleaseLeaseOnRecord",
        actions: ["dynamodb:DeleteItem"],
        resources: [this.table.tableArn],
        conditions: ONLY_LEASE_ITEMS,
      }),
    );
  }

  /**
   * record-check: one TransactWriteItems of an UpdateItem (the drift check's fields of an existing record) and a
   * conditional DeleteItem (its own lease).
   */
  grantCheckRecord(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "RecordChecks", actions: ["dynamodb:UpdateItem"], resources: [this.table.tableArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReleaseLeaseOnCheck",
        actions: ["dynamodb:DeleteItem"],
        resources: [this.table.tableArn],
        conditions: ONLY_LEASE_ITEMS,
      }),
    );
  }

  /** target-lease: conditional PutItem (claim), consistent GetItem (who holds it), conditional DeleteItem (release). */
  grantLease(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "TargetLeases",
        actions: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
        resources: [this.table.tableArn],
        conditions: ONLY_LEASE_ITEMS,
      }),
    );
  }

  /** resolve-request on a renewal: Query the certificate index (ACM events), Scan the table (S3 events). */
  grantRenewalReads(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "FindTargetsByCertificate", actions: ["dynamodb:Query"], resources: [this.certificateIndexArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "FindTargetsBySourceObject", actions: ["dynamodb:Scan"], resources: [this.table.tableArn] }),
    );
  }

  /** The API's GET /deployments: Scan the table. */
  grantList(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "ListDeployments", actions: ["dynamodb:Scan"], resources: [this.table.tableArn] }),
    );
  }
}
