// Every SQL function in the schema files is defined in exactly one place: two `create [or replace] function`
// statements for the same schema.name(parameters) mean the later file silently wins over the earlier one.
// Overloads (different parameter lists) are distinct. Parameter lists are compared as text, lower-cased, with
// whitespace collapsed: normalizing types from text (int vs integer) is out of reach, so those are not merged.
// CLI: deno run --allow-read scripts/check_single_definitions.ts [folder, default supabase/schemas]
// exits 1 and lists the places when a function is defined more than once; passes when the folder is absent.

export interface Definition {
  /** schema.name(parameters), normalized: what must be unique. */
  key: string;
  file: string;
  line: number;
}

const COMMENT_OR_STRING = /--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g;
const blank = (m: string) => m.replace(/[^\n]/g, " ");

/** Blanks out comments, and string literals too unless keepStrings, keeping line breaks and offsets. Dollar-quoted
 * bodies are kept: a definition written inside one (dynamic SQL) is still a definition. */
function blankOut(sql: string, keepStrings: boolean): string {
  return sql.replace(COMMENT_OR_STRING, (m) => keepStrings && m.startsWith("'") ? m : blank(m));
}

/** An identifier as Postgres folds it: quoted keeps its case, unquoted is lower-cased. */
function identifier(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE = new RegExp(
  String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure)\s+(${IDENT})(?:\s*\.\s*(${IDENT}))?\s*\(`,
  "gi",
);

export function findDefinitions(sql: string, file: string): Definition[] {
  const text = blankOut(sql, false); // for matching: a parenthesis in a string or comment does not count
  const withStrings = blankOut(sql, true); // for the parameter text: defaults keep their literals
  const found: Definition[] = [];
  for (const m of text.matchAll(CREATE)) {
    const name = m[2] === undefined ? identifier(m[1]) : `${identifier(m[1])}.${identifier(m[2])}`;
    // The parameter list runs to the matching parenthesis (types and defaults have their own).
    const open = m.index! + m[0].length;
    let depth = 1;
    let i = open;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")") depth--;
    }
    const params = withStrings.slice(open, i - 1).replace(/\s+/g, " ").trim()
      .replace(/\s*,\s*/g, ",").replace(/\(\s+/g, "(").replace(/\s+\)/g, ")").toLowerCase();
    found.push({ key: `${name}(${params})`, file, line: text.slice(0, m.index).split("\n").length });
  }
  return found;
}

/** Functions defined more than once, with every place they are defined. */
export function findDuplicates(files: { path: string; text: string }[]): Map<string, Definition[]> {
  const byKey = new Map<string, Definition[]>();
  for (const { path, text } of files) {
    for (const d of findDefinitions(text, path)) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  }
  return new Map([...byKey].filter(([, places]) => places.length > 1));
}

async function main(folder: string): Promise<number> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(folder)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      console.log(`${folder}/ does not exist: no schema files to check for duplicate function definitions`);
      return 0;
    }
    throw e;
  }
  const paths = entries.filter((e) => e.isFile && e.name.endsWith(".sql")).map((e) => `${folder}/${e.name}`)
    .sort();
  const files = await Promise.all(paths.map(async (path) => ({ path, text: await Deno.readTextFile(path) })));
  const definitions = files.reduce((n, f) => n + findDefinitions(f.text, f.path).length, 0);
  const duplicates = findDuplicates(files);
  if (duplicates.size === 0) {
    console.log(
      `${definitions} function definition(s) in ${paths.length} file(s) of ${folder}/, each defined once`,
    );
    return 0;
  }
  console.log(`${duplicates.size} function(s) defined more than once in ${folder}/:`);
  for (const [key, places] of duplicates) {
    console.log(`  ${key}`);
    for (const p of places) console.log(`    ${p.file}:${p.line}`);
  }
  return 1;
}

if (import.meta.main) Deno.exit(await main((Deno.args[0] ?? "supabase/schemas").replace(/\/+$/, "")));
