// The API keys Supabase hands to functions and clients: JWTs signed with the project's JWT secret.
import { jwtVerify, SignJWT } from "jose";

const TEN_YEARS_S = 10 * 365 * 24 * 3600;

function secretKey(jwtSecret: string): Uint8Array {
  return new TextEncoder().encode(jwtSecret);
}

/** Sign a JWT the way Supabase's local stack does for the anon and service_role keys. */
export async function signRoleKey(jwtSecret: string, role: "anon" | "service_role"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ role, iss: "supabase-demo" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + TEN_YEARS_S)
    .sign(secretKey(jwtSecret));
}

/** Sign a user's access token (role authenticated), as Supabase Auth would after sign-in. */
export async function signUserToken(jwtSecret: string, userId: string, email?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ role: "authenticated", aud: "authenticated", email })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(secretKey(jwtSecret));
}

/** The gateway check Supabase applies to functions with verify_jwt = true. */
export async function verifyBearer(jwtSecret: string, authorization: string | null): Promise<boolean> {
  const token = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (!token) return false;
  try {
    await jwtVerify(token, secretKey(jwtSecret), { algorithms: ["HS256"] });
    return true;
  } catch {
    return false;
  }
}
