// Benchmark: the cost of the phone rule on the product's insert path. Times private.normalize_phone per call
// over the phone corpus (tests/fixtures/phones/corpus.json) and a lead INSERT with a phone against one without
// (the trigger reads the account's country and normalizes), inside a rolled-back transaction; prints figures,
// asserts nothing.
//
//   DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres deno run -A bench/normalize_phone.ts [--rows 20000]
import { parseArgs } from "node:util";
import postgres from "postgres";

const { values } = parseArgs({ options: { rows: { type: "string", default: "20000" } } });
const rows = Number(values.rows);
const sql = postgres(
  Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres",
  {
    prepare: false,
    max: 1,
    onnotice: () => {},
  },
);
const corpus: { raw: string; country: string }[] = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/phones/corpus.json", import.meta.url)),
);

async function timed(query: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await query();
  return performance.now() - started;
}

try {
  const perCall = await timed(() =>
    sql`select count(private.normalize_phone(c.value ->> 'raw', c.value ->> 'country'))
        from generate_series(1, ${Math.ceil(rows / corpus.length)}), jsonb_array_elements(${
      sql.json(corpus as never)
    }) c`
  );
  const calls = Math.ceil(rows / corpus.length) * corpus.length;
  console.log(
    `normalize_phone over the corpus: ${(perCall * 1000 / calls).toFixed(1)} µs per call (${calls} calls)`,
  );

  await sql.begin(async (tx) => {
    const [{ id }] = await tx`insert into public.user_accounts (name) values ('bench phones') returning id`;
    const without = await timed(() =>
      tx`insert into public.leads (user_account_id, utm_source) select ${id}, 'bench' from generate_series(1, ${rows})`
    );
    const withPhone = await timed(() =>
      tx`insert into public.leads (user_account_id, phone)
         select ${id}, '8 (912) ' || (1000000 + g)::text from generate_series(1, ${rows}) g`
    );
    console.log(
      `lead INSERT, ${rows} rows: without a phone ${(without * 1000 / rows).toFixed(1)} µs/row, ` +
        `with a phone ${(withPhone * 1000 / rows).toFixed(1)} µs/row (${(withPhone / without).toFixed(2)}×)`,
    );
    throw new Error("rollback");
  }).catch((error) => {
    if (!(error instanceof Error && error.message === "rollback")) throw error;
  });
} finally {
  await sql.end();
}
