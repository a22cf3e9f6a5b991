export { diagnoseHome, repairHome } from './home.js';
export type {
  DoctorOptions,
  FilesSummary,
  HomeDiagnosis,
  HomeFinding,
  HomeFindingKind,
  HomeRepair,
  LineageFindingKind,
  NameFindingKind,
  ProjectionFindingKind,
  RepairedFinding,
  RolloutFileFindingKind,
  RowFindingKind,
} from './types.js';
