// verify-connection's pure core: prove the ALB path end to end for one target.
//  1. TLS to the ALB with SNI = the Ingress host and certificate verification on, then check the ALB serves
//     exactly the certificate import-certificate put into ACM (by SHA-256 fingerprint).
//  2. Milvus through the ALB over its gRPC API, as @zilliz/milvus2-sdk-node speaks it: Connect, CheckHealth,
//     GetVersion (milvus.ts).
// Both on EVERY address the name resolves to: an ALB has a node per Availability Zone, DNS hands clients any of
// them, and after a re-import each node picks up the certificate at its own moment, so one good node proves
// nothing about the others.
// Every failure leaves as EndpointNotReady (the ASL retries: the ALB is still converging) or VerificationFailed
// (terminal: the path is provably wrong, the message says what to fix). DNS resolution comes in as a dependency
// so the sandbox drives the same code as production; the trust anchors come with the certificate
// (ImportedCertificate.trustAnchors), so this step's only AWS call is reading the target's Milvus credentials
// secret, when it names one (credentials.ts).
import type { StepMetrics } from "../lib/metrics";
import { X509Certificate } from "node:crypto";
import * as dnsPromises from "node:dns/promises";
import { isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import * as tls from "node:tls";
import { httpsListenPorts } from "../lib/alb-annotations";
import { endpointNotReady, MilvusL7Error, VerificationFailed } from "../lib/errors";
import type { ImportedCertificate, Target, VerifyResult } from "../lib/state";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { authOf, readMilvusCredentials } from "./credentials";
import { exposureWarnings } from "./exposure";
import { type MilvusArgs, checkMilvus } from "./milvus";

export interface VerifyInput {
  target: Target;
  certificate: ImportedCertificate;
  /** The Ingress's `status.loadBalancer.ingress[0].hostname`. */
  albHostname: string;
  /** `dns`: connect through the target's host name (after upsert-dns); default: through the ALB hostname. */
  connectVia?: "alb" | "dns";
}

/** One address of the ALB (a load-balancer node) and its HTTPS listener port. */
export interface Endpoint {
  address: string;
  port: number;
}

export interface VerifyDeps {
  /**
   * Every address to connect to for the ALB hostname (one per load-balancer node, A and AAAA) and its HTTPS
   * listener port. Production: DNS (`resolveAlb`); sandbox: the simulator's nodes.
   */
  resolve: (hostname: string, port: number) => Promise<Endpoint[]>;
  /** Bound for the TLS handshake and for each Milvus RPC. Default 10 s. */
  timeoutMs?: number;
  /** Reads the target's Milvus credentials secret (Target.milvusCredentials) at each check, never cached. */
  secretsManager?: Pick<SecretsManagerClient, "send">;
  /** Where VerificationLatency goes (functions/lib/metrics.ts); absent, nothing is emitted. */
  metrics?: StepMetrics;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export async function verifyConnection(input: VerifyInput, deps: VerifyDeps): Promise<VerifyResult> {
  const { target, certificate, albHostname } = input;
  const host = target.ingress.host;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Through the ALB's own name, or — once milvus-l7 has pointed the host at it in Route 53 — through the host
  // name itself, exactly as Milvus clients will connect.
  const connectTo = input.connectVia === "dns" ? host : albHostname;
  // First: a missing or malformed secret is the operator's to fix, whatever state the ALB is in.
  const credentialsRef = target.milvusCredentials;
  const credentials = credentialsRef ? await readMilvusCredentials(deps.secretsManager, credentialsRef) : undefined;

  let endpoints: Endpoint[];
  try {
    // The listener port follows the Ingress's listen-ports (443 unless the request changed it).
    endpoints = await deps.resolve(connectTo, httpsListenPorts(target.ingress.annotations)[0] ?? 443);
    if (endpoints.length === 0) throw Object.assign(new Error(`no A or AAAA record for ${connectTo}`), { code: "ENODATA" });
  } catch (e) {
    if (e instanceof MilvusL7Error) throw e;
    // A new ALB's (or record's) DNS name takes a minute or two to resolve everywhere.
    throw endpointNotReady(
      `The ${connectTo === host ? "host name" : "ALB hostname"} ${connectTo} does not resolve yet (${describe(e)}). A new DNS name can take a ` +
        "few minutes to propagate.",
      connectTo === host
        ? `check the alias record for ${host} in the hosted zone, and that the zone is the one its domain delegates to.`
        : "check that the Ingress still has this address (kubectl get ingress) and that the ALB exists.",
    );
  }

  // Node's roots plus the anchors import-certificate returned (sound with the fingerprint check below: see
  // ImportedCertificate.trustAnchors). `?? []`: an execution that passed ImportCertificate before an upgrade
  // reaches this code without them; a public-CA certificate still verifies.
  const trust = trustStore(certificate.trustAnchors ?? []);
  const milvusCredentials =
    credentials && credentialsRef ? { credentials, credentialsSecretId: credentialsRef.secretsManager.secretId } : {};
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    endpoints.map(({ address, port }, i) => {
      const node = `${hostPort(address, port)}${endpoints.length > 1 ? `, address ${i + 1} of ${endpoints.length}` : ""}`;
      const where = connectTo === host ? `ALB ${albHostname} via ${host} (${node})` : `ALB ${albHostname} (${node})`;
      return verifyAddress({ address, port, host, trust, timeoutMs, where, certificate, ...milvusCredentials });
    }),
  );
  const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
  // A provably wrong path (terminal) outranks a node still converging: retrying cannot fix it.
  if (failures.length > 0) throw failures.find((e) => !(e instanceof MilvusL7Error && e.retryable)) ?? failures[0];
  // Every address at once, handshake and Milvus RPCs: what a successful check costs (failures end in their Cause).
  deps.metrics?.add("VerificationLatency", Math.round(performance.now() - started));
  const checked = outcomes.map((o) => (o as PromiseFulfilledResult<AddressResult>).value);
  const first = checked[0];
  if (!first) throw new Error("unreachable: endpoints is not empty");
  const { served, milvusVersion } = first;
  const milvusAuth = authOf(credentials);
  return {
    host,
    albHostname,
    address: first.address,
    addresses: endpoints.map(({ address, port }) => hostPort(address, port)),
    servedFingerprint256: served.fingerprint256,
    servedNotAfter: new Date(served.validTo).toISOString(),
    milvusVersion,
    healthy: true,
    milvusAuth,
    warnings: exposureWarnings(target, milvusAuth),
  };
}

interface AddressResult {
  address: string;
  served: X509Certificate;
  milvusVersion: string;
}

/** One ALB node: the served certificate must be exactly the imported one, then Milvus must answer through it. */
async function verifyAddress(args: HandshakeArgs): Promise<AddressResult> {
  const { host, where, certificate } = args;
  const served = await handshake(args);
  if (served.fingerprint256 !== certificate.fingerprint256) {
    throw endpointNotReady(
      `${where} serves a different certificate for ${host} than the one in ${certificate.arn}: ` +
        `served ${certSummary(served)}; imported SHA-256 ${certificate.fingerprint256}, notAfter ` +
        `${certificate.notAfter}. Right after a (re-)import the ALB's nodes can serve the previous certificate for ` +
        "a few minutes, each picking up the new one at its own moment.",
      CERTIFICATE_ARN_ADVICE,
    );
  }
  const milvusVersion = await checkMilvus(args);
  return { address: args.address, served, milvusVersion };
}

/** `address:port`, with an IPv6 address in brackets. */
function hostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

// ---------------------------------------------------------------------------------------------------------
// TLS

let lastTrustStore: { anchors: string; context: tls.SecureContext } | undefined;

/**
 * Node's default roots plus the anchors, for the TLS check and the gRPC channel alike. Supplying `ca` REPLACES the
 * default roots, so they are added back: public-CA certificates must keep verifying. Built once per anchor set and
 * reused (the certificate a run verifies is the same for all its targets, and a warm Lambda sees it again): parsing
 * every default root is real CPU, paid twice per check if tls.connect and grpc-js each built their own.
 */
function trustStore(anchors: string[]): tls.SecureContext {
  const key = anchors.join("\n");
  if (lastTrustStore?.anchors !== key) {
    lastTrustStore = { anchors: key, context: tls.createSecureContext({ ca: [...tls.rootCertificates, ...anchors] }) };
  }
  return lastTrustStore.context;
}

/** The same endpoint, trust and bounds as the Milvus check, plus the certificate the ALB must serve. */
interface HandshakeArgs extends MilvusArgs {
  certificate: ImportedCertificate;
}

const CERTIFICATE_ARN_ADVICE =
  "check the Ingress's alb.ingress.kubernetes.io/certificate-arn annotation and the HTTPS listener's certificates.";

// Connection-level failures: the ALB (or its DNS, or a node of it) is not up yet, or dropped us.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
]);

