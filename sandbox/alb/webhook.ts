// The controller's validating admission webhook: an HTTPS server on 127.0.0.1 answering admission.k8s.io/v1
// AdmissionReviews, registered through the Kubernetes API as the Helm chart registers it. After
// kubernetes-sigs/aws-load-balancer-controller v3.5.0 (paths in that repository):
// - webhooks/networking/ingress_validator.go: an Ingress that is not this controller's is allowed; one whose
//   IngressClass cannot be loaded (without its parameters: NewDefaultClassLoader(client, false)) is denied with
//   `invalid ingress class: ...`; with --disable-ingress-group-name-annotation a new or changed `group.name` is
//   denied; the `conditions.*` annotation checks are not modelled (those annotations are not);
// - webhooks/elbv2/ingressclassparams_validator.go: inboundCIDRs must be CIDRs (field.ErrorList texts);
// - pkg/webhook/validating_handler.go: a validation error is admission.Denied(err.Error()), which in
//   kubernetes-sigs/controller-runtime v0.24.1 (the version v3.5.0's go.mod pins) pkg/webhook/admission/response.go
//   ValidationResponse is `allowed: false` with Status{code: 403, reason: Forbidden, message};
// - helm/aws-load-balancer-controller/templates/webhook.yaml: the ValidatingWebhookConfiguration
//   `aws-load-balancer-webhook` (the chart's namePrefix) with vingressclassparams.elbv2.k8s.aws and
//   vingress.elbv2.k8s.aws, failurePolicy Fail, matchPolicy Equivalent, sideEffects None; `clientConfig.url` instead
//   of the chart's in-cluster `service` (the stand-in apiserver dials URLs).
import { createServer, type Server } from "node:https";
import { isIPv4, isIPv6 } from "node:net";
import type { Socket } from "node:net";
import type { V1Ingress } from "@kubernetes/client-node";
import { issue, servingCertificate } from "../pki";
import type { ClassLoader } from "./classes";
import { PREFIX } from "./annotation-grammar";

export const WEBHOOK_CONFIGURATION_NAME = "aws-load-balancer-webhook";
const INGRESS_PATH = "/validate-networking-v1-ingress";
const PARAMS_PATH = "/validate-elbv2-k8s-aws-v1beta1-ingressclassparams";

interface AdmissionRequest {
  uid?: string;
  operation?: string;
  namespace?: string;
  object?: unknown;
  oldObject?: unknown;
}

interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status: { metadata: Record<string, never>; code: number; reason?: string; message?: string };
}

/** ValidationResponse: allowed 200, denied 403 Forbidden with the error text. */
function validationResponse(uid: string, error: string | undefined): AdmissionResponse {
  if (error === undefined) return { uid, allowed: true, status: { metadata: {}, code: 200 } };
  return { uid, allowed: false, status: { metadata: {}, code: 403, reason: "Forbidden", message: error } };
}

export interface WebhookOptions {
  classes: ClassLoader;
  /** --disable-ingress-group-name-annotation. */
  disableGroupNameAnnotation?: boolean;
  log: (m: string) => void;
}

