// Deployments: a Milvus release behind an ALB with TLS, from a certificate in Secrets Manager — as it is, and with
// the request's optional Route 53 hosted zone, which adds the host's alias record.
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { HOST } from "../index";
import type { WorkflowRun } from "../workflow";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

export const deploy: Scenario = {
  name: "deploy",
  summary:
    "a first deployment: the certificate imported into ACM, the Ingress applied, Milvus verified through the ALB, then the Service cut over to ClusterIP",
  async run(sandbox, ctx) {
    const { secretArn, subject } = await demoSecret(sandbox);
    ctx.say(`Milvus Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} is type LoadBalancer; certificate for ${subject} is in ${secretArn}`);
    return [await observedRun(sandbox, ctx, "deployment", sandbox.request(secretArn))];
  },
};

/** The zone the demo host is in: its name less the first label. */
const DEMO_ZONE = HOST.slice(HOST.indexOf(".") + 1);

/** How the last verification (after the cutover) reached Milvus: `dns` when it went through the host name. */
function finalVerificationRoute(run: WorkflowRun): unknown {
  for (const event of run.events) {
    if (event.type === "StateEntered" && event.state.name === "VerifyAfterCutover") {
      return (event.state.input as { dns?: { connectVia?: unknown } } | null)?.dns?.connectVia;
    }
  }
  return undefined;
}

export const dns: Scenario = {
  name: "dns",
  summary: `a deployment with a Route 53 hosted zone: ${HOST} gets an alias record to the ALB, and the check after the cutover connects through that name`,
  async run(sandbox, ctx) {
    const zone = await sandbox.aws.route53.send(new CreateHostedZoneCommand({ Name: DEMO_ZONE, CallerReference: `milvus-l7-demo-${Date.now()}` }));
    const hostedZoneId = zone.HostedZone?.Id?.replace("/hostedzone/", "") ?? "";
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: Record<string, unknown> };
    request.ingress.route53HostedZoneId = hostedZoneId;
    ctx.say(`Route 53 hosts ${DEMO_ZONE} in zone ${hostedZoneId}, which the request names as ingress.route53HostedZoneId`);
    const deployed = await observedRun(sandbox, ctx, "deployment with DNS", request, async (run) => {
      const { ResourceRecordSets = [] } = await sandbox.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId }));
      const aliases = ResourceRecordSets.filter((r) => r.Name?.replace(/\.$/, "") === HOST && r.AliasTarget).map(
        (r) => `${HOST} ${r.Type} → ${r.AliasTarget?.DNSName?.replace(/\.$/, "")}`,
      );
      return { hostedZoneId, aliasRecords: aliases, finalVerificationVia: finalVerificationRoute(run) };
    });
    return [deployed];
  },
};
