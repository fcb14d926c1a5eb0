// Removing a test's user account (cascading to everything written for it). A background apply or the cron
// backstop may hold locks on the same rows at that moment: a deadlock with the cascade is simply tried again.
import type postgres from "postgres";

export async function deleteUserAccount(sql: postgres.Sql, userAccountId: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await sql`delete from public.user_accounts where id = ${userAccountId}`;
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== "40P01" && code !== "40001")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
