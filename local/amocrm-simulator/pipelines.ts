import type { IdSequences } from "./ids.ts";
import type { Pipeline, PipelineSpec, Status } from "./types.ts";

/** amoCRM's system statuses: the same ids in every pipeline of every account. */
export const WON_STATUS_ID = 142;
export const LOST_STATUS_ID = 143;

export const DEFAULT_PIPELINES: PipelineSpec[] = [
  {
    name: "Воронка",
    stages: ["Первичный контакт", "Переговоры", "Принимают решение", "Согласование договора"],
  },
  { name: "Повторные продажи", stages: ["Новая заявка", "Квалифицирован", "Счёт выставлен"] },
  { name: "Партнёры", stages: ["Первичный контакт", "Встреча назначена"] },
];

const STAGE_COLORS = ["#99ccff", "#ffff99", "#ffcc66", "#ffcccc", "#ccc8f9", "#deff81", "#87f2c0"];

/** Builds pipelines the way amoCRM shows them: unsorted (type 1) first, editable stages, then 142 and 143. */
export function buildPipelines(specs: PipelineSpec[], ids: IdSequences): Pipeline[] {
  return specs.map((spec, index) => {
    const pipelineId = ids.take("pipeline");
    const status = (id: number, name: string, sort: number, extra: Partial<Status> = {}): Status => ({
      id,
      name,
      sort,
      is_editable: true,
      pipeline_id: pipelineId,
      color: STAGE_COLORS[(sort / 10) % STAGE_COLORS.length] ?? "#99ccff",
      type: 0,
      ...extra,
    });
    const statuses: Status[] = [
      status(ids.take("status"), "Неразобранное", 10, { is_editable: false, type: 1, color: "#c1c1c1" }),
      ...spec.stages.map((name, stageIndex) => status(ids.take("status"), name, 20 + stageIndex * 10)),
      status(WON_STATUS_ID, "Успешно реализовано", 10000, { is_editable: false, color: "#CCFF66" }),
      status(LOST_STATUS_ID, "Закрыто и не реализовано", 11000, { is_editable: false, color: "#D5D8DB" }),
    ];
    return {
      id: pipelineId,
      name: spec.name,
      sort: (index + 1) * 1000,
      is_main: index === 0,
      is_unsorted_on: true,
      is_archive: false,
      statuses,
    };
  });
}

export function isClosedStatus(statusId: number): boolean {
  return statusId === WON_STATUS_ID || statusId === LOST_STATUS_ID;
}

/** Editable (work) stages of a pipeline, in board order. */
export function workStages(pipeline: Pipeline): Status[] {
  return pipeline.statuses.filter((status) => status.type === 0 && !isClosedStatus(status.id));
}

export function unsortedStage(pipeline: Pipeline): Status {
  return pipeline.statuses.find((status) => status.type === 1) ?? pipeline.statuses[0];
}
