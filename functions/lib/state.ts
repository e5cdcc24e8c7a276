// The workflow's state: every shape that crosses the ASL — the plan resolve-request makes, what each step puts into
// a target's state (the ResultPaths of statemachine/steps.ts) and the summary a run ends with. All of it is visible
// in the Step Functions console and history, so it holds references to secrets, never secret material.

export type CertificateSource =
  | { secretsManager: { secretId: string } }
  | {
      s3: {
        bucket: string;
        /** Object keys of the PEM files (certbot's layout by default: cert.pem, chain.pem, privkey.pem). */
        certificateKey: string;
        chainKey: string;
        privateKeyKey: string;
      };
    };

export interface PlannedCertificate {
  /** Re-import into this ARN (with a source), or use it as is (without one). Absent: import a new one. */
  arn?: string;
  source?: CertificateSource;
  /** Renewals only: re-import only a certificate that expires later than the one ACM holds. */
  onlyIfNewer?: boolean;
}

export interface Target {
  cluster: { name: string; region: string };
  namespace: string;
  service: { name: string; port: number };
  ingress: {
    name: string;
    host: string;
    scheme: "internet-facing" | "internal";
    /** Upsert an alias record `host` → ALB in this Route 53 hosted zone, and verify through `host`. */
    route53HostedZoneId?: string;
    /** `alb.ingress.kubernetes.io/*` annotations: the request's (validated) over milvus-l7's defaults. */
    annotations: Record<string, string>;
  };
}

export interface Plan {
  certificate: PlannedCertificate;
  /** `after-verify` keeps the L4 load balancer until the ALB path is proven; `before-ingress` is the doc's order. */
  cutover: "after-verify" | "before-ingress";
  /** `remove-ingress`: when verification before the cutover fails, delete the Ingress milvus-l7 created. */
  onFailure: "keep-ingress" | "remove-ingress";
  wait: {
    /** Polls of get-ingress-status before giving up. */
    maxPolls: number;
  };
  targets: Target[];
  /** Set when an event (ACM expiry warning, S3 write) started the run; `targets` may then be empty. */
  renewal?: { reason: string };
}

/**
 * `$.importedCertificate`: what import-certificate returns; nothing else about the certificate travels through the
 * workflow.
 */
export interface ImportedCertificate {
  arn: string;
  /** SHA-256 of the leaf's DER, uppercase hex with colons (Node's X509Certificate.fingerprint256). */
  fingerprint256: string;
  /** ISO 8601. */
  notAfter: string;
  /** Whether this run wrote to ACM (false when ACM already held the identical certificate, or arn used as is). */
  imported: boolean;
  /**
   * The self-signed CA certificates of the chain ACM holds for the ARN, as PEM: public certificates, no key
   * material. verify-connection trusts them in addition to Node's roots, so that a private-CA certificate verifies.
   * Trusting a root because it came with the certificate is sound only together with verify-connection's
   * fingerprint check: what is proven is that the ALB serves exactly the imported certificate, with a chain that
   * verifies to the root its owner supplied. They travel here, from the step that just read or wrote that chain,
   * so that verify-connection needs no ACM call (nor the client, nor the permission).
   */
  trustAnchors: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// What the steps add to a target's state, in the order the workflow runs them.

/** `$.ingress` after ApplyIngress; also the loop state of the address wait, which get-ingress-status extends. */
export interface IngressState {
  namespace: string;
  name: string;
  /** The apiserver's time of our last write (managedFields), so older controller events can be told apart. */
  appliedAt: string;
  changed: boolean;
  polls: number;
}

export interface ControllerWarning {
  reason: string;
  message: string;
  count: number;
  lastSeen: string;
}

/** `$.ingress` after each GetIngressStatus poll. */
export interface IngressStatus extends IngressState {
  hostname?: string;
  /** Address published and no controller Warning since our last write that a later success has not cleared. */
  ready: boolean;
  nextWaitSeconds: number;
  warnings: ControllerWarning[];
  /** Ready-made Cause for the ASL's Fail state when the poll budget runs out. */
  failureCause: string;
}

/** `$.verification`: what VerifyThroughAlb, then VerifyAfterCutover, proved through the ALB. */
export interface VerifyResult {
  host: string;
  albHostname: string;
  /** The address (and so the ALB node) that was checked. */
  address: string;
  servedFingerprint256: string;
  /** ISO 8601. */
  servedNotAfter: string;
  milvusVersion: string;
  healthy: true;
}

/** `$.service`: the cutover (CutOverFirst or CutOver). */
export interface PatchServiceResult {
  previousType: string;
  type: "ClusterIP";
  changed: boolean;
  warnings: string[];
}

/** `$.summary` of a target (RecordDeployment): one entry of the run's output `targets[]`, and of every CLI summary. */
export interface TargetSummary {
  targetId: string;
  host: string;
  namespace: string;
  service: string;
  ingress: string;
  albHostname: string;
  servedFingerprint256: string;
  servedNotAfter: string;
  milvusVersion: string;
  serviceType: string;
  previousServiceType: string;
  warnings: string[];
}