// OpenSSL verify results meaning "no path to a trusted root".
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_REJECTED",
]);

function handshake(args: HandshakeArgs): Promise<X509Certificate> {
  const { address, port, host, trust, timeoutMs, where } = args;
  return new Promise((resolve, reject) => {
    // Node calls checkServerIdentity only after the chain verified; keeping the leaf it saw lets a hostname
    // mismatch say whose certificate was served (the previous one, or a wrong import).
    let presented: X509Certificate | undefined;
    const socket = tls.connect({
      host: address,
      port,
      servername: host,
      ALPNProtocols: ["h2"],
      secureContext: trust,
      // Explicit although it is Node's default: this check is the point of the step. There is no option to
      // turn it off.
      rejectUnauthorized: true,
      checkServerIdentity: (hostname, cert) => {
        presented = new X509Certificate(cert.raw);
        return tls.checkServerIdentity(hostname, cert);
      },
    });
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const leaf = socket.getPeerX509Certificate();
      const alpn = socket.alpnProtocol;
      socket.destroy();
      if (!leaf) {
        reject(new VerificationFailed(`${where} completed a TLS handshake for ${host} without a certificate.`));
      } else if (alpn !== "h2") {
        reject(
          new VerificationFailed(
            `${where} did not negotiate HTTP/2 (ALPN h2) for ${host} (got ${alpn || "none"}); gRPC needs it. ` +
              "Check that the listener is the ALB's HTTPS listener and the Ingress has " +
              "alb.ingress.kubernetes.io/backend-protocol-version: GRPC.",
          ),
        );
      } else {
        resolve(leaf);
      }
    });
    socket.once("error", (e: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(handshakeError(e, presented, args));
    });
  });
}

