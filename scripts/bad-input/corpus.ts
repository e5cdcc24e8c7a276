// The bad-input corpus in test/fixtures/bad-input/ (made by scripts/make-bad-input.ts): where it lives, and the
// index types test/integration/bad-input.test.ts reads cases.json through.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CORPUS = join(ROOT, "test/fixtures/bad-input");
/** The Ingress host of every request in the corpus (the console example's). */
export const HOST = "milvus-demo.milvus.io";

export interface RequestCase {
  case: string;
  category: string;
  /** What is wrong, for people. */
  tests: string;
  /** Relative to the corpus folder. */
  file: string;
  /** The field path the rejection must name, as the issues print it ("" is the whole request). */
  path: string;
  /** A phrase the message for that path must contain. */
  contains: string;
  /** A private key pasted into the request (relative path): it must not come back in any answer. */
  pastedKey?: string;
}

/** How a PEM case reaches import-certificate. */
export type PemStore =
  /** Secrets Manager, SecretString = {"certificate","chain","privateKey"} from cert.pem, chain.pem, privkey.pem. */
  | "secret"
  /** Secrets Manager, SecretString = the file `secret` names, verbatim. */
  | "secret-string"
  /** Secrets Manager, SecretBinary = the file `secret` names. */
  | "secret-binary"
  /** No secret at all: the request names one that does not exist. */
  | "secret-missing"
  /** S3: every file of the folder uploaded under <bucket>/<case>/; the request's prefix is <case>/. */
  | "s3";

export interface PemCase {
  case: string;
  category: string;
  tests: string;
  /** Folder relative to the corpus folder. */
  dir: string;
  store: PemStore;
  /** For secret-string / secret-binary: the file in `dir`. */
  secret?: string;
  /** For s3: object names other than the defaults (cert.pem, chain.pem, privkey.pem). */
  keys?: { certificateKey?: string; chainKey?: string; privateKeyKey?: string };
  /** A subfolder holding a good set that is imported into ACM first; the request re-imports into its ARN. */
  reimportInto?: string;
  error: "CertificateRejected" | "CertificateSourceError";
  /** A phrase the Cause must contain. */
  contains: string;
}

export interface CorpusIndex {
  about: string;
  requests: RequestCase[];
  pem: PemCase[];
}
