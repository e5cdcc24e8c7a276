// The AWS partition a region belongs to, and the DNS suffix of its endpoints. China and GovCloud are partitions of
// their own: an EKS token presigned for a host of another partition is refused by the cluster's authenticator, and
// load balancer names end in the partition's suffix.

export interface Partition {
  name: "aws" | "aws-cn" | "aws-us-gov";
  /** Endpoints are `<service>.<region>.<dnsSuffix>`. */
  dnsSuffix: string;
}

const CHINA: Partition = { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
const GOV_CLOUD: Partition = { name: "aws-us-gov", dnsSuffix: "amazonaws.com" };
const COMMERCIAL: Partition = { name: "aws", dnsSuffix: "amazonaws.com" };

/** By the region's name, as the AWS SDK's partition table matches it (`^cn-`, `^us-gov-`). */
export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return CHINA;
  if (region.startsWith("us-gov-")) return GOV_CLOUD;
  return COMMERCIAL;
}

/** The regional STS endpoint: what an EKS token is presigned for. */
export const stsHostname = (region: string): string => `sts.${region}.${partitionOf(region).dnsSuffix}`;
