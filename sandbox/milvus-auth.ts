// The Milvus stand-in's authentication and authorization, modelled on the proxy's interceptors (codes and messages
// as Milvus returns them; sources in sandbox/README.md, "Milvus stand-in"). Independent of the product: nothing
// here comes from functions/.
import { type ServiceError, status } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";

export interface MilvusAuthConfig {
  /** User → password. `root` passes every privilege check, as in Milvus. */
  users: Record<string, string>;
  /** Users whose role is `admin` (all privileges). */
  admins?: string[];
  /** User → privileges granted (ObjectPrivilege enum names such as PrivilegeDescribeCollection). */
  grants?: Record<string, string[]>;
}

const ROOT = "root";

function refused(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

// base64.StdEncoding.DecodeString (Go) accepts only the padded standard alphabet.
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The proxy's AuthenticationInterceptor: who is calling, or the UNAUTHENTICATED it answers. */
export function checkAuthentication(config: MilvusAuthConfig, authorization: string[]): { user: string; error?: undefined } | { error: ServiceError } {
  const token = authorization[0];
  if (token === undefined) return { error: refused(status.UNAUTHENTICATED, "missing authorization in header") };
  if (!STD_BASE64.test(token)) return { error: refused(status.UNAUTHENTICATED, "invalid token format") };
  const raw = Buffer.from(token, "base64").toString("utf8");
  const colon = raw.indexOf(":");
  if (colon < 0) {
    // An API key: open-source Milvus's default hook verifies none.
    return { error: refused(status.UNAUTHENTICATED, "auth check failure, please check api key is correct") };
  }
  // strings.SplitN(rawToken, ":", 2): the password may hold ':'.
  const user = raw.slice(0, colon);
  const password = raw.slice(colon + 1);
  if (!Object.hasOwn(config.users, user) || config.users[user] !== password) {
    return { error: refused(status.UNAUTHENTICATED, "auth check failure, please check username and password are correct") };
  }
  return { user };
}

/** The privilege a method's request message declares (`(common.privilege_ext_obj)` in milvus.proto), if any. */
export function privilegeOf(protoJson: object, method: string): string | undefined {
  type Ns = { nested?: Record<string, Ns>; methods?: Record<string, { requestType: string }>; options?: Record<string, unknown> };
  const milvus = (protoJson as Ns).nested?.milvus?.nested?.proto?.nested?.milvus?.nested ?? {};
  const requestType = milvus.MilvusService?.methods?.[method]?.requestType;
  const privilege = requestType ? milvus[requestType]?.options?.["(common.privilege_ext_obj).object_privilege"] : undefined;
  return typeof privilege === "string" ? privilege : undefined;
}

/** The proxy's PrivilegeInterceptor: a method without a privilege is open to every authenticated user. */
export function checkPrivilege(config: MilvusAuthConfig, user: string, privilege: string | undefined, dbName: string): ServiceError | undefined {
  if (privilege === undefined || user === ROOT) return undefined;
  if (config.admins?.includes(user) || config.grants?.[user]?.includes(privilege)) return undefined;
  return refused(status.PERMISSION_DENIED, `${privilege}: permission deny to ${user} in the \`${dbName}\` database`);
}