function handshakeError(e: Error & { code?: string }, presented: X509Certificate | undefined, args: HandshakeArgs) {
  const { host, where, certificate } = args;
  const code = e.code ?? "";
  const said = `${code || e.name}: ${e.message}`;
  if (NETWORK_CODES.has(code)) {
    return endpointNotReady(
      `${where} did not complete a TLS handshake for ${host} (${said}). A new ALB takes a few minutes to accept ` +
        "connections.",
      "check that the ALB is active and that its security groups admit this function on the listener's port.",
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    if (presented && presented.fingerprint256 !== certificate.fingerprint256) {
      return endpointNotReady(
        `${where} serves a certificate that does not cover ${host} and is not the one in ${certificate.arn}: ` +
          `served ${certSummary(presented)}; imported SHA-256 ${certificate.fingerprint256}, notAfter ` +
          `${certificate.notAfter}. The ALB may still serve its previous certificate.`,
        CERTIFICATE_ARN_ADVICE,
      );
    }
    return new VerificationFailed(
      `The certificate in ${certificate.arn} does not cover ${host} (${said}; ` +
        `${presented ? `its names: ${presented.subjectAltName ?? presented.subject}` : "names unknown"}). ` +
        "Import a certificate whose subjectAltName includes the Ingress host, or change the target's ingress.host.",
    );
  }
  if (code === "CERT_HAS_EXPIRED" && Date.parse(certificate.notAfter) > Date.now()) {
    // The imported certificate is still valid, so the expired one the ALB served is not it: the listener
    // has not picked up the renewal yet (the usual state right after re-importing an expired certificate).
    return endpointNotReady(
      `${where} serves an expired certificate for ${host}, but the one in ${certificate.arn} is valid until ` +
        `${certificate.notAfter}: the ALB still serves the previous certificate.`,
      CERTIFICATE_ARN_ADVICE,
    );
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return new VerificationFailed(
      `${where} serves a certificate for ${host} that is not valid now (${said}); the one in ${certificate.arn} ` +
        `has notAfter ${certificate.notAfter}. Import a currently valid certificate, and check the clock of the ` +
        "machine that issued it.",
    );
  }
  if (UNTRUSTED_CODES.has(code)) {
    const why =
      `${where} serves a certificate chain for ${host} that does not lead to a trusted root (${said}). It is ` +
      `trusted when it chains to a public CA in Node's root store, or to a self-signed root included in the ` +
      `chain imported into ${certificate.arn}.`;
    const fix = "with the complete chain (intermediates in order, ending with your private root), or use a certificate from a public CA.";
    // Right after a (re-)import the ALB may still serve the previous certificate, whose chain can end in a root
    // we no longer trust (a renewal from another private CA); the rejected handshake hides which certificate it
    // was, so give the listener time before calling the chain broken.
    if (certificate.imported) {
      return endpointNotReady(`${why} The certificate was just imported, and the ALB may still serve the previous one.`, `re-import ${fix}`);
    }
    return new VerificationFailed(`${why} Re-import ${fix}`);
  }
  return new VerificationFailed(
    `The TLS handshake with ${where} for ${host} failed (${said}). Check the listener's ` +
      "alb.ingress.kubernetes.io/ssl-policy and that the ALB's HTTPS listener is on this port.",
  );
}

function certSummary(cert: X509Certificate): string {
  return (
    `SHA-256 ${cert.fingerprint256} (subject ${cert.subject.split("\n").join(", ")}, ` +
    `notAfter ${new Date(cert.validTo).toISOString()})`
  );
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return `${typeof code === "string" ? `${code}: ` : ""}${e.message}`;
  }
  return String(e);
}

