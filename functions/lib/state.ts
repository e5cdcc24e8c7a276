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
    }
  | {
      /**
       * A kubernetes.io/tls Secret (cert-manager's output) in `cluster`, the target's own cluster: the request names
       * namespace and name, the plan adds the cluster so import-certificate knows where to read it.
       */
      kubernetesSecret: { cluster: { name: string; region: string }; namespace: string; name: string };
    };

/**
 * Renewals' default expiry threshold (PlannedCertificate.expiryWarningDays; the stack's expiryWarningDays): ACM warns
 * from 45 days ahead, and two weeks still leaves time to renew at the source before anything breaks.
 */
export const DEFAULT_EXPIRY_WARNING_DAYS = 14;

export interface PlannedCertificate {
  /** Re-import into this ARN (with a source), or use it as is (without one). Absent: import a new one. */
  arn?: string;
  source?: CertificateSource;
  /** Renewals only: re-import only a certificate that expires later than the one ACM holds. */
  onlyIfNewer?: boolean;
  /**
   * Renewals only: a renewal that imports nothing while the certificate in use expires within this many days ends
   * FAILED with CertificateExpiring (the alert) instead of SKIPPED. The stack's `expiryWarningDays` (default 14).
   */
  expiryWarningDays?: number;
}

/**
 * Where verify-connection reads Milvus's credentials when it calls Milvus (the request's `milvus.credentials`): a
 * reference only. The secret holds `{"username", "password"}` or `{"token"}`; its values never enter the state.
 */
export interface MilvusCredentialsRef {
  secretsManager: { secretId: string };
}

/** How verify-connection authenticated to Milvus: without credentials, with a username and password, or a token. */
export type MilvusAuth = "none" | "password" | "token";

export interface Target {
  cluster: { name: string; region: string };
  namespace: string;
  service: { name: string; port: number };
  /** Absent: Milvus is called without credentials. */
  milvusCredentials?: MilvusCredentialsRef;
  ingress: {
    name: string;
    host: string;
    scheme: "internet-facing" | "internal";
    /**
     * The IngressClass the Ingress names (`spec.ingressClassName`), the request's `ingress.className`. Absent in
     * targets recorded before the field existed, which renewals read back from the registry: those mean `alb`.
     */
    className?: string;
    /** Upsert an alias record `host` → ALB in this Route 53 hosted zone, and verify through `host`. */
    route53HostedZoneId?: string;
    /** `alb.ingress.kubernetes.io/*` annotations: the request's (validated) over milvus-l7's defaults. */
    annotations: Record<string, string>;
  };
  /**
   * What the drift check does with drift here: `report` (alert) or `repair`. Absent in targets recorded before the
   * field existed: those are reported.
   */
  driftPolicy?: "report" | "repair";
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
  /** Where the PEMs were read (`secret <id>`, `s3://bucket/{…}`); absent when the ARN was used as is. */
  readFrom?: string;
  /** Whole days from the run until notAfter (rounded down; negative once expired). */
  daysToExpiry: number;
  /**
   * Set (true) only on a renewal that imported nothing while the certificate in use expires within the plan's
   * `expiryWarningDays`: the ASL's RenewalNeeded then ends the run as CertificateExpiring, not SKIPPED.
   */
  expiringSoon?: true;
  /**
   * Set (true) only when `onlyIfNewer` kept what ACM holds because the source holds no later certificate:
   * fingerprint256 and notAfter are then ACM's, not the source's. The drift check tells by it a certificate ACM got
   * from the recorded source (a renewal) from one re-imported outside milvus-l7 (drift).
   */
  sourceNotNewer?: true;
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
  /**
   * What ApplyIngress's preflight found that works but should be fixed, or could not check (a cluster-scoped read
   * the Lambdas' access does not cover). Not the controller's Warning events, which are `IngressStatus.warnings`;
   * they end in the run's `TargetSummary.warnings`.
   */
  preflightWarnings: string[];
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
  /** The first of `addresses`. */
  address: string;
  /**
   * Every address the name resolved to (`address:port`, one per ALB node, A and AAAA records), each of which
   * served the imported certificate and answered as Milvus.
   */
  addresses: string[];
  servedFingerprint256: string;
  /** ISO 8601. */
  servedNotAfter: string;
  milvusVersion: string;
  healthy: true;
  /** How Milvus was called. */
  milvusAuth: MilvusAuth;
  /** What works but should be fixed (e.g. a Milvus without authentication behind an internet-facing ALB). */
  warnings: string[];
}

