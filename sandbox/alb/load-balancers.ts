// Deploying a model: the simulator's stand-in for the controller's stack deployer and the ELBv2 API behind it. The
// order follows kubernetes-sigs/aws-load-balancer-controller v3.5.0 pkg/deploy/stack_deployer.go (target groups,
// then the load balancer, then listeners); what ELB refuses is in elbv2.ts. Each load balancer's data plane is a
// DataPlane (data-plane.ts).
import { createHash } from "node:crypto";
import type * as tls from "node:tls";
import { type ACMClient, DescribeCertificateCommand } from "@aws-sdk/client-acm";
import type { CertMaterial } from "./certificates";
import { DataPlane, type DataPlaneDeps, type ListenerConfig } from "./data-plane";
import { checkLoadBalancerAttributes, checkSuccessCodes, minTlsVersion, SSL_POLICIES } from "./elbv2";
import { elbv2Error } from "./errors";
import type { Model, Scheme } from "./model";

/**
 * The DNS domain of a region's endpoints, ALB names included: China's regions are a partition of their own
 * (`….cn-north-1.elb.amazonaws.com.cn`; "Amazon Web Services in China" endpoints documentation).
 */
function endpointDomain(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** ALB idle timeout default (idle_timeout.timeout_seconds). */
const DEFAULT_IDLE_TIMEOUT_S = 60;

export interface LoadBalancer {
  name: string;
  hostname: string;
  scheme: Scheme;
  /** Epoch ms at which provisioning "finishes" and the hostname may be published. */
  publishAt: number;
  published: boolean;
  plane?: DataPlane;
  certificateArns: string[];
  healthyAt: Map<string, number>;
}

export interface LoadBalancerSettings {
  acm: ACMClient;
  region: string;
  publishDelayMs: number;
  healthyDelayMs: number;
  dataPlane: DataPlaneDeps;
  /** Whether the controller is shutting down: a listener opened meanwhile is closed again. */
  closed: () => boolean;
}

/** The load balancers of every Ingress, by Ingress key. */
export class LoadBalancers {
  private readonly lbs = new Map<string, LoadBalancer>();

  constructor(private readonly settings: LoadBalancerSettings) {}

  get(key: string): LoadBalancer | undefined {
    return this.lbs.get(key);
  }

  entries(): [string, LoadBalancer][] {
    return [...this.lbs];
  }

  /** Deploys the model of one IngressGroup (by group key); an ELB refusal is a DeployError (FailedDeployModel). */
  async deploy(key: string, model: Model): Promise<LoadBalancer> {
    let lb = this.lbs.get(key);
    const wantName = model.loadBalancerName;
    if (lb && lb.name !== wantName) {
      // A scheme change is a new load balancer with a new DNS name; the old one is deleted.
      await lb.plane?.close();
      this.lbs.delete(key);
      lb = undefined;
    }

    // Target groups first: the matcher is validated by CreateTargetGroup/ModifyTargetGroup.
    for (const tg of model.targetGroups.values()) {
      const op = lb?.healthyAt.has(tg.key) ? "ModifyTargetGroup" : "CreateTargetGroup";
      checkSuccessCodes(tg.successCodes, tg.protocolVersion, op);
    }

    // Then the load balancer and its attributes.
    checkLoadBalancerAttributes(model.lbAttributes);
    if (!lb) {
      lb = this.create(model.dnsSeed, model.scheme, wantName);
      this.lbs.set(key, lb);
    }

    // Then the listeners.
    const httpsPort = [...model.listenPorts].find(([, proto]) => proto === "HTTPS")?.[0];
    const materials = httpsPort === undefined ? [] : await this.listenerCertificates(lb, model);
    this.registerTargets(lb, model);
    const config: ListenerConfig = {
      routes: model.routes,
      defaultTg: model.defaultTg,
      targetGroups: model.targetGroups,
      healthyAt: lb.healthyAt,
      idleTimeoutMs: Number(model.lbAttributes["idle_timeout.timeout_seconds"] ?? DEFAULT_IDLE_TIMEOUT_S) * 1000,
      listenPort: httpsPort ?? 443,
      namespace: [...model.targetGroups.values()][0]?.namespace ?? "default",
    };
    if (httpsPort === undefined) {
      if (lb.plane) {
        await lb.plane.close();
        lb.plane = undefined;
      }
    } else {
      await this.applyListener(lb, config, model, materials, minTlsVersion(model.sslPolicy));
    }
    lb.certificateArns = httpsPort === undefined ? [] : model.certificateArns;
    return lb;
  }

  /** A new ALB record: provisioning until `publishAt`, with a DNS name in the controller's format. */
  private create(seed: string, scheme: Scheme, name: string): LoadBalancer {
    // The DNS name is stable for the life of this ALB; the digits come from the group (an implicit group's Ingress
    // UID) so a re-created Ingress gets a new ALB (and name) while a restarted controller finds the same one.
    const digits =
      Number.parseInt(
        createHash("sha256")
          .update(`${seed}/${name}`)
          .digest("hex")
          .slice(0, 8),
        16,
      ) % 2_000_000_000;
    const hostname =
      `${scheme === "internal" ? "internal-" : ""}${name}-${1_000_000_000 + (digits % 1_000_000_000)}.${this.settings.region}.elb.${endpointDomain(this.settings.region)}`.toLowerCase();
    return {
      name,
      hostname,
      scheme,
      publishAt: Date.now() + this.settings.publishDelayMs,
      published: false,
      certificateArns: [],
      healthyAt: new Map(),
    };
  }

  /**
   * CreateListener/ModifyListener's checks: the SSL policy must be a predefined one and every certificate must exist
   * in ACM. Returns the certificates to load, pre-read so a bad ARN fails the deploy rather than a handshake;
   * certificates the listener already holds are kept (and refreshed in the background), so they come back undefined.
   */
  private async listenerCertificates(lb: LoadBalancer, model: Model): Promise<(CertMaterial | undefined)[]> {
    const lsOp = lb.plane ? "ModifyListener" : "CreateListener";
    if (!SSL_POLICIES.has(model.sslPolicy)) {
      throw elbv2Error(lsOp, "SSLPolicyNotFound", `SSL policy '${model.sslPolicy}' not found`, true);
    }
    if (model.certificateArns.length === 0) {
      throw elbv2Error(lsOp, "ValidationError", "A certificate must be specified for HTTPS listeners", false);
    }
    for (const arn of model.certificateArns) {
      try {
        await this.settings.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
      } catch (e) {
        const code = (e as { name?: string }).name;
        if (code === "ResourceNotFoundException" || code === "ValidationException" || code === "InvalidArnException") {
          throw elbv2Error(lsOp, "CertificateNotFound", `Certificate '${arn}' not found`, true);
        }
        throw e;
      }
    }
    const cached = new Set(lb.plane ? lb.certificateArns : []);
    return Promise.all(
      model.certificateArns.map(async (arn) => (cached.has(arn) ? undefined : this.settings.dataPlane.loadCertificate(arn))),
    );
  }

  /** Target registration: new target groups start "initial" and pass health checks healthyDelayMs after publish. */
  private registerTargets(lb: LoadBalancer, model: Model): void {
    const healthyAt = new Map<string, number>();
    for (const tgKey of model.targetGroups.keys()) {
      healthyAt.set(tgKey, lb.healthyAt.get(tgKey) ?? Math.max(Date.now(), lb.publishAt) + this.settings.healthyDelayMs);
    }
    lb.healthyAt = healthyAt;
  }

  /** Opens the HTTPS listener, or brings the open one to the new rules, certificates and TLS floor. */
  private async applyListener(
    lb: LoadBalancer,
    config: ListenerConfig,
    model: Model,
    materials: (CertMaterial | undefined)[],
    minVersion: tls.SecureVersion,
  ): Promise<void> {
    if (!lb.plane) {
      const plane = new DataPlane(this.settings.dataPlane, config, minVersion);
      await plane.listen(model.certificateArns, materials);
      if (this.settings.closed()) {
        await plane.close();
      } else {
        lb.plane = plane;
      }
    } else {
      lb.plane.config = config;
      lb.plane.setCertificates(model.certificateArns, materials);
      lb.plane.setMinVersion(minVersion);
    }
  }

  /** DeleteLoadBalancer: the listener stops. */
  async teardown(key: string): Promise<void> {
    const lb = this.lbs.get(key);
    this.lbs.delete(key);
    await lb?.plane?.close();
  }

  /** What DNS would answer for an ALB hostname: a record per node. */
  resolve(hostname: string): { address: string; port: number }[] {
    const h = hostname.toLowerCase().replace(/\.$/, "");
    for (const lb of this.lbs.values()) {
      if (lb.hostname === h && lb.plane) return lb.plane.ports.map((port) => ({ address: "127.0.0.1", port }));
    }
    return [];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.lbs.values()].map((lb) => lb.plane?.close()));
    this.lbs.clear();
  }
}
