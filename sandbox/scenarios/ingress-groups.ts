// IngressGroups: one ALB built from every Ingress that names the same group, in any namespace. The controller
// refuses to build a group whose members disagree on a group-wide setting, and then updates the shared ALB for no
// member; so milvus-l7 refuses to join with a disagreeing value before it writes anything, and the other team's
// Ingress keeps its ALB.
import { setTimeout as sleep } from "node:timers/promises";
import { ImportCertificateCommand } from "@aws-sdk/client-acm";
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

const A = "alb.ingress.kubernetes.io/";

/** The other team's service behind the shared ALB, and the group both ask for. */
export const PEER = {
  namespace: "team-search",
  ingress: "search",
  service: "search-api",
  host: "search.example.com",
  group: "shared",
  sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
} as const;
/** The TLS policy the request asks for on the same listener (HTTPS 443). */
export const REQUESTED_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

/** Long enough for the sandbox's load balancer controller to build and publish an ALB; it takes under a second. */
const PUBLISH_WAIT_MS = 15_000;

interface IngressObject {
  status?: { loadBalancer?: { ingress?: { hostname?: string }[] } };
}
interface EventObject {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

const peerHostname = (sandbox: Sandbox) =>
  sandbox.kube.get<IngressObject>("Ingress", PEER.namespace, PEER.ingress)?.status?.loadBalancer?.ingress?.[0]?.hostname;

/** The Warning events on the other team's Ingress (FailedBuildModel when its group cannot be built). */
const peerWarnings = (sandbox: Sandbox) =>
  sandbox.kube
    .list<EventObject>("Event", PEER.namespace)
    .filter((e) => e.type === "Warning" && e.involvedObject?.kind === "Ingress" && e.involvedObject.name === PEER.ingress)
    .map((e) => `${e.reason}: ${e.message}`);

/** The other team's release, as their own pipeline left it: a Service and an Ingress in group `shared`, with its ALB. */
async function seedPeer(sandbox: Sandbox): Promise<string> {
  const cert = await sandbox.newCertificate([PEER.host]);
  const imported = await sandbox.aws.acm.send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(cert.leaf.certPem),
      CertificateChain: Buffer.from(cert.chainPem),
      PrivateKey: Buffer.from(cert.leaf.keyPem),
    }),
  );
  sandbox.kube.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: PEER.namespace } });
  sandbox.kube.put({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: PEER.service, namespace: PEER.namespace, labels: { "app.kubernetes.io/name": PEER.service } },
    spec: {
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": PEER.service },
      ports: [{ name: "http", port: 8080, targetPort: 8080, protocol: "TCP" }],
    },
  });
  sandbox.kube.put({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: PEER.ingress,
      namespace: PEER.namespace,
      annotations: {
        [`${A}group.name`]: PEER.group,
        [`${A}scheme`]: "internet-facing",
        [`${A}target-type`]: "ip",
        [`${A}listen-ports`]: '[{"HTTPS":443}]',
        [`${A}certificate-arn`]: imported.CertificateArn ?? "",
        [`${A}ssl-policy`]: PEER.sslPolicy,
      },
    },
    spec: {
      ingressClassName: "alb",
      rules: [{ host: PEER.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: PEER.service, port: { number: 8080 } } } }] } }],
    },
  });
  const deadline = Date.now() + PUBLISH_WAIT_MS;
  for (;;) {
    const hostname = peerHostname(sandbox);
    if (hostname) return hostname;
    if (Date.now() > deadline) throw new Error(`the load balancer controller stand-in did not publish an ALB for Ingress ${PEER.namespace}/${PEER.ingress}`);
    await sleep(50);
  }
}

export const ingressGroupConflict: Scenario = {
  name: "ingress-group-conflict",
  summary: `the request joins IngressGroup ${PEER.group} with ssl-policy ${REQUESTED_SSL_POLICY}, where another team's Ingress has ${PEER.sslPolicy}: refused before any write, naming that Ingress, the setting and both values; their ALB keeps serving`,
  async run(sandbox, ctx) {
    const hostnameBefore = await seedPeer(sandbox);
    ctx.say(
      `Ingress ${PEER.namespace}/${PEER.ingress} (another team's) is in IngressGroup ${PEER.group} with ${A}ssl-policy ${PEER.sslPolicy}; its ALB is ${hostnameBefore}`,
    );
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: { annotations?: Record<string, string> } };
    request.ingress.annotations = { ...request.ingress.annotations, [`${A}group.name`]: PEER.group, [`${A}ssl-policy`]: REQUESTED_SSL_POLICY };
    ctx.say(
      `The request puts Ingress ${DEMO_TARGET.namespace}/${DEMO_TARGET.ingress} into the same group with ${A}ssl-policy ${REQUESTED_SSL_POLICY}: both listen on HTTPS 443, one listener of one ALB, which cannot have two TLS policies`,
    );
    return [
      await observedRun(sandbox, ctx, "deployment joining a group that disagrees", request, async () => {
        const hostnameAfter = peerHostname(sandbox);
        return {
          peerIngress: `${PEER.namespace}/${PEER.ingress}`,
          peerAlbHostname: hostnameAfter ?? "none",
          peerAlbUnchanged: hostnameAfter === hostnameBefore,
          // The simulated ALB itself, not only the address the Ingress's status still holds.
          peerAlbServing: sandbox.alb.listeners().some((l) => l.namespace === PEER.namespace && l.name === PEER.ingress && l.hostname === hostnameBefore),
          peerWarningEvents: peerWarnings(sandbox),
        };
      }),
    ];
  },
};
