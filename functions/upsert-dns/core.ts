// Optional DNS: point the Milvus host at the ALB with a Route 53 alias record, and wait until Route 53 has
// applied it, so the final verification can connect through the host name itself.
import { ChangeResourceRecordSetsCommand, GetChangeCommand, type Route53Client } from "@aws-sdk/client-route-53";
import { translateAwsError } from "../lib/aws-errors";
import { AwsUnavailable, DnsRejected } from "../lib/errors";
import type { Target } from "../lib/state";

export interface UpsertDnsInput {
  target: Target;
  /** The ALB's DNS name from the Ingress status. */
  albHostname: string;
}

export interface UpsertDnsDeps {
  route53: Route53Client;
}

// Canonical hosted zone IDs of Application Load Balancers per region, for alias targets ("Elastic Load Balancing
// endpoints and quotas", AWS General Reference). An alias must name the ALB's own zone.
const ALB_HOSTED_ZONES: Record<string, string> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-1": "Z368ELLRRE2KJ0",
  "us-west-2": "Z1H1FL5HABSF5",
  "ca-central-1": "ZQSVJUPU6J1EY",
  "eu-central-1": "Z215JYRZR1TBD5",
  "eu-west-1": "Z32O12XQLNTSW2",
  "eu-west-2": "ZHURV8PSTC4K8",
  "eu-west-3": "Z3Q77PNBQS71R4",
  "eu-north-1": "Z23TAZ7KFP5B5B",
  "ap-south-1": "ZP97RAFLXTNZK",
  "ap-northeast-1": "Z14GRHDCWA56QT",
  "ap-northeast-2": "ZWKZPGTI48KDX",
  "ap-southeast-1": "Z1LMS91P8CMLE5",
  "ap-southeast-2": "Z1GM3OXH4ZPM65",
  "sa-east-1": "Z2P70J7HTTTPLU",
};

/** The region of an ALB from its DNS name: `…-<id>.<region>.elb.amazonaws.com` (`.com.cn` in China). */
export function albRegion(albHostname: string): string | undefined {
  return /\.([a-z]{2}(?:-[a-z]+)+-\d)\.elb\.amazonaws\.com(?:\.cn)?$/.exec(albHostname)?.[1];
}

export async function upsertDns(input: UpsertDnsInput, deps: UpsertDnsDeps) {
  const { host, route53HostedZoneId: zone } = input.target.ingress;
  if (!zone) return { host, changed: false };
  const region = albRegion(input.albHostname);
  const aliasZone = region ? ALB_HOSTED_ZONES[region] : undefined;
  if (!aliasZone) {
    throw new DnsRejected(
      `Cannot alias ${host} to ${input.albHostname}: no known ALB hosted zone for its region (${region ?? "unrecognised name"}). Create the DNS record yourself and remove ingress.route53HostedZoneId.`,
    );
  }
  const what = `route53:ChangeResourceRecordSets on hosted zone ${zone} for ${host}`;
  let changeId: string | undefined;
  try {
    const out = await deps.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone,
        ChangeBatch: {
          Comment: "milvus-l7: Milvus host → ALB",
          Changes: ["A", "AAAA"].map((Type) => ({
            Action: "UPSERT" as const,
            ResourceRecordSet: {
              Name: host,
              Type: Type as "A" | "AAAA",
              AliasTarget: { DNSName: `dualstack.${input.albHostname}`, HostedZoneId: aliasZone, EvaluateTargetHealth: true },
            },
          })),
        },
      }),
    );
    changeId = out.ChangeInfo?.Id;
    if (out.ChangeInfo?.Status === "INSYNC") return { host, changed: true, changeId };
    const change = await deps.route53.send(new GetChangeCommand({ Id: changeId }));
    if (change.ChangeInfo?.Status === "INSYNC") return { host, changed: true, changeId };
  } catch (e) {
    throw translateAwsError(e, what, (message) => new DnsRejected(message));
  }
  // Route 53 applies changes within about a minute; the ASL retries this step until INSYNC (UPSERT is idempotent).
  throw new AwsUnavailable(`Route 53 change ${changeId} for ${host} is not in sync yet.`);
}
