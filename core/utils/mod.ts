/**
 * Small helpers with no subsystem of their own, used across the core.
 *
 * - {@linkcode deadline} and {@linkcode timeBudget}: cheap timeouts on one shared timer.
 * - {@linkcode pacificDay}, {@linkcode nextPacificMidnight}, {@linkcode nextPacificMonthStart}:
 *   Gemini's quota day and month, which turn over in America/Los_Angeles.
 * - {@linkcode jsonMembers} and its editors: change one member of a JSON object's text and keep
 *   every other byte.
 * - {@linkcode readBounded}: an answer's body as text, up to a bound.
 * - {@linkcode SerialRuns}: one run of a flush at a time, joined or fresh.
 * @module
 */
export { deadline, timeBudget } from "./deadlines.ts";
export {
  type ByteMember,
  type JsonMember,
  jsonMembers,
  jsonMembersInBytes,
  withFirstMember,
  withoutMember,
  withValue,
} from "./json_members.ts";
export { nextPacificMidnight, nextPacificMonthStart, pacificDay } from "./pacific_time.ts";
export { MAX_ERROR_BYTES, readBounded } from "./read_bounded.ts";
export { SerialRuns } from "./serial_runs.ts";
