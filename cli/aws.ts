// The AWS SDK as the CLI uses it on an operator's machine: clients from the SDK's default credential and region
// chains (as the AWS CLI resolves them), and a check that credentials exist before anything starts.
import { ACMClient } from "@aws-sdk/client-acm";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { AwsClients } from "../statemachine/wire-steps";

/** The clients `run` gives the steps: the request's region, the default credential chain. */
export function productionAws(region: string): AwsClients {
  const config = { region };
  return {
    acm: new ACMClient(config),
    secretsManager: new SecretsManagerClient(config),
    // A certificate bucket may live in another region than the cluster.
    s3: new S3Client({ ...config, followRegionRedirects: true }),
    route53: new Route53Client(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
  };
}

/** The region the SDK's chain names (AWS_REGION, the profile's region), if any. */
export async function sdkDefaultRegion(): Promise<string | undefined> {
  try {
    return await new ACMClient({}).config.region();
  } catch {
    return undefined;
  }
}

/** Anything an SDK client resolves its credentials through: every client's `config.credentials`. */
export type CredentialSource = () => Promise<unknown>;

/** How to give the SDK credentials, for people who have none configured yet. */
export const CREDENTIALS_HELP = `milvus-l7 reads AWS credentials the way the AWS CLI does. Provide them in one of these ways:
  aws configure                          store an access key for the default profile
  export AWS_PROFILE=<profile>           use a named profile from ~/.aws/config
  aws sso login --profile <profile>      sign in with IAM Identity Center (then export AWS_PROFILE=<profile>)
  export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…   (and AWS_SESSION_TOKEN for temporary credentials)`;

/**
 * Resolves the credentials a client will sign with. Undefined when it can; otherwise the message to show: that no
 * credentials were found (with the SDK's own reason, e.g. an expired SSO session) and how to provide them. A
 * missing key is then reported as such, before any step or API call, instead of as AWS refusing a request.
 */
export async function missingCredentials(credentials: CredentialSource): Promise<string | undefined> {
  try {
    await credentials();
    return undefined;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return `no AWS credentials were found (${reason}).\n${CREDENTIALS_HELP}`;
  }
}
