// The deployments registry: one DynamoDB item per target, written when a target is verified, read by renewals
// (which targets use this certificate or this source object?) and by the API.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandInput,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { translateAwsError } from "./aws-errors";
import { RegistryError } from "./errors";
import type { CertificateSource, MilvusAuth, Target } from "./state";

/** Table layout, shared with the CDK stack and the sandbox so they cannot drift. */
export const REGISTRY_TABLE = {
  partitionKey: "targetId",
  certificateIndex: { name: "byCertificate", partitionKey: "certificateArn" },
  /** DynamoDB TTL attribute (epoch seconds): only lease items carry it. */
  ttlAttribute: "expiresAt",
  /** Lease items' keys start with this (IAM scopes the lease writers to it). */
  leaseKeyPrefix: "lease#",
} as const;

/**
 * A lease marks the one execution that may change a target. It lives in the registry table under its own key
 * (so deployment records stay plain) and expires by itself if its execution dies without releasing it.
 */
export interface Lease {
  owner: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export type ClaimResult = { claimed: true } | { claimed: false; holder: Lease };

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
  /** How verify-connection called Milvus (absent in records written before it was recorded). */
  milvusAuth?: MilvusAuth;
  lastVerified: string;
  lastExecution: string;
  /** When the drift check last looked at the target (absent until one has). */
  lastChecked?: string;
  /** What that check found (empty: as milvus-l7 left it). */
  drift?: string[];
}

/** What a drift check writes over a record: when and what it found, and after a repair the new verification. */
export type CheckUpdate = Pick<DeploymentRecord, "lastChecked" | "drift" | "lastExecution"> &
  Partial<Pick<DeploymentRecord, "albHostname" | "servedFingerprint256" | "servedNotAfter" | "milvusAuth" | "lastVerified">>;

export interface Registry {
  /** Writes the record and, in the same transaction, releases the lease its execution holds on the target. */
  record(record: DeploymentRecord): Promise<void>;
  /** Takes the target's lease for `owner` if it is free, expired, already owner's, or held by `replacing`. */
  claim(targetId: string, owner: string, ttlSeconds: number, now: Date, replacing?: string): Promise<ClaimResult>;
  release(targetId: string, owner: string): Promise<void>;
  /**
   * Updates a record with a drift check's result and, in the same transaction, releases the lease `update.lastExecution`
   * holds; a record deleted meanwhile is a RegistryError.
   */
  recordCheck(targetId: string, update: CheckUpdate & { lastChecked: string; drift: string[] }): Promise<void>;
  forCertificate(certificateArn: string): Promise<DeploymentRecord[]>;
  /** Targets whose S3 source includes this object (certificate, chain or key). */
  forSourceObject(bucket: string, key: string): Promise<DeploymentRecord[]>;
  list(): Promise<DeploymentRecord[]>;
}

export const targetIdOf = (t: Target) => `${t.cluster.region}/${t.cluster.name}/${t.namespace}/${t.ingress.name}`;
const leaseKey = (targetId: string) => `${REGISTRY_TABLE.leaseKeyPrefix}${targetId}`;
const isRecord = (item: Record<string, unknown>) => !String(item[REGISTRY_TABLE.partitionKey]).startsWith(REGISTRY_TABLE.leaseKeyPrefix);

const registryError = (e: unknown, what: string) => translateAwsError(e, what, (message) => new RegistryError(message));