/** `$.service`: the cutover (CutOverFirst or CutOver). */
export interface PatchServiceResult {
  /** The Service's type before the cutover, as read from the Service. */
  previousType: string;
  type: "ClusterIP";
  /** Whether this run wrote anything: the Service patch, or the Milvus CR's serviceType. */
  changed: boolean;
  /**
   * What was changed: the Service itself, or (a Service owned by a Milvus Operator `Milvus`) the CR's serviceType,
   * which the Operator then applied to the Service.
   */
  via: "service" | "milvus-operator";
  /** With via milvus-operator: the CR and field, e.g. `Milvus milvus/my-release spec.components.proxy.serviceType`. */
  field?: string;
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
  /** How many of the ALB's addresses (nodes) served the imported certificate and answered as Milvus. */
  addressesVerified: number;
  servedFingerprint256: string;
  servedNotAfter: string;
  milvusVersion: string;
  milvusAuth: MilvusAuth;
  serviceType: string;
  previousServiceType: string;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// The drift check (`{"check": {...}}`, the schedule's input): docs/architecture.md, "The drift check".

/** `report` ends the run as DriftFound (the alert); `repair` re-applies the Ingress, cuts over again and verifies. */
export type DriftPolicy = "report" | "repair";

/** What the registry says a target serves: what the check compares the cluster and the ALB with. */
export interface RecordedDeployment {
  certificateArn: string;
  fingerprint256: string;
  /** ISO 8601. */
  notAfter: string;
  albHostname: string;
  lastVerified: string;
}

/** One entry of the check's Map (`$.checks`): a registry target with what was recorded of it. */
export interface CheckItem {
  targetId: string;
  target: Target;
  policy: DriftPolicy;
  recorded: RecordedDeployment;
  /**
   * What ReadRecordedCertificate gives import-certificate: the recorded ARN and, when a source was recorded, that
   * source with `onlyIfNewer`, so that a certificate renewed there is re-imported into the ARN by the check.
   */
  certificateRequest: PlannedCertificate;
}

export interface CheckPlan {
  check: { reason: string; repair: boolean; targetId?: string };
  wait: { maxPolls: number };
  checks: CheckItem[];
}

/** `$.inspection`: what InspectTarget (check-target) read of the cluster, and the certificate to verify against. */
export interface CheckInspection {
  /** What differs from what milvus-l7 applied and recorded, one sentence each naming the object and field. */
  findings: string[];
  serviceType: string;
  ingressFound: boolean;
  /** Whole days from the check until the recorded notAfter (rounded down; negative once expired). */
  daysToExpiry: number;
  /**
   * What verification must find served: the recorded fingerprint and expiry, with the trust anchors of the chain ACM
   * holds for the ARN; when `renewed`, what ACM now holds.
   */
  expected: ImportedCertificate;
  /**
   * Set (true) when ACM holds the recorded source's certificate and it is not the recorded one: a newer certificate
   * there was re-imported into the ARN, by this check or by the check of another target sharing it. Not drift.
   */
  renewed?: true;
}

/** One target of a check run's output: the deploy's summary plus what the check found. */
export interface CheckSummary extends TargetSummary {
  /** Empty when the target is as milvus-l7 left it. */
  drift: string[];
  daysToExpiry: number;
  policy: DriftPolicy;
  /** Whether this run re-applied, cut over and verified the target again. */
  repaired: boolean;
  /**
   * Whether the check found a newer certificate at the recorded source in ACM (re-imported into the same ARN) and
   * verified against it: servedFingerprint256 and daysToExpiry are then the new certificate's.
   */
  renewed: boolean;
  lastChecked: string;
}
