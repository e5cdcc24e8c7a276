// The certificates an ALB listener serves: read from ACM by ARN (GetCertificate) with the private key from the
// sandbox's key store, since ACM never returns an imported key.
import { X509Certificate } from "node:crypto";
import type * as tls from "node:tls";
import { type ACMClient, GetCertificateCommand } from "@aws-sdk/client-acm";

export interface CertMaterial {
  certPem: string;
  chainPem: string;
  keyPem: string;
  x509: X509Certificate;
  /** Built once per material and TLS floor, not per handshake. */
  context?: { minVersion: tls.SecureVersion; value: tls.SecureContext };
}

/**
 * Reads certificates from ACM for every load balancer of the simulator. Each real ALB re-reads its certificates on
 * its own, on AWS's side; here they all run in the test's process, so load balancers serving the same ARN share a
 * read made within the last `maxAgeMs`, and the same PEM yields the same parsed material. Without this, a few dozen
 * ALBs re-reading one certificate at every refresh kept moto and the process busy with work that costs a real
 * deployment nothing. The reconciler passes a quarter of the refresh interval, so a re-import is still served within
 * 1.25 intervals.
 */
export function certificateReader(
  acm: ACMClient,
  privateKeyFor: (pem: string) => string | undefined,
  maxAgeMs: number,
): (arn: string) => Promise<CertMaterial> {
  const recent = new Map<string, { at: number; material: Promise<CertMaterial> }>();
  const parsed = new Map<string, CertMaterial>();
  async function read(arn: string): Promise<CertMaterial> {
    const out = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    const certPem = out.Certificate;
    if (!certPem) throw new Error(`ACM returned no certificate body for ${arn}`);
    const chainPem = out.CertificateChain ?? "";
    const key = `${certPem.trim()}\n${chainPem.trim()}`;
    const known = parsed.get(key);
    if (known) return known;
    const keyPem = privateKeyFor(certPem);
    // A sandbox wiring problem, not an AWS behaviour: a real ALB always has the imported key.
    if (!keyPem) throw new Error(`sandbox: the key store has no private key for the certificate in ${arn}`);
    const material = { certPem, chainPem, keyPem, x509: new X509Certificate(certPem) };
    parsed.set(key, material);
    return material;
  }
  return (arn: string): Promise<CertMaterial> => {
    const hit = recent.get(arn);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.material;
    const material = read(arn);
    recent.set(arn, { at: Date.now(), material });
    // A failed read is not remembered: the next caller asks ACM again.
    material.catch(() => recent.delete(arn));
    return material;
  };
}

export function sameMaterial(a: CertMaterial, b: CertMaterial): boolean {
  return a.certPem.trim() === b.certPem.trim() && a.chainPem.trim() === b.chainPem.trim();
}