export function dynamoRegistry(doc: DynamoDBDocumentClient, tableName: string): Registry {
  const scanAll = async (input: Omit<ScanCommandInput, "TableName">) => {
    const items: DeploymentRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ ...input, TableName: tableName, ExclusiveStartKey }));
      items.push(...((page.Items ?? []).filter(isRecord) as DeploymentRecord[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  };
  const key = REGISTRY_TABLE.partitionKey;
  return {
    async record(record) {
      const sourceBucket = record.certificateSource && "s3" in record.certificateSource ? record.certificateSource.s3.bucket : undefined;
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tableName, Item: { ...record, ...(sourceBucket ? { sourceBucket } : {}) } } },
              {
                // Only our own lease: another execution's (after ours expired and was taken) stays.
                Delete: {
                  TableName: tableName,
                  Key: { [key]: leaseKey(record.targetId) },
                  ConditionExpression: "attribute_not_exists(#key) OR #owner = :me",
                  ExpressionAttributeNames: { "#key": key, "#owner": "owner" },
                  ExpressionAttributeValues: { ":me": record.lastExecution },
                },
              },
            ],
          }),
        );
      } catch (e) {
        if ((e as Error).name === "TransactionCanceledException") {
          throw new RegistryError(
            `Target ${record.targetId} was verified, but its lease now belongs to another execution (this one outlived its lease); not recording over it. Re-run to record it.`,
          );
        }
        throw registryError(e, `dynamodb:TransactWriteItems on ${tableName}`);
      }
    },
    async claim(targetId, owner, ttlSeconds, now, replacing) {
      const nowSeconds = Math.floor(now.getTime() / 1000);
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { [key]: leaseKey(targetId), owner, expiresAt: nowSeconds + ttlSeconds },
            ConditionExpression: `attribute_not_exists(#key) OR #owner = :me OR #expires < :now${replacing ? " OR #owner = :replacing" : ""}`,
            ExpressionAttributeNames: { "#key": key, "#owner": "owner", "#expires": REGISTRY_TABLE.ttlAttribute },
            ExpressionAttributeValues: { ":me": owner, ":now": nowSeconds, ...(replacing ? { ":replacing": replacing } : {}) },
          }),
        );
        return { claimed: true };
      } catch (e) {
        if ((e as Error).name !== "ConditionalCheckFailedException") throw registryError(e, `dynamodb:PutItem on ${tableName}`);
      }
      try {
        const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { [key]: leaseKey(targetId) }, ConsistentRead: true }));
        // Released between our write and this read: the caller simply tries again.
        return { claimed: false, holder: { owner: String(Item?.owner ?? ""), expiresAt: Number(Item?.expiresAt ?? 0) } };
      } catch (e) {
        throw registryError(e, `dynamodb:GetItem on ${tableName}`);
      }
    },
    async release(targetId, owner) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { [key]: leaseKey(targetId) },
            ConditionExpression: "#owner = :me",
            ExpressionAttributeNames: { "#owner": "owner" },
            ExpressionAttributeValues: { ":me": owner },
          }),
        );
      } catch (e) {
        // Not ours (expired and taken) or already gone: nothing to release.
        if ((e as Error).name !== "ConditionalCheckFailedException") throw registryError(e, `dynamodb:DeleteItem on ${tableName}`);
      }
    },
    async recordCheck(targetId, update) {
      const entries = Object.entries(update).filter(([, v]) => v !== undefined);
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: { [key]: targetId },
                  // Only fields the check owns: a concurrent deployment's record keeps everything else.
                  UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(", ")}`,
                  ConditionExpression: "attribute_exists(#key)",
                  ExpressionAttributeNames: { "#key": key, ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])) },
                  ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
                },
              },
              {
                Delete: {
                  TableName: tableName,
                  Key: { [key]: leaseKey(targetId) },
                  ConditionExpression: "attribute_not_exists(#key) OR #owner = :me",
                  ExpressionAttributeNames: { "#key": key, "#owner": "owner" },
                  ExpressionAttributeValues: { ":me": update.lastExecution },
                },
              },
            ],
          }),
        );
      } catch (e) {
        if ((e as Error).name === "TransactionCanceledException") {
          throw new RegistryError(
            `The check of ${targetId} could not be recorded: the target was removed from the registry, or its lease now belongs to another execution. Re-run the check.`,
          );
        }
        throw registryError(e, `dynamodb:TransactWriteItems on ${tableName}`);
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
          items.push(...((page.Items ?? []).filter(isRecord) as DeploymentRecord[]));
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
