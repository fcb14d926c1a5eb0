// The schema-files check: a function (schema.name plus its parameter list) may be created in one place only.
import assert from "node:assert/strict";
import { findDefinitions, findDuplicates } from "../../../scripts/check_single_definitions.ts";

const SCRIPT = new URL("../../../scripts/check_single_definitions.ts", import.meta.url).pathname;

const CORE = `-- Core helpers.
create or replace function private.my_user_account_ids() returns setof uuid
language sql stable as $$ select 1 $$;

create or replace function private.enqueue_job(p_kind text, p_account uuid,
    p_payload jsonb default '{}', p_dedupe text default null)
returns bigint language plpgsql as $$
begin
  -- create or replace function private.not_a_definition(x int) (a comment in a body)
  return 1;
end $$;

-- Overloads are distinct functions.
create function public.creative_funnel(p_account uuid) returns setof record language sql as $$ select 1 $$;
create function public.creative_funnel(p_account uuid, p_from date, p_to date) returns setof record
language sql as $$ select 1 $$;
`;

const ANALYTICS_OK =
  `create or replace function private.analytics_rebuild(p_account uuid, p_amount numeric(14,2) default 0)
returns void language sql as $$ select $$;
`;

// The same enqueue_job as in CORE, spelled with other whitespace and case.
const ANALYTICS_DUPLICATE = ANALYTICS_OK + `
CREATE OR REPLACE FUNCTION private.enqueue_job(
  p_kind   text,
  p_account uuid,
  p_payload jsonb default '{}',
  p_dedupe  text default null
) returns bigint language sql as $$ select 1::bigint $$;
`;

Deno.test("definitions: schema.name and the parameter list to its matching parenthesis, with their line", () => {
  const defs = findDefinitions(CORE + ANALYTICS_OK, "core.sql");
  assert.deepEqual(defs.map((d) => d.key), [
    "private.my_user_account_ids()",
    "private.enqueue_job(p_kind text,p_account uuid,p_payload jsonb default '{}',p_dedupe text default null)",
    "public.creative_funnel(p_account uuid)",
    "public.creative_funnel(p_account uuid,p_from date,p_to date)",
    "private.analytics_rebuild(p_account uuid,p_amount numeric(14,2) default 0)",
  ]);
  assert.deepEqual(defs.map((d) => d.line), [2, 5, 14, 15, 17]);
});

Deno.test("no duplicate: overloads and commented-out definitions are not duplicates", () => {
  const dup = findDuplicates([{ path: "core.sql", text: CORE }, {
    path: "analytics.sql",
    text: ANALYTICS_OK,
  }]);
  assert.equal(dup.size, 0);
});

Deno.test("a duplicate across files is reported with both places, whatever the whitespace and case", () => {
  const dup = findDuplicates([{ path: "core.sql", text: CORE }, {
    path: "analytics.sql",
    text: ANALYTICS_DUPLICATE,
  }]);
  assert.deepEqual([...dup.keys()], [
    "private.enqueue_job(p_kind text,p_account uuid,p_payload jsonb default '{}',p_dedupe text default null)",
  ]);
  assert.deepEqual([...dup.values()][0].map((d) => `${d.file}:${d.line}`), ["core.sql:5", "analytics.sql:4"]);
});

Deno.test("a duplicate within one file counts too; quoted names keep their case", () => {
  const text = `create function "Private"."F"(a int) returns int language sql as $$ select 1 $$;
create function "Private"."F"(a int) returns int language sql as $$ select 2 $$;
create function private.f(a int) returns int language sql as $$ select 3 $$;`;
  const dup = findDuplicates([{ path: "x.sql", text }]);
  assert.deepEqual([...dup.keys()], ["Private.F(a int)"]);
});

async function runCli(folder: string) {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, folder],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return { code, out: new TextDecoder().decode(stdout) };
}

Deno.test("CLI: fails on a duplicate, passes without one, passes with a message when the folder is absent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/core.sql`, CORE);
    await Deno.writeTextFile(`${dir}/analytics.sql`, ANALYTICS_OK);
    const ok = await runCli(dir);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /5 function definition\(s\) in 2 file\(s\)/);

    await Deno.writeTextFile(`${dir}/analytics.sql`, ANALYTICS_DUPLICATE);
    const bad = await runCli(dir);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /1 function\(s\) defined more than once/);
    assert.match(bad.out, /core\.sql:5/);
    assert.match(bad.out, /analytics\.sql:4/);

    const absent = await runCli(`${dir}/no-such-folder`);
    assert.equal(absent.code, 0);
    assert.match(absent.out, /does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