/** ingressValidator.ValidateCreate / ValidateUpdate; undefined when allowed. */
export async function validateIngress(
  opts: Pick<WebhookOptions, "classes" | "disableGroupNameAnnotation">,
  ing: V1Ingress,
  old: V1Ingress | undefined,
): Promise<string | undefined> {
  try {
    // checkIngressClass: not ours means allowed, an unloadable class is the error.
    const { ours } = await opts.classes.classify(ing, { loadParams: false });
    if (!ours) return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (opts.disableGroupNameAnnotation) {
    const key = `${PREFIX}group.name`;
    const now = ing.metadata?.annotations?.[key];
    const before = old?.metadata?.annotations?.[key];
    if (now !== undefined && (before === undefined || before !== now)) {
      return `new usage of \`${PREFIX.replace(/\/$/, "")}/group.name\` annotation is forbidden`;
    }
  }
  // checkIngressClassUsage: a new or changed ingressClassName must load (classify above already loaded it).
  return undefined;
}

/** ingressClassParamsValidator.checkInboundCIDRs: field.Invalid for each bad entry, aggregated. */
export function validateIngressClassParams(params: { spec?: { inboundCIDRs?: unknown } }): string | undefined {
  const errs: string[] = [];
  const cidrs = Array.isArray(params.spec?.inboundCIDRs) ? (params.spec?.inboundCIDRs as unknown[]) : [];
  cidrs.forEach((raw, i) => {
    const cidr = String(raw);
    const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
    const ip = m?.[1] ?? "";
    const ok = !!m && ((isIPv4(ip) && Number(m[2]) <= 32) || (isIPv6(ip) && Number(m[2]) <= 128));
    if (!ok) {
      let detail = "Could not be parsed as a CIDR";
      if (!cidr.includes("/") && (isIPv4(cidr) || isIPv6(cidr))) {
        detail += isIPv4(cidr) ? ` (did you mean "${cidr}/32")` : ` (did you mean "${cidr}/64")`;
      }
      errs.push(`spec.inboundCIDRs[${i}]: Invalid value: ${JSON.stringify(cidr)}: ${detail}`);
    }
  });
  if (errs.length === 0) return undefined;
  // utilerrors.NewAggregate: one error prints as itself, several as "[e1, e2]".
  return errs.length === 1 ? errs[0] : `[${errs.join(", ")}]`;
}

/** A serving certificate for 127.0.0.1 from a fresh CA (the chart generates one per install). */
async function webhookCertificate(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ca = await issue({ commonName: "aws-load-balancer-controller-ca", isCa: true, keyType: "ec256" });
  const leaf = await servingCertificate(ca, "aws-load-balancer-webhook-service", ["aws-load-balancer-webhook-service.kube-system.svc"]);
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

export class WebhookServer {
  caPem = "";
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private tls?: { certPem: string; keyPem: string };

  constructor(private readonly opts: WebhookOptions) {}

  async start(): Promise<void> {
    const { caPem, certPem, keyPem } = await webhookCertificate();
    this.caPem = caPem;
    this.tls = { certPem, keyPem };
    await this.listen(0);
  }

  url(path: "ingress" | "params"): string {
    return `https://127.0.0.1:${this.port}${path === "ingress" ? INGRESS_PATH : PARAMS_PATH}`;
  }

  private transition: Promise<void> = Promise.resolve();

  /** Stops accepting connections (the unreachable-webhook fault), or listens again on the same port; in call order. */
  setReachable(reachable: boolean): Promise<void> {
    this.transition = this.transition.then(async () => {
      if (reachable && !this.server) await this.listen(this.port);
      if (!reachable && this.server) await this.close();
    });
    return this.transition;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer({ cert: this.tls?.certPem, key: this.tls?.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void this.review(req.url ?? "", Buffer.concat(chunks).toString("utf8")).then(
          (body) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify(body));
          },
          (e: unknown) => {
            this.opts.log(`webhook: ${e instanceof Error ? e.message : String(e)}`);
            res.writeHead(400, { "content-type": "text/plain" });
            res.end(e instanceof Error ? e.message : String(e));
          },
        );
      });
    });
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address === "object" && address) this.port = address.port;
    this.server = server;
  }

  /** One AdmissionReview in, one out (the request's uid echoed). */
  private async review(path: string, body: string): Promise<unknown> {
    const review = JSON.parse(body) as { apiVersion?: string; request?: AdmissionRequest };
    const req = review.request ?? {};
    const uid = req.uid ?? "";
    let error: string | undefined;
    const pathname = path.split("?")[0];
    if (req.operation === "CREATE" || req.operation === "UPDATE") {
      if (pathname === INGRESS_PATH) {
        error = await validateIngress(this.opts, req.object as V1Ingress, req.oldObject as V1Ingress | undefined);
      } else if (pathname === PARAMS_PATH) {
        error = validateIngressClassParams(req.object as { spec?: { inboundCIDRs?: unknown } });
      } else {
        throw new Error(`no webhook at ${pathname}`);
      }
    }
    return { apiVersion: review.apiVersion ?? "admission.k8s.io/v1", kind: "AdmissionReview", response: validationResponse(uid, error) };
  }
}

/** The chart's ValidatingWebhookConfiguration, pointing at this server. */
export function webhookConfiguration(server: WebhookServer, labels: Record<string, string>): Record<string, unknown> {
  const caBundle = Buffer.from(server.caPem).toString("base64");
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels },
    webhooks: [
      {
        name: "vingressclassparams.elbv2.k8s.aws",
        clientConfig: { url: server.url("params"), caBundle },
        failurePolicy: "Fail",
        admissionReviewVersions: ["v1"],
        objectSelector: {
          matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["aws-load-balancer-controller"] }],
        },
        rules: [
          { apiGroups: ["elbv2.k8s.aws"], apiVersions: ["v1beta1"], operations: ["CREATE", "UPDATE"], resources: ["ingressclassparams"] },
        ],
        sideEffects: "None",
      },
      {
        name: "vingress.elbv2.k8s.aws",
        clientConfig: { url: server.url("ingress"), caBundle },
        failurePolicy: "Fail",
        matchPolicy: "Equivalent",
        admissionReviewVersions: ["v1"],
        rules: [
          { apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["ingresses"] },
        ],
        sideEffects: "None",
      },
    ],
  };
}
