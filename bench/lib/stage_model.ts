// What the stage tiles must show for one pipeline of the freshness bench, tracked client-side from the moves it
// sends: every product lead's current stage and the stages it has been in. From that follow the figures of
// public.stage_funnel (leads_in_stage, leads_entered, leads_reached), public.stage_durations (completed and
// open visits: one history row per transition, the newest one still open) and the lead counts of the funnel
// tiles (leads, qualified_leads: a lead is qualified once it has been at or past the flagged stage, for good).
// The bench only moves deals between open stages (no won/lost: those would ask amoCRM's API to confirm money).

export interface StageDef {
  statusId: number;
  name: string;
  sort: number;
  qualified: boolean;
}

export interface FunnelCell {
  inStage: number;
  entered: number;
  reached: number;
}

export interface DurationCell {
  completed: number;
  open: number;
}

interface LeadState {
  status: number;
  visited: Set<number>;
}

export class PipelineModel {
  readonly leads = new Map<number, LeadState>();
  /** History rows into each stage (the add's first stage and every move's target). */
  private readonly rowsInto = new Map<number, number>();
  private readonly sortOf = new Map<number, number>();
  private readonly qualifiedSort: number;

  constructor(
    readonly pipelineId: number,
    readonly creativeId: string,
    /** Every stage of the pipeline in amoCRM's order, won (142) and lost (143) included. */
    readonly stages: StageDef[],
  ) {
    for (const s of stages) this.sortOf.set(s.statusId, s.sort);
    this.qualifiedSort = Math.min(...stages.filter((s) => s.qualified).map((s) => s.sort));
  }

  /** The deal appeared in this stage (its add webhook). */
  add(amocrmId: number, status: number): void {
    this.leads.set(amocrmId, { status, visited: new Set([status]) });
    this.rowsInto.set(status, (this.rowsInto.get(status) ?? 0) + 1);
  }

  /** The deal moved; returns the stage it left. */
  move(amocrmId: number, to: number): number {
    const lead = this.leads.get(amocrmId)!;
    const from = lead.status;
    lead.status = to;
    lead.visited.add(to);
    this.rowsInto.set(to, (this.rowsInto.get(to) ?? 0) + 1);
    return from;
  }

  isQualified(amocrmId: number): boolean {
    const lead = this.leads.get(amocrmId)!;
    return [...lead.visited].some((s) => s !== 143 && this.sortOf.get(s)! >= this.qualifiedSort);
  }

  leadCount(): number {
    return this.leads.size;
  }

  qualifiedCount(): number {
    return [...this.leads.keys()].filter((id) => this.isQualified(id)).length;
  }

  funnel(): Map<number, FunnelCell> {
    const cells = new Map<number, FunnelCell>();
    for (const s of this.stages) cells.set(s.statusId, { inStage: 0, entered: 0, reached: 0 });
    for (const lead of this.leads.values()) {
      cells.get(lead.status)!.inStage++;
      for (const s of lead.visited) cells.get(s)!.entered++;
      // How far the lead got: its furthest open stage (a win would pass every stage; the bench never wins).
      const depth = Math.max(...[...lead.visited].filter((s) => s !== 143).map((s) => this.sortOf.get(s)!));
      for (const s of this.stages) {
        if (s.statusId !== 143 && depth >= s.sort) cells.get(s.statusId)!.reached++;
      }
    }
    // Lost counts the leads that were lost (entered it), nothing else.
    const lost = cells.get(143);
    if (lost) lost.reached = lost.entered;
    return cells;
  }

  durations(): Map<number, DurationCell> {
    const cells = new Map<number, DurationCell>();
    for (const s of this.stages) cells.set(s.statusId, { completed: 0, open: 0 });
    for (const lead of this.leads.values()) cells.get(lead.status)!.open++;
    for (const [status, rows] of this.rowsInto) {
      const cell = cells.get(status)!;
      cell.completed = rows - cell.open;
    }
    return cells;
  }
}

// ------------------------------------------------------------------------ comparing with what a tile returned

export interface FunnelRow {
  pipeline_id: number;
  status_id: number;
  leads_in_stage: string | number;
  leads_entered: string | number;
  leads_reached: string | number;
}

export interface DurationRow {
  pipeline_id: number;
  status_id: number;
  completed_visits: string | number;
  open_visits: string | number;
}

export interface LeadCountRow {
  leads: string | number;
  qualified_leads: string | number;
}

/** "" when the pipeline's rows show exactly the model, else what differs (for the report of a timed-out move). */
export function funnelDifference(model: PipelineModel, rows: readonly FunnelRow[]): string {
  const want = model.funnel();
  const got = rows.filter((r) => r.pipeline_id === model.pipelineId);
  const diffs: string[] = [];
  if (got.length !== want.size) diffs.push(`${got.length} rows, want ${want.size}`);
  for (const r of got) {
    const w = want.get(r.status_id);
    const g = {
      inStage: Number(r.leads_in_stage),
      entered: Number(r.leads_entered),
      reached: Number(r.leads_reached),
    };
    if (!w) diffs.push(`unexpected status ${r.status_id}`);
    else if (w.inStage !== g.inStage || w.entered !== g.entered || w.reached !== g.reached) {
      diffs.push(`status ${r.status_id}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
    }
  }
  return diffs.join("; ");
}

export function durationDifference(model: PipelineModel, rows: readonly DurationRow[]): string {
  const want = model.durations();
  const got = rows.filter((r) => r.pipeline_id === model.pipelineId);
  const diffs: string[] = [];
  if (got.length !== want.size) diffs.push(`${got.length} rows, want ${want.size}`);
  for (const r of got) {
    const w = want.get(r.status_id);
    const g = { completed: Number(r.completed_visits), open: Number(r.open_visits) };
    if (!w) diffs.push(`unexpected status ${r.status_id}`);
    else if (w.completed !== g.completed || w.open !== g.open) {
      diffs.push(`status ${r.status_id}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
    }
  }
  return diffs.join("; ");
}

/** Rows of one creative (one row of creative_funnel, or every day of funnel_daily): summed lead counts. */
export function leadCountDifference(model: PipelineModel, rows: readonly LeadCountRow[]): string {
  const leads = rows.reduce((n, r) => n + Number(r.leads), 0);
  const qualified = rows.reduce((n, r) => n + Number(r.qualified_leads), 0);
  const want = { leads: model.leadCount(), qualified: model.qualifiedCount() };
  return leads === want.leads && qualified === want.qualified
    ? ""
    : `got leads ${leads}, qualified ${qualified}; want ${JSON.stringify(want)}`;
}
