// The deployments registry: one DynamoDB item per target, written when a target is verified, read by renewals
// (which targets use this certificate or this source object?) and by the API.
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { translateAwsError } from "./aws-errors";
import { RegistryError } from "./errors";
import type { CertificateSource, Target } from "./plan";

/** Table layout, shared with the CDK stack and the sandbox so they cannot drift. */
export const REGISTRY_TABLE = {
  partitionKey: "targetId",
  certificateIndex: { name: "byCertificate", partitionKey: "certificateArn" },
} as const;

export interface DeploymentRecord {
  /** `<region>/<cluster>/<namespace>/<ingress>`: one Ingress is one target. */
  targetId: string;
  target: Target;
  certificateArn: string;
  certificateSource?: CertificateSource;
  /** Bucket of an S3 source, top-level so renewals can filter on it. */
  sourceBucket?: string;
  albHostname: string;
  servedFingerprint256: string;
  servedNotAfter: string;
  lastVerified: string;
  lastExecution: string;
}

export interface Registry {
  record(record: DeploymentRecord): Promise<void>;
  forCertificate(certificateArn: string): Promise<DeploymentRecord[]>;
  /** Targets whose S3 source includes this object (certificate, chain or key). */
  forSourceObject(bucket: string, key: string): Promise<DeploymentRecord[]>;
  list(): Promise<DeploymentRecord[]>;
}

export const targetIdOf = (t: Target) => `${t.cluster.region}/${t.cluster.name}/${t.namespace}/${t.ingress.name}`;

const registryError = (e: unknown, what: string) => translateAwsError(e, what, (message) => new RegistryError(message));

export function dynamoRegistry(doc: DynamoDBDocumentClient, tableName: string): Registry {
  const scanAll = async (input: Omit<ScanCommandInput, "TableName">) => {
    const items: DeploymentRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ ...input, TableName: tableName, ExclusiveStartKey }));
      items.push(...((page.Items ?? []) as DeploymentRecord[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  };
  return {
    async record(record) {
      const sourceBucket = record.certificateSource && "s3" in record.certificateSource ? record.certificateSource.s3.bucket : undefined;
      try {
        await doc.send(new PutCommand({ TableName: tableName, Item: { ...record, ...(sourceBucket ? { sourceBucket } : {}) } }));
      } catch (e) {
        throw registryError(e, `dynamodb:PutItem on ${tableName}`);
      }
    },
    async forCertificate(certificateArn) {
      const items: DeploymentRecord[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      try {
        do {
          const page = await doc.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: REGISTRY_TABLE.certificateIndex.name,
              KeyConditionExpression: "#arn = :arn",
              ExpressionAttributeNames: { "#arn": REGISTRY_TABLE.certificateIndex.partitionKey },
              ExpressionAttributeValues: { ":arn": certificateArn },
              ExclusiveStartKey,
            }),
          );
          items.push(...((page.Items ?? []) as DeploymentRecord[]));
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      } catch (e) {
        throw registryError(e, `dynamodb:Query on ${tableName}`);
      }
      return items;
    },
    async forSourceObject(bucket, key) {
      try {
        const inBucket = await scanAll({
          FilterExpression: "sourceBucket = :bucket",
          ExpressionAttributeValues: { ":bucket": bucket },
        });
        return inBucket.filter((r) => {
          const s3 = r.certificateSource && "s3" in r.certificateSource ? r.certificateSource.s3 : undefined;
          return s3 !== undefined && [s3.certificateKey, s3.chainKey, s3.privateKeyKey].includes(key);
        });
      } catch (e) {
        throw registryError(e, `dynamodb:Scan on ${tableName}`);
      }
    },
    async list() {
      try {
        return await scanAll({});
      } catch (e) {
        throw registryError(e, `dynamodb:Scan on ${tableName}`);
      }
    },
  };
}