// ---------------------------------------------------------------------------------------------------------
// Production dependencies

/** What resolveAlb needs of DNS: node:dns/promises itself, or a `Resolver` from it. */
export interface DnsClient {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

// "No record of this type" (NODATA) or "no such name" (NXDOMAIN): an empty answer, not a failed query.
const NO_RECORDS = new Set(["ENODATA", "ENOTFOUND"]);

/**
 * `resolve` over DNS: every A record, and every AAAA record when `ipv6()` says this machine can use them, each with
 * the HTTPS port. DNS queries (resolve4/resolve6) rather than getaddrinfo (lookup with `all: true`): the point is
 * every node's record as DNS serves it, while getaddrinfo's answer depends on the host's resolver configuration
 * (/etc/hosts, gai.conf, its address filtering) and queues on libuv's small thread pool. The one getaddrinfo rule
 * kept, explicitly, is AI_ADDRCONFIG's: a machine without an IPv6 address of its own (a Lambda outside a
 * dual-stack VPC) cannot reach an AAAA address, and that says nothing about the ALB.
 */
export function dnsResolver(dns: DnsClient, ipv6: () => boolean) {
  return async (hostname: string, port: number): Promise<Endpoint[]> => {
    const [a, aaaa] = await Promise.allSettled([dns.resolve4(hostname), ipv6() ? dns.resolve6(hostname) : Promise.resolve([])]);
    const lists = [a, aaaa].map((r) => {
      if (r.status === "fulfilled") return r.value;
      if (NO_RECORDS.has((r.reason as { code?: string }).code ?? "")) return [];
      // A failed query (timeout, SERVFAIL) could hide nodes: never verify a subset of them.
      throw r.reason;
    });
    const addresses = lists.flat();
    if (addresses.length === 0) {
      throw a.status === "rejected" ? a.reason : Object.assign(new Error(`queryA ENODATA ${hostname}`), { code: "ENODATA" });
    }
    return addresses.map((address) => ({ address, port }));
  };
}

/** Whether this machine has an IPv6 address beyond loopback and link-local (AI_ADDRCONFIG's test). */
export function hasGlobalIpv6(): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.family === "IPv6" && !i.internal && !/^fe[89ab]/i.test(i.address)),
  );
}

/** Production `resolve`: every address of the ALB's DNS name, HTTPS port. */
export const resolveAlb = dnsResolver(dnsPromises, hasGlobalIpv6);
